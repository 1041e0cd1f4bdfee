#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Writes the seed corpora of the fuzz targets: fuzz/corpus-vmdk,
corpus-vhd (small valid images, built here from the format specs so they
stay a few KiB; qemu-img reads every one of them), corpus-virtio (valid
virtio-blk and virtio-net request programs, see fuzz/fuzz_virtio.c) and
corpus-control (valid control-protocol sessions) and corpus-serve (HTTP
requests to wirt serve, see fuzz/fuzz_serve.c).

Usage: fuzz/gen_corpus.py [OUTDIR]   (default: fuzz/)
Files are rewritten only when their content changes; crash reproducers
kept beside them (crash-*) are left alone.
"""
import os
import struct
import sys
import zlib

SECTOR = 512


def write(path, data):
    if os.path.exists(path):
        with open(path, "rb") as f:
            if f.read() == data:
                return
    with open(path, "wb") as f:
        f.write(data)


# -- VHD ("Virtual Hard Disk Image Format Specification", big-endian) -------

def vhd_checksum(b):
    return (~sum(b)) & 0xFFFFFFFF


def vhd_footer(size, disk_type, data_offset):
    # CHS geometry that covers the size exactly (qemu takes the size from
    # it for most creators); the sizes used here are multiples of 8 KiB.
    sectors = size // SECTOR
    spt, heads = 16, 4 if sectors % 64 == 0 else 1
    cyl = sectors // (spt * heads)
    f = bytearray(SECTOR)
    struct.pack_into(">8sIIQI4sI4sQQHBBI", f, 0, b"conectix", 2, 0x00010000, data_offset, 0,
                     b"wirt", 0x00010000, b"Wi2k", size, size, cyl, heads, spt, disk_type)
    f[68:84] = bytes(range(16))
    struct.pack_into(">I", f, 64, vhd_checksum(f))
    return bytes(f)


def vhd_fixed(size, fill):
    return bytes(fill(i) for i in range(size)) + vhd_footer(size, 2, 0xFFFFFFFFFFFFFFFF)


def vhd_dynamic(size, block, blocks):
    """blocks: {block number: data}; each stored block gets a full bitmap."""
    entries = (size + block - 1) // block
    bat_off = 3 * SECTOR
    bat_bytes = (entries * 4 + SECTOR - 1) // SECTOR * SECTOR
    bitmap = ((block // SECTOR // 8) + SECTOR - 1) // SECTOR * SECTOR
    foot = vhd_footer(size, 3, SECTOR)
    dyn = bytearray(1024)
    struct.pack_into(">8sQQIII", dyn, 0, b"cxsparse", 0xFFFFFFFFFFFFFFFF, bat_off, 0x00010000,
                     entries, block)
    struct.pack_into(">I", dyn, 36, vhd_checksum(dyn))
    bat = [0xFFFFFFFF] * entries
    body = bytearray()
    pos = bat_off + bat_bytes
    for n in sorted(blocks):
        bat[n] = pos // SECTOR
        body += b"\xff" * bitmap + blocks[n].ljust(block, b"\0")
        pos += bitmap + block
    batb = b"".join(struct.pack(">I", e) for e in bat).ljust(bat_bytes, b"\xff")
    return foot + bytes(dyn) + batb + bytes(body) + foot


# -- VMDK (VMware "Virtual Disk Format 1.1", little-endian) ------------------

def vmdk_header(capacity, grain, desc_off, desc_size, gtes, rgd, gd, overhead, flags,
                compress=0):
    h = bytearray(SECTOR)
    struct.pack_into("<4sIIQQQQIQQQB4sH", h, 0, b"KDMV", 3 if compress else 1, flags, capacity,
                     grain, desc_off, desc_size, gtes, rgd, gd, overhead, 0,
                     b"\n \r\n", compress)
    return h


def vmdk_descriptor(create_type, capacity, extent):
    text = ("# Disk DescriptorFile\nversion=1\nCID=12345678\nparentCID=ffffffff\n"
            'createType="%s"\n\n# Extent description\nRW %d SPARSE "%s"\n\n'
            '# The Disk Data Base\n#DDB\n\nddb.virtualHWVersion = "4"\n'
            'ddb.adapterType = "ide"\n') % (create_type, capacity, extent)
    return text.encode().ljust(SECTOR, b"\0")


def vmdk_sparse(capacity, grain, grains):
    """monolithicSparse: header, descriptor, GD, GT, grains.  grains:
    {grain number: data}."""
    gtes = 512
    ngt = (capacity + gtes * grain - 1) // (gtes * grain)
    gt_sectors = (gtes * 4 + SECTOR - 1) // SECTOR
    desc_off, gd_off = 1, 2
    gd_sectors = (ngt * 4 + SECTOR - 1) // SECTOR
    gt_off = gd_off + gd_sectors
    overhead = gt_off + ngt * gt_sectors
    gt = [0] * (ngt * gtes)
    data = bytearray()
    pos = overhead
    for g in sorted(grains):
        gt[g] = pos
        data += grains[g].ljust(grain * SECTOR, b"\0")
        pos += grain
    gd = b"".join(struct.pack("<I", gt_off + i * gt_sectors) for i in range(ngt))
    out = bytearray(vmdk_header(capacity, grain, desc_off, 1, gtes, 0, gd_off, overhead, 1))
    out += vmdk_descriptor("monolithicSparse", capacity, "sparse.vmdk")
    out += gd.ljust(gd_sectors * SECTOR, b"\0")
    out += b"".join(struct.pack("<I", e) for e in gt).ljust(ngt * gt_sectors * SECTOR, b"\0")
    return bytes(out + data)


def vmdk_marker(value, size, mtype=None):
    m = bytearray(SECTOR)
    struct.pack_into("<QI", m, 0, value, size)
    if mtype is not None:
        struct.pack_into("<I", m, 12, mtype)
    return m


def vmdk_stream(capacity, grain, grains):
    """streamOptimized: compressed grains with markers, GT, GD and the
    footer at the end."""
    gtes = 512
    ngt = (capacity + gtes * grain - 1) // (gtes * grain)
    flags = 1 | (1 << 16) | (1 << 17)
    out = bytearray(vmdk_header(capacity, grain, 1, 1, gtes, 0, 0xFFFFFFFFFFFFFFFF, 2, flags, 1))
    out += vmdk_descriptor("streamOptimized", capacity, "stream.vmdk")
    gt = [0] * (ngt * gtes)
    for g in sorted(grains):
        z = zlib.compress(grains[g].ljust(grain * SECTOR, b"\0"))
        gt[g] = len(out) // SECTOR
        rec = struct.pack("<QI", g * grain, len(z)) + z
        out += rec.ljust((len(rec) + SECTOR - 1) // SECTOR * SECTOR, b"\0")
    gt_sectors = (gtes * 4 + SECTOR - 1) // SECTOR
    gt_pos = []
    for i in range(ngt):
        out += vmdk_marker(gt_sectors, 0, 1)
        gt_pos.append(len(out) // SECTOR)
        out += b"".join(struct.pack("<I", e) for e in gt[i * gtes:(i + 1) * gtes])
    gd_sectors = (ngt * 4 + SECTOR - 1) // SECTOR
    out += vmdk_marker(gd_sectors, 0, 2)
    gd_off = len(out) // SECTOR
    out += b"".join(struct.pack("<I", p) for p in gt_pos).ljust(gd_sectors * SECTOR, b"\0")
    out += vmdk_marker(1, 0, 3)
    out += vmdk_header(capacity, grain, 1, 1, gtes, 0, gd_off, 2, flags, 1)
    out += vmdk_marker(0, 0, 0)
    return bytes(out)


# -- virtio request programs (fuzz/fuzz_virtio.c) ----------------------------

RAM = 0x80000000
DATA = RAM + 0x100000
OP_DESC, OP_PUBLISH, OP_AVAIL_IDX, OP_DATA, OP_NOTIFY, OP_WAIT, OP_RESET = range(7)
OP_MMIO_WRITE, OP_MMIO_READ, OP_RX, OP_EVENT = range(7, 11)
F_WRITE, F_NEXT, F_INDIRECT = 2, 1, 4



def header(net=False, ro=False, discard=True, mask=0xFFFFFFFFFFFFFFFF, qsize=16):
    return struct.pack("<BQHB", (1 if net else 0) | (2 if ro else 0) | (4 if discard else 0),
                       mask, qsize, 0)


def desc(q, idx, data_off, length, flags, nxt, table_in_data=False):
    """A descriptor whose buffer is in the data area (address mode 0)."""
    return struct.pack("<BBBHBIIHH", OP_DESC, q, 1 if table_in_data else 0, idx, 0, data_off,
                       length, flags, nxt)


def data(off, payload):
    out = b""
    while payload:
        chunk, payload = payload[:255], payload[255:]
        out += struct.pack("<BHB", OP_DATA, off, len(chunk)) + chunk
        off += len(chunk)
    return out


def publish(q, head):
    return struct.pack("<BBH", OP_PUBLISH, q, head)


def notify(q):
    return struct.pack("<BB", OP_NOTIFY, q)


WAIT = bytes([OP_WAIT])


def blk_request(first_desc, rtype, sector, buf_len, buf_write, hdr_off=0, buf_off=0x1000,
                status_off=0x800, payload=b""):
    """hdr + (optional) buffer + status as a chain starting at first_desc."""
    p = data(hdr_off, struct.pack("<IIQ", rtype, 0, sector))
    if payload:
        p += data(buf_off, payload)
    d = first_desc
    if buf_len:
        p += desc(0, d, hdr_off, 16, F_NEXT, d + 1)
        p += desc(0, d + 1, buf_off, buf_len, F_NEXT | (F_WRITE if buf_write else 0), d + 2)
        p += desc(0, d + 2, status_off, 1, F_WRITE, 0)
    else:
        p += desc(0, d, hdr_off, 16, F_NEXT, d + 1)
        p += desc(0, d + 1, status_off, 1, F_WRITE, 0)
    return p + publish(0, first_desc)


def virtio_seeds():
    s = {}
    s["blk-read"] = header() + blk_request(0, 0, 1, 1024, True) + notify(0) + WAIT
    s["blk-write-read"] = (header() + blk_request(0, 1, 2, 512, False, payload=b"wirt" * 128) +
                           notify(0) + WAIT + blk_request(3, 0, 2, 512, True, hdr_off=0x40,
                                                          buf_off=0x2000, status_off=0x810) +
                           notify(0) + WAIT)
    s["blk-flush-getid"] = (header() + blk_request(0, 4, 0, 0, False) +
                            blk_request(2, 8, 0, 20, True, hdr_off=0x40, buf_off=0x3000,
                                        status_off=0x820) + notify(0) + WAIT)
    rng = struct.pack("<QII", 8, 16, 0)
    s["blk-discard-zeroes"] = (header() +
                               blk_request(0, 11, 0, 16, False, payload=rng) +
                               blk_request(3, 13, 0, 16, False, hdr_off=0x40, buf_off=0x1100,
                                           status_off=0x830,
                                           payload=struct.pack("<QII", 0, 8, 1)) +
                               notify(0) + WAIT)
    s["blk-readonly-write"] = (header(ro=True) + blk_request(0, 1, 0, 512, False) + notify(0) +
                               WAIT)
    # Indirect: ring descriptor 0 points at a 3-entry table at the start of the data area.
    ind = (data(0x8000, struct.pack("<IIQ", 0, 0, 0)) +
           desc(0, 0, 0x8000, 16, F_NEXT, 1, True) +
           desc(0, 1, 0x9000, 4096, F_NEXT | F_WRITE, 2, True) +
           desc(0, 2, 0x8800, 1, F_WRITE, 0, True) +
           desc(0, 0, 0, 48, F_INDIRECT, 0))
    s["blk-indirect"] = header() + ind + publish(0, 0) + notify(0) + WAIT
    s["blk-event-idx-batch"] = (header(qsize=8) + b"".join(
        blk_request(3 * i, 0, i, 512, True, hdr_off=0x40 * i, buf_off=0x1000 + 0x200 * i,
                    status_off=0x800 + i) for i in range(2)) +
        struct.pack("<BBHH", OP_EVENT, 0, 1, 0) + notify(0) + WAIT +
        struct.pack("<B", OP_RESET) + blk_request(0, 0, 7, 512, True) + notify(0) + WAIT)
    # A driver that keeps moving avail->idx on without waiting for the used
    # ring (issue 9 #1): a queue of four entries, four 512 KiB reads (one
    # chain, published four times), then the index four further, again and
    # again.
    flood = header(qsize=4) + blk_request(0, 0, 0, 512 << 10, True, buf_off=0x10000)
    flood += publish(0, 0) + publish(0, 0) + publish(0, 0) + notify(0)
    for i in range(8):
        flood += struct.pack("<BBH", OP_AVAIL_IDX, 0, 8 + 4 * i) + notify(0)
    s["blk-inflight-flood"] = flood + WAIT
    # virtio-net: TX on queue 1 (12-byte header + frame), RX buffers on queue 0.
    frame = bytes.fromhex("ffffffffffff525400123456 0806".replace(" ", "")) + bytes(46)
    tx = (data(0, bytes(12) + frame) + struct.pack("<BBBHBIIHH", OP_DESC, 1, 0, 0, 0, 0,
                                                   12 + len(frame), 0, 0) +
          publish(1, 0) + notify(1))
    s["net-tx"] = header(net=True) + tx
    rx = (desc(0, 0, 0x4000, 1526, F_WRITE, 0) + publish(0, 0) + notify(0) +
          struct.pack("<BH", OP_RX, len(frame)) + frame)
    s["net-rx"] = header(net=True) + rx
    # A TSO frame: IPv4 + TCP with gso_size 100 (needs HOST_TSO4).
    ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + 20 + 300, 1, 0, 64, 6, 0, bytes([10, 0, 2, 15]),
                     bytes([10, 0, 2, 2]))
    tcp = struct.pack(">HHIIBBHHH", 1234, 80, 1, 0, 0x50, 0x18, 65535, 0, 0)
    eth = bytes.fromhex("525400123502525400123456") + b"\x08\x00"
    tso = struct.pack("<BBHHHHH", 1, 1, 54, 100, 34, 16, 0) + eth + ip + tcp + bytes(300)
    s["net-tso"] = (header(net=True) + data(0, tso) +
                    struct.pack("<BBBHBIIHH", OP_DESC, 1, 0, 0, 0, 0, len(tso), 0, 0) +
                    publish(1, 0) + notify(1))
    return s


# -- control protocol sessions (fuzz/fuzz_control.c) -------------------------

def control_seeds():
    return {
        "status": b'{"execute":"query-status","id":1}\n',
        "commands": b'{"execute":"query-commands"}\n{"execute":"query-status","id":"a"}\n',
        "pause-resume": b'{"execute":"pause"}\n{"execute":"query-status"}\n'
                        b'{"execute":"resume","id":[1,2]}\n',
        "powerdown": b'{"execute":"powerdown","arguments":{}}\n{"execute":"reset"}\n',
        "quit": b'\n  \r\n{"execute":"quit","id":7}\n',
        "errors": b'{"execute":1}\n[1,2]\n{"execute":"nope"}\n{"execute":"pause",'
                  b'"arguments":[]}\n{"a":\n',
    }


# -- wirt serve (fuzz/fuzz_serve.c): one connection's bytes ------------------

SERVE_TOKEN = "0123456789abcdef" * 4  # the token of fuzz_serve.c


def http(method, path, body=None, headers=()):
    lines = ["%s %s HTTP/1.1" % (method, path), "Host: 127.0.0.1:8080",
             "Authorization: Bearer " + SERVE_TOKEN]
    lines += list(headers)
    data = b""
    if body is not None:
        data = body.encode() if isinstance(body, str) else body
        lines += ["Content-Type: application/json", "Content-Length: %d" % len(data)]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + data


def serve_seeds():
    ws = ("Upgrade: websocket", "Connection: Upgrade",
          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version: 13")
    cookie = ("Cookie: wirt_token=" + SERVE_TOKEN, "Origin: http://127.0.0.1:8080",
              "X-Wirt-Request: 1")
    return {
        "list": http("GET", "/api/v1/vms"),
        "create": http("POST", "/api/v1/vms",
                       '{"name":"a","from":"debian","memory":"512M","cpus":2,"disk-size":1048576}'),
        "info": http("GET", "/api/v1/vms/a"),
        "delete": http("DELETE", "/api/v1/vms/a"),
        "set": http("PATCH", "/api/v1/vms/a", '{"memory":"1G","cpus":2,"restart":"on-crash"}'),
        "start": http("POST", "/api/v1/vms/a/start"),
        "stop": http("POST", "/api/v1/vms/a/stop", '{"force":true,"timeout":5}'),
        "restart": http("POST", "/api/v1/vms/a/restart", "{}"),
        "clone": http("POST", "/api/v1/vms/a/clone", '{"name":"b","linked":true}'),
        "template": http("POST", "/api/v1/vms/a/template"),
        "log": http("GET", "/api/v1/vms/a/log"),
        "snapshots": http("GET", "/api/v1/vms/a/snapshots"),
        "snapshot-create": http("POST", "/api/v1/vms/a/snapshots", '{"name":"s1"}'),
        "snapshot-revert": http("POST", "/api/v1/vms/a/snapshots/s1"),
        "snapshot-delete": http("DELETE", "/api/v1/vms/a/snapshots/s%2F..%2Fx"),
        "events": http("GET", "/api/v1/events?since=3"),
        "events-ws": http("GET", "/api/v1/events", None, ws + ("Origin: http://127.0.0.1:8080",)),
        "console-ws": http("GET", "/api/v1/vms/a/console", None, ws),
        "metrics": http("GET", "/api/v1/metrics"),
        "ui": http("GET", "/") + http("HEAD", "/ui/app.js"),
        "ui-trick": http("GET", "/ui/../../etc/passwd"),
        "login": http("POST", "/login", '{"token":"%s"}' % SERVE_TOKEN,
                      ("Origin: http://127.0.0.1:8080",)),
        "logout": http("GET", "/logout"),
        "cookie": http("POST", "/api/v1/vms/a/start", "{}", cookie),
        "no-token": b"GET /api/v1/vms HTTP/1.1\r\nHost: x\r\n\r\n",
        "chunked": (b"POST /api/v1/vms HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                    SERVE_TOKEN.encode() + b"\r\nTransfer-Encoding: chunked\r\n\r\n"
                    b"5\r\n{\"nam\r\n9\r\ne\":\"x/..\"}\r\n0\r\n\r\n"),
        "bad-json": http("POST", "/api/v1/vms", '{"name": [1, {"a": null}], "cpus": 1e99'),
        "pipelined": http("GET", "/api/v1/vms/x") + http("PUT", "/api/v1/vms/%2e%2e") +
        http("GET", "/api/v1/vms/" + "n" * 70 + "/log"),
    }


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    dirs = {n: os.path.join(out, "corpus-" + n) for n in ("vmdk", "vhd", "virtio", "control", "serve")}
    for d in dirs.values():
        os.makedirs(d, exist_ok=True)
    pattern = lambda i: (i // 512 * 7 + i) & 0xFF
    write(os.path.join(dirs["vhd"], "fixed.vhd"), vhd_fixed(8192, pattern))
    write(os.path.join(dirs["vhd"], "dynamic.vhd"),
          vhd_dynamic(64 * 1024, 4096, {0: b"A" * 4096, 5: b"wirt" * 100}))
    write(os.path.join(dirs["vhd"], "dynamic-empty.vhd"), vhd_dynamic(1 << 20, 1 << 16, {}))
    write(os.path.join(dirs["vmdk"], "sparse.vmdk"),
          vmdk_sparse(256, 8, {0: b"B" * 4096, 3: b"wirt" * 50}))
    write(os.path.join(dirs["vmdk"], "sparse-2gt.vmdk"), vmdk_sparse(8192 + 64, 8, {513: b"C"}))
    write(os.path.join(dirs["vmdk"], "stream.vmdk"),
          vmdk_stream(256, 8, {0: b"D" * 4096, 2: bytes(range(256)) * 4}))
    for name, blob in virtio_seeds().items():
        write(os.path.join(dirs["virtio"], name), blob)
    for name, blob in control_seeds().items():
        write(os.path.join(dirs["control"], name), blob)
    for name, blob in serve_seeds().items():
        write(os.path.join(dirs["serve"], name), blob)


if __name__ == "__main__":
    main()
