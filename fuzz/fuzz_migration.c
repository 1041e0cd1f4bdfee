/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the migration stream as a destination receives it
 * (vmm/migration.c, migration_receive).  The harness plays a source that
 * knows the (empty) secret, so the handshake passes and the input is the
 * record stream: HELLO, PAGES batches (raw and zstd), ZEROS runs, SYNC, STATE, END,
 * and a copied disk's DISKS and DISK records (a 256 KiB disk in memory).
 * The destination must reject anything malformed with an error, never
 * crash, hang, write outside guest RAM or load an unauthenticated state.
 */
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "mem/bus.h"
#include "vmm/migration.h"

#define RAM_BASE 0x80000000ULL
#define RAM_SIZE (1ULL << 20)

static struct bus bus;

static bool load_state(void *o, const uint8_t *buf, size_t len, char *err, size_t errlen)
{
    (void)o;
    (void)buf;
    (void)len;
    (void)err;
    (void)errlen;
    abort(); /* only an authenticated stream may get here: the fuzzer cannot forge the MAC */
}

#define DISK_SIZE (256u << 10)
static uint8_t disk[DISK_SIZE];

static unsigned disks(void *o, uint64_t *sizes)
{
    (void)o;
    sizes[0] = DISK_SIZE;
    return 1;
}

static bool disk_write(void *o, unsigned n, uint64_t off, const void *buf, size_t len, char *err,
                       size_t errlen)
{
    (void)o;
    (void)err;
    (void)errlen;
    if (n != 0 || off > DISK_SIZE || len > DISK_SIZE - off)
        abort(); /* the engine checks records against the disks' sizes */
    if (buf)
        memcpy(disk + off, buf, len);
    else
        memset(disk + off, 0, len);
    return true;
}

struct dest {
    int fd;
    int result;
};

static void *receive(void *arg)
{
    struct dest *d = arg;
    struct migration_machine m = {
        .bus = &bus, .load = load_state, .disks = disks, .disk_write = disk_write};
    struct migration_params p = {.io_timeout_ms = 2000};
    char err[256];
    d->result = migration_receive(d->fd, &m, &p, err, sizeof(err));
    shutdown(d->fd, SHUT_RDWR);
    return NULL;
}

static bool read_full(int fd, void *buf, size_t n)
{
    uint8_t *b = buf;
    while (n) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 2000) <= 0)
            return false;
        ssize_t k = read(fd, b, n);
        if (k <= 0)
            return false;
        b += k;
        n -= (size_t)k;
    }
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!bus.ram && !bus_init(&bus, RAM_BASE, RAM_SIZE))
        abort();
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
        return 0;
    struct dest d = {.fd = sv[1]};
    pthread_t t;
    pthread_create(&t, NULL, receive, &d);
    /* The source's half of the handshake, with the empty secret. */
    uint8_t theirs[40], mine[40] = "WIRTMIG\x02", msg[65], proof[32], peer[32];
    for (int i = 8; i < 40; i++)
        mine[i] = (uint8_t)i;
    if (read_full(sv[0], theirs, 40) && send(sv[0], mine, 40, MSG_NOSIGNAL) == 40) {
        msg[0] = 'S';
        memcpy(msg + 1, mine + 8, 32);
        memcpy(msg + 33, theirs + 8, 32);
        unsigned n = 32;
        static const uint8_t empty = 0;
        HMAC(EVP_sha256(), &empty, 0, msg, sizeof(msg), proof, &n);
        if (send(sv[0], proof, 32, MSG_NOSIGNAL) == 32 && read_full(sv[0], peer, 32)) {
            size_t off = 0;
            while (off < size) {
                ssize_t k = send(sv[0], data + off, size - off, MSG_NOSIGNAL);
                if (k <= 0)
                    break;
                off += (size_t)k;
            }
        }
    }
    shutdown(sv[0], SHUT_WR);
    char sink[4096];
    while (read(sv[0], sink, sizeof(sink)) > 0) {
    }
    pthread_join(t, NULL);
    close(sv[0]);
    close(sv[1]);
    if (d.result == 0)
        abort(); /* a guest was handed over without a valid MAC */
    return 0;
}
