/* SPDX-License-Identifier: MIT */
/*
 * wirt vm receive NAME --listen ADDR:PORT | --stdio: the destination of a
 * migration into this store.  The stream starts with a preamble that
 * `wirt vm migrate` writes (vm_migration_preamble): the VM's configuration,
 * its boot files (kernel, initrd, firmware) and the sizes of its disks,
 * authenticated with the migration secret.  receive creates the VM from
 * it (boot files written, disks created empty and thin, the same format
 * and size: the source copies them, --copy-storage) and starts its VMM
 * with the rest of the stream (`wirt run --incoming fd:N`).  With --stdio
 * the stream is this process's stdin/stdout (ssh as the transport:
 * `ssh HOST wirt vm receive NAME --stdio`); receive relays it to the VMM.
 * A failure removes the VM again.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "block/block.h"
#include "util/file.h"
#include "vm/vm_int.h"
#include "vmm/vmm_migration.h"

#define MAX_JSON  (1u << 20)
#define MAX_FILE  (1ull << 30)
#define MAC_LEN   32
#define MAX_FILES 3

/* ---- the preamble's MAC: HMAC-SHA256 keyed with the migration secret ---- */

static EVP_MAC_CTX *mac_new(void)
{
    EVP_MAC *m = EVP_MAC_fetch(NULL, "HMAC", NULL);
    if (!m)
        return NULL;
    EVP_MAC_CTX *c = EVP_MAC_CTX_new(m);
    EVP_MAC_free(m);
    const char *secret = getenv("WIRT_MIGRATION_SECRET");
    static const uint8_t none = 0;
    char digest[] = "SHA256";
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                           OSSL_PARAM_construct_end()};
    if (c && !EVP_MAC_init(c, secret && *secret ? (const uint8_t *)secret : &none,
                           secret && *secret ? strlen(secret) : 0, params)) {
        EVP_MAC_CTX_free(c);
        return NULL;
    }
    return c;
}

static void put_le(uint8_t *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

/* ---- source: the preamble ---- */

/* Appends file `path` to out, feeding the MAC. */
static bool append_file(int out, const char *path, EVP_MAC_CTX *mac)
{
    int in = open(path, O_RDONLY | O_CLOEXEC);
    if (in < 0)
        return false;
    static uint8_t buf[1 << 16];
    ssize_t k;
    bool ok = true;
    while (ok && (k = read(in, buf, sizeof(buf))) > 0) {
        EVP_MAC_update(mac, buf, (size_t)k);
        ok = write_full(out, buf, (size_t)k);
    }
    close(in);
    return ok && k == 0;
}

bool vm_migration_preamble(const struct vm_store *st, const char *name, const char *path,
                           bool copy_storage, struct wirt_error *e)
{
    struct vm_config cfg;
    char why[1024], p[PATH_MAX];
    if (!vm_config_load(st, name, &cfg, why, sizeof(why)))
        return vm_fail(e, WIRT_ERR_FAILED, "%s", why);
    json_object *o = json_object_new_object(), *files = json_object_new_array(),
                *disks = json_object_new_array();
    json_object_object_add(o, "name", json_object_new_string(name));
    json_object_object_add(o, "config", vm_config_to_json(&cfg));
    json_object_object_add(o, "copy-storage", json_object_new_boolean(copy_storage));
    const char *boot[MAX_FILES] = {cfg.kernel, cfg.initrd, cfg.bios};
    uint64_t files_len = 0;
    bool ok = true;
    for (int i = 0; i < MAX_FILES; i++) {
        struct stat sb;
        if (!boot[i][0])
            continue;
        vm_path(st, p, sizeof(p), name, boot[i]);
        if (stat(p, &sb) < 0) {
            ok = vm_fail(e, WIRT_ERR_FAILED, "migrate: %s: %s", p, strerror(errno));
            break;
        }
        json_object *f = json_object_new_object();
        json_object_object_add(f, "name", json_object_new_string(boot[i]));
        json_object_object_add(f, "size", json_object_new_int64((int64_t)sb.st_size));
        json_object_array_add(files, f);
        files_len += (uint64_t)sb.st_size;
    }
    for (unsigned i = 0; ok && i < cfg.ndisks; i++) {
        struct block_dev *bd;
        vm_path(st, p, sizeof(p), name, cfg.disks[i].file);
        if (block_open(p, cfg.disks[i].format, BLOCK_OPEN_READ_ONLY | BLOCK_OPEN_NO_LOCK, &bd, why,
                       sizeof(why)) < 0) {
            ok = vm_fail(e, WIRT_ERR_FAILED, "migrate: %s", why);
            break;
        }
        json_object_array_add(disks, json_object_new_int64((int64_t)block_size(bd)));
        block_close(bd);
    }
    json_object_object_add(o, "files", files);
    json_object_object_add(o, "disk-sizes", disks);
    const char *text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
    size_t tlen = strlen(text);
    EVP_MAC_CTX *mac = ok ? mac_new() : NULL;
    int out = ok ? open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600) : -1;
    if (ok && (!mac || out < 0))
        ok = vm_fail(e, WIRT_ERR_FAILED, "migrate: cannot write %s: %s", path,
                     mac ? strerror(errno) : "no HMAC");
    if (ok) {
        uint8_t h[VMM_PREAMBLE_HEAD];
        memcpy(h, VMM_PREAMBLE_MAGIC, VMM_PREAMBLE_MAGIC_LEN);
        put_le(h + 8, tlen, 4);
        put_le(h + 12, files_len, 8);
        EVP_MAC_update(mac, (const uint8_t *)text, tlen);
        ok = write_full(out, h, sizeof(h)) && write_full(out, text, tlen);
        for (int i = 0; ok && i < MAX_FILES; i++) {
            if (!boot[i][0])
                continue;
            vm_path(st, p, sizeof(p), name, boot[i]);
            ok = append_file(out, p, mac);
        }
        uint8_t tag[MAC_LEN];
        size_t n = MAC_LEN;
        ok = ok && EVP_MAC_final(mac, tag, &n, MAC_LEN) && write_full(out, tag, MAC_LEN);
        if (!ok)
            vm_fail(e, WIRT_ERR_FAILED, "migrate: cannot write %s: %s", path, strerror(errno));
    }
    if (out >= 0)
        close(out);
    if (!ok)
        unlink(path);
    EVP_MAC_CTX_free(mac);
    json_object_put(o);
    return ok;
}

/* ---- the relay ---- */

struct pump {
    int from, to;
    bool to_is_socket;
    pthread_t thread;
};

struct vm_relay {
    struct pump up, down;
};

static void *pump_run(void *arg)
{
    struct pump *p = arg;
    static __thread uint8_t buf[1 << 16];
    for (;;) {
        ssize_t k = read(p->from, buf, sizeof(buf));
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0 || !write_full(p->to, buf, (size_t)k))
            break;
    }
    /* Pass the end on: the peer sees EOF. */
    if (p->to_is_socket)
        shutdown(p->to, SHUT_WR);
    else
        close(p->to);
    return NULL;
}

struct vm_relay *vm_relay_start(int sock, int in, int out)
{
    struct vm_relay *r = calloc(1, sizeof(*r));
    if (!r)
        return NULL;
    r->up = (struct pump){.from = in, .to = sock, .to_is_socket = true};
    r->down = (struct pump){.from = sock, .to = out};
    if (pthread_create(&r->up.thread, NULL, pump_run, &r->up) != 0) {
        free(r);
        return NULL;
    }
    if (pthread_create(&r->down.thread, NULL, pump_run, &r->down) != 0) {
        shutdown(sock, SHUT_RDWR);
        pthread_join(r->up.thread, NULL);
        free(r);
        return NULL;
    }
    return r;
}

void vm_relay_wait(struct vm_relay *r)
{
    if (!r)
        return;
    pthread_join(r->down.thread, NULL);
    /* The VMM is done with the stream: stop reading the source. */
    shutdown(r->up.to, SHUT_RDWR);
    pthread_cancel(r->up.thread);
    pthread_join(r->up.thread, NULL);
    free(r);
}

/* ---- destination ---- */

static bool read_all(int fd, void *p, size_t n)
{
    uint8_t *b = p;
    while (n) {
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        if (poll(&pfd, 1, 60000) <= 0)
            return false;
        ssize_t k = read(fd, b, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return false;
        b += k;
        n -= (size_t)k;
    }
    return true;
}

/* Copies n bytes of the stream into a new file dir/name. */
static bool receive_file(int fd, const char *dir, const char *name, uint64_t n, EVP_MAC_CTX *mac)
{
    char p[PATH_MAX + 512];
    if ((size_t)snprintf(p, sizeof(p), "%s/%s", dir, name) >= sizeof(p))
        return false;
    int out = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (out < 0)
        return false;
    static uint8_t buf[1 << 16];
    bool ok = true;
    while (ok && n) {
        size_t k = n < sizeof(buf) ? (size_t)n : sizeof(buf);
        ok = read_all(fd, buf, k) && write_full(out, buf, k);
        EVP_MAC_update(mac, buf, k);
        n -= k;
    }
    return close(out) == 0 && ok;
}

/* Reads the preamble from fd and makes the VM `name` in a new directory
 * (dir): its files, vm.json and empty disks.  One line in e on failure. */
static bool make_vm(int fd, const char *name, const char *dir, struct wirt_error *e)
{
    uint8_t h[VMM_PREAMBLE_HEAD];
    if (!read_all(fd, h, sizeof(h)) || memcmp(h, VMM_PREAMBLE_MAGIC, VMM_PREAMBLE_MAGIC_LEN))
        return vm_fail(e, WIRT_ERR_FAILED,
                       "receive: the stream has no VM configuration in front (the source must "
                       "be `wirt vm migrate ... --copy-storage`)");
    uint64_t tlen = get_le(h + 8, 4), files_len = get_le(h + 12, 8);
    if (tlen > MAX_JSON || files_len > MAX_FILES * MAX_FILE)
        return vm_fail(e, WIRT_ERR_FAILED, "receive: the stream's preamble is malformed");
    char *text = malloc(tlen + 1);
    EVP_MAC_CTX *mac = mac_new();
    json_object *o = NULL, *v, *files = NULL, *sizes = NULL;
    bool ok = text && mac && read_all(fd, text, tlen);
    if (ok) {
        text[tlen] = '\0';
        EVP_MAC_update(mac, (const uint8_t *)text, tlen);
        o = json_tokener_parse(text);
    }
    struct vm_config cfg;
    char why[1024] = "";
    ok = ok && o && json_object_object_get_ex(o, "config", &v) &&
         vm_config_from_json(v, &cfg, why, sizeof(why)) &&
         json_object_object_get_ex(o, "files", &files) &&
         json_object_is_type(files, json_type_array) &&
         json_object_array_length(files) <= MAX_FILES &&
         json_object_object_get_ex(o, "disk-sizes", &sizes) &&
         json_object_is_type(sizes, json_type_array) &&
         json_object_array_length(sizes) == cfg.ndisks;
    if (!ok) {
        vm_fail(e, WIRT_ERR_FAILED, "receive: the stream's VM configuration is malformed%s%s",
                why[0] ? ": " : "", why);
        goto out;
    }
    if (!json_object_object_get_ex(o, "copy-storage", &v) || !json_object_get_boolean(v)) {
        ok = vm_fail(e, WIRT_ERR_FAILED,
                     "receive: the source does not copy its disks (migrate with --copy-storage)");
        goto out;
    }
    uint64_t sum = 0;
    for (size_t i = 0; ok && i < json_object_array_length(files); i++) {
        json_object *f = json_object_array_get_idx(files, i), *fn, *fs;
        const char *fname =
            json_object_object_get_ex(f, "name", &fn) ? json_object_get_string(fn) : NULL;
        int64_t size = json_object_object_get_ex(f, "size", &fs) ? json_object_get_int64(fs) : -1;
        if (!fname || !vm_file_name_valid(fname) || size < 0 || (uint64_t)size > MAX_FILE ||
            sum + (uint64_t)size > files_len) {
            ok = vm_fail(e, WIRT_ERR_FAILED, "receive: a malformed boot file in the stream");
            break;
        }
        sum += (uint64_t)size;
        if (!receive_file(fd, dir, fname, (uint64_t)size, mac))
            ok = vm_fail(e, WIRT_ERR_FAILED, "receive: %s: the stream broke off, or %s", fname,
                         strerror(errno));
    }
    if (ok && sum != files_len)
        ok = vm_fail(e, WIRT_ERR_FAILED, "receive: the stream's boot files do not add up");
    uint8_t want[MAC_LEN], got[MAC_LEN];
    size_t n = MAC_LEN;
    if (ok && (!read_all(fd, got, MAC_LEN) || !EVP_MAC_final(mac, want, &n, MAC_LEN) ||
               CRYPTO_memcmp(want, got, MAC_LEN) != 0))
        ok = vm_fail(e, WIRT_ERR_FAILED,
                     "receive: the VM configuration is not signed with this migration secret "
                     "($WIRT_MIGRATION_SECRET)");
    /* The copy is a VM of its own: named here, its disks full copies. */
    snprintf(cfg.name, sizeof(cfg.name), "%s", name);
    cfg.linked_to[0] = '\0';
    cfg.is_template = false;
    for (unsigned i = 0; ok && i < cfg.ndisks; i++) {
        char p[PATH_MAX + 512];
        if ((size_t)snprintf(p, sizeof(p), "%s/%s", dir, cfg.disks[i].file) >= sizeof(p)) {
            ok = vm_fail(e, WIRT_ERR_FAILED, "receive: path too long");
            break;
        }
        struct image_create_opts io = {
            .format = cfg.disks[i].format,
            .size = (uint64_t)json_object_get_int64(json_object_array_get_idx(sizes, i))};
        if (!vm_file_name_valid(cfg.disks[i].file) || !io.size ||
            image_create(p, &io, why, sizeof(why)) < 0)
            ok = vm_fail(e, WIRT_ERR_FAILED, "receive: cannot create disk %s: %s",
                         cfg.disks[i].file, why[0] ? why : "bad name or size");
    }
    if (ok && !vm_config_save_dir(dir, &cfg, why, sizeof(why)))
        ok = vm_fail(e, WIRT_ERR_FAILED, "receive: %s", why);
out:
    json_object_put(o);
    EVP_MAC_CTX_free(mac);
    free(text);
    return ok;
}

/* --listen ADDR:PORT: one connection (port 0: any; the port is printed). */
static int accept_one(const char *addr, struct wirt_error *e)
{
    char host[256], port[32], err[256];
    char uri[300];
    snprintf(uri, sizeof(uri), "tcp:%s", addr);
    if (!vmm_migration_parse_uri(uri, host, sizeof(host), port, sizeof(port), err, sizeof(err))) {
        vm_fail(e, WIRT_ERR_INVALID, "receive: --listen '%s' is not ADDR:PORT", addr);
        return -1;
    }
    struct addrinfo hints = {
        .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE};
    struct addrinfo *ai;
    int r = getaddrinfo(host, port, &hints, &ai);
    if (r) {
        vm_fail(e, WIRT_ERR_INVALID, "receive: --listen %s: %s", addr, gai_strerror(r));
        return -1;
    }
    int ls = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
    if (ls >= 0)
        setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (ls < 0 || bind(ls, ai->ai_addr, ai->ai_addrlen) < 0 || listen(ls, 1) < 0) {
        vm_fail(e, WIRT_ERR_FAILED, "receive: --listen %s: %s", addr, strerror(errno));
        freeaddrinfo(ai);
        if (ls >= 0)
            close(ls);
        return -1;
    }
    freeaddrinfo(ai);
    struct sockaddr_storage sa;
    socklen_t sl = sizeof(sa);
    getsockname(ls, (struct sockaddr *)&sa, &sl);
    unsigned p = sa.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&sa)->sin6_port)
                                          : ntohs(((struct sockaddr_in *)&sa)->sin_port);
    printf("listening on %s:%u\n", host, p);
    fflush(stdout);
    int fd = accept(ls, NULL, NULL); /* inherited by the VMM: no CLOEXEC */
    close(ls);
    if (fd < 0)
        vm_fail(e, WIRT_ERR_FAILED, "receive: accept: %s", strerror(errno));
    return fd;
}

int vm_cmd_receive(struct vm_store *st, int argc, char **argv)
{
    const char *name = NULL, *listen_on = NULL;
    bool use_stdio = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--listen") && i + 1 < argc)
            listen_on = argv[++i];
        else if (!strcmp(argv[i], "--stdio"))
            use_stdio = true;
        else if (argv[i][0] == '-' || name)
            vm_usage("receive: usage: wirt vm receive NAME --listen ADDR:PORT | --stdio");
        else
            name = argv[i];
    }
    if (!name || !!listen_on == use_stdio)
        vm_usage("receive: usage: wirt vm receive NAME --listen ADDR:PORT | --stdio");
    struct wirt_error e;
    if (!vm_check_name(name, &e))
        return vm_report(&e);
    if (vm_exists(st, name)) {
        vm_fail(&e, WIRT_ERR_EXISTS, "receive: a VM named '%s' already exists", name);
        return vm_report(&e);
    }
    /* The VMM reads the stream from `fd`; with --stdio it is one end of
     * a socket pair whose other end this process relays. */
    int fd = -1, mine = -1, in = 0;
    if (use_stdio) {
        int sv[2];
        if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0) {
            vm_fail(&e, WIRT_ERR_FAILED, "receive: socketpair: %s", strerror(errno));
            return vm_report(&e);
        }
        fd = sv[1];
        mine = sv[0];
        fcntl(mine, F_SETFD, FD_CLOEXEC);
    } else if ((fd = in = accept_one(listen_on, &e)) < 0) {
        return vm_report(&e);
    }
    char dir[PATH_MAX] = "", err[512];
    bool ok = vm_tempdir(st, dir, sizeof(dir), name, &e) && make_vm(in, name, dir, &e);
    if (ok && !vm_commit_dir(st, dir, name, err, sizeof(err)))
        ok = vm_fail(&e, WIRT_ERR_FAILED, "receive: %s", err);
    if (!ok) {
        if (dir[0])
            vm_rmtree(st, dir);
        close(fd);
        if (mine >= 0)
            close(mine);
        return vm_report(&e);
    }
    struct vm_relay *relay = use_stdio ? vm_relay_start(mine, 0, 1) : NULL;
    char uri[32];
    snprintf(uri, sizeof(uri), "fd:%d", fd);
    struct vm_start_result res;
    ok = vm_start_incoming(st, name, uri, &res, &e);
    close(fd); /* the VMM has its own */
    if (relay)
        vm_relay_wait(relay);
    if (!ok) {
        char vmdir[PATH_MAX];
        vm_path(st, vmdir, sizeof(vmdir), name, NULL);
        vm_rmtree(st, vmdir);
        return vm_report(&e);
    }
    fprintf(stderr, "received VM '%s' (pid %ld)\n", name, res.pid);
    return 0;
}
