/* SPDX-License-Identifier: MIT */
/*
 * The tap backend against a real TAP interface (skipped without
 * CAP_NET_ADMIN or the `ip` tool): the "guest" asks for the host's MAC
 * with an ARP request sent through the backend, and the host kernel's ARP
 * reply comes back through the receive callback, on the backend's thread
 * with the given lock held.
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "net/net.h"
#include "net/net_backends.h"
#include "vmm/vm_spec.h"

#define IFNAME "wirtt%d"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static const uint8_t guest_mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x77};

struct rx {
    bool locked_ok;
    bool got_reply;
    uint8_t host_mac[6];
};

static bool can_receive(void *opaque)
{
    (void)opaque;
    return true;
}

static void receive(void *opaque, const void *frame, size_t len)
{
    struct rx *rx = opaque;
    const uint8_t *f = frame;
    /* The backend must hold the lock it was given. */
    if (pthread_mutex_trylock(&lock) == 0) {
        pthread_mutex_unlock(&lock);
        rx->locked_ok = false;
        return;
    }
    rx->locked_ok = true;
    /* ARP reply (opcode 2) to our MAC. */
    if (len >= 42 && f[12] == 0x08 && f[13] == 0x06 && f[20] == 0 && f[21] == 2 &&
        !memcmp(f, guest_mac, 6)) {
        memcpy(rx->host_mac, f + 22, 6);
        __atomic_store_n(&rx->got_reply, true, __ATOMIC_RELEASE);
    }
}

static void test_tap_arp(void **state)
{
    (void)state;
    char ifname[16], spec[64], err[256], cmd[160];
    snprintf(ifname, sizeof(ifname), IFNAME, (int)(getpid() % 10000));
    snprintf(spec, sizeof(spec), "tap,ifname=%s", ifname);
    struct vm_spec s;
    vm_spec_init(&s, VM_SPEC_NAMES_FLAGS);
    assert_true(vm_spec_add_nic_text(&s, spec, NULL, err, sizeof(err)));
    struct net_backend *nb = net_backend_open(&s.nics[0], &lock, err, sizeof(err));
    vm_spec_free(&s);
    if (!nb) { /* no TAP support here: a one-line reason naming the device */
        assert_true(strstr(err, "tun") || strstr(err, "TAP"));
        assert_null(strchr(err, '\n'));
        skip();
    }
    snprintf(cmd, sizeof(cmd), "ip addr add 10.213.7.1/24 dev %s && ip link set %s up 2>/dev/null",
             ifname, ifname);
    if (system(cmd) != 0) {
        net_backend_close(nb);
        skip();
    }
    struct rx rx = {0};
    pthread_mutex_lock(&lock);
    nb->opaque = &rx;
    nb->can_receive = can_receive;
    nb->receive = receive;
    /* Frames that came before the frontend was attached paused the
     * backend; the frontend says when it can take frames. */
    nb->ops->receive_ready(nb);
    pthread_mutex_unlock(&lock);

    uint8_t arp[42] = {0};
    memset(arp, 0xff, 6);
    memcpy(arp + 6, guest_mac, 6);
    arp[12] = 0x08, arp[13] = 0x06;        /* ARP */
    arp[14] = 0x00, arp[15] = 0x01;        /* Ethernet */
    arp[16] = 0x08, arp[17] = 0x00;        /* IPv4 */
    arp[18] = 6, arp[19] = 4, arp[21] = 1; /* request */
    memcpy(arp + 22, guest_mac, 6);
    uint8_t sip[4] = {10, 213, 7, 2}, tip[4] = {10, 213, 7, 1};
    memcpy(arp + 28, sip, 4);
    memcpy(arp + 38, tip, 4);
    for (int i = 0; i < 50 && !__atomic_load_n(&rx.got_reply, __ATOMIC_ACQUIRE); i++) {
        pthread_mutex_lock(&lock);
        nb->ops->send(nb, arp, sizeof(arp));
        pthread_mutex_unlock(&lock);
        struct timespec ts = {0, 100 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    pthread_mutex_lock(&lock);
    bool got = rx.got_reply, locked = rx.locked_ok;
    pthread_mutex_unlock(&lock);
    net_backend_close(nb);
    assert_true(got);
    assert_true(locked);
}

static void test_tap_errors(void **state)
{
    (void)state;
    char err[256];
    assert_false(vm_spec_nic_text_ok("tap,ifname=", "--net", err, sizeof(err)));
    assert_non_null(strstr(err, "ifname"));
    assert_false(
        vm_spec_nic_text_ok("tap,ifname=waytoolonginterfacename", "--net", err, sizeof(err)));
    assert_non_null(strstr(err, "ifname"));
    /* A nic_spec that skipped the parser is still refused by the registry. */
    struct nic_spec nic = {.backend = net_backend_find("tap")};
    assert_null(net_backend_open(&nic, &lock, err, sizeof(err)));
    assert_non_null(strstr(err, "ifname"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tap_arp),
        cmocka_unit_test(test_tap_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
