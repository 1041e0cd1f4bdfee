#!/bin/bash
# SPDX-License-Identifier: MIT
# Damaged or hostile VMDK and VHD files get one clear error line and exit 1:
# never a crash, a hang or a huge allocation (run under a 512 MiB limit).
source "$(dirname "$0")/lib.sh"

qemu-img create -q -f raw src.raw 8M
ok qemu-io -f raw -c 'write -P 0x5a 1M 64k' -c 'write -P 0x11 5M 1M' src.raw
qemu-img convert -O vmdk -o subformat=monolithicSparse src.raw ms.vmdk
qemu-img convert -O vmdk -o subformat=streamOptimized src.raw so.vmdk
qemu-img convert -O vpc -o subformat=dynamic src.raw dyn.vhd
qemu-img convert -O vpc -o subformat=fixed src.raw fix.vhd

# Each case: NAME SOURCE PYTHON-EDIT (edits bytearray b; helpers le/be/put).
python3 - <<'PY'
import struct, zlib
def load(p): return bytearray(open(p, 'rb').read())
def save(p, b): open(p, 'wb').write(b)
def vhd_fix(b, off, n, csum_off):
    blk = b[off:off + n]; blk[csum_off:csum_off + 4] = b'\0\0\0\0'
    s = (~sum(blk)) & 0xffffffff
    b[off + csum_off:off + csum_off + 4] = struct.pack('>I', s)

ms, so, dyn, fix = load('ms.vmdk'), load('so.vmdk'), load('dyn.vhd'), load('fix.vhd')
cases = {}
b = ms[:100]; cases['vmdk-truncated-header'] = b
b = ms[:]; b[12:20] = struct.pack('<Q', 1 << 60); cases['vmdk-huge-capacity'] = b
b = ms[:]; b[20:28] = struct.pack('<Q', 3); cases['vmdk-bad-grain'] = b
b = ms[:]; b[44:48] = struct.pack('<I', 1 << 30); cases['vmdk-huge-gt'] = b
b = ms[:]; b[56:64] = struct.pack('<Q', 1 << 40); cases['vmdk-gd-outside'] = b
b = ms[:]; b[4:8] = struct.pack('<I', 99); cases['vmdk-version'] = b
# Point every grain-table entry far beyond the end of the file.
b = ms[:]; gd = struct.unpack_from('<Q', b, 56)[0] * 512
gt = struct.unpack_from('<I', b, gd)[0] * 512
for i in range(512):
    if struct.unpack_from('<I', b, gt + 4 * i)[0] > 1: struct.pack_into('<I', b, gt + 4 * i, 0x7fffffff)
cases['vmdk-grain-outside'] = b
# streamOptimized: garbage in a compressed grain, a bad size, a missing footer.
b = so[:]
gd = struct.unpack_from('<Q', b, 56)[0] * 512  # qemu keeps the directory up front
gt = struct.unpack_from('<I', b, gd)[0] * 512
g = next(struct.unpack_from('<I', b, gt + 4 * i)[0] for i in range(512) if struct.unpack_from('<I', b, gt + 4 * i)[0] > 1) * 512
c = bytearray(b); c[g + 12:g + 40] = b'\xff' * 28; cases['vmdk-bad-deflate'] = c
c = bytearray(b); struct.pack_into('<I', c, g + 8, 0xfffffff0); cases['vmdk-bad-grain-size'] = c
c = bytearray(b); c[56:64] = b'\xff' * 8; cases['vmdk-no-footer'] = c  # 'directory at end', no footer
cases['vmdk-descriptor'] = bytearray(b'# Disk DescriptorFile\nversion=1\ncreateType="monolithicFlat"\n')
b = ms[:]; d = struct.unpack_from('<Q', b, 28)[0] * 512
b[d:d + 64] = b'parentCID=12345678\ncreateType="monolithicSparse"\n'.ljust(64, b'\n')
cases['vmdk-parent'] = b

# VHD: footer at the end, copy at 0 for dynamic disks; dynamic header at 512.
def dyn_case(edit_footer=None, edit_dyn=None):
    b = dyn[:]
    for off in (0, len(b) - 512):
        if edit_footer: edit_footer(b, off)
        vhd_fix(b, off, 512, 64)
    if edit_dyn: edit_dyn(b); vhd_fix(b, 512, 1024, 36)
    return b
b = dyn[:]; b[-100] ^= 0xff; b[100] ^= 0xff; cases['vhd-bad-checksum'] = b
cases['vhd-differencing'] = dyn_case(lambda b, o: struct.pack_into('>I', b, o + 60, 4))
cases['vhd-type-9'] = dyn_case(lambda b, o: struct.pack_into('>I', b, o + 60, 9))
cases['vhd-huge-size'] = dyn_case(lambda b, o: struct.pack_into('>Q', b, o + 48, 1 << 62))
cases['vhd-block-size'] = dyn_case(edit_dyn=lambda b: struct.pack_into('>I', b, 512 + 32, 3))
cases['vhd-bat-outside'] = dyn_case(edit_dyn=lambda b: struct.pack_into('>Q', b, 512 + 16, 1 << 50))
cases['vhd-short-bat'] = dyn_case(edit_dyn=lambda b: struct.pack_into('>I', b, 512 + 28, 1))
cases['vhd-dynhdr-outside'] = dyn_case(lambda b, o: struct.pack_into('>Q', b, o + 16, 1 << 40))
def bat_out(b):
    bat = struct.unpack_from('>Q', b, 512 + 16)[0]
    for i in range(4):
        if struct.unpack_from('>I', b, bat + 4 * i)[0] != 0xffffffff: struct.pack_into('>I', b, bat + 4 * i, 0x7ffffff0)
cases['vhd-block-outside'] = dyn_case(edit_dyn=bat_out)
b = fix[:]; o = len(b) - 512; struct.pack_into('>Q', b, o + 48, 1 << 40); vhd_fix(b, o, 512, 64)
cases['vhd-fixed-too-short'] = b
cases['vhd-tiny'] = bytearray(b'conectix')
for name, data in cases.items(): save(name, data)
open('cases', 'w').write('\n'.join(cases) + '\n')
PY

# (Sanitizer builds reserve terabytes of address space: they set IMG_TEST_NO_ULIMIT.)
[ -n "${IMG_TEST_NO_ULIMIT:-}" ] || ulimit -v 524288
while read -r name; do
    fmt=vmdk
    case $name in vhd-*) fmt=vpc ;; esac
    rc=0
    timeout 20 "$WIRT" img convert -f $fmt -O raw "$name" out.raw >out.txt 2>err.txt || rc=$?
    [ "$rc" = 1 ] || { cat err.txt >&2; fail "$name: exit $rc, want 1"; }
    [ "$(wc -l <err.txt)" = 1 ] || { cat err.txt >&2; fail "$name: want exactly one error line"; }
    grep -q "^wirt img: .*$name" err.txt || { cat err.txt >&2; fail "$name: error does not name the file"; }
    # info must fail the same way or succeed (errors in data are found only by reading).
    rc=0
    timeout 20 "$WIRT" img info -f $fmt "$name" >/dev/null 2>err.txt || rc=$?
    [ "$rc" = 0 ] || [ "$rc" = 1 ] || fail "$name: info exited $rc"
done <cases
echo PASS
