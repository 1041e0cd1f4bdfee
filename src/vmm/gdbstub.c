/* SPDX-License-Identifier: MIT */
/*
 * The GDB remote serial protocol, all-stop mode, for one machine.
 *
 * One thread owns the listening socket and the one connected debugger.
 * While the debugger looks at the machine, the board is paused and its
 * harts parked (board_pause, then harts_parked), so the vCPU debug
 * operations run on this thread against stopped harts.  A continue pushes
 * the breakpoint list to every hart and resumes the board; a hart that
 * reaches a breakpoint or watchpoint calls on_hart_stop from its own
 * thread, which pauses the board and wakes this thread through an
 * eventfd.  Ctrl-C (a 0x03 byte) pauses the board from here.  A step runs
 * one instruction of one hart on this thread while the others stay parked
 * (GDB's scheduler-locking "step" behaviour).
 */
#include "vmm/gdbstub.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cpu/vcpu.h"
#include "cpu/vcpu_debug.h"
#include "machine/board.h"
#include "util/log.h"
#include "util/unix_socket.h"

#define PACKET_MAX 4096 /* what we advertise as PacketSize (hex 1000) */
#define NGPR       33   /* x0..x31, pc: the 'g' packet */

struct gdbstub {
    struct board *b;
    int listen_fd;
    int wake_fd; /* eventfd: a hart stopped, or quit */
    char *unix_path;
    pthread_t thread;
    atomic_bool quit;
    int exit_code;

    /* The connected debugger (this thread only). */
    int fd;
    bool noack;
    bool running;  /* resumed by us, not yet stopped */
    unsigned cur;  /* the hart GDB's registers and memory refer to (Hg) */
    int step_hart; /* Hc: -1 any */
    char in[PACKET_MAX + 8];
    size_t inlen;
    char last[PACKET_MAX * 2 + 8]; /* the last packet sent, for a '-' */
    size_t lastlen;
    char *xml; /* target description, built on connect */
    size_t xmllen;
    struct vcpu_breakpoints bps;

    /* Set by harts (under the I/O lock): the first that stopped. */
    int stopped_hart;
};

/* ---- addresses ---- */

static bool split_tcp(const char *addr, char *host, size_t hostlen, char *port, size_t portlen)
{
    const char *rest = addr + 4, *colon = strrchr(rest, ':');
    if (!colon)
        return false;
    size_t hl = (size_t)(colon - rest);
    if (hl >= hostlen || strlen(colon + 1) >= portlen || !colon[1])
        return false;
    memcpy(host, rest, hl);
    host[hl] = '\0';
    if (!host[0])
        snprintf(host, hostlen, "127.0.0.1");
    snprintf(port, portlen, "%s", colon + 1);
    char *end;
    long p = strtol(port, &end, 10);
    return *end == '\0' && p > 0 && p < 65536;
}

bool gdbstub_address_ok(const char *addr, char *why, size_t whylen)
{
    char host[256], port[16];
    if (!strncmp(addr, "unix:", 5) && addr[5])
        return true;
    if (!strncmp(addr, "tcp:", 4) && split_tcp(addr, host, sizeof(host), port, sizeof(port)))
        return true;
    snprintf(why, whylen, "'%s' is not tcp:[HOST]:PORT or unix:PATH", addr);
    return false;
}

static int listen_tcp(const char *addr, char *err, size_t errlen)
{
    char host[256], port[16];
    split_tcp(addr, host, sizeof(host), port, sizeof(port));
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *res;
    int r = getaddrinfo(host, port, &hints, &res);
    if (r) {
        snprintf(err, errlen, "--gdb: %s: %s", addr, gai_strerror(r));
        return -1;
    }
    int fd = -1, saved = 0;
    for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            saved = errno;
            continue;
        }
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 1) < 0) {
            saved = errno;
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    if (fd < 0)
        snprintf(err, errlen, "--gdb: %s: %s", addr, strerror(saved));
    return fd;
}

/* ---- the machine ---- */

static struct vcpu *hart(struct gdbstub *g, unsigned i)
{
    return g->b->harts[i];
}

static const struct vcpu_debug_ops *dbg(struct gdbstub *g)
{
    return g->b->harts[0]->ops->debug;
}

static void on_hart_stop(void *opaque, struct vcpu *v)
{
    struct gdbstub *g = opaque;
    struct board *b = g->b;
    pthread_mutex_lock(&b->bus.io_lock);
    if (g->stopped_hart < 0)
        for (unsigned i = 0; i < b->nharts; i++)
            if (b->harts[i] == v)
                g->stopped_hart = (int)i;
    board_pause(b);
    pthread_mutex_unlock(&b->bus.io_lock);
    uint64_t one = 1;
    if (write(g->wake_fd, &one, sizeof(one)) < 0) {
        /* the counter cannot overflow in practice; nothing to do */
    }
}

/* Pauses the board and waits until every hart is out of its run loop.
 * false when the machine is powering off (the stub must let go). */
static bool stop_machine(struct gdbstub *g)
{
    struct board *b = g->b;
    pthread_mutex_lock(&b->bus.io_lock);
    if (!b->power_off)
        board_pause(b);
    while (!b->harts_parked && !b->power_off && !atomic_load(&g->quit))
        pthread_cond_wait(&b->state_cond, &b->bus.io_lock);
    bool ok = !b->power_off && !atomic_load(&g->quit);
    pthread_mutex_unlock(&b->bus.io_lock);
    g->running = false;
    return ok;
}

static void arm_harts(struct gdbstub *g, bool on)
{
    for (unsigned i = 0; i < g->b->nharts; i++)
        dbg(g)->set_breakpoints(hart(g, i), on ? &g->bps : NULL, on_hart_stop, g);
}

static void resume_machine(struct gdbstub *g)
{
    arm_harts(g, true);
    g->stopped_hart = -1;
    struct board *b = g->b;
    pthread_mutex_lock(&b->bus.io_lock);
    g->stopped_hart = -1;
    board_resume(b);
    pthread_mutex_unlock(&b->bus.io_lock);
    g->running = true;
}

/* ---- packets ---- */

static bool send_all(int fd, const void *p, size_t n)
{
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return false;
        p = (const char *)p + w;
        n -= (size_t)w;
    }
    return true;
}

/* Sends data as one packet, escaping what the protocol reserves. */
static void put_packet_len(struct gdbstub *g, const char *data, size_t len)
{
    char *o = g->last;
    unsigned sum = 0;
    *o++ = '$';
    for (size_t i = 0; i < len && (size_t)(o - g->last) < sizeof(g->last) - 5; i++) {
        char c = data[i];
        if (c == '$' || c == '#' || c == '}' || c == '*') {
            *o++ = '}';
            sum += '}';
            c ^= 0x20;
        }
        *o++ = c;
        sum += (unsigned char)c;
    }
    o += sprintf(o, "#%02x", sum & 0xff);
    g->lastlen = (size_t)(o - g->last);
    send_all(g->fd, g->last, g->lastlen);
}

static void put_packet(struct gdbstub *g, const char *s)
{
    put_packet_len(g, s, strlen(s));
}

static const char hexd[] = "0123456789abcdef";

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Parses hex digits at *p into *v; false if there are none (or too many). */
static bool parse_hex(const char **p, uint64_t *v)
{
    uint64_t r = 0;
    int n = 0, d;
    while ((d = hexval(**p)) >= 0) {
        if (++n > 16)
            return false;
        r = r << 4 | (uint64_t)d;
        (*p)++;
    }
    *v = r;
    return n > 0;
}

static char *put_le64(char *o, uint64_t v)
{
    for (int i = 0; i < 8; i++, v >>= 8) {
        *o++ = hexd[(v >> 4) & 15];
        *o++ = hexd[v & 15];
    }
    *o = '\0';
    return o;
}

static bool get_le64(const char **p, uint64_t *v)
{
    uint64_t r = 0;
    for (int i = 0; i < 8; i++) {
        int hi = hexval((*p)[0]), lo = hi < 0 ? -1 : hexval((*p)[1]);
        if (lo < 0)
            return false;
        r |= (uint64_t)(hi << 4 | lo) << (8 * i);
        *p += 2;
    }
    *v = r;
    return true;
}

/* ---- target description ---- */

static const char *const gpr_names[32] = {"zero", "ra", "sp",  "gp",  "tp", "t0", "t1", "t2",
                                          "fp",   "s1", "a0",  "a1",  "a2", "a3", "a4", "a5",
                                          "a6",   "a7", "s2",  "s3",  "s4", "s5", "s6", "s7",
                                          "s8",   "s9", "s10", "s11", "t3", "t4", "t5", "t6"};

static const struct {
    unsigned num;
    const char *name;
} csr_names[] = {
    {0x100, "sstatus"},    {0x104, "sie"},       {0x105, "stvec"},         {0x106, "scounteren"},
    {0x10a, "senvcfg"},    {0x140, "sscratch"},  {0x141, "sepc"},          {0x142, "scause"},
    {0x143, "stval"},      {0x144, "sip"},       {0x14d, "stimecmp"},      {0x180, "satp"},
    {0x200, "vsstatus"},   {0x204, "vsie"},      {0x205, "vstvec"},        {0x240, "vsscratch"},
    {0x241, "vsepc"},      {0x242, "vscause"},   {0x243, "vstval"},        {0x244, "vsip"},
    {0x280, "vsatp"},      {0x300, "mstatus"},   {0x301, "misa"},          {0x302, "medeleg"},
    {0x303, "mideleg"},    {0x304, "mie"},       {0x305, "mtvec"},         {0x306, "mcounteren"},
    {0x30a, "menvcfg"},    {0x30c, "mstateen0"}, {0x320, "mcountinhibit"}, {0x340, "mscratch"},
    {0x341, "mepc"},       {0x342, "mcause"},    {0x343, "mtval"},         {0x344, "mip"},
    {0x34a, "mtinst"},     {0x34b, "mtval2"},    {0x3a0, "pmpcfg0"},       {0x3a2, "pmpcfg2"},
    {0x3b0, "pmpaddr0"},   {0x3b1, "pmpaddr1"},  {0x3b2, "pmpaddr2"},      {0x3b3, "pmpaddr3"},
    {0x3b4, "pmpaddr4"},   {0x3b5, "pmpaddr5"},  {0x3b6, "pmpaddr6"},      {0x3b7, "pmpaddr7"},
    {0x600, "hstatus"},    {0x602, "hedeleg"},   {0x603, "hideleg"},       {0x604, "hie"},
    {0x606, "hcounteren"}, {0x607, "hgeie"},     {0x643, "htval"},         {0x644, "hip"},
    {0x645, "hvip"},       {0x64a, "htinst"},    {0x680, "hgatp"},         {0x747, "mseccfg"},
    {0x7a0, "tselect"},    {0x7a1, "tdata1"},    {0x7a2, "tdata2"},        {0x7a3, "tdata3"},
    {0x7a4, "tinfo"},      {0x7a5, "tcontrol"},  {0xb00, "mcycle"},        {0xb02, "minstret"},
    {0xc00, "cycle"},      {0xc01, "time"},      {0xc02, "instret"},       {0xf11, "mvendorid"},
    {0xf12, "marchid"},    {0xf13, "mimpid"},    {0xf14, "mhartid"},       {0xf15, "mconfigptr"},
};

struct sbuf {
    char *p;
    size_t len, cap;
};

static void sb_printf(struct sbuf *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(struct sbuf *s, const char *fmt, ...)
{
    va_list ap;
    for (;;) {
        va_start(ap, fmt);
        int n = vsnprintf(s->p ? s->p + s->len : NULL, s->p ? s->cap - s->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0)
            return;
        if (s->p && s->len + (size_t)n < s->cap) {
            s->len += (size_t)n;
            return;
        }
        size_t cap = (s->cap ? s->cap * 2 : 4096) + (size_t)n;
        char *p = realloc(s->p, cap);
        if (!p)
            return;
        s->p = p;
        s->cap = cap;
    }
}

/* Which registers there are: asked of hart 0 (all harts are alike). */
static void build_xml(struct gdbstub *g)
{
    struct sbuf s = {0};
    uint64_t v;
    struct vcpu *h0 = hart(g, 0);
    sb_printf(&s, "<?xml version=\"1.0\"?>\n<!DOCTYPE target SYSTEM \"gdb-target.dtd\">\n"
                  "<target version=\"1.0\">\n<architecture>riscv:rv64</architecture>\n"
                  "<feature name=\"org.gnu.gdb.riscv.cpu\">\n");
    for (unsigned i = 0; i < 32; i++)
        sb_printf(&s, "<reg name=\"%s\" bitsize=\"64\" regnum=\"%u\" type=\"%s\"/>\n", gpr_names[i],
                  i,
                  i == 2 || i == 8 ? "data_ptr"
                  : i == 1         ? "code_ptr"
                                   : "int");
    sb_printf(&s, "<reg name=\"pc\" bitsize=\"64\" regnum=\"32\" type=\"code_ptr\"/>\n"
                  "</feature>\n<feature name=\"org.gnu.gdb.riscv.fpu\">\n"
                  "<union id=\"riscv_double\"><field name=\"float\" type=\"ieee_single\"/>"
                  "<field name=\"double\" type=\"ieee_double\"/></union>\n");
    for (unsigned i = 0; i < 32; i++)
        sb_printf(&s, "<reg name=\"f%u\" bitsize=\"64\" regnum=\"%u\" type=\"riscv_double\"/>\n", i,
                  VCPU_REG_F0 + i);
    static const char *const fcsrs[] = {"fflags", "frm", "fcsr"};
    for (unsigned i = 0; i < 3; i++)
        sb_printf(&s,
                  "<reg name=\"%s\" bitsize=\"64\" regnum=\"%u\" type=\"int\" group=\"float\"/>\n",
                  fcsrs[i], VCPU_REG_CSR0 + 1 + i);
    sb_printf(&s, "</feature>\n<feature name=\"org.gnu.gdb.riscv.csr\">\n");
    for (size_t i = 0; i < sizeof(csr_names) / sizeof(csr_names[0]); i++)
        if (dbg(g)->get_reg(h0, VCPU_REG_CSR0 + csr_names[i].num, &v))
            sb_printf(&s, "<reg name=\"%s\" bitsize=\"64\" regnum=\"%u\" type=\"int\"/>\n",
                      csr_names[i].name, VCPU_REG_CSR0 + csr_names[i].num);
    sb_printf(&s,
              "</feature>\n<feature name=\"org.gnu.gdb.riscv.virtual\">\n"
              "<reg name=\"priv\" bitsize=\"64\" regnum=\"%u\" type=\"int\"/>\n"
              "</feature>\n</target>\n",
              VCPU_REG_PRIV);
    free(g->xml);
    g->xml = s.p;
    g->xmllen = s.p ? s.len : 0;
}

/* ---- commands ---- */

static void report_stop(struct gdbstub *g, unsigned h, struct vcpu_stop st, int sig)
{
    char buf[96];
    int n = snprintf(buf, sizeof(buf), "T%02xthread:%x;", sig, h + 1);
    if (st.reason == VCPU_STOP_WATCH) {
        const char *kind = st.kind == VCPU_WATCH_WRITE  ? "watch"
                           : st.kind == VCPU_WATCH_READ ? "rwatch"
                                                        : "awatch";
        snprintf(buf + n, sizeof(buf) - (size_t)n, "%s:%llx;", kind, (unsigned long long)st.addr);
    }
    g->cur = h;
    put_packet(g, buf);
}

/* After the machine stopped on its own (a hart's breakpoint/watchpoint)
 * or by Ctrl-C (sig 2): which hart to report, and why. */
static void report_machine_stop(struct gdbstub *g, int sig)
{
    struct vcpu_stop why = {VCPU_STOP_NONE, 0, 0}, st;
    int first = g->stopped_hart;
    unsigned who = g->cur;
    for (unsigned i = 0; i < g->b->nharts; i++) {
        st = dbg(g)->take_stop(hart(g, i));
        if (st.reason != VCPU_STOP_NONE && (why.reason == VCPU_STOP_NONE || (int)i == first)) {
            why = st;
            who = i;
        }
    }
    report_stop(g, who, why, why.reason == VCPU_STOP_NONE ? sig : 5);
}

static int thread_arg(struct gdbstub *g, const char *p)
{
    if (!strcmp(p, "-1"))
        return -1;
    uint64_t t;
    if (!parse_hex(&p, &t) || *p)
        return -2;
    if (t == 0)
        return (int)g->cur;
    if (t > g->b->nharts)
        return -2;
    return (int)t - 1;
}

static void cmd_step(struct gdbstub *g, int h)
{
    unsigned i = h < 0 ? g->cur : (unsigned)h;
    arm_harts(g, true);
    dbg(g)->step(hart(g, i));
    report_stop(g, i, dbg(g)->take_stop(hart(g, i)), 5);
}

static void cmd_vcont(struct gdbstub *g, const char *p)
{
    /* ;s[:tid] steps that hart alone; otherwise ;c continues them all. */
    int step = -3;
    while (*p == ';') {
        char act = p[1];
        p += 2;
        if (act == 'S' || act == 'C')
            while (hexval(*p) >= 0)
                p++;
        int tid = -1;
        if (*p == ':') {
            char t[24];
            size_t n = 0;
            for (p++; *p && *p != ';' && n < sizeof(t) - 1;)
                t[n++] = *p++;
            t[n] = '\0';
            tid = thread_arg(g, t);
        }
        if ((act == 's' || act == 'S') && step == -3)
            step = tid;
    }
    if (step != -3)
        cmd_step(g, step);
    else
        resume_machine(g);
}

static bool add_point(struct gdbstub *g, int type, uint64_t addr, uint64_t len)
{
    struct vcpu_breakpoints *b = &g->bps;
    if (type <= 1) {
        for (unsigned i = 0; i < b->nbreak; i++)
            if (b->brk[i] == addr)
                return true;
        if (b->nbreak == VCPU_MAX_BREAKPOINTS)
            return false;
        b->brk[b->nbreak++] = addr;
        return true;
    }
    if (b->nwatch == VCPU_MAX_WATCHPOINTS || !len)
        return false;
    static const enum vcpu_watch_kind kinds[] = {VCPU_WATCH_WRITE, VCPU_WATCH_READ,
                                                 VCPU_WATCH_ACCESS};
    b->watch[b->nwatch].addr = addr;
    b->watch[b->nwatch].len = len;
    b->watch[b->nwatch].kind = kinds[type - 2];
    b->nwatch++;
    return true;
}

static bool remove_point(struct gdbstub *g, int type, uint64_t addr, uint64_t len)
{
    struct vcpu_breakpoints *b = &g->bps;
    if (type <= 1) {
        for (unsigned i = 0; i < b->nbreak; i++)
            if (b->brk[i] == addr) {
                b->brk[i] = b->brk[--b->nbreak];
                return true;
            }
        return false;
    }
    for (unsigned i = 0; i < b->nwatch; i++)
        if (b->watch[i].addr == addr && b->watch[i].len == len) {
            b->watch[i] = b->watch[--b->nwatch];
            return true;
        }
    return false;
}

static void cmd_point(struct gdbstub *g, const char *p, bool insert)
{
    int type = p[1] - '0';
    uint64_t addr, len;
    p += 2;
    if (type < 0 || type > 4 || *p++ != ',' || !parse_hex(&p, &addr) || *p++ != ',' ||
        !parse_hex(&p, &len)) {
        put_packet(g, "E01");
        return;
    }
    bool ok = insert ? add_point(g, type, addr, len) : remove_point(g, type, addr, len);
    put_packet(g, ok ? "OK" : "E0e");
}

static void cmd_read_mem(struct gdbstub *g, const char *p)
{
    uint64_t addr, len;
    if (!parse_hex(&p, &addr) || *p++ != ',' || !parse_hex(&p, &len)) {
        put_packet(g, "E01");
        return;
    }
    if (len > PACKET_MAX / 2)
        len = PACKET_MAX / 2;
    uint8_t buf[PACKET_MAX / 2];
    size_t n = dbg(g)->access_mem(hart(g, g->cur), addr, buf, (size_t)len, false);
    if (!n && len) {
        put_packet(g, "E14");
        return;
    }
    char out[PACKET_MAX + 1];
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hexd[buf[i] >> 4];
        out[2 * i + 1] = hexd[buf[i] & 15];
    }
    put_packet_len(g, out, 2 * n);
}

static void cmd_write_mem(struct gdbstub *g, const char *p)
{
    uint64_t addr, len;
    uint8_t buf[PACKET_MAX / 2];
    if (!parse_hex(&p, &addr) || *p++ != ',' || !parse_hex(&p, &len) || *p++ != ':' ||
        len > sizeof(buf) || strlen(p) != 2 * len) {
        put_packet(g, "E01");
        return;
    }
    for (size_t i = 0; i < len; i++) {
        int hi = hexval(p[2 * i]), lo = hexval(p[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            put_packet(g, "E01");
            return;
        }
        buf[i] = (uint8_t)(hi << 4 | lo);
    }
    size_t n = dbg(g)->access_mem(hart(g, g->cur), addr, buf, (size_t)len, true);
    put_packet(g, n == len ? "OK" : "E14");
}

static void cmd_read_regs(struct gdbstub *g)
{
    char out[NGPR * 16 + 1], *o = out;
    for (unsigned r = 0; r < NGPR; r++) {
        uint64_t v = 0;
        dbg(g)->get_reg(hart(g, g->cur), r, &v);
        o = put_le64(o, v);
    }
    put_packet(g, out);
}

static void cmd_write_regs(struct gdbstub *g, const char *p)
{
    for (unsigned r = 0; r < NGPR && *p; r++) {
        uint64_t v;
        if (!get_le64(&p, &v)) {
            put_packet(g, "E01");
            return;
        }
        dbg(g)->set_reg(hart(g, g->cur), r, v);
    }
    put_packet(g, "OK");
}

static void cmd_read_reg(struct gdbstub *g, const char *p)
{
    uint64_t r, v;
    char out[17];
    if (!parse_hex(&p, &r) || r >= VCPU_REG_COUNT) {
        put_packet(g, "E01");
        return;
    }
    if (!dbg(g)->get_reg(hart(g, g->cur), (unsigned)r, &v)) {
        put_packet(g, "xxxxxxxxxxxxxxxx"); /* not available now (fcsr with FS off) */
        return;
    }
    put_le64(out, v);
    put_packet(g, out);
}

static void cmd_write_reg(struct gdbstub *g, const char *p)
{
    uint64_t r, v;
    if (!parse_hex(&p, &r) || *p++ != '=' || !get_le64(&p, &v) || r >= VCPU_REG_COUNT) {
        put_packet(g, "E01");
        return;
    }
    put_packet(g, dbg(g)->set_reg(hart(g, g->cur), (unsigned)r, v) ? "OK" : "E01");
}

static void cmd_xfer_features(struct gdbstub *g, const char *p)
{
    const char *annex = "target.xml:";
    uint64_t off, len;
    if (strncmp(p, annex, strlen(annex)) != 0) {
        put_packet(g, "E00");
        return;
    }
    p += strlen(annex);
    if (!parse_hex(&p, &off) || *p++ != ',' || !parse_hex(&p, &len)) {
        put_packet(g, "E01");
        return;
    }
    if (!g->xml)
        build_xml(g);
    char out[PACKET_MAX + 2];
    if (len > PACKET_MAX - 16)
        len = PACKET_MAX - 16;
    if (off >= g->xmllen) {
        put_packet(g, "l");
        return;
    }
    size_t n = g->xmllen - (size_t)off < len ? g->xmllen - (size_t)off : (size_t)len;
    out[0] = off + n < g->xmllen ? 'm' : 'l';
    memcpy(out + 1, g->xml + off, n);
    put_packet_len(g, out, n + 1);
}

static void cmd_query(struct gdbstub *g, const char *p)
{
    char out[PACKET_MAX];
    if (!strncmp(p, "qSupported", 10)) {
        snprintf(out, sizeof(out),
                 "PacketSize=%x;qXfer:features:read+;vContSupported+;QStartNoAckMode+", PACKET_MAX);
        put_packet(g, out);
    } else if (!strncmp(p, "qXfer:features:read:", 20)) {
        cmd_xfer_features(g, p + 20);
    } else if (!strcmp(p, "qC")) {
        snprintf(out, sizeof(out), "QC%x", g->cur + 1);
        put_packet(g, out);
    } else if (!strcmp(p, "qAttached")) {
        put_packet(g, "1");
    } else if (!strcmp(p, "qfThreadInfo")) {
        size_t n = (size_t)snprintf(out, sizeof(out), "m");
        for (unsigned i = 0; i < g->b->nharts; i++)
            n += (size_t)snprintf(out + n, sizeof(out) - n, "%s%x", i ? "," : "", i + 1);
        put_packet(g, out);
    } else if (!strcmp(p, "qsThreadInfo")) {
        put_packet(g, "l");
    } else if (!strncmp(p, "qThreadExtraInfo,", 17)) {
        int t = thread_arg(g, p + 17);
        char name[32];
        snprintf(name, sizeof(name), "hart %d", t < 0 ? 0 : t);
        size_t n = 0;
        for (const char *c = name; *c; c++) {
            out[n++] = hexd[(unsigned char)*c >> 4];
            out[n++] = hexd[*c & 15];
        }
        out[n] = '\0';
        put_packet(g, out);
    } else if (!strncmp(p, "qSymbol", 7)) {
        put_packet(g, "OK");
    } else if (!strcmp(p, "QStartNoAckMode")) {
        put_packet(g, "OK");
        g->noack = true;
    } else {
        put_packet(g, "");
    }
}

/* One packet while the machine is stopped; false: the session ends. */
static bool handle_packet(struct gdbstub *g, const char *p)
{
    uint64_t addr;
    switch (p[0]) {
    case '?':
        report_stop(g, g->cur, (struct vcpu_stop){VCPU_STOP_NONE, 0, 0}, 5);
        return true;
    case 'g':
        cmd_read_regs(g);
        return true;
    case 'G':
        cmd_write_regs(g, p + 1);
        return true;
    case 'p':
        cmd_read_reg(g, p + 1);
        return true;
    case 'P':
        cmd_write_reg(g, p + 1);
        return true;
    case 'm':
        cmd_read_mem(g, p + 1);
        return true;
    case 'M':
        cmd_write_mem(g, p + 1);
        return true;
    case 'Z':
    case 'z':
        cmd_point(g, p, p[0] == 'Z');
        return true;
    case 'H': {
        int t = thread_arg(g, p + 2);
        if (t == -2) {
            put_packet(g, "E01");
            return true;
        }
        if (p[1] == 'g' && t >= 0)
            g->cur = (unsigned)t;
        else if (p[1] == 'c')
            g->step_hart = t;
        put_packet(g, "OK");
        return true;
    }
    case 'T':
        put_packet(g, thread_arg(g, p + 1) >= 0 ? "OK" : "E01");
        return true;
    case 'c':
    case 's': {
        const char *a = p + 1;
        if (parse_hex(&a, &addr))
            dbg(g)->set_reg(hart(g, g->cur), VCPU_REG_PC, addr);
        if (p[0] == 's')
            cmd_step(g, g->step_hart);
        else
            resume_machine(g);
        return true;
    }
    case 'v':
        if (!strcmp(p, "vCont?"))
            put_packet(g, "vCont;c;C;s;S");
        else if (!strncmp(p, "vCont;", 6))
            cmd_vcont(g, p + 5);
        else if (!strncmp(p, "vKill", 5)) {
            put_packet(g, "OK");
            return false;
        } else
            put_packet(g, "");
        return true;
    case 'q':
    case 'Q':
        cmd_query(g, p);
        return true;
    case 'D':
        put_packet(g, "OK");
        return false;
    case 'k':
        return false;
    default:
        put_packet(g, "");
        return true;
    }
}

/* ---- the session ---- */

enum input { IN_NONE, IN_PACKET, IN_BREAK, IN_CLOSED };

/* Takes the next complete packet (or Ctrl-C) out of g->in. */
static enum input next_input(struct gdbstub *g, char *pkt, size_t pktlen)
{
    size_t i = 0;
    while (i < g->inlen) {
        char c = g->in[i];
        if (c == 0x03) {
            memmove(g->in, g->in + i + 1, g->inlen - i - 1);
            g->inlen -= i + 1;
            return IN_BREAK;
        }
        if (c == '-' && g->lastlen) { /* the last packet arrived damaged */
            send_all(g->fd, g->last, g->lastlen);
            i++;
            continue;
        }
        if (c != '$') {
            i++;
            continue;
        }
        char *hash = memchr(g->in + i, '#', g->inlen - i);
        if (!hash || (size_t)(hash - g->in) + 3 > g->inlen)
            break; /* incomplete */
        size_t start = i + 1, end = (size_t)(hash - g->in);
        unsigned sum = 0;
        for (size_t k = start; k < end; k++)
            sum += (unsigned char)g->in[k];
        int want = hexval(hash[1]) << 4 | hexval(hash[2]);
        size_t n = end - start;
        bool good = (sum & 0xff) == (unsigned)want && n < pktlen;
        if (good) {
            memcpy(pkt, g->in + start, n);
            pkt[n] = '\0';
        }
        size_t used = end + 3;
        memmove(g->in, g->in + used, g->inlen - used);
        g->inlen -= used;
        if (!g->noack)
            send_all(g->fd, good ? "+" : "-", 1);
        if (good)
            return IN_PACKET;
        i = 0;
    }
    if (i == g->inlen)
        g->inlen = 0; /* only noise */
    return IN_NONE;
}

static enum input wait_input(struct gdbstub *g, char *pkt, size_t pktlen, bool *woken)
{
    *woken = false;
    for (;;) {
        enum input r = next_input(g, pkt, pktlen);
        if (r != IN_NONE)
            return r;
        if (g->inlen == sizeof(g->in)) /* an oversized packet: drop it */
            g->inlen = 0;
        struct pollfd pf[2] = {{g->fd, POLLIN, 0}, {g->wake_fd, POLLIN, 0}};
        if (poll(pf, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            return IN_CLOSED;
        }
        if (pf[1].revents & POLLIN) {
            uint64_t v;
            if (read(g->wake_fd, &v, sizeof(v)) < 0) {
                /* nonblocking counter: nothing pending after all */
            }
            *woken = true;
            return IN_NONE;
        }
        if (pf[0].revents & (POLLIN | POLLHUP | POLLERR)) {
            ssize_t n = recv(g->fd, g->in + g->inlen, sizeof(g->in) - g->inlen, 0);
            if (n <= 0)
                return IN_CLOSED;
            g->inlen += (size_t)n;
        }
    }
}

static void session(struct gdbstub *g)
{
    g->noack = false;
    g->inlen = g->lastlen = 0;
    g->cur = 0;
    g->step_hart = -1;
    memset(&g->bps, 0, sizeof(g->bps));
    free(g->xml);
    g->xml = NULL;
    /* GDB expects a stopped target when it attaches. */
    if (!stop_machine(g))
        return;
    char pkt[PACKET_MAX + 8];
    bool kill = false;
    for (;;) {
        bool woken;
        enum input in = wait_input(g, pkt, sizeof(pkt), &woken);
        if (atomic_load(&g->quit)) {
            char w[8];
            snprintf(w, sizeof(w), "W%02x", g->exit_code & 0xff);
            put_packet(g, w);
            return;
        }
        if (in == IN_CLOSED)
            break;
        if (woken && g->running) {
            if (!stop_machine(g))
                return;
            report_machine_stop(g, 5);
            continue;
        }
        if (in == IN_BREAK && g->running) {
            if (!stop_machine(g))
                return;
            report_machine_stop(g, 2);
            continue;
        }
        if (in != IN_PACKET || g->running)
            continue; /* all-stop: GDB waits for the stop reply */
        if (!handle_packet(g, pkt)) {
            kill = pkt[0] == 'k' || pkt[0] == 'v';
            break;
        }
    }
    /* Detached or gone: no breakpoint stays behind, the guest runs on. */
    arm_harts(g, false);
    struct board *b = g->b;
    pthread_mutex_lock(&b->bus.io_lock);
    if (kill)
        board_power_off(b, 0);
    else if (!g->running)
        board_resume(b);
    pthread_mutex_unlock(&b->bus.io_lock);
    g->running = false;
}

static void *stub_thread(void *arg)
{
    struct gdbstub *g = arg;
    pthread_setname_np(pthread_self(), "gdbstub");
    while (!atomic_load(&g->quit)) {
        struct pollfd pf[2] = {{g->listen_fd, POLLIN, 0}, {g->wake_fd, POLLIN, 0}};
        if (poll(pf, 2, -1) < 0 && errno != EINTR)
            break;
        if (atomic_load(&g->quit))
            break;
        if (pf[1].revents & POLLIN) {
            uint64_t v;
            if (read(g->wake_fd, &v, sizeof(v)) < 0) {
                /* stale wake-up from a previous session */
            }
        }
        if (!(pf[0].revents & POLLIN))
            continue;
        int fd = accept4(g->listen_fd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0)
            continue;
        uid_t uid;
        if (g->unix_path && !unix_peer_allowed(fd, &uid)) {
            close(fd);
            continue;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)); /* fails on unix: fine */
        g->fd = fd;
        log_info("gdb: debugger connected");
        session(g);
        close(fd);
        g->fd = -1;
        log_info("gdb: debugger gone");
    }
    return NULL;
}

struct gdbstub *gdbstub_new(struct board *b, const char *addr, bool wait, char *err, size_t errlen)
{
    char why[400];
    if (!gdbstub_address_ok(addr, why, sizeof(why))) {
        snprintf(err, errlen, "--gdb: %s", why);
        return NULL;
    }
    if (!b->harts[0]->ops->debug) {
        snprintf(err, errlen, "--gdb: the %s vCPU engine cannot be debugged",
                 b->harts[0]->ops->name);
        return NULL;
    }
    struct gdbstub *g = calloc(1, sizeof(*g));
    if (!g) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    g->b = b;
    g->fd = -1;
    g->stopped_hart = -1;
    if (!strncmp(addr, "unix:", 5)) {
        g->listen_fd = unix_listen_owner_only(addr + 5, 1, why, sizeof(why));
        if (g->listen_fd < 0)
            snprintf(err, errlen, "--gdb: %s", why);
        else
            g->unix_path = strdup(addr + 5);
    } else {
        g->listen_fd = listen_tcp(addr, err, errlen);
    }
    if (g->listen_fd < 0) {
        free(g);
        return NULL;
    }
    g->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (g->wake_fd < 0 || pthread_create(&g->thread, NULL, stub_thread, g) != 0) {
        snprintf(err, errlen, "--gdb: cannot start the stub: %s", strerror(errno));
        if (g->wake_fd >= 0)
            close(g->wake_fd);
        close(g->listen_fd);
        if (g->unix_path)
            unlink(g->unix_path);
        free(g->unix_path);
        free(g);
        return NULL;
    }
    if (wait) {
        /* The harts start parked: board_run finds the board paused. */
        pthread_mutex_lock(&b->bus.io_lock);
        board_pause(b);
        pthread_mutex_unlock(&b->bus.io_lock);
        log_info("gdb: waiting for a debugger on %s", addr);
    }
    return g;
}

void gdbstub_free(struct gdbstub *g, int exit_code)
{
    if (!g)
        return;
    g->exit_code = exit_code;
    atomic_store(&g->quit, true);
    /* A session waiting for the harts to park wakes on the condition. */
    pthread_mutex_lock(&g->b->bus.io_lock);
    pthread_cond_broadcast(&g->b->state_cond);
    pthread_mutex_unlock(&g->b->bus.io_lock);
    uint64_t one = 1;
    if (write(g->wake_fd, &one, sizeof(one)) < 0) {
        /* the thread also sees quit at its next wake-up */
    }
    pthread_join(g->thread, NULL);
    close(g->wake_fd);
    close(g->listen_fd);
    if (g->unix_path)
        unlink(g->unix_path);
    free(g->unix_path);
    free(g->xml);
    free(g);
}
