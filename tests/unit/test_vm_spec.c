/* SPDX-License-Identifier: MIT */
/* The VM spec: parse, validate, JSON round trip, one clear line per bad field. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "vm/vm_int.h"
#include "vmm/vm_spec.h"

static const char full_spec[] =
    "{\"version\": 1, \"machine\": \"virt\", \"memory\": \"256M\", \"cpus\": 2,"
    " \"firmware\": \"fw.bin\", \"kernel\": \"Image\", \"initrd\": \"initrd.gz\","
    " \"append\": \"console=ttyS0 quiet\","
    " \"disks\": [{\"path\": \"disk.qcow2\", \"format\": \"qcow2\"},"
    "             {\"path\": \"data.img\", \"readonly\": true, \"serial\": \"abc\","
    "              \"discard\": true, \"cache\": \"writeback\","
    "              \"throttle\": {\"iops\": 100, \"bps-wr\": \"10M\"}}],"
    " \"nics\": [{\"backend\": \"user\", \"hostfwd\": [\"tcp::2222-:22\", "
    "\"udp:127.0.0.1:53-:53\"],"
    "             \"net\": \"10.1.0.0/16\"},"
    "            {\"backend\": \"tap\", \"ifname\": \"tap0\", \"mac\": \"52:54:00:aa:bb:cc\"}],"
    " \"console\": {\"mode\": \"detached\", \"serial-socket\": \"serial.sock\","
    "               \"serial-log\": \"console.log\"},"
    " \"control\": \"control.sock\", \"pidfile\": \"vmm.pid\", \"log\": \"vmm.log\","
    " \"resources\": {}, \"display\": {}, \"migration\": {}}";

static bool parse_text(const char *text, struct vm_spec *s, char *err, size_t errlen)
{
    json_object *o = json_tokener_parse(text);
    if (!o) {
        vm_spec_init(s, VM_SPEC_NAMES_JSON);
        snprintf(err, errlen, "test: not JSON: %s", text);
        return false;
    }
    bool ok = vm_spec_from_json(o, s, err, errlen);
    json_object_put(o);
    return ok;
}

static void test_parse_full(void **state)
{
    (void)state;
    struct vm_spec s;
    char err[512];
    if (!parse_text(full_spec, &s, err, sizeof(err)))
        fail_msg("%s", err);
    assert_string_equal(s.machine, "virt");
    assert_int_equal(s.memory, 256ULL << 20);
    assert_int_equal(s.cpus, 2);
    assert_int_equal(s.firmware_kind, VM_FIRMWARE_FILE);
    assert_string_equal(s.firmware, "fw.bin");
    assert_string_equal(s.kernel, "Image");
    assert_string_equal(s.append, "console=ttyS0 quiet");
    assert_null(s.elf);
    assert_int_equal(s.ndisks, 2);
    assert_string_equal(s.disks[0].format, "qcow2");
    assert_false(s.disks[0].readonly);
    assert_null(s.disks[1].format); /* probe */
    assert_true(s.disks[1].readonly);
    assert_true(s.disks[1].discard);
    assert_string_equal(s.disks[1].serial, "abc");
    assert_int_equal(s.nnics, 2);
    assert_ptr_equal(s.nics[0].backend, net_backend_find("user"));
    assert_int_equal(s.nics[0].user.nhostfwd, 2);
    assert_int_equal(s.nics[0].user.hostfwd[0].host_port, 2222);
    assert_true(s.nics[0].user.hostfwd[1].udp);
    assert_int_equal(s.nics[0].user.net_addr, 0x0a010000);
    assert_int_equal(s.nics[0].user.net_mask, 0xffff0000);
    /* The validator gives a NIC without a MAC the default of its index. */
    assert_memory_equal(s.nics[0].mac, "\x52\x54\x00\x12\x34\x56", 6);
    assert_string_equal(s.nics[1].tap.ifname, "tap0");
    assert_memory_equal(s.nics[1].mac, "\x52\x54\x00\xaa\xbb\xcc", 6);
    assert_true(s.console.detached);
    assert_string_equal(s.console.serial_socket, "serial.sock");
    assert_string_equal(s.control, "control.sock");
    assert_string_equal(s.log, "vmm.log");
    /* "display": {} is the screen without a VNC server. */
    assert_true(vm_resources_empty(&s.resources) && s.display.gpu && !s.display.vnc && s.migration);
    struct board_config cfg;
    vm_spec_board_config(&s, &cfg);
    assert_int_equal(cfg.ram_size, 256ULL << 20);
    assert_int_equal(cfg.nharts, 2);
    assert_string_equal(cfg.bios, "fw.bin");
    vm_spec_free(&s);
}

static void test_round_trip(void **state)
{
    (void)state;
    struct vm_spec a, b;
    char err[512];
    assert_true(parse_text(full_spec, &a, err, sizeof(err)));
    json_object *ja = vm_spec_to_json(&a);
    assert_true(vm_spec_from_json(ja, &b, err, sizeof(err)));
    json_object *jb = vm_spec_to_json(&b);
    assert_string_equal(json_object_to_json_string(ja), json_object_to_json_string(jb));
    /* Nothing was lost on the way. */
    json_object *nics, *nic0, *fwd;
    assert_true(json_object_object_get_ex(jb, "nics", &nics));
    nic0 = json_object_array_get_idx(nics, 0);
    assert_true(json_object_object_get_ex(nic0, "hostfwd", &fwd));
    assert_string_equal(json_object_get_string(json_object_array_get_idx(fwd, 1)),
                        "udp:127.0.0.1:53-:53");
    json_object *net;
    assert_true(json_object_object_get_ex(nic0, "net", &net));
    assert_string_equal(json_object_get_string(net), "10.1.0.0/16");
    assert_int_equal(b.disks[1].limits.v[IO_LIMIT_IOPS], 100);
    assert_int_equal(b.disks[1].limits.v[IO_LIMIT_BPS_WR], 10 << 20);
    assert_int_equal(b.disks[0].limits.v[IO_LIMIT_IOPS], 0);
    json_object_put(ja);
    json_object_put(jb);
    vm_spec_free(&a);
    vm_spec_free(&b);

    /* A minimal spec gets the defaults, and firmware "none" stays none. */
    assert_true(parse_text("{\"version\": 1, \"firmware\": \"none\"}", &a, err, sizeof(err)));
    assert_int_equal(a.memory, 512ULL << 20);
    assert_int_equal(a.cpus, 1);
    assert_int_equal(a.firmware_kind, VM_FIRMWARE_NONE);
    assert_false(a.console.detached);
    ja = vm_spec_to_json(&a);
    json_object *fw;
    assert_true(json_object_object_get_ex(ja, "firmware", &fw));
    assert_string_equal(json_object_get_string(fw), "none");
    json_object_put(ja);
    vm_spec_free(&a);
}

/* Each bad document is refused with one line that names the field. */
static void test_bad_fields(void **state)
{
    (void)state;
    static const struct {
        const char *json, *needle;
    } cases[] = {
        {"[1]", "JSON object"},
        {"{}", "version: missing"},
        {"{\"version\": 2}", "version: 2"},
        {"{\"version\": \"1\"}", "version: must be a number"},
        {"{\"version\": 1, \"frobs\": 1}", "unknown key \"frobs\""},
        {"{\"version\": 1, \"machine\": \"pc\"}", "machine: unknown machine 'pc'"},
        {"{\"version\": 1, \"memory\": \"lots\"}", "memory: 'lots' is not a size"},
        {"{\"version\": 1, \"memory\": \"1K\"}", "memory: "},
        {"{\"version\": 1, \"memory\": \"100T\"}", "memory: "},
        {"{\"version\": 1, \"cpus\": 0}", "cpus: must be a number from 1 to 8"},
        {"{\"version\": 1, \"cpus\": 9}", "cpus: must be a number from 1 to 8"},
        {"{\"version\": 1, \"cpus\": \"2\"}", "cpus: must be a number"},
        {"{\"version\": 1, \"kernel\": 5}", "kernel: must be a string"},
        {"{\"version\": 1, \"kernel\": \"\"}", "kernel: empty file name"},
        {"{\"version\": 1, \"elf\": \"a.elf\", \"kernel\": \"k\"}", "elf: cannot be combined"},
        {"{\"version\": 1, \"elf\": \"a.elf\", \"firmware\": \"none\"}", "elf: cannot be combined"},
        {"{\"version\": 1, \"disks\": {}}", "disks: must be a list"},
        {"{\"version\": 1, \"disks\": [{}]}", "disks[0]: must be an object with a \"path\""},
        {"{\"version\": 1, \"disks\": [{\"path\": \"d\", \"format\": \"vfat\"}]}",
         "disks[0]: unknown format 'vfat'"},
        {"{\"version\": 1, \"disks\": [{\"path\": \"d\", \"readonly\": \"yes\"}]}",
         "disks[0].readonly: must be true or false"},
        {"{\"version\": 1, \"disks\": [{\"path\": \"d\", \"serial\": \"123456789012345678901\"}]}",
         "disks[0]: serial is longer than 20"},
        {"{\"version\": 1, \"disks\": [{\"path\": \"d\", \"cache\": \"none\"}]}",
         "disks[0].cache: only \"writeback\""},
        {"{\"version\": 1, \"disks\": [{\"path\": \"d\", \"throttle\": {\"iops\": -5}}]}",
         "disks[0].throttle: iops=?: expected operations per second"},
        {"{\"version\": 1, \"disks\": [{\"path\": \"d\", \"throttle\": {\"speed\": 5}}]}",
         "disks[0].throttle: unknown limit \"speed\""},
        {"{\"version\": 1, \"disks\": [{\"path\": \"d\", \"colour\": 1}]}",
         "disks[0]: unknown key \"colour\""},
        {"{\"version\": 1, \"nics\": [{}]}", "nics[0]: must be an object with a \"backend\""},
        {"{\"version\": 1, \"nics\": [{\"backend\": \"bridge\"}]}",
         "nics[0].backend: unknown backend 'bridge'"},
        {"{\"version\": 1, \"nics\": [{\"backend\": \"tap\"}]}", "nics[0]: tap needs ifname"},
        {"{\"version\": 1, \"nics\": [{\"backend\": \"tap\", \"ifname\": \"x\", \"hostfwd\": []}]}",
         "nics[0]: unknown option 'hostfwd' for the tap backend"},
        {"{\"version\": 1, \"nics\": [{\"backend\": \"user\", \"hostfwd\": [\"tcp::22\"]}]}",
         "nics[0].hostfwd[0]: bad hostfwd 'tcp::22'"},
        {"{\"version\": 1, \"nics\": [{\"backend\": \"user\", \"mac\": \"01:00:00:00:00:01\"}]}",
         "nics[0].mac: bad mac"},
        {"{\"version\": 1, \"nics\": [{\"backend\": \"user\", \"mac\": [\"52:54:00:00:00:01\"]}]}",
         "nics[0].mac: must be a string"},
        {"{\"version\": 1, \"nics\": [{\"backend\": \"user\", \"net\": \"10.0.0.0/30\"}]}",
         "nics[0].net: bad net"},
        {"{\"version\": 1, \"console\": {\"mode\": \"tty\"}}", "console.mode: must be"},
        {"{\"version\": 1, \"console\": {\"mode\": \"detached\"}}",
         "console: a detached console needs"},
        {"{\"version\": 1, \"console\": {\"serial-log\": \"c.log\"}}",
         "console: serial-socket and serial-log need mode"},
        {"{\"version\": 1, \"console\": {\"mode\": \"terminal\", \"x\": 1}}",
         "console: unknown key \"x\""},
        {"{\"version\": 1, \"resources\": {\"cpu-quota\": 50}}",
         "resources: unknown key \"cpu-quota\""},
        {"{\"version\": 1, \"resources\": {\"cpu-limit\": \"-5%\"}}", "resources.cpu-limit"},
        {"{\"version\": 1, \"resources\": {\"cpu-reservation\": \"lots\"}}",
         "resources.cpu-reservation 'lots'"},
        {"{\"version\": 1, \"resources\": {\"memory-limit\": [1]}}",
         "must be a string, a number or true/false"},
        {"{\"version\": 1, \"resources\": {\"memory-limit\": true}}", "a size of at least 16M"},
        {"{\"version\": 1, \"display\": true}", "display: must be an object"},
        {"{\"version\": 1, \"display\": {\"vga\": 1}}", "display: unknown key \"vga\""},
        {"{\"version\": 1, \"display\": {\"vnc\": \"1.2.3.4\"}}", "display vnc=1.2.3.4: expected"},
        {"{\"version\": 1, \"display\": {\"vnc\": \"0.0.0.0:5900\"}}", "needs a password file"},
        {"{\"version\": 1, \"display\": {\"vnc\": \"127.0.0.1:0\"}}", "port 1-65535"},
        {"{\"version\": 1, \"display\": {\"password-file\": \"\"}}", "empty password file"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct vm_spec s;
        char err[512] = "";
        bool ok = parse_text(cases[i].json, &s, err, sizeof(err));
        vm_spec_free(&s);
        if (ok)
            fail_msg("accepted: %s", cases[i].json);
        if (!strstr(err, cases[i].needle) || strchr(err, '\n'))
            fail_msg("%s: got '%s', want '%s'", cases[i].json, err, cases[i].needle);
    }
}

static void test_limits(void **state)
{
    (void)state;
    char text[4096], err[512];
    struct vm_spec s;
    /* Nine disks, five NICs: one over each limit. */
    int n = snprintf(text, sizeof(text), "{\"version\": 1, \"disks\": [");
    for (int i = 0; i < VM_SPEC_MAX_DISKS + 1; i++)
        n += snprintf(text + n, sizeof(text) - (size_t)n, "%s{\"path\": \"d%d\"}", i ? "," : "", i);
    snprintf(text + n, sizeof(text) - (size_t)n, "]}");
    assert_false(parse_text(text, &s, err, sizeof(err)));
    assert_non_null(strstr(err, "disks: at most 8 disks"));
    vm_spec_free(&s);
    n = snprintf(text, sizeof(text), "{\"version\": 1, \"nics\": [");
    for (int i = 0; i < VM_SPEC_MAX_NICS + 1; i++)
        n +=
            snprintf(text + n, sizeof(text) - (size_t)n, "%s{\"backend\": \"user\"}", i ? "," : "");
    snprintf(text + n, sizeof(text) - (size_t)n, "]}");
    assert_false(parse_text(text, &s, err, sizeof(err)));
    assert_non_null(strstr(err, "nics: at most 4"));
    vm_spec_free(&s);
    /* Seventeen forwarding rules on one NIC. */
    n = snprintf(text, sizeof(text),
                 "{\"version\": 1, \"nics\": [{\"backend\": \"user\", "
                 "\"hostfwd\": [");
    for (int i = 0; i < 17; i++)
        n += snprintf(text + n, sizeof(text) - (size_t)n, "%s\"tcp::%d-:22\"", i ? "," : "",
                      2000 + i);
    snprintf(text + n, sizeof(text) - (size_t)n, "]}]}");
    assert_false(parse_text(text, &s, err, sizeof(err)));
    assert_non_null(strstr(err, "nics[0].hostfwd[16]: more than 16 hostfwd rules"));
    vm_spec_free(&s);
    /* The one CPU and memory checks. */
    assert_true(vm_spec_cpus_ok(1, err, sizeof(err)));
    assert_true(vm_spec_cpus_ok(VM_SPEC_MAX_CPUS, err, sizeof(err)));
    assert_false(vm_spec_cpus_ok(VM_SPEC_MAX_CPUS + 1, err, sizeof(err)));
    assert_false(vm_spec_cpus_ok(0, err, sizeof(err)));
    assert_true(vm_spec_memory_ok(16ULL << 20, false, err, sizeof(err)));
    assert_false(vm_spec_memory_ok((16ULL << 20) - 1, false, err, sizeof(err)));
    assert_true(vm_spec_memory_ok(1ULL << 40, false, err, sizeof(err)));
    assert_false(vm_spec_memory_ok((1ULL << 40) + 1, false, err, sizeof(err)));
}

/* `wirt run` option text: the parser that used to live in virtio/blk.c
 * and net/net.c, naming the flag and its text in every message. */
static void test_flag_text(void **state)
{
    (void)state;
    struct vm_spec s;
    char err[512];
    vm_spec_init(&s, VM_SPEC_NAMES_FLAGS);
    assert_true(vm_spec_add_disk_text(
        &s, "disk.img,format=raw,readonly=on,serial=abc,discard=unmap", NULL, err, sizeof(err)));
    assert_string_equal(s.disks[0].path, "disk.img");
    assert_string_equal(s.disks[0].format, "raw");
    assert_true(s.disks[0].readonly);
    assert_true(s.disks[0].discard);
    assert_string_equal(s.disks[0].serial, "abc");
    assert_true(vm_spec_add_disk_text(&s, "file=other.img", NULL, err, sizeof(err)));
    assert_string_equal(s.disks[1].path, "other.img");
    assert_null(s.disks[1].format);
    static const struct {
        const char *text, *needle;
    } bad_disks[] = {
        {"disk.img,format=vfat", "--disk disk.img,format=vfat: unknown format 'vfat'"},
        {"disk.img,readonly=maybe", "readonly=maybe: expected on or off"},
        {"disk.img,colour=blue", "unknown option 'colour'"},
        {"disk.img,nokey", "'nokey' is not KEY=VALUE"},
        {"", "--disk : no image file given"},
        {"d.img,serial=123456789012345678901", "serial is longer than 20"},
    };
    for (size_t i = 0; i < sizeof(bad_disks) / sizeof(bad_disks[0]); i++) {
        assert_false(vm_spec_add_disk_text(&s, bad_disks[i].text, NULL, err, sizeof(err)));
        if (!strstr(err, bad_disks[i].needle) || strchr(err, '\n'))
            fail_msg("%s: got '%s'", bad_disks[i].text, err);
    }
    assert_int_equal(s.ndisks, 2); /* the bad ones were not kept */
    assert_true(vm_spec_add_nic_text(&s, "user,hostfwd=tcp::2222-:22,mac=52:54:00:01:02:03", NULL,
                                     err, sizeof(err)));
    assert_true(s.nics[0].mac_given);
    assert_true(vm_spec_add_nic_text(&s, "tap,ifname=tap7", NULL, err, sizeof(err)));
    assert_true(vm_spec_add_nic_text(&s, "user", NULL, err, sizeof(err)));
    assert_true(vm_spec_add_nic_text(&s, "user", NULL, err, sizeof(err)));
    assert_false(vm_spec_add_nic_text(&s, "user", NULL, err, sizeof(err)));
    assert_string_equal(err, "--net: at most 4 network cards");
    if (!vm_spec_validate(&s, err, sizeof(err)))
        fail_msg("%s", err);
    assert_memory_equal(s.nics[0].mac, "\x52\x54\x00\x01\x02\x03", 6);
    assert_int_equal(s.nics[3].mac[5], 0x56 + 3); /* default MACs differ per index */
    /* Flags are named as flags by the validator too. */
    s.cpus = 9;
    assert_false(vm_spec_validate(&s, err, sizeof(err)));
    assert_string_equal(err, "--cpus: must be a number from 1 to 8");
    s.cpus = 1;
    vm_spec_set_string(&s.elf, "a.elf");
    vm_spec_set_firmware_text(&s, "none");
    assert_false(vm_spec_validate(&s, err, sizeof(err)));
    assert_string_equal(err, "--elf: cannot be combined with --kernel, --initrd or --bios");
    vm_spec_free(&s);

    /* --cpu h=on, kept as "cpu": {"h": true}; unknown features are refused. */
    vm_spec_init(&s, VM_SPEC_NAMES_FLAGS);
    assert_false(s.cpu_h);
    assert_true(vm_spec_set_cpu_text(&s, "h=on", err, sizeof(err)));
    assert_true(s.cpu_h);
    json_object *cj = vm_spec_to_json(&s), *cpu, *hv;
    assert_true(json_object_object_get_ex(cj, "cpu", &cpu));
    assert_true(json_object_object_get_ex(cpu, "h", &hv));
    assert_true(json_object_get_boolean(hv));
    struct vm_spec s2;
    assert_true(vm_spec_from_json(cj, &s2, err, sizeof(err)));
    assert_true(s2.cpu_h);
    struct board_config bc;
    vm_spec_board_config(&s2, &bc);
    assert_true(bc.cpu_h);
    vm_spec_free(&s2);
    json_object_put(cj);
    assert_true(vm_spec_set_cpu_text(&s, "h=off", err, sizeof(err)));
    assert_false(s.cpu_h);
    assert_false(vm_spec_set_cpu_text(&s, "v=on", err, sizeof(err)));
    assert_string_equal(err, "--cpu: 'v=on' is not a CPU feature (known: h=on, h=off)");
    assert_false(parse_text("{\"version\": 1, \"cpu\": {\"h\": 1}}", &s2, err, sizeof(err)));
    assert_non_null(strstr(err, "cpu.h"));
    vm_spec_free(&s);

    vm_spec_init(&s, VM_SPEC_NAMES_FLAGS);
    assert_false(vm_spec_set_cpus_text(&s, "2x", err, sizeof(err)));
    assert_string_equal(err, "--cpus: '2x' is not a number from 1 to 8");
    assert_false(vm_spec_set_memory_text(&s, "lots", err, sizeof(err)));
    assert_string_equal(err, "--memory: 'lots' is not a size (examples: 512M, 2G)");
    /* --ksm is another name for --page-sharing. */
    assert_true(vm_spec_set_resource_text(&s, "ksm", "on", err, sizeof(err)));
    assert_true(s.resources.page_sharing);
    assert_true(vm_spec_set_resource_text(&s, "ksm", "off", err, sizeof(err)));
    assert_false(s.resources.page_sharing);
    assert_false(vm_spec_set_resource_text(&s, "ksm", "sometimes", err, sizeof(err)));
    if (!strstr(err, "ksm 'sometimes': on or off") || strchr(err, '\n'))
        fail_msg("ksm=sometimes: got '%s'", err);
    vm_spec_free(&s);

    /* A kernel booted without --net gets one user NIC, as under QEMU;
     * --net none and bare-metal programs get none. */
    vm_spec_init(&s, VM_SPEC_NAMES_FLAGS);
    vm_spec_default_net(&s);
    assert_int_equal(s.nnics, 1);
    assert_string_equal(s.nics[0].backend->name, "user");
    assert_false(s.nics[0].user.restricted);
    vm_spec_free(&s);
    vm_spec_init(&s, VM_SPEC_NAMES_FLAGS);
    assert_true(vm_spec_add_nic_text(&s, "none", NULL, err, sizeof(err)));
    vm_spec_default_net(&s);
    assert_int_equal(s.nnics, 0);
    assert_false(vm_spec_add_nic_text(&s, "user", NULL, err, sizeof(err)));
    assert_string_equal(err, "--net: none cannot be combined with another network card");
    vm_spec_free(&s);
    vm_spec_init(&s, VM_SPEC_NAMES_FLAGS);
    assert_true(vm_spec_add_nic_text(&s, "tap,ifname=t0", NULL, err, sizeof(err)));
    assert_false(vm_spec_add_nic_text(&s, "none", NULL, err, sizeof(err)));
    vm_spec_default_net(&s);
    assert_int_equal(s.nnics, 1);
    vm_spec_free(&s);
    vm_spec_init(&s, VM_SPEC_NAMES_FLAGS);
    vm_spec_set_string(&s.elf, "a.elf");
    vm_spec_default_net(&s);
    assert_int_equal(s.nnics, 0);
    vm_spec_free(&s);
}

static void test_file_io(void **state)
{
    (void)state;
    char dir[] = "/tmp/wirt-spec-XXXXXX", path[64], err[512];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/run.json", dir);
    struct vm_spec a, b;
    assert_true(parse_text(full_spec, &a, err, sizeof(err)));
    assert_true(vm_spec_save(path, &a, err, sizeof(err)));
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    if (!vm_spec_load(path, &b, err, sizeof(err)))
        fail_msg("%s", err);
    assert_int_equal(b.ndisks, 2);
    assert_string_equal(b.nics[1].tap.ifname, "tap0");
    vm_spec_free(&a);
    vm_spec_free(&b);
    /* Errors name the file, and the line of a JSON syntax error. */
    FILE *f = fopen(path, "w");
    fputs("{\n  \"version\": 1,\n  \"cpus\": ,\n}\n", f);
    fclose(f);
    assert_false(vm_spec_load(path, &b, err, sizeof(err)));
    assert_non_null(strstr(err, path));
    assert_non_null(strstr(err, "line 3"));
    vm_spec_free(&b);
    f = fopen(path, "w");
    fputs("{\"version\": 1, \"cpus\": 99}", f);
    fclose(f);
    assert_false(vm_spec_load(path, &b, err, sizeof(err)));
    assert_non_null(strstr(err, path));
    assert_non_null(strstr(err, "cpus: must be a number from 1 to 8"));
    vm_spec_free(&b);
    assert_false(vm_spec_load(dir, &b, err, sizeof(err))); /* a directory */
    vm_spec_free(&b);
    unlink(path);
    rmdir(dir);
}

/* vm.json keeps its shape (and its `net` strings): a VM of today's store
 * becomes a spec that runs from its directory. */
static void test_from_vm_config(void **state)
{
    (void)state;
    struct vm_config cfg;
    struct vm_spec s;
    char err[512];
    json_object *o = json_tokener_parse(
        "{\"name\": \"a\", \"memory\": \"256M\", \"cpus\": 2, \"kernel\": \"Image\","
        " \"initrd\": \"\", \"bios\": \"\", \"append\": \"console=ttyS0\","
        " \"disks\": [{\"file\": \"disk.qcow2\", \"format\": \"qcow2\"}],"
        " \"net\": [\"user,hostfwd=tcp::8080-:80\", \"tap,ifname=tap3\"],"
        " \"template\": false, \"linked-to\": null, \"created\": \"2026-01-01T00:00:00Z\","
        " \"nested\": true}");
    assert_non_null(o);
    snprintf(cfg.name, sizeof(cfg.name), "a");
    if (!vm_config_from_json(o, &cfg, err, sizeof(err)))
        fail_msg("%s", err);
    json_object_put(o);
    if (!vm_config_to_spec(&cfg, &s, err, sizeof(err)))
        fail_msg("%s", err);
    assert_int_equal(s.firmware_kind, VM_FIRMWARE_NONE);
    assert_true(s.cpu_h); /* "nested": true is --cpu h=on */
    assert_string_equal(s.kernel, "Image");
    assert_null(s.initrd);
    assert_string_equal(s.disks[0].path, "disk.qcow2");
    assert_string_equal(s.disks[0].format, "qcow2");
    assert_int_equal(s.nics[0].user.hostfwd[0].guest_port, 80);
    assert_string_equal(s.nics[1].tap.ifname, "tap3");
    assert_true(s.console.detached);
    assert_string_equal(s.console.serial_socket, VM_SERIAL);
    assert_string_equal(s.control, VM_CONTROL);
    assert_string_equal(s.log, VM_VMMLOG);
    vm_spec_free(&s);
    /* A stored net entry the backend refuses is named at start. */
    snprintf(cfg.nets[0], sizeof(cfg.nets[0]), "user,colour=red");
    assert_false(vm_config_to_spec(&cfg, &s, err, sizeof(err)));
    assert_non_null(strstr(err, "vm.json net[0]: unknown option 'colour'"));
    vm_spec_free(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_full),     cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_bad_fields),     cmocka_unit_test(test_limits),
        cmocka_unit_test(test_flag_text),      cmocka_unit_test(test_file_io),
        cmocka_unit_test(test_from_vm_config),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
