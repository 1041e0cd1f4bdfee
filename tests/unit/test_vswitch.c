/* SPDX-License-Identifier: MIT */
/*
 * The virtual switch's forwarding core without any guest: learning,
 * ageing, flooding, VLAN tagging/untagging, anti-spoofing, rate limits,
 * a MAC flood that must evict instead of grow.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "net/pcap.h"
#include "net/vswitch.h"
#include "net/vxlan.h"

#define MAXOUT 256
static struct {
    unsigned port;
    size_t len;
    uint8_t frame[128];
} out[MAXOUT];
static unsigned nout;

static void output(void *opaque, unsigned port, const void *frame, size_t len)
{
    (void)opaque;
    assert_true(nout < MAXOUT);
    out[nout].port = port;
    out[nout].len = len;
    memcpy(out[nout].frame, frame, len < 128 ? len : 128);
    nout++;
}

static const uint8_t BCAST[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

static size_t frame(uint8_t *f, const uint8_t dst[6], uint8_t src_last, int vlan)
{
    memset(f, 0, 64);
    memcpy(f, dst, 6);
    uint8_t src[6] = {0x52, 0x54, 0, 0, 0, src_last};
    memcpy(f + 6, src, 6);
    size_t o = 12;
    if (vlan >= 0) {
        f[12] = 0x81;
        f[13] = 0x00;
        f[14] = (uint8_t)(vlan >> 8);
        f[15] = (uint8_t)vlan;
        o = 16;
    }
    f[o] = 0x08; /* IPv4 */
    f[o + 1] = 0x00;
    f[o + 2] = 0xab; /* a payload byte to check */
    return 60;
}

static uint8_t mac_of(uint8_t last, uint8_t m[6])
{
    uint8_t v[6] = {0x52, 0x54, 0, 0, 0, last};
    memcpy(m, v, 6);
    return last;
}

static struct vswitch *access_switch(unsigned nports, uint16_t vlan)
{
    struct vswitch *sw = vsw_new(64, output, NULL);
    assert_non_null(sw);
    struct vsw_port_config c = {.pvid = vlan};
    for (unsigned i = 0; i < nports; i++)
        assert_int_equal(vsw_port_add(sw, &c), (int)i);
    nout = 0;
    return sw;
}

static void test_flood_then_learn(void **state)
{
    (void)state;
    struct vswitch *sw = access_switch(3, 1);
    uint8_t f[64], m[6];
    /* Broadcast from port 0 reaches 1 and 2, never 0. */
    vsw_input(sw, 0, f, frame(f, BCAST, 1, -1), 1000);
    assert_int_equal(nout, 2);
    assert_int_equal(out[0].port, 1);
    assert_int_equal(out[1].port, 2);
    /* Unicast to the learned MAC of port 0 goes only there. */
    nout = 0;
    mac_of(1, m);
    vsw_input(sw, 2, f, frame(f, m, 3, -1), 2000);
    assert_int_equal(nout, 1);
    assert_int_equal(out[0].port, 0);
    assert_int_equal(out[0].frame[14], 0xab);
    /* Port 0 now answers port 2, learned from the frame just sent. */
    nout = 0;
    mac_of(3, m);
    vsw_input(sw, 0, f, frame(f, m, 1, -1), 3000);
    assert_int_equal(nout, 1);
    assert_int_equal(out[0].port, 2);
    /* Unknown unicast floods. */
    nout = 0;
    mac_of(9, m);
    vsw_input(sw, 0, f, frame(f, m, 1, -1), 4000);
    assert_int_equal(nout, 2);
    assert_int_equal(sw->ports[0].cnt.rx_frames, 3);
    assert_int_equal(sw->ports[2].cnt.tx_frames, 3);
    /* Three frames of one size: the largest is that size. */
    assert_int_equal(sw->ports[0].cnt.rx_largest, sw->ports[0].cnt.rx_bytes / 3);
    assert_int_equal(sw->ports[1].cnt.rx_largest, 0);
    vsw_free(sw);
}

static void test_ageing(void **state)
{
    (void)state;
    struct vswitch *sw = access_switch(3, 1);
    sw->ageing_ns = 1000;
    uint8_t f[64], m[6];
    mac_of(1, m);
    vsw_input(sw, 0, f, frame(f, BCAST, 1, -1), 0);
    assert_int_equal(vsw_lookup(sw, m, 1, 999), 0);
    assert_int_equal(vsw_lookup(sw, m, 1, 1000), -1);
    /* After ageing the unicast floods again. */
    nout = 0;
    vsw_input(sw, 1, f, frame(f, m, 2, -1), 5000);
    assert_int_equal(nout, 2);
    /* A static entry never ages and is not moved by learning. */
    assert_true(vsw_add_static(sw, m, 1, 2));
    vsw_input(sw, 0, f, frame(f, BCAST, 1, -1), 6000);
    assert_int_equal(vsw_lookup(sw, m, 1, 1000000000), 2);
    vsw_free(sw);
}

static void test_vlan_separation(void **state)
{
    (void)state;
    struct vswitch *sw = vsw_new(64, output, NULL);
    struct vsw_port_config a10 = {.pvid = 10}, a20 = {.pvid = 20}, trunk = {.trunk = true};
    vsw_vlan_allow(&trunk, 10);
    vsw_vlan_allow(&trunk, 20);
    assert_int_equal(vsw_port_add(sw, &a10), 0);
    assert_int_equal(vsw_port_add(sw, &a20), 1);
    assert_int_equal(vsw_port_add(sw, &trunk), 2);
    assert_int_equal(vsw_port_add(sw, &a10), 3);
    uint8_t f[64];
    nout = 0;
    /* VLAN 10 broadcast: port 3 untagged, trunk tagged 10, never port 1. */
    vsw_input(sw, 0, f, frame(f, BCAST, 1, -1), 1);
    assert_int_equal(nout, 2);
    assert_int_equal(out[0].port, 2);
    assert_int_equal(out[0].len, 64);
    assert_int_equal(out[0].frame[12], 0x81);
    assert_int_equal(out[0].frame[15], 10);
    assert_int_equal(out[0].frame[18], 0xab);
    assert_int_equal(out[1].port, 3);
    assert_int_equal(out[1].len, 60);
    assert_int_equal(out[1].frame[12], 0x08);
    /* Tagged 20 from the trunk reaches only port 1, untagged (4 bytes less). */
    nout = 0;
    vsw_input(sw, 2, f, frame(f, BCAST, 5, 20), 2);
    assert_int_equal(nout, 1);
    assert_int_equal(out[0].port, 1);
    assert_int_equal(out[0].len, 56);
    assert_int_equal(out[0].frame[14], 0xab);
    /* A VLAN the trunk does not carry, a tag on an access port, untagged on
     * a trunk without a native VLAN: dropped and counted. */
    nout = 0;
    vsw_input(sw, 2, f, frame(f, BCAST, 5, 30), 3);
    vsw_input(sw, 0, f, frame(f, BCAST, 1, 20), 3);
    vsw_input(sw, 2, f, frame(f, BCAST, 5, -1), 3);
    vsw_input(sw, 2, f, frame(f, BCAST, 5, 4095), 3);
    assert_int_equal(nout, 0);
    assert_int_equal(sw->ports[2].cnt.drop_vlan, 3);
    assert_int_equal(sw->ports[0].cnt.drop_vlan, 1);
    /* The same MAC learned in two VLANs are two entries. */
    uint8_t m[6];
    mac_of(5, m);
    vsw_input(sw, 2, f, frame(f, BCAST, 5, 10), 4);
    assert_int_equal(vsw_lookup(sw, m, 10, 5), 2);
    assert_int_equal(vsw_lookup(sw, m, 20, 5), 2);
    assert_int_equal(vsw_lookup(sw, m, 30, 5), -1);
    vsw_free(sw);
}

static void test_hostile_frames(void **state)
{
    (void)state;
    struct vswitch *sw = vsw_new(64, output, NULL);
    struct vsw_port_config c = {.anti_spoof = true, .mac = {0x52, 0x54, 0, 0, 0, 1}};
    vsw_port_add(sw, &c);
    struct vsw_port_config open = {0};
    vsw_port_add(sw, &open);
    uint8_t f[64];
    nout = 0;
    vsw_input(sw, 0, f, 13, 1);                     /* runt */
    vsw_input(sw, 0, f, VSW_MAX_FRAME + 1, 1);      /* giant */
    vsw_input(sw, 0, f, frame(f, BCAST, 2, -1), 1); /* spoofed source */
    f[6] = 0x01;                                    /* multicast source */
    vsw_input(sw, 1, f, 60, 1);
    frame(f, BCAST, 1, 0x0);
    vsw_input(sw, 0, f, 17, 1); /* tag without a type */
    assert_int_equal(nout, 0);
    assert_int_equal(sw->ports[0].cnt.drop_runt, 2);
    assert_int_equal(sw->ports[0].cnt.drop_giant, 1);
    assert_int_equal(sw->ports[0].cnt.drop_spoof, 1);
    assert_int_equal(sw->ports[1].cnt.drop_spoof, 1);
    /* Its own MAC passes; a priority tag (VID 0) is the port's VLAN. */
    vsw_input(sw, 0, f, frame(f, BCAST, 1, 0), 2);
    assert_int_equal(nout, 1);
    assert_int_equal(out[0].len, 56);
    /* A port down takes and gives nothing. */
    nout = 0;
    vsw_port_set_up(sw, 1, false);
    vsw_input(sw, 0, f, frame(f, BCAST, 1, -1), 3);
    vsw_input(sw, 1, f, frame(f, BCAST, 7, -1), 3);
    assert_int_equal(nout, 0);
    assert_int_equal(sw->ports[1].cnt.drop_down, 1);
    vsw_free(sw);
}

static void test_mac_flood_evicts(void **state)
{
    (void)state;
    struct vswitch *sw = access_switch(2, 1);
    uint8_t f[64], m[6];
    /* 10000 source MACs into a 64-entry table: stays 64 entries, and the
     * newest address is found. */
    for (unsigned i = 0; i < 10000; i++) {
        frame(f, BCAST, 0, -1);
        f[10] = (uint8_t)(i >> 8);
        f[11] = (uint8_t)i;
        nout = 0;
        vsw_input(sw, 0, f, 60, 1000 + i);
    }
    memcpy(m, f + 6, 6);
    assert_int_equal(vsw_lookup(sw, m, 1, 20000), 0);
    unsigned live = 0;
    for (unsigned i = 0; i < sw->nsets * VSW_MAC_WAYS; i++)
        live += sw->table[i].vlan != 0;
    assert_true(live <= 64);
    assert_true(live > 32);
    vsw_free(sw);
}

static void test_rate_limit(void **state)
{
    (void)state;
    struct vswitch *sw = vsw_new(64, output, NULL);
    /* 1 MB/s with a 6000-byte bucket, 60-byte frames offered at 2 MB/s. */
    struct vsw_port_config c = {.rate_bytes_per_s = 1000000, .burst_bytes = 6000};
    vsw_port_add(sw, &c);
    struct vsw_port_config o = {0};
    vsw_port_add(sw, &o);
    uint8_t f[64];
    uint64_t t = 0;
    for (unsigned i = 0; i < 200000; i++, t += 30000) { /* 60 B every 30 us */
        nout = 0;
        vsw_input(sw, 0, f, frame(f, BCAST, 1, -1), t);
    }
    double secs = (double)t / 1e9;
    double rate = (double)sw->ports[0].cnt.rx_bytes / secs;
    assert_true(rate > 0.95e6 && rate < 1.05e6);
    assert_true(sw->ports[0].cnt.drop_rate > 90000);
    vsw_free(sw);
}

/* An untagged IPv4 TCP frame from src_last to dst_ip:dport. */
static size_t tcp_frame(uint8_t *f, uint8_t src_last, uint32_t dst_ip, uint16_t dport)
{
    frame(f, BCAST, src_last, -1);
    f[14] = 0x45; /* IPv4, 20-byte header */
    f[23] = 6;    /* TCP */
    f[26] = 10, f[27] = 0, f[28] = 0, f[29] = src_last;
    f[30] = (uint8_t)(dst_ip >> 24), f[31] = (uint8_t)(dst_ip >> 16);
    f[32] = (uint8_t)(dst_ip >> 8), f[33] = (uint8_t)dst_ip;
    f[34] = 0x30, f[35] = 0x39;
    f[36] = (uint8_t)(dport >> 8), f[37] = (uint8_t)dport;
    return 60;
}

static void test_acl(void **state)
{
    (void)state;
    struct vswitch *sw = access_switch(2, 1);
    uint8_t f[64];
    /* Drop TCP to port 22 on 10.0.0.0/24; allow everything from MAC ..:07
     * before that; drop all of VLAN 1 from port 1. */
    struct vsw_acl allow7 = {
        .match = VSW_ACL_SRC_MAC, .allow = true, .src_mac = {0x52, 0x54, 0, 0, 0, 7}};
    struct vsw_acl ssh = {.match = VSW_ACL_DST_IP | VSW_ACL_PROTO | VSW_ACL_DST_PORT,
                          .dst_ip = 0x0a000000,
                          .dst_mask = 0xffffff00,
                          .proto = 6,
                          .dst_port = 22};
    struct vsw_acl port1 = {.match = VSW_ACL_IN_PORT | VSW_ACL_VLAN, .in_port = 1, .vlan = 1};
    assert_true(vsw_acl_add(sw, &allow7));
    assert_true(vsw_acl_add(sw, &ssh));
    assert_true(vsw_acl_add(sw, &port1));
    vsw_input(sw, 0, f, tcp_frame(f, 1, 0x0a000005, 22), 1);
    assert_int_equal(nout, 0);
    vsw_input(sw, 0, f, tcp_frame(f, 1, 0x0a000005, 80), 1);
    vsw_input(sw, 0, f, tcp_frame(f, 1, 0x0a000105, 22), 1);
    assert_int_equal(nout, 2);
    vsw_input(sw, 0, f, tcp_frame(f, 7, 0x0a000005, 22), 1);
    assert_int_equal(nout, 3);
    /* A later fragment has no ports: the port rule does not match it. */
    tcp_frame(f, 1, 0x0a000005, 22);
    f[21] = 8;
    vsw_input(sw, 0, f, 60, 1);
    assert_int_equal(nout, 4);
    vsw_input(sw, 1, f, frame(f, BCAST, 2, -1), 1);
    assert_int_equal(nout, 4);
    assert_int_equal(sw->ports[0].cnt.drop_acl, 1);
    assert_int_equal(sw->ports[1].cnt.drop_acl, 1);
    assert_int_equal(sw->acl[0].hits, 1);
    assert_int_equal(sw->acl[1].hits, 1);
    /* Rules come off at run time. */
    assert_true(vsw_acl_remove(sw, 2));
    assert_false(vsw_acl_remove(sw, 2));
    vsw_input(sw, 1, f, frame(f, BCAST, 2, -1), 1);
    assert_int_equal(nout, 5);
    vsw_free(sw);
}

static void mirror_to_pcap(void *opaque, unsigned port, const void *frame, size_t len)
{
    (void)port;
    pcap_write(opaque, frame, len, 1700000000123456789ull);
}

/* Every frame a port takes lands in the capture, as it came; the file is
 * classic pcap (magic, version 2.4, Ethernet) record for record. */
static void test_mirror_pcap(void **state)
{
    (void)state;
    char path[] = "/tmp/wirt-vsw-pcap-XXXXXX";
    int tmp = mkstemp(path);
    assert_true(tmp >= 0);
    close(tmp);
    struct pcap_writer w;
    char err[256];
    assert_true(pcap_open(&w, path, err, sizeof(err)));
    struct vswitch *sw = access_switch(2, 1);
    sw->mirror = mirror_to_pcap;
    sw->mirror_opaque = &w;
    uint8_t f[64];
    vsw_input(sw, 0, f, frame(f, BCAST, 1, -1), 1);
    vsw_input(sw, 1, f, frame(f, BCAST, 2, 0), 2);
    vsw_input(sw, 1, f, 5, 3); /* a runt is not mirrored */
    pcap_close(&w);
    assert_int_equal(w.records, 2);

    /* tcpdump (tools/setup-host.sh installs it) reads both records. */
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "tcpdump -nn -e -r %s 2>/dev/null", path);
    FILE *td = popen(cmd, "r");
    assert_non_null(td);
    char line[256];
    unsigned lines = 0, tagged = 0;
    while (fgets(line, sizeof(line), td)) {
        lines++;
        tagged += strstr(line, "802.1Q") != NULL;
    }
    assert_int_equal(pclose(td), 0);
    assert_int_equal(lines, 2);
    assert_int_equal(tagged, 1);

    FILE *in = fopen(path, "rb");
    assert_non_null(in);
    uint8_t buf[512];
    size_t n = fread(buf, 1, sizeof(buf), in);
    fclose(in);
    unlink(path);
    assert_int_equal(n, 24 + 2 * 16 + 60 + 60);
    uint32_t u32;
    uint16_t u16;
    memcpy(&u32, buf, 4);
    assert_int_equal(u32, 0xa1b2c3d4);
    memcpy(&u16, buf + 4, 2);
    assert_int_equal(u16, 2);
    memcpy(&u32, buf + 20, 4);
    assert_int_equal(u32, 1);
    memcpy(&u32, buf + 24, 4);
    assert_int_equal(u32, 1700000000);
    memcpy(&u32, buf + 28, 4);
    assert_int_equal(u32, 123456);
    memcpy(&u32, buf + 32, 4);
    assert_int_equal(u32, 60);
    assert_int_equal(buf[40 + 11], 1);          /* first frame's source MAC */
    assert_int_equal(buf[100 + 16 + 12], 0x81); /* second kept its tag */
    vsw_free(sw);
}

/* RFC 7348 header: I flag, 24-bit VNI, reserved bits zero when sent and
 * ignored when received; short packets and a missing I flag are refused. */
/* An untagged IPv4/UDP frame from MAC src (last byte) with the given
 * addresses and ports; for DHCP, a BOOTP body with op, chaddr, yiaddr and
 * message type.  Its length. */
static size_t udp_frame(uint8_t *f, const uint8_t dst[6], uint8_t src_last, uint32_t sip,
                        uint32_t dip, unsigned sport, unsigned dport, int dhcp_type, uint8_t op,
                        uint8_t chaddr_last, uint32_t yiaddr)
{
    size_t len = 14 + 20 + 8 + (dhcp_type ? 244 : 4);
    memset(f, 0, len);
    memcpy(f, dst, 6);
    uint8_t src[6] = {0x52, 0x54, 0, 0, 0, src_last};
    memcpy(f + 6, src, 6);
    f[12] = 0x08;
    f[14] = 0x45;
    f[23] = 17;
    for (int i = 0; i < 4; i++) {
        f[26 + i] = (uint8_t)(sip >> (24 - 8 * i));
        f[30 + i] = (uint8_t)(dip >> (24 - 8 * i));
    }
    f[34] = (uint8_t)(sport >> 8), f[35] = (uint8_t)sport;
    f[36] = (uint8_t)(dport >> 8), f[37] = (uint8_t)dport;
    if (dhcp_type) {
        uint8_t *m = f + 42;
        m[0] = op, m[1] = 1, m[2] = 6;
        for (int i = 0; i < 4; i++)
            m[16 + i] = (uint8_t)(yiaddr >> (24 - 8 * i));
        uint8_t ch[6] = {0x52, 0x54, 0, 0, 0, chaddr_last};
        memcpy(m + 28, ch, 6);
        m[236] = 0x63, m[237] = 0x82, m[238] = 0x53, m[239] = 0x63;
        m[240] = 53, m[241] = 1, m[242] = (uint8_t)dhcp_type, m[243] = 255;
    }
    return len;
}

static size_t arp_frame(uint8_t *f, uint8_t src_last, uint32_t spa)
{
    memset(f, 0, 60);
    memcpy(f, BCAST, 6);
    uint8_t src[6] = {0x52, 0x54, 0, 0, 0, src_last};
    memcpy(f + 6, src, 6);
    f[12] = 0x08, f[13] = 0x06;
    for (int i = 0; i < 4; i++)
        f[28 + i] = (uint8_t)(spa >> (24 - 8 * i));
    return 60;
}

static unsigned binds, bind_port;
static uint32_t bind_ip;

static void on_bind(void *opaque, unsigned port, uint32_t ip)
{
    (void)opaque;
    binds++;
    bind_port = port;
    bind_ip = ip;
}

/* DHCP snooping: a guarded port sends only from what the server on an
 * unguarded port acknowledged for its MAC; it cannot be a DHCP server. */
static void test_ip_guard(void **state)
{
    (void)state;
    struct vswitch *sw = vsw_new(64, output, NULL);
    assert_non_null(sw);
    sw->on_bind = on_bind;
    struct vsw_port_config router = {.pvid = 1};
    struct vsw_port_config vm = {.pvid = 1, .anti_spoof = true, .ip_guard = true};
    assert_int_equal(vsw_port_add(sw, &router), 0);
    mac_of(2, vm.mac);
    assert_int_equal(vsw_port_add(sw, &vm), 1);
    mac_of(3, vm.mac);
    assert_int_equal(vsw_port_add(sw, &vm), 2);
    uint8_t f[320];
    const uint32_t ip = 0x0a0a000f, other = 0x0a0a0063, server = 0x0a0a0002;
    size_t n;

    /* Before any lease: only DHCP from 0.0.0.0 and ARP probes pass. */
    nout = 0;
    n = udp_frame(f, BCAST, 2, ip, 0xffffffff, 5000, 5000, 0, 0, 0, 0);
    vsw_input(sw, 1, f, n, 1);
    assert_int_equal(nout, 0);
    n = udp_frame(f, BCAST, 2, 0, 0xffffffff, 68, 67, 1 /* DISCOVER */, 1, 2, 0);
    vsw_input(sw, 1, f, n, 2);
    assert_int_equal(nout, 2); /* flooded to the router and port 2 */
    n = arp_frame(f, 2, 0);
    nout = 0;
    vsw_input(sw, 1, f, n, 3);
    assert_int_equal(nout, 2);

    /* A guest answering as a DHCP server is dropped, and binds nothing. */
    nout = 0;
    n = udp_frame(f, BCAST, 3, ip, 0xffffffff, 67, 68, 5, 2, 2, other);
    vsw_input(sw, 2, f, n, 4);
    assert_int_equal(nout, 0);
    assert_int_equal(binds, 0);
    assert_int_equal(sw->ports[2].cnt.drop_spoof, 1);

    /* The router's ACK for port 1's MAC binds ip to port 1 only. */
    n = udp_frame(f, BCAST, 9, server, 0xffffffff, 67, 68, 5, 2, 2, ip);
    vsw_input(sw, 0, f, n, 5);
    assert_int_equal(sw->ports[1].bound_ip, ip);
    assert_int_equal(sw->ports[2].bound_ip, 0);
    assert_int_equal(binds, 1);
    assert_int_equal(bind_port, 1);
    assert_int_equal(bind_ip, ip);

    nout = 0;
    n = udp_frame(f, BCAST, 2, ip, 0xffffffff, 5000, 5000, 0, 0, 0, 0);
    vsw_input(sw, 1, f, n, 6);
    assert_int_equal(nout, 2);
    nout = 0;
    n = udp_frame(f, BCAST, 2, other, 0xffffffff, 5000, 5000, 0, 0, 0, 0);
    vsw_input(sw, 1, f, n, 7);
    n = arp_frame(f, 2, other);
    vsw_input(sw, 1, f, n, 8);
    assert_int_equal(nout, 0);
    n = arp_frame(f, 2, ip);
    vsw_input(sw, 1, f, n, 9);
    assert_int_equal(nout, 2);
    /* Port 2 may not use port 1's address either. */
    nout = 0;
    n = udp_frame(f, BCAST, 3, ip, 0xffffffff, 5000, 5000, 0, 0, 0, 0);
    vsw_input(sw, 2, f, n, 10);
    assert_int_equal(nout, 0);
    /* A truncated IPv4 header is not let through on a guess. */
    vsw_input(sw, 1, f, 30, 11);
    assert_int_equal(nout, 0);
    /* IPv6 is not judged. */
    n = frame(f, BCAST, 2, -1);
    f[12] = 0x86, f[13] = 0xdd;
    vsw_input(sw, 1, f, n, 12);
    assert_int_equal(nout, 2);

    /* RELEASE from the bound address unbinds; a NAK does too. */
    nout = 0;
    n = udp_frame(f, BCAST, 2, ip, server, 68, 67, 7 /* RELEASE */, 1, 2, 0);
    vsw_input(sw, 1, f, n, 13);
    assert_int_equal(sw->ports[1].bound_ip, 0);
    assert_int_equal(bind_ip, 0);
    n = udp_frame(f, BCAST, 9, server, 0xffffffff, 67, 68, 5, 2, 3, other);
    vsw_input(sw, 0, f, n, 14);
    assert_int_equal(sw->ports[2].bound_ip, other);
    n = udp_frame(f, BCAST, 9, server, 0xffffffff, 67, 68, 6 /* NAK */, 2, 3, 0);
    vsw_input(sw, 0, f, n, 15);
    assert_int_equal(sw->ports[2].bound_ip, 0);
    /* A BOOTP reply without the magic cookie or type binds nothing. */
    n = udp_frame(f, BCAST, 9, server, 0xffffffff, 67, 68, 5, 2, 3, other);
    f[42 + 236] = 0;
    vsw_input(sw, 0, f, n, 16);
    assert_int_equal(sw->ports[2].bound_ip, 0);
    vsw_free(sw);
}

static void test_vxlan_header(void **state)
{
    (void)state;
    uint8_t p[64] = {0};
    vxlan_encap(p, 0x123456);
    const uint8_t want[8] = {0x08, 0, 0, 0, 0x12, 0x34, 0x56, 0};
    assert_memory_equal(p, want, 8);
    uint32_t vni = 0;
    assert_true(vxlan_decap(p, 8 + 14, &vni));
    assert_int_equal(vni, 0x123456);
    assert_false(vxlan_decap(p, 8 + 13, &vni));
    p[1] = p[3] = p[7] = 0xff; /* reserved bits set by a sender: ignored */
    assert_true(vxlan_decap(p, 64, &vni));
    assert_int_equal(vni, 0x123456);
    p[0] = 0xf7; /* every flag but I */
    assert_false(vxlan_decap(p, 64, &vni));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_flood_then_learn),
        cmocka_unit_test(test_ageing),
        cmocka_unit_test(test_vlan_separation),
        cmocka_unit_test(test_hostile_frames),
        cmocka_unit_test(test_mac_flood_evicts),
        cmocka_unit_test(test_rate_limit),
        cmocka_unit_test(test_acl),
        cmocka_unit_test(test_mirror_pcap),
        cmocka_unit_test(test_vxlan_header),
        cmocka_unit_test(test_ip_guard),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
