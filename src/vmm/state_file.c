/* SPDX-License-Identifier: MIT */
/* State files (see state_file.h and docs/state-format.md). */
#include "vmm/state_file.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <zlib.h>

#include "machine/board.h"
#include "state/state.h"
#include "util/log.h"
#include "util/pagemap.h"
#include "util/tsan.h"
#include "vmm/machine_state.h"

static const char magic[8] = {'W', 'I', 'R', 'T', 'S', 'T', 'A', 'T'};

/* Header layout (little-endian), the rest of the block zero:
 *   0 magic[8]        8 le32 version      12 le32 header size
 *  16 le64 ram_base  24 le64 ram_size     32 le32 nharts  36 le32 0
 *  40 le64 stream_offset  48 le64 stream_len  56 le32 stream_crc  60 le32 0
 *  64 le64 ram_offset     72 le64 saved_unix_ns
 *  80 le32 header_crc (crc32 of bytes 0..79) */
#define HDR_CRC_AT 80

static void put32(uint8_t *p, uint32_t v)
{
    v = htole32(v);
    memcpy(p, &v, 4);
}
static void put64(uint8_t *p, uint64_t v)
{
    v = htole64(v);
    memcpy(p, &v, 8);
}
static uint32_t get32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return le32toh(v);
}
static uint64_t get64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return le64toh(v);
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void build_header(uint8_t *buf, const struct state_file_header *h)
{
    memset(buf, 0, STATE_FILE_HEADER_SIZE);
    memcpy(buf, magic, 8);
    put32(buf + 8, h->version);
    put32(buf + 12, STATE_FILE_HEADER_SIZE);
    put64(buf + 16, h->ram_base);
    put64(buf + 24, h->ram_size);
    put32(buf + 32, h->nharts);
    put64(buf + 40, h->stream_offset);
    put64(buf + 48, h->stream_len);
    put32(buf + 56, h->stream_crc);
    put64(buf + 64, h->ram_offset);
    put64(buf + 72, h->saved_unix_ns);
    put32(buf + HDR_CRC_AT, (uint32_t)crc32(0, buf, HDR_CRC_AT));
}

bool state_file_parse_header(const uint8_t *buf, size_t len, uint64_t file_size,
                             struct state_file_header *h, char *err, size_t errlen)
{
    if (len < STATE_FILE_HEADER_SIZE || memcmp(buf, magic, 8) != 0) {
        snprintf(err, errlen, "not a wirt state file");
        return false;
    }
    if ((uint32_t)crc32(0, buf, HDR_CRC_AT) != get32(buf + HDR_CRC_AT)) {
        snprintf(err, errlen, "the header is corrupt (checksum mismatch)");
        return false;
    }
    h->version = get32(buf + 8);
    if (h->version != STATE_FILE_VERSION || get32(buf + 12) != STATE_FILE_HEADER_SIZE) {
        snprintf(err, errlen, "format version %u; this wirt reads %u", h->version,
                 STATE_FILE_VERSION);
        return false;
    }
    h->ram_base = get64(buf + 16);
    h->ram_size = get64(buf + 24);
    h->nharts = get32(buf + 32);
    h->stream_offset = get64(buf + 40);
    h->stream_len = get64(buf + 48);
    h->stream_crc = get32(buf + 56);
    h->ram_offset = get64(buf + 64);
    h->saved_unix_ns = get64(buf + 72);
    /* Every region inside the file, in order, without overflow. */
    if (h->stream_offset < STATE_FILE_HEADER_SIZE || h->stream_len > STATE_FILE_MAX_STREAM ||
        h->ram_offset % 4096 || h->ram_offset < h->stream_offset + h->stream_len ||
        h->ram_size == 0 || h->ram_size % 4096 || h->ram_size > file_size ||
        h->ram_offset != file_size - h->ram_size) {
        snprintf(err, errlen, "truncated or malformed (regions do not fit a file of %llu bytes)",
                 (unsigned long long)file_size);
        return false;
    }
    return true;
}

/* Opens path and checks everything that can be checked without touching
 * the machine: header, shape, the stream's checksum.  On success *fd and
 * *stream are the caller's. */
static bool read_state(struct board *b, const char *path, struct state_file_header *h, int *fdp,
                       uint8_t **streamp, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return false;
    }
    uint8_t hdr[STATE_FILE_HEADER_SIZE];
    uint8_t *stream = NULL;
    char why[400];
    if (!S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "%s: not a regular file", path);
        goto fail;
    }
    if (pread(fd, hdr, sizeof(hdr), 0) != (ssize_t)sizeof(hdr)) {
        snprintf(err, errlen, "%s: not a wirt state file (too short)", path);
        goto fail;
    }
    if (!state_file_parse_header(hdr, sizeof(hdr), (uint64_t)st.st_size, h, why, sizeof(why))) {
        snprintf(err, errlen, "%s: %s", path, why);
        goto fail;
    }
    if (h->ram_base != b->bus.ram_base || h->ram_size != b->bus.ram_size ||
        h->nharts != b->nharts) {
        snprintf(err, errlen,
                 "%s: saved from a machine with %llu MiB and %u CPUs; this one has %llu MiB and "
                 "%u (use the same --memory and --cpus)",
                 path, (unsigned long long)(h->ram_size >> 20), h->nharts,
                 (unsigned long long)(b->bus.ram_size >> 20), b->nharts);
        goto fail;
    }
    stream = malloc(h->stream_len ? h->stream_len : 1);
    if (!stream ||
        pread(fd, stream, h->stream_len, (off_t)h->stream_offset) != (ssize_t)h->stream_len) {
        snprintf(err, errlen, "%s: cannot read the machine state", path);
        goto fail;
    }
    if ((uint32_t)crc32(0, stream, (uInt)h->stream_len) != h->stream_crc) {
        snprintf(err, errlen, "%s: the machine state is corrupt (checksum mismatch)", path);
        goto fail;
    }
    *fdp = fd;
    *streamp = stream;
    return true;
fail:
    free(stream);
    close(fd);
    return false;
}

/* Asks the kernel to read the RAM region's data extents ahead (the holes
 * would only fill the page cache with zeros): when the file is no longer
 * in the page cache (a restore long after the save, or after a reboot),
 * the guest's first touches would each wait for the disk. */
static void read_ahead(int fd, uint64_t off, uint64_t len)
{
    off_t end = (off_t)(off + len), pos = (off_t)off;
    while (pos < end) {
        off_t data = lseek(fd, pos, SEEK_DATA);
        if (data < 0 || data >= end)
            break;
        off_t hole = lseek(fd, data, SEEK_HOLE);
        if (hole < 0 || hole > end)
            hole = end;
        posix_fadvise(fd, data, hole - data, POSIX_FADV_WILLNEED);
        pos = hole;
    }
}

struct read_ahead_job {
    int fd;
    uint64_t off, len;
};

static void *read_ahead_thread(void *arg)
{
    struct read_ahead_job *j = arg;
    read_ahead(j->fd, j->off, j->len);
    close(j->fd);
    free(j);
    return NULL;
}

/* read_ahead on a thread of its own: asking for the whole file blocks
 * until the kernel has allocated its page cache and queued every read
 * (for a file written with O_DIRECT, which is not in the page cache, that
 * held a restore up longer than the guest needed to run again); the
 * guest's own first touches go first meanwhile. */
static void read_ahead_async(int fd, uint64_t off, uint64_t len)
{
    struct read_ahead_job *j = malloc(sizeof(*j));
    int dfd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    pthread_attr_t attr;
    pthread_t t;
    if (j && dfd >= 0 && pthread_attr_init(&attr) == 0) {
        *j = (struct read_ahead_job){dfd, off, len};
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        bool ok = pthread_create(&t, &attr, read_ahead_thread, j) == 0;
        pthread_attr_destroy(&attr);
        if (ok)
            return;
    }
    free(j);
    if (dfd >= 0)
        close(dfd);
    read_ahead(fd, off, len);
}

/* Guest RAM becomes a private view of the file: nothing is read now, each
 * page when the guest (or a device) first touches it (read ahead in the
 * background).  Before the devices load, as some read their rings from
 * RAM. */
static bool map_and_load(struct board *b, const char *path, int fd,
                         const struct state_file_header *h, const uint8_t *stream, bool locked,
                         char *err, size_t errlen)
{
    char why[400];
    void *ram = mmap(b->bus.ram, h->ram_size, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_FIXED | MAP_NORESERVE, fd, (off_t)h->ram_offset);
    if (ram == MAP_FAILED) {
        snprintf(err, errlen, "%s: cannot map guest RAM: %s", path, strerror(errno));
        return false;
    }
    b->bus.ram_from_file = true;
    read_ahead_async(fd, h->ram_offset, h->ram_size);
    if (!machine_load(b, stream, h->stream_len, locked, why, sizeof(why))) {
        snprintf(err, errlen, "%s: %s", path, why);
        return false;
    }
    return true;
}

bool state_file_restore(struct board *b, const char *path, char *err, size_t errlen)
{
    uint64_t t0 = now_ns();
    struct state_file_header h;
    int fd;
    uint8_t *stream;
    char why[512];
    if (!read_state(b, path, &h, &fd, &stream, why, sizeof(why))) {
        snprintf(err, errlen, "--restore %s", why);
        return false;
    }
    bool ok = map_and_load(b, path, fd, &h, stream, false, why, sizeof(why));
    if (!ok)
        snprintf(err, errlen, "--restore %s", why);
    else
        log_info("restored %s in %.1f ms", path, (double)(now_ns() - t0) / 1e6);
    free(stream);
    close(fd);
    return ok;
}

/* ---- saving ---- */

struct vmm_save {
    struct board *b;
    char *path, *tmp;
    bool quit;
    bool was_paused;
    state_file_hook hook;
    void *hook_opaque;
    pthread_t thread;
    _Atomic int result; /* 1 while running */
    struct state_file_result res;
    char err[512];
};

static int write_all_at(int fd, const void *p, size_t len, off_t off)
{
    const uint8_t *c = p;
    while (len) {
        ssize_t n = pwrite(fd, c, len, off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return n < 0 ? errno : EIO;
        c += n;
        len -= (size_t)n;
        off += n;
    }
    return 0;
}

static bool page_is_zero(const uint8_t *p)
{
    const uint64_t *w = (const uint64_t *)(const void *)p;
    for (unsigned i = 0; i < 4096 / 8; i += 8)
        if (w[i] | w[i + 1] | w[i + 2] | w[i + 3] | w[i + 4] | w[i + 5] | w[i + 6] | w[i + 7])
            return false;
    return true;
}

/* fsync of the directory that holds path: the rename itself durable. */
static int sync_dir(const char *path)
{
    char dir[4096];
    const char *slash = strrchr(path, '/');
    size_t n = slash ? (size_t)(slash - path) : 0;
    if (n >= sizeof(dir))
        return ENAMETOOLONG;
    memcpy(dir, slash ? path : ".", slash ? n : 1);
    dir[slash ? (n ? n : 1) : 1] = '\0';
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return errno;
    int e = fsync(fd) < 0 ? errno : 0;
    close(fd);
    return e;
}

#define BOUNCE (1u << 20) /* bytes per write, at most */
/* RAM is written before the machine state, whose length is known only at
 * the stop: it starts after room for the largest stream (a hole in the
 * file unless the stream fills it). */
#define STATE_FILE_RAM_GAP STATE_FILE_MAX_STREAM

/* Where RAM goes: O_DIRECT when the file system takes it (dfd), else
 * through the page cache (fd).  Pages are copied into `bounce` first: the
 * guest may be writing them, and a direct write of a buffer that changes
 * under it can fail a checksumming file system's check. */
struct ram_out {
    int fd, dfd;
    uint64_t ram_offset;
    uint8_t *bounce;
    size_t n;    /* bytes in bounce */
    uint64_t at; /* guest offset of bounce[0] */
    uint64_t written;
};

static int out_flush(struct ram_out *o)
{
    if (!o->n)
        return 0;
    off_t off = (off_t)(o->ram_offset + o->at);
    int e = write_all_at(o->dfd >= 0 ? o->dfd : o->fd, o->bounce, o->n, off);
    if (e == EINVAL && o->dfd >= 0) { /* no O_DIRECT here after all */
        close(o->dfd);
        o->dfd = -1;
        e = write_all_at(o->fd, o->bounce, o->n, off);
    }
    o->written += o->n;
    o->n = 0;
    return e;
}

/* Appends guest page `page` (its content now) to the write being built. */
static int out_page(struct ram_out *o, const uint8_t *ram, uint64_t page)
{
    uint64_t off = page * 4096;
    if (o->n && (o->at + o->n != off || o->n == BOUNCE)) {
        int e = out_flush(o);
        if (e)
            return e;
    }
    if (!o->n)
        o->at = off;
    GUEST_RAM_READS_BEGIN(); /* the guest may be writing it: see util/tsan.h */
    memcpy(o->bounce + o->n, ram + off, 4096);
    GUEST_RAM_READS_END();
    o->n += 4096;
    return 0;
}

/* Every page that is not zero (touched: the pages ever touched, the
 * others are zero without reading them; NULL: read them all). */
static int write_ram(struct ram_out *o, const uint8_t *ram, uint64_t npages,
                     const uint64_t *touched)
{
    for (uint64_t page = 0; page < npages; page++) {
        if (touched && !touched[page / 64]) {
            page |= 63; /* 64 untouched pages */
            continue;
        }
        if (touched && !(touched[page / 64] >> (page % 64) & 1))
            continue;
        GUEST_RAM_READS_BEGIN();
        bool zero = page_is_zero(ram + page * 4096);
        GUEST_RAM_READS_END();
        int e = zero ? 0 : out_page(o, ram, page);
        if (e)
            return e;
    }
    return out_flush(o);
}

/* The pages the dirty log caught, zero or not (the file may hold an
 * older content of them). */
static int write_dirty(struct ram_out *o, const uint8_t *ram, uint64_t npages, const uint64_t *bm)
{
    for (uint64_t w = 0; w < (npages + 63) / 64; w++)
        for (uint64_t bits = bm[w]; bits; bits &= bits - 1) {
            uint64_t page = w * 64 + (uint64_t)__builtin_ctzll(bits);
            int e = page < npages ? out_page(o, ram, page) : 0;
            if (e)
                return e;
        }
    return out_flush(o);
}

static void with_lock_undo(struct vmm_save *s)
{
    pthread_mutex_lock(&s->b->bus.io_lock);
    s->hook(s->b, s->hook_opaque, true, NULL, 0);
    pthread_mutex_unlock(&s->b->bus.io_lock);
}

/* Saving is a pre-copy into the file, like a live migration: with the
 * dirty-page log on, every page that is not zero is written while the
 * guest runs; then the machine stops, the disks' hook runs, the pages the
 * log caught meanwhile and the machine state are written, and the guest
 * goes on while the file is made durable (fdatasync, rename, fsync of the
 * directory).  The file holds the moment of the stop.  RAM goes with
 * O_DIRECT: writing it through the page cache cost far more (allocating
 * and filling a page-cache page per guest page) than the disk write
 * itself.  (Before, a fork()ed child wrote the file from its copy-on-write
 * view of RAM: the pause was as short, but the child's first touch of
 * every page cost a page fault, and the whole save took several times
 * longer.) */
static void *save_thread(void *arg)
{
    struct vmm_save *s = arg;
    struct board *b = s->b;
    uint64_t t0 = now_ns(), t_stop = 0;
    int r = 0;
    struct state_writer w;
    state_writer_init(&w);
    uint64_t npages = b->bus.ram_size / 4096, words = (npages + 63) / 64;
    uint8_t *hdr = calloc(1, STATE_FILE_HEADER_SIZE);
    uint64_t *touched = malloc(words * 8), *bm = malloc(words * 8);
    struct ram_out o = {.fd = -1, .dfd = -1, .bounce = aligned_alloc(4096, BOUNCE)};
    bool logging = false, stopped = false, created = false;
    if (!hdr || !touched || !bm || !o.bounce) {
        snprintf(s->err, sizeof(s->err), "out of memory");
        r = -ENOMEM;
        goto done;
    }
    o.fd = open(s->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (o.fd < 0) {
        r = -errno;
        snprintf(s->err, sizeof(s->err), "%s: %s", s->tmp, strerror(errno));
        goto done;
    }
    created = true;
    o.dfd = open(s->tmp, O_WRONLY | O_DIRECT | O_CLOEXEC | O_NOFOLLOW);
    /* The stream's length is known only at the stop: RAM starts at a
     * fixed offset that leaves it room (a larger stream fails below). */
    struct state_file_header h = {
        .version = STATE_FILE_VERSION,
        .ram_base = b->bus.ram_base,
        .ram_size = b->bus.ram_size,
        .nharts = b->nharts,
        .stream_offset = STATE_FILE_HEADER_SIZE,
    };
    o.ram_offset = h.ram_offset = STATE_FILE_HEADER_SIZE + STATE_FILE_RAM_GAP;
    if (ftruncate(o.fd, (off_t)(h.ram_offset + h.ram_size)) < 0) {
        r = -errno;
        snprintf(s->err, sizeof(s->err), "%s: %s", s->tmp, strerror(errno));
        goto done;
    }
    /* Untouched pages are zero without reading them; not when RAM maps a
     * state file (its untouched pages hold the file's data). */
    logging = board_dirty_log_start(b);
    bool have_touched = !b->bus.ram_from_file && pagemap_touched(b->bus.ram, npages, touched);
    int e = logging ? write_ram(&o, b->bus.ram, npages, have_touched ? touched : NULL) : 0;
    if (e) {
        r = -e;
        snprintf(s->err, sizeof(s->err), "%s: %s", s->path, strerror(e));
        goto done;
    }
    t_stop = now_ns();
    if (!machine_stop(b, &s->was_paused, s->err, sizeof(s->err))) {
        r = -EBUSY;
        goto done;
    }
    stopped = true;
    if (s->hook && !s->hook(b, s->hook_opaque, false, s->err, sizeof(s->err))) {
        r = -EIO;
        s->hook = NULL; /* nothing to undo */
        goto done;
    }
    machine_save(b, &w);
    if (w.failed || w.len > STATE_FILE_RAM_GAP) {
        snprintf(s->err, sizeof(s->err), "the machine state does not fit (%zu bytes)", w.len);
        r = -ENOMEM;
        goto done;
    }
    h.stream_len = w.len;
    h.stream_crc = (uint32_t)crc32(0, w.buf, (uInt)w.len);
    struct timespec rt;
    clock_gettime(CLOCK_REALTIME, &rt);
    h.saved_unix_ns = (uint64_t)rt.tv_sec * 1000000000u + (uint64_t)rt.tv_nsec;
    build_header(hdr, &h);
    if (logging) {
        board_dirty_log_take(b, bm);
        e = write_dirty(&o, b->bus.ram, npages, bm);
    } else { /* no log: everything now, with the guest stopped */
        e = write_ram(&o, b->bus.ram, npages, have_touched ? touched : NULL);
    }
    if (!e)
        e = write_all_at(o.fd, w.buf, w.len, (off_t)h.stream_offset);
    if (!e)
        e = write_all_at(o.fd, hdr, STATE_FILE_HEADER_SIZE, 0);
    if (logging)
        board_dirty_log_stop(b);
    logging = false;
    if (e) {
        r = -e;
        snprintf(s->err, sizeof(s->err), "%s: %s", s->path, strerror(e));
        goto done;
    }
    /* The file holds this instant: the guest may go on. */
    if (!s->quit)
        machine_resume(b, true, s->was_paused);
    s->res.pause_ns = now_ns() - t_stop;
    if (o.dfd >= 0)
        close(o.dfd);
    o.dfd = -1;
    e = fdatasync(o.fd) < 0 ? errno : 0;
    if (close(o.fd) < 0 && !e)
        e = errno;
    o.fd = -1;
    if (!e && rename(s->tmp, s->path) < 0)
        e = errno;
    if (!e) {
        created = false;
        e = sync_dir(s->path);
    }
    if (e) {
        r = -e;
        snprintf(s->err, sizeof(s->err), "%s: %s", s->path, strerror(e));
        if (s->hook) /* the guest runs again: undo under the lock */
            with_lock_undo(s);
        if (s->quit)
            machine_resume(b, true, s->was_paused); /* nothing saved: the guest must not be lost */
        stopped = false;
        goto done;
    }
    s->res.ram_bytes_written = o.written;
    s->res.file_bytes = h.ram_offset + h.ram_size;
    if (!s->quit) {
        /* O_DIRECT left the file out of the page cache: read it in behind
         * the completed save, so that a revert or restore soon after maps
         * cached pages instead of waiting for the disk page by page. */
        int rfd = open(s->path, O_RDONLY | O_CLOEXEC);
        if (rfd >= 0) {
            read_ahead_async(rfd, h.ram_offset, h.ram_size);
            close(rfd);
        }
    }
    s->res.total_ns = now_ns() - t0;
    if (s->quit) /* stays paused: the caller powers off after reporting */
        pthread_mutex_unlock(&b->bus.io_lock);
    stopped = false;
done:
    if (logging)
        board_dirty_log_stop(b);
    if (r && stopped) { /* failed while the machine was stopped */
        if (s->hook)
            s->hook(b, s->hook_opaque, true, NULL, 0);
        machine_resume(b, true, s->was_paused);
    }
    if (o.dfd >= 0)
        close(o.dfd);
    if (o.fd >= 0)
        close(o.fd);
    if (r && created)
        unlink(s->tmp);
    free(o.bounce);
    free(hdr);
    free(touched);
    free(bm);
    state_writer_free(&w);
    atomic_store(&s->result, r);
    return NULL;
}

static void *revert_thread(void *arg)
{
    struct vmm_save *s = arg;
    struct board *b = s->b;
    uint64_t t0 = now_ns();
    struct state_file_header h;
    int fd = -1, r = 0;
    uint8_t *stream = NULL;
    /* Everything that can be refused is checked before anything changes. */
    if (!read_state(b, s->path, &h, &fd, &stream, s->err, sizeof(s->err))) {
        r = -EINVAL;
        goto done;
    }
    if (!machine_stop(b, &s->was_paused, s->err, sizeof(s->err))) {
        r = -EBUSY;
        goto done;
    }
    if (s->hook && !s->hook(b, s->hook_opaque, false, s->err, sizeof(s->err))) {
        machine_resume(b, true, s->was_paused);
        r = -EIO;
        goto done;
    }
    if (!map_and_load(b, s->path, fd, &h, stream, true, s->err, sizeof(s->err))) {
        /* The disks went back but the machine did not: running it would
         * corrupt them, so it stops here. */
        board_power_off(b, 1);
        pthread_mutex_unlock(&b->bus.io_lock);
        r = -EIO;
        goto done;
    }
    machine_resume(b, true, s->was_paused);
    s->res.pause_ns = s->res.total_ns = now_ns() - t0;
done:
    free(stream);
    if (fd >= 0)
        close(fd);
    atomic_store(&s->result, r);
    return NULL;
}

static void *stopped_thread(void *arg)
{
    struct vmm_save *s = arg;
    uint64_t t0 = now_ns();
    int r = 0;
    if (!machine_stop(s->b, &s->was_paused, s->err, sizeof(s->err))) {
        r = -EBUSY;
    } else {
        if (!s->hook(s->b, s->hook_opaque, false, s->err, sizeof(s->err)))
            r = -EIO;
        machine_resume(s->b, true, s->was_paused);
    }
    s->res.pause_ns = s->res.total_ns = now_ns() - t0;
    atomic_store(&s->result, r);
    return NULL;
}

static struct vmm_save *start(struct board *b, const char *path, bool quit, state_file_hook hook,
                              void *opaque, void *(*fn)(void *), char *err, size_t errlen)
{
    struct vmm_save *s = calloc(1, sizeof(*s));
    size_t n = strlen(path) + 5;
    if (!s || !(s->path = strdup(path)) || !(s->tmp = malloc(n))) {
        snprintf(err, errlen, "out of memory");
        if (s)
            free(s->path);
        free(s);
        return NULL;
    }
    snprintf(s->tmp, n, "%s.tmp", path);
    s->b = b;
    s->quit = quit;
    s->hook = hook;
    s->hook_opaque = opaque;
    atomic_store(&s->result, 1);
    if (pthread_create(&s->thread, NULL, fn, s) != 0) {
        snprintf(err, errlen, "cannot start the save thread");
        free(s->tmp);
        free(s->path);
        free(s);
        return NULL;
    }
    return s;
}

struct vmm_save *vmm_save_start(struct board *b, const char *path, bool quit, char *err,
                                size_t errlen)
{
    return start(b, path, quit, NULL, NULL, save_thread, err, errlen);
}

struct vmm_save *vmm_save_start_hook(struct board *b, const char *path, state_file_hook hook,
                                     void *opaque, char *err, size_t errlen)
{
    return start(b, path, false, hook, opaque, save_thread, err, errlen);
}

struct vmm_save *vmm_revert_start(struct board *b, const char *path, state_file_hook hook,
                                  void *opaque, char *err, size_t errlen)
{
    return start(b, path, false, hook, opaque, revert_thread, err, errlen);
}

struct vmm_save *vmm_stopped_start(struct board *b, state_file_hook hook, void *opaque, char *err,
                                   size_t errlen)
{
    return start(b, "-", false, hook, opaque, stopped_thread, err, errlen);
}

int vmm_save_poll(struct vmm_save *s, struct state_file_result *out, char *err, size_t errlen)
{
    int r = atomic_load(&s->result);
    if (r == 0 && out)
        *out = s->res;
    if (r < 0)
        snprintf(err, errlen, "%s", s->err);
    return r;
}

void vmm_save_free(struct vmm_save *s)
{
    if (!s)
        return;
    pthread_join(s->thread, NULL);
    free(s->tmp);
    free(s->path);
    free(s);
}
