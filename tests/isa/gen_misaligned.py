# SPDX-License-Identifier: MIT
# Generates the MLOAD lines and buffer of misaligned.S.
M=(1<<64)-1
buf=bytes([(0x80+i*0x11)&0xff for i in range(32)])  # distinctive bytes, many with top bit set
def val(off,n,signed):
    v=int.from_bytes(buf[off:off+n],'little')
    if signed and v>>(8*n-1): v-=1<<(8*n)
    return v&M
for ins,n,sg in [('lh',2,1),('lhu',2,0),('lw',4,1),('lwu',4,0),('ld',8,1)]:
    for off in range(1,8):
        if off % n == 0: continue
        print(f"    MLOAD {ins}, {off}, {hex(val(off,n,sg))}")
print("MIS_BUF_BYTES = " + ",".join(hex(b) for b in buf))

# The fast-path sweeps (SWEEP_* in misaligned.S): 32 bytes around a page
# boundary (xbuf + 16 is page-aligned), accesses at offsets 0..23.
def mix(acc, v):
    return (((acc << 7) | (acc >> 57)) & M) ^ v
xbuf = bytearray((0x3c + 37 * i) & 0xff for i in range(32))
def ld(b, off, n, signed=False):
    v = int.from_bytes(b[off:off + n], 'little')
    if signed and v >> (8 * n - 1): v -= 1 << (8 * n)
    return v & M
acc = 0
for off in range(24):
    acc = mix(acc, ld(xbuf, off, 8))
    acc = mix(acc, ld(xbuf, off + 1, 4, True))
    acc = mix(acc, ld(xbuf, off + 2, 2))
print("SWEEP_BYTES = " + ",".join(hex(b) for b in xbuf))
print("SWEEP_LOAD_ACC = " + hex(acc))
acc = 0
for off in range(24):
    v = (off + 1) * 0x0123456789abcdef & M
    xbuf[off:off + 8] = v.to_bytes(8, 'little')
    xbuf[off + 5:off + 7] = ((v >> 8) & 0xffff).to_bytes(2, 'little')
    acc = mix(acc, ld(xbuf, off, 8))
print("SWEEP_STORE_ACC = " + hex(acc))
for q in range(4):
    print("SWEEP_FINAL_%d = %s" % (q, hex(ld(xbuf, 8 * q, 8))))
