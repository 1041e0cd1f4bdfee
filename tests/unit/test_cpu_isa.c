/* SPDX-License-Identifier: MIT */
/*
 * Runs the bare-metal ISA tests (build/isa/NAME.elf, from `make isa-tests`)
 * on a hart with RAM, HTIF and a CLINT, without the board.  Skipped when
 * the ELFs have not been built.  WIRT_ISA_DIR overrides the directory;
 * WIRT_ISA_ONLY=name runs one test.
 */
#include <dirent.h>
#include <elf.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <string.h>

#include <cmocka.h>

#include "dev/clint.h"
#include "dev/htif.h"
#include "test_cpu_asm.h"

struct run {
    bool done;
    int code;
    char out[4096];
    size_t nout;
};

static void tx(void *opaque, uint8_t byte)
{
    struct run *r = opaque;
    if (r->nout + 1 < sizeof(r->out))
        r->out[r->nout++] = (char)byte;
}

static void power(void *opaque, enum power_request req, int code)
{
    struct run *r = opaque;
    (void)req;
    r->done = true;
    r->code = code;
}

/* Loads PT_LOAD segments; finds tohost/fromhost. */
static bool load_elf(struct bus *bus, const char *path, uint64_t *entry, uint64_t *tohost,
                     uint64_t *fromhost)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return false;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *buf = malloc((size_t)n);
    if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
        fclose(f);
        free(buf);
        return false;
    }
    fclose(f);
    Elf64_Ehdr *eh = (Elf64_Ehdr *)buf;
    *entry = eh->e_entry;
    for (unsigned i = 0; i < eh->e_phnum; i++) {
        Elf64_Phdr *ph = (Elf64_Phdr *)(buf + eh->e_phoff + i * eh->e_phentsize);
        if (ph->p_type != PT_LOAD)
            continue;
        uint8_t *dst = bus_ram_ptr(bus, ph->p_paddr, ph->p_memsz);
        if (!dst)
            return false;
        memset(dst, 0, ph->p_memsz);
        memcpy(dst, buf + ph->p_offset, ph->p_filesz);
    }
    *tohost = *fromhost = 0;
    for (unsigned i = 0; i < eh->e_shnum; i++) {
        Elf64_Shdr *sh = (Elf64_Shdr *)(buf + eh->e_shoff + i * eh->e_shentsize);
        if (sh->sh_type != SHT_SYMTAB)
            continue;
        Elf64_Shdr *strs = (Elf64_Shdr *)(buf + eh->e_shoff + sh->sh_link * eh->e_shentsize);
        for (uint64_t k = 0; k < sh->sh_size / sizeof(Elf64_Sym); k++) {
            Elf64_Sym *s = (Elf64_Sym *)(buf + sh->sh_offset) + k;
            const char *name = (const char *)buf + strs->sh_offset + s->st_name;
            if (!strcmp(name, "tohost"))
                *tohost = s->st_value;
            else if (!strcmp(name, "fromhost"))
                *fromhost = s->st_value;
        }
    }
    free(buf);
    return *tohost != 0;
}

static int run_one(const char *path, char *out, size_t outsz)
{
    struct bus bus;
    struct vclock clock;
    struct run r = {0};
    assert_true(bus_init(&bus, TEST_RAM_BASE, 64ULL << 20));
    vclock_init(&clock);
    struct hart *h = hart_new(0, &bus, &clock);
    /* hext*.S test the hypervisor extension (run_tests.py: --cpu h=on). */
    if (h && !strncmp(strrchr(path, '/') ? strrchr(path, '/') + 1 : path, "hext", 4))
        hart_set_h(h, true);
    uint64_t entry = 0, tohost = 0, fromhost = 0;
    if (!load_elf(&bus, path, &entry, &tohost, &fromhost))
        fail_msg("cannot load %s", path);
    struct htif_callbacks cb = {.tx = tx, .power = power, .opaque = &r};
    struct htif *ht = htif_new(&cb, &bus);
    if (fromhost == tohost + 8) {
        assert_true(bus_add_device(&bus, tohost, 16, &htif_ops, ht));
    } else {
        assert_true(bus_add_device(&bus, tohost, 8, &htif_ops, ht));
        if (fromhost)
            assert_true(bus_add_device(&bus, fromhost, 8, &htif_fromhost_ops, ht));
    }
    struct irq_line mtip = {hart_set_irq, h, IRQ_M_TIMER};
    struct irq_line msip = {hart_set_irq, h, IRQ_M_SOFT};
    struct clint *cl = clint_new(&clock, NULL, 1, &mtip, &msip);
    assert_true(bus_add_device(&bus, 0x2000000, 0x10000, &clint_ops, cl));
    hart_reset(h, entry, 0, 0);
    test_pmp_open(h);
    /* Bounded by time, not steps: a test waiting for the (wall-clock)
     * timer spins through any step budget on a slow, loaded host (TSan). */
    struct timespec t0, now;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (unsigned i = 0; !r.done; i++) {
        if (i % 256 == 0) {
            clock_gettime(CLOCK_MONOTONIC, &now);
            if (now.tv_sec - t0.tv_sec > 60)
                break;
        }
        hart_step(h, 10000);
        pthread_mutex_lock(&bus.io_lock);
        clint_poll(cl);
        pthread_mutex_unlock(&bus.io_lock);
    }
    int code = r.done ? r.code : -1;
    snprintf(out, outsz, "%.*s", (int)r.nout, r.out);
    hart_free(h);
    bus_destroy(&bus); /* destroys the devices */
    return code;
}

static void test_isa(void **state)
{
    (void)state;
    const char *dir = getenv("WIRT_ISA_DIR") ? getenv("WIRT_ISA_DIR") : "build/isa";
    const char *only = getenv("WIRT_ISA_ONLY");
    DIR *dp = opendir(dir);
    if (!dp)
        skip();
    struct dirent *de;
    int failures = 0, ran = 0;
    while ((de = readdir(dp))) {
        size_t len = strlen(de->d_name);
        if (len < 5 || strcmp(de->d_name + len - 4, ".elf"))
            continue;
        if (only && strncmp(de->d_name, only, len - 4))
            continue;
        if (!strncmp(de->d_name, "smp", 3)) /* multi-hart: run_tests.py runs it with --cpus 4 */
            continue;
        char path[1024], out[4096];
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        int code = run_one(path, out, sizeof(out));
        ran++;
        if (code != 0) {
            failures++;
            print_message("%s: exit %d: %s\n", de->d_name, code, out);
        } else {
            print_message("%s: %s", de->d_name, out);
        }
    }
    closedir(dp);
    if (!ran)
        skip();
    assert_int_equal(failures, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_isa),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
