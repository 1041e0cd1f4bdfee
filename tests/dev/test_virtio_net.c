/* SPDX-License-Identifier: MIT */
/*
 * virtio-net without a guest, over a fake backend: config (MAC, link),
 * TX (header stripped, frame handed to the backend), RX (header written,
 * num_buffers 1), flow control (can_receive / receive_ready), frames
 * larger than the buffers, TCP segmentation offload (TSO frames cut into
 * checksummed segments, or passed whole to the user backend, refused when
 * not negotiated or malformed); and --net option parsing plus a real user
 * (libslirp) backend with a hostfwd rule.
 */
#include <arpa/inet.h>
#include <endian.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "net/net.h"
#include "net/net_backends.h"
#include "virtio/virtio_devices.h"
#include "vmm/vm_spec.h"
#include "virtio_harness.h"

#define F_MAC        (1ull << 5)
#define F_STATUS     (1ull << 16)
#define F_CSUM       (1ull << 0)
#define F_GUEST_CSUM (1ull << 1)
#define F_HOST_TSO4  (1ull << 11)
#define F_HOST_TSO6  (1ull << 12)
#define F_HOST_ECN   (1ull << 13)

struct fake_nb {
    struct net_backend nb;
    uint8_t sent[2048];
    size_t sent_len;
    unsigned nsent;
    unsigned ready_calls;
    /* Every frame sent, back to back, and where each one starts. */
    uint8_t all[80000];
    size_t all_len;
    size_t start[128];
};

static void fake_send(struct net_backend *nb, const void *frame, size_t len)
{
    struct fake_nb *f = (struct fake_nb *)nb;
    if (f->nsent < 128 && len <= sizeof(f->all) - f->all_len) {
        f->start[f->nsent] = f->all_len;
        memcpy(f->all + f->all_len, frame, len);
        f->all_len += len;
    }
    f->nsent++;
    f->sent_len = len;
    memcpy(f->sent, frame, len < sizeof(f->sent) ? len : sizeof(f->sent));
}

static void fake_ready(struct net_backend *nb)
{
    ((struct fake_nb *)nb)->ready_calls++;
}

static bool fake_closed;
static void fake_close(struct net_backend *nb)
{
    (void)nb;
    fake_closed = true;
}

static const struct net_backend_ops fake_ops = {
    .name = "fake", .send = fake_send, .receive_ready = fake_ready, .close = fake_close};
/* The same, taking TSO frames whole as the libslirp backend does. */
static const struct net_backend_ops fake_user_ops = {.name = "user",
                                                     .tso4_max_frame = 65536,
                                                     .send = fake_send,
                                                     .receive_ready = fake_ready,
                                                     .close = fake_close};

struct fixture {
    struct harness h;
    struct fake_nb nb;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    assert_true(h_init(&f->h));
    f->nb.nb.ops = &fake_ops;
    memcpy(f->nb.nb.mac, "\x52\x54\x00\xaa\xbb\xcc", 6);
    f->h.vdev = virtio_net_create(&f->h.bus, h_irq(&f->h), &f->nb.nb);
    assert_non_null(f->h.vdev);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(f->h.bad_writes, 0);
    fake_closed = false;
    h_destroy(&f->h);
    assert_true(fake_closed);
    free(f);
    return 0;
}

static void test_config(void **state)
{
    struct fixture *f = *state;
    uint8_t mac[6];
    for (int i = 0; i < 6; i++)
        mac[i] = (uint8_t)virtio_mmio_dev_ops.read(f->h.vdev, 0x100 + i, 1);
    assert_memory_equal(mac, "\x52\x54\x00\xaa\xbb\xcc", 6);
    assert_int_equal(virtio_mmio_dev_ops.read(f->h.vdev, 0x106, 2), 1); /* link up */
    h_wr(&f->h, 0x14, 0);
    uint32_t feat = h_rd(&f->h, 0x10);
    assert_true(feat & F_MAC);
    assert_true(feat & F_CSUM);
    assert_true((feat & (F_HOST_TSO4 | F_HOST_TSO6 | F_HOST_ECN)) ==
                (F_HOST_TSO4 | F_HOST_TSO6 | F_HOST_ECN));
    assert_int_equal(h_rd(&f->h, 0x008), 1);
}

static void test_tx(void **state)
{
    struct fixture *f = *state;
    struct harness *h = &f->h;
    assert_true(h_start(h, H_F_V1 | F_MAC | F_STATUS, 2, 16));
    memset(h_ptr(h, H_DATA), 0, 12);
    for (int i = 0; i < 60; i++)
        h_ptr(h, H_DATA + 0x100)[i] = (uint8_t)i;
    struct h_buf b[] = {{H_DATA, 12, false}, {H_DATA + 0x100, 60, false}};
    h_publish(h, 1, h_chain(h, 1, b, 2));
    h_notify(h, 1);
    assert_int_equal(f->nb.nsent, 1);
    assert_int_equal(f->nb.sent_len, 60);
    assert_int_equal(f->nb.sent[59], 59);
    assert_int_equal(h_used_idx(h, 1), 1);
    /* Header and frame in one buffer work too. */
    memset(h_ptr(h, H_DATA + 0x1000), 0, 12);
    memcpy(h_ptr(h, H_DATA + 0x1000 + 12), "frame-in-one-buffer", 19);
    struct h_buf c[] = {{H_DATA + 0x1000, 31, false}};
    h_publish(h, 1, h_chain(h, 1, c, 1));
    h_notify(h, 1);
    assert_int_equal(f->nb.nsent, 2);
    assert_int_equal(f->nb.sent_len, 19);
    assert_memory_equal(f->nb.sent, "frame-in-one-buffer", 19);
    /* A chain shorter than the header is consumed but not sent. */
    struct h_buf d[] = {{H_DATA, 6, false}};
    h_publish(h, 1, h_chain(h, 1, d, 1));
    h_notify(h, 1);
    assert_int_equal(f->nb.nsent, 2);
    assert_int_equal(h_used_idx(h, 1), 3);
}

static uint16_t fold(const uint8_t *p, size_t len)
{
    uint32_t sum = 0;
    size_t i = 0;
    for (; i + 1 < len; i += 2)
        sum += (uint32_t)p[i] << 8 | p[i + 1];
    if (i < len)
        sum += (uint32_t)p[i] << 8;
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)sum;
}

static void test_tx_checksum(void **state)
{
    struct fixture *f = *state;
    struct harness *h = &f->h;
    assert_true(h_start(h, H_F_V1 | F_CSUM | F_GUEST_CSUM, 2, 16));
    uint8_t *hdr = h_ptr(h, H_DATA);
    memset(hdr, 0, 12);
    hdr[0] = 1;  /* NEEDS_CSUM */
    hdr[6] = 34; /* csum_start (le16) */
    hdr[8] = 16; /* csum_offset: TCP checksum field */
    uint8_t *frame = h_ptr(h, H_DATA + 0x100);
    for (int i = 0; i < 101; i++) /* odd length on purpose */
        frame[i] = (uint8_t)(i * 29 + 3);
    frame[50] = 0x12, frame[51] = 0x34; /* the pseudo-header sum the guest left */
    struct h_buf b[] = {{H_DATA, 12, false}, {H_DATA + 0x100, 101, false}};
    h_publish(h, 1, h_chain(h, 1, b, 2));
    h_notify(h, 1);
    assert_int_equal(f->nb.nsent, 1);
    assert_int_equal(f->nb.sent_len, 101);
    /* A correct checksum makes the covered range plus the pseudo-header
     * sum to 0xffff, and the bytes before csum_start are untouched. */
    uint32_t total = fold(f->nb.sent + 34, 101 - 34) + 0x1234u; /* + pseudo-header */
    total = (total & 0xffff) + (total >> 16);
    assert_int_equal(total, 0xffff);
    assert_memory_equal(f->nb.sent, frame, 34);
    /* Nonsense offsets leave the frame as it was. */
    hdr[6] = 200;
    h_publish(h, 1, h_chain(h, 1, b, 2));
    h_notify(h, 1);
    assert_int_equal(f->nb.nsent, 2);
    assert_memory_equal(f->nb.sent, frame, 101);
    /* Received frames are marked as already verified. */
    struct h_buf r[] = {{H_DATA + 0x1000, 1526, true}};
    h_publish(h, 0, h_chain(h, 0, r, 1));
    f->nb.nb.receive(f->nb.nb.opaque, "0123456789abcdef", 16);
    assert_int_equal(h_ptr(h, H_DATA + 0x1000)[0], 2); /* DATA_VALID */
}

/* An IPv4 TCP frame with `payload` bytes (byte i = i % 251) at gpa, as a
 * guest with TSO would build it: IP total length of the whole packet, the
 * pseudo-header sum in the TCP checksum field, PSH|FIN|ACK. */
static size_t put_tso_frame(struct harness *h, uint64_t gpa, size_t payload)
{
    uint8_t *f = h_ptr(h, gpa);
    memset(f, 0, 54);
    memcpy(f, "\x52\x55\x0a\x00\x02\x02\x52\x54\x00\xaa\xbb\xcc\x08\x00", 14);
    size_t iplen = 40 + payload;
    f[14] = 0x45, f[16] = (uint8_t)(iplen >> 8), f[17] = (uint8_t)iplen;
    f[18] = 0x10, f[19] = 0x00, f[20] = 0x40, f[22] = 64, f[23] = 6;
    memcpy(f + 26, "\x0a\x00\x02\x0f\x0a\x00\x02\x02", 8);
    memcpy(f + 34, "\xc0\x00\x00\x50\x00\x00\x10\x00\x00\x00\x00\x01\x50\x19\xff\xff", 16);
    uint32_t ph = fold(f + 26, 8) + 6u + (uint32_t)(iplen - 20);
    ph = (ph & 0xffff) + (ph >> 16);
    f[50] = (uint8_t)(ph >> 8), f[51] = (uint8_t)ph;
    for (size_t i = 0; i < payload; i++)
        f[54 + i] = (uint8_t)(i % 251);
    return 54 + payload;
}

/* Checks that the backend got IPv4/TCP frames carrying `payload` bytes in
 * order, each with at most mss of them and valid checksums. */
static void check_sent_stream(struct fake_nb *nb, size_t payload, size_t mss)
{
    size_t got = 0;
    for (unsigned i = 0; i < nb->nsent; i++) {
        const uint8_t *f = nb->all + nb->start[i];
        size_t len = (i + 1 < nb->nsent ? nb->start[i + 1] : nb->all_len) - nb->start[i];
        assert_true(len > 54 && len - 54 <= mss);
        assert_int_equal((f[16] << 8 | f[17]), len - 14);
        assert_int_equal(fold(f + 14, 20), 0xffff);
        uint32_t tcp = fold(f + 26, 8) + 6u + (uint32_t)(len - 34) + fold(f + 34, len - 34);
        tcp = (tcp & 0xffff) + (tcp >> 16);
        assert_int_equal(tcp, 0xffff);
        uint32_t seq = (uint32_t)f[38] << 24 | f[39] << 16 | f[40] << 8 | f[41];
        assert_int_equal(seq, 0x1000 + got);
        /* FIN and PSH only on the last one. */
        assert_int_equal(f[47], i + 1 < nb->nsent ? 0x10 : 0x19);
        for (size_t k = 0; k < len - 54; k++)
            if (f[54 + k] != (uint8_t)((got + k) % 251))
                fail_msg("frame %u byte %zu", i, k);
        got += len - 54;
    }
    assert_int_equal(got, payload);
}

static void tso_header(uint8_t *hdr, uint8_t gso_type, uint16_t gso_size)
{
    memset(hdr, 0, 12);
    hdr[0] = 1; /* NEEDS_CSUM at 34 + 16 */
    hdr[1] = gso_type;
    hdr[2] = 54;
    hdr[4] = (uint8_t)gso_size, hdr[5] = (uint8_t)(gso_size >> 8);
    hdr[6] = 34;
    hdr[8] = 16;
}

/* Transmits header + frame (already in guest memory) as one chain. */
static void tx_two(struct harness *h, uint32_t frame_len)
{
    struct h_buf b[] = {{H_DATA, 12, false}, {H_DATA + 0x100, frame_len, false}};
    h_publish(h, 1, h_chain(h, 1, b, 2));
    h_notify(h, 1);
}

/* Transmits a fresh TSO frame of `payload` bytes. */
static uint32_t tx_tso(struct harness *h, uint8_t gso_type, uint16_t gso_size, size_t payload)
{
    tso_header(h_ptr(h, H_DATA), gso_type, gso_size);
    uint32_t len = (uint32_t)put_tso_frame(h, H_DATA + 0x100, payload);
    tx_two(h, len);
    return len;
}

static void test_tx_tso(void **state)
{
    struct fixture *f = *state;
    struct harness *h = &f->h;
    assert_true(h_start(h, H_F_V1 | F_CSUM | F_HOST_TSO4, 2, 16));
    uint32_t len = tx_tso(h, 1, 1000, 5500);
    assert_int_equal(f->nb.nsent, 6);
    check_sent_stream(&f->nb, 5500, 1000);
    assert_int_equal(h_used_idx(h, 1), 1);

    /* Malformed: gso_size 0, a UDP packet marked TCPv4, TCPv6 (not
     * negotiated), hdr_len beyond the frame: consumed, nothing sent. */
    unsigned sent = f->nb.nsent;
    tx_tso(h, 1, 0, 5500);
    tx_tso(h, 4, 1000, 5500);
    tso_header(h_ptr(h, H_DATA), 1, 1000);
    h_ptr(h, H_DATA)[3] = 0xff; /* hdr_len 0xff36 */
    tx_two(h, len);
    tso_header(h_ptr(h, H_DATA), 1, 1000);
    h_ptr(h, H_DATA + 0x100)[23] = 17;
    tx_two(h, len);
    assert_int_equal(f->nb.nsent, sent);
    assert_int_equal(h_used_idx(h, 1), 5);

    /* A chain longer than the biggest IP packet plus link header. */
    tso_header(h_ptr(h, H_DATA), 1, 1000);
    put_tso_frame(h, H_DATA + 0x100, 65000);
    tx_two(h, 65535 + 18 + 1);
    assert_int_equal(f->nb.nsent, sent);
    assert_int_equal(h_used_idx(h, 1), 6);
}

static void test_tx_tso_whole_to_user(void **state)
{
    struct fixture *f = *state;
    struct harness *h = &f->h;
    f->nb.nb.ops = &fake_user_ops;
    assert_true(h_start(h, H_F_V1 | F_CSUM | F_HOST_TSO4 | F_HOST_TSO6, 2, 16));
    /* A 64 KiB frame (the most Linux sends) goes to libslirp in one piece. */
    tx_tso(h, 1, 1448, 65536 - 54);
    assert_int_equal(f->nb.nsent, 1);
    assert_int_equal(f->nb.sent_len, 65536);
    check_sent_stream(&f->nb, 65536 - 54, 65536);
    /* The largest IP packet is more than the user backend takes: cut. */
    f->nb.nsent = 0;
    f->nb.all_len = 0;
    tx_tso(h, 1, 1448, 65535 - 40);
    assert_int_equal(f->nb.nsent, (65535 - 40 + 1447) / 1448);
    check_sent_stream(&f->nb, 65535 - 40, 1448);
}

static void test_tx_tso_not_negotiated(void **state)
{
    struct fixture *f = *state;
    struct harness *h = &f->h;
    assert_true(h_start(h, H_F_V1 | F_CSUM, 2, 16));
    tx_tso(h, 1, 1000, 3000);
    assert_int_equal(f->nb.nsent, 0);
    assert_int_equal(h_used_idx(h, 1), 1);
}

static void test_rx_flow(void **state)
{
    struct fixture *f = *state;
    struct harness *h = &f->h;
    struct net_backend *nb = &f->nb.nb;
    /* Before the driver is up the device refuses frames. */
    assert_false(nb->can_receive(nb->opaque));
    assert_true(h_start(h, H_F_V1 | F_MAC | F_STATUS, 2, 16));
    unsigned ready0 = f->nb.ready_calls;
    assert_true(ready0 >= 1);                  /* told at DRIVER_OK */
    assert_false(nb->can_receive(nb->opaque)); /* no buffers yet */
    /* Receive buffers arrive: the backend hears about it. */
    struct h_buf b[] = {{H_DATA, 1526, true}};
    h_publish(h, 0, h_chain(h, 0, b, 1));
    h_notify(h, 0);
    assert_int_equal(f->nb.ready_calls, ready0 + 1);
    assert_true(nb->can_receive(nb->opaque));
    memset(h_ptr(h, H_DATA), 0xff, 12);
    nb->receive(nb->opaque, "0123456789abcdef", 16);
    assert_int_equal(h_used_idx(h, 0), 1);
    uint32_t id, len;
    h_used_elem(h, 0, 0, &id, &len);
    assert_int_equal(len, 28);
    uint8_t hdr[12] = {0};
    hdr[10] = 1; /* num_buffers */
    assert_memory_equal(h_ptr(h, H_DATA), hdr, 12);
    assert_memory_equal(h_ptr(h, H_DATA + 12), "0123456789abcdef", 16);
    assert_true(h->irq_level);
    /* Out of buffers again: a frame delivered anyway is dropped. */
    assert_false(nb->can_receive(nb->opaque));
    nb->receive(nb->opaque, "lost", 4);
    assert_int_equal(h_used_idx(h, 0), 1);
    /* A buffer too small for the frame comes back empty. */
    struct h_buf c[] = {{H_DATA + 0x1000, 20, true}};
    h_publish(h, 0, h_chain(h, 0, c, 1));
    h_notify(h, 0);
    nb->receive(nb->opaque, "0123456789abcdef", 16);
    h_used_elem(h, 0, 1, &id, &len);
    assert_int_equal(len, 0);
}

static void test_reset(void **state)
{
    struct fixture *f = *state;
    struct harness *h = &f->h;
    struct net_backend *nb = &f->nb.nb;
    assert_true(h_start(h, H_F_V1, 2, 16));
    struct h_buf b[] = {{H_DATA, 1526, true}};
    h_publish(h, 0, h_chain(h, 0, b, 1));
    assert_true(nb->can_receive(nb->opaque));
    h_wr(h, 0x70, 0);
    assert_false(nb->can_receive(nb->opaque));
    nb->receive(nb->opaque, "x", 1); /* must not touch the old rings */
}

static void test_options(void **state)
{
    (void)state;
    char err[256];
    struct net_hostfwd fwd;
    assert_true(net_parse_hostfwd("tcp::2222-:22", &fwd));
    assert_false(fwd.udp);
    assert_int_equal(fwd.host_port, 2222);
    assert_int_equal(fwd.guest_port, 22);
    assert_int_equal(fwd.host_addr, 0);
    assert_true(net_parse_hostfwd("udp:127.0.0.1:53-10.0.2.15:5353", &fwd));
    assert_true(fwd.udp);
    assert_int_equal(fwd.host_addr, htonl(0x7f000001));
    assert_false(net_parse_hostfwd("tcp::2222", &fwd));
    assert_false(net_parse_hostfwd("tcp::99999-:22", &fwd));
    assert_false(net_parse_hostfwd("sctp::1-:2", &fwd));
    assert_false(net_parse_hostfwd("tcp:1.2.3:1-:2", &fwd));
    assert_false(net_parse_hostfwd("tcp::0-:22", &fwd));

    char text[64];
    assert_true(net_parse_hostfwd("udp:127.0.0.1:53-10.0.2.15:5353", &fwd));
    net_format_hostfwd(&fwd, text, sizeof(text));
    assert_string_equal(text, "udp:127.0.0.1:53-10.0.2.15:5353");

    /* Option text is parsed by the spec parser through the registry. */
    static const char *bad[] = {"",
                                "bridge",
                                "user,hostfwd=tcp::22",
                                "user,mac=52:54:00",
                                "user,mac=01:00:00:00:00:01",
                                "user,foo=bar",
                                "user,nokey",
                                "tap",
                                "tap,hostfwd=tcp::1-:2",
                                "user,ifname=x"};
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        assert_false(vm_spec_nic_text_ok(bad[i], "--net", err, sizeof(err)));
        assert_true(strncmp(err, "--net", 5) == 0);
        assert_null(strchr(err, '\n'));
    }
}

static uint16_t free_port(void)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t l = sizeof(a);
    assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
    getsockname(s, (struct sockaddr *)&a, &l);
    close(s);
    return ntohs(a.sin_port);
}

static bool can_connect(uint16_t port)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {
        .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    bool ok = connect(s, (struct sockaddr *)&a, sizeof(a)) == 0;
    close(s);
    return ok;
}

/* A backend opened from --net text, as the VMM does: parsed into a
 * nic_spec by the spec parser, opened by the registry. */
static struct net_backend *open_text(const char *text, unsigned index, char *err, size_t errlen)
{
    struct vm_spec s;
    vm_spec_init(&s, VM_SPEC_NAMES_FLAGS);
    if (!vm_spec_add_nic_text(&s, text, NULL, err, errlen))
        return NULL;
    if (!s.nics[0].mac_given)
        net_default_mac(s.nics[0].mac, index);
    struct net_backend *nb = net_backend_open(&s.nics[0], NULL, err, errlen);
    vm_spec_free(&s);
    return nb;
}

static void test_user_backend(void **state)
{
    (void)state;
    char err[256], spec[128];
    uint16_t port = free_port();
    snprintf(spec, sizeof(spec), "user,hostfwd=tcp:127.0.0.1:%u-:22,mac=52:54:00:01:02:03", port);
    struct net_backend *nb = open_text(spec, 0, err, sizeof(err));
    if (!nb)
        fail_msg("%s", err);
    assert_memory_equal(nb->mac, "\x52\x54\x00\x01\x02\x03", 6);
    /* The forwarded port is listening on the host. */
    assert_true(can_connect(port));
    /* A second backend cannot take the same port. */
    struct net_backend *nb2 = open_text(spec, 1, err, sizeof(err));
    assert_null(nb2);
    assert_non_null(strstr(err, "hostfwd"));
    net_backend_close(nb);
    /* Default MACs differ per index. */
    nb = open_text("user", 3, err, sizeof(err));
    assert_non_null(nb);
    assert_int_equal(nb->mac[5], 0x56 + 3);
    net_backend_close(nb);
}

/* Snapshots and migration carry libslirp's state (with its version); an
 * incoming machine waits for hostfwd ports its source still holds. */
static void test_user_state_and_hostfwd_wait(void **state)
{
    (void)state;
    char err[256], spec[128];
    uint16_t port = free_port();
    snprintf(spec, sizeof(spec), "user,hostfwd=tcp:127.0.0.1:%u-:22", port);
    struct vm_spec vs;
    vm_spec_init(&vs, VM_SPEC_NAMES_FLAGS);
    assert_true(vm_spec_add_nic_text(&vs, spec, NULL, err, sizeof(err)));
    pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER; /* the board's I/O lock */
    struct net_backend *src = net_backend_open(&vs.nics[0], &lock, err, sizeof(err));
    assert_non_null(src);
    uint8_t *blob = NULL;
    size_t len = 0;
    assert_non_null(src->ops->save_state);
    pthread_mutex_lock(&lock); /* as machine_save holds it */
    assert_true(src->ops->save_state(src, &blob, &len));
    pthread_mutex_unlock(&lock);
    assert_true(len > 4);
    /* The destination on the same host: the port is still the source's. */
    vs.nics[0].user.hostfwd_wait = true;
    struct net_backend *dst = net_backend_open(&vs.nics[0], NULL, err, sizeof(err));
    if (!dst)
        fail_msg("%s", err);
    assert_true(dst->ops->load_state(dst, blob, len, err, sizeof(err)));
    /* A state from a newer libslirp, or none at all, is refused. */
    uint8_t bad[8] = {0xff, 0xff, 0, 0};
    assert_false(dst->ops->load_state(dst, bad, sizeof(bad), err, sizeof(err)));
    assert_non_null(strstr(err, "version"));
    assert_false(dst->ops->load_state(dst, bad, 2, err, sizeof(err)));
    net_backend_close(src); /* hands the port over */
    bool listening = false;
    for (int i = 0; i < 50 && !listening; i++) {
        usleep(100000);
        listening = can_connect(port);
    }
    assert_true(listening);
    net_backend_close(dst);
    free(blob);
    vm_spec_free(&vs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_config, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tx, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tx_checksum, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tx_tso, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tx_tso_whole_to_user, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tx_tso_not_negotiated, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rx_flow, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reset, setup, teardown),
        cmocka_unit_test(test_options),
        cmocka_unit_test(test_user_backend),
        cmocka_unit_test(test_user_state_and_hostfwd_wait),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
