/* SPDX-License-Identifier: MIT */
/*
 * perf_event_open inside the guest, without the perf tool: counts
 * hardware cycles and instructions over a known loop ("count"), and takes
 * samples every N instructions, which only arrive through counter
 * overflow interrupts (Sscofpmf's LCOFI), counting the sample records in
 * the ring buffer ("sample").  Prints one line of key=value pairs.
 */
#define _GNU_SOURCE
#include <linux/perf_event.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

static int open_event(uint64_t config, uint64_t period)
{
    struct perf_event_attr a;
    memset(&a, 0, sizeof(a));
    a.size = sizeof(a);
    a.type = PERF_TYPE_HARDWARE;
    a.config = config;
    a.disabled = 1;
    a.exclude_hv = 1;
    if (period) {
        a.sample_period = period;
        a.sample_type = PERF_SAMPLE_IP;
        a.wakeup_events = 1;
    }
    int fd = (int)syscall(SYS_perf_event_open, &a, 0, -1, -1, 0);
    if (fd < 0) {
        perror("perf_event_open");
        exit(1);
    }
    return fd;
}

/* About 4 instructions per iteration. */
static void work(unsigned long n)
{
    volatile unsigned long sink = 0;
    for (unsigned long i = 0; i < n; i++)
        sink += i;
}

int main(int argc, char **argv)
{
    unsigned long n = argc > 2 ? strtoul(argv[2], NULL, 0) : 10000000;
    if (argc > 1 && strcmp(argv[1], "sample") == 0) {
        int fd = open_event(PERF_COUNT_HW_INSTRUCTIONS, 100000);
        long pg = sysconf(_SC_PAGESIZE);
        size_t len = (size_t)pg * 9;
        struct perf_event_mmap_page *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (m == MAP_FAILED) {
            perror("mmap");
            return 1;
        }
        ioctl(fd, PERF_EVENT_IOC_ENABLE, 0);
        work(n);
        ioctl(fd, PERF_EVENT_IOC_DISABLE, 0);
        uint64_t head = __atomic_load_n(&m->data_head, __ATOMIC_ACQUIRE);
        const char *data = (const char *)m + pg;
        size_t size = (size_t)pg * 8;
        unsigned samples = 0, lost = 0;
        for (uint64_t off = 0; off < head && head - off <= size;) {
            struct perf_event_header h;
            memcpy(&h, data + off % size, sizeof(h)); /* headers never wrap: 8-byte aligned */
            if (h.size == 0)
                break;
            samples += h.type == PERF_RECORD_SAMPLE;
            lost += h.type == PERF_RECORD_LOST;
            off += h.size;
        }
        printf("perf_probe sample samples=%u lost=%u head=%llu\n", samples, lost,
               (unsigned long long)head);
        return 0;
    }
    int fc = open_event(PERF_COUNT_HW_CPU_CYCLES, 0);
    int fi = open_event(PERF_COUNT_HW_INSTRUCTIONS, 0);
    ioctl(fc, PERF_EVENT_IOC_ENABLE, 0);
    ioctl(fi, PERF_EVENT_IOC_ENABLE, 0);
    work(n);
    ioctl(fi, PERF_EVENT_IOC_DISABLE, 0);
    ioctl(fc, PERF_EVENT_IOC_DISABLE, 0);
    uint64_t c = 0, i = 0;
    if (read(fc, &c, sizeof(c)) != sizeof(c) || read(fi, &i, sizeof(i)) != sizeof(i)) {
        perror("read");
        return 1;
    }
    printf("perf_probe count cycles=%llu instructions=%llu\n", (unsigned long long)c,
           (unsigned long long)i);
    return 0;
}
