# SPDX-License-Identifier: MIT
# Generates the checks of rv64b.S from a Python model of the Zba, Zbb, Zbc,
# Zbs, Zbkb, Zbkc, Zbkx and Zicond specifications (straight from the
# instruction descriptions, not from wirt's C).
M = (1 << 64) - 1
def s64(x): x &= M; return x - (1 << 64) if x >> 63 else x
def sx32(x): x &= 0xffffffff; return (x - (1 << 32) if x >> 31 else x) & M
def sx(x, bits): x &= (1 << bits) - 1; return (x - (1 << bits) if x >> (bits - 1) else x) & M
def rol(x, n, w): n %= w; m = (1 << w) - 1; x &= m; return ((x << n) | (x >> (w - n))) & m
def ror(x, n, w): return rol(x, (w - n % w) % w, w)
def clz(x, w):
    x &= (1 << w) - 1
    return w - x.bit_length()
def ctz(x, w):
    x &= (1 << w) - 1
    if x == 0: return w
    return (x & -x).bit_length() - 1
def clmul_full(a, b):
    r = 0
    for i in range(64):
        if b >> i & 1: r ^= a << i
    return r
def byte(x, i): return x >> (8 * i) & 0xff
def brev8(x):
    r = 0
    for i in range(8):
        b = byte(x, i); rb = int(f"{b:08b}"[::-1], 2); r |= rb << (8 * i)
    return r
def orcb(x): return sum((0xff << (8 * i)) if byte(x, i) else 0 for i in range(8))
def rev8(x): return int.from_bytes(x.to_bytes(8, 'little'), 'big')
def xperm(a, b, sz):
    r = 0; n = 64 // sz; m = (1 << sz) - 1
    for i in range(n):
        idx = b >> (i * sz) & m
        if idx < n: r |= (a >> (idx * sz) & m) << (i * sz)
    return r
rr = {
 'sh1add': lambda a, b: ((a << 1) + b) & M, 'sh2add': lambda a, b: ((a << 2) + b) & M,
 'sh3add': lambda a, b: ((a << 3) + b) & M, 'add.uw': lambda a, b: ((a & 0xffffffff) + b) & M,
 'sh1add.uw': lambda a, b: (((a & 0xffffffff) << 1) + b) & M,
 'sh2add.uw': lambda a, b: (((a & 0xffffffff) << 2) + b) & M,
 'sh3add.uw': lambda a, b: (((a & 0xffffffff) << 3) + b) & M,
 'andn': lambda a, b: a & ~b & M, 'orn': lambda a, b: (a | ~b) & M, 'xnor': lambda a, b: ~(a ^ b) & M,
 'max': lambda a, b: a if s64(a) >= s64(b) else b, 'maxu': lambda a, b: max(a, b),
 'min': lambda a, b: a if s64(a) <= s64(b) else b, 'minu': lambda a, b: min(a, b),
 'rol': lambda a, b: rol(a, b & 63, 64), 'ror': lambda a, b: ror(a, b & 63, 64),
 'rolw': lambda a, b: sx32(rol(a, b & 31, 32)), 'rorw': lambda a, b: sx32(ror(a, b & 31, 32)),
 'clmul': lambda a, b: clmul_full(a, b) & M, 'clmulh': lambda a, b: clmul_full(a, b) >> 64,
 'clmulr': lambda a, b: (clmul_full(a, b) >> 63) & M,
 'bclr': lambda a, b: a & ~(1 << (b & 63)) & M, 'bext': lambda a, b: a >> (b & 63) & 1,
 'binv': lambda a, b: a ^ (1 << (b & 63)), 'bset': lambda a, b: a | (1 << (b & 63)),
 'pack': lambda a, b: (a & 0xffffffff) | (b << 32) & M, 'packh': lambda a, b: (a & 0xff) | (b & 0xff) << 8,
 'packw': lambda a, b: sx32((a & 0xffff) | (b & 0xffff) << 16),
 'xperm4': lambda a, b: xperm(a, b, 4), 'xperm8': lambda a, b: xperm(a, b, 8),
 'czero_eqz': lambda a, b: 0 if b == 0 else a, 'czero_nez': lambda a, b: 0 if b != 0 else a,
}
unary = {
 'clz': lambda a: clz(a, 64), 'clzw': lambda a: clz(a, 32), 'ctz': lambda a: ctz(a, 64),
 'ctzw': lambda a: ctz(a, 32), 'cpop': lambda a: bin(a).count('1'),
 'cpopw': lambda a: bin(a & 0xffffffff).count('1'), 'sext.b': lambda a: sx(a, 8),
 'sext.h': lambda a: sx(a, 16), 'zext.h': lambda a: a & 0xffff, 'zext.w': lambda a: a & 0xffffffff,
 'orc.b': orcb, 'rev8': rev8, 'brev8': brev8,
}
ri = {
 'slli.uw': (lambda a, i: ((a & 0xffffffff) << i) & M, 64), 'rori': (lambda a, i: ror(a, i, 64), 64),
 'roriw': (lambda a, i: sx32(ror(a, i, 32)), 32), 'bclri': (lambda a, i: a & ~(1 << i) & M, 64),
 'bexti': (lambda a, i: a >> i & 1, 64), 'binvi': (lambda a, i: a ^ (1 << i), 64),
 'bseti': (lambda a, i: a | (1 << i), 64),
}
vals = [0, 1, M, 0x8000000000000000, 0x7fffffffffffffff, 0x80000000, 0xffffffff80000000,
        0x123456789abcdef0, 0xfedcba9876543210, 0x0000ff00000000ff, 0x8040201008040201, 0x7f]
pairs = [(0, 0), (1, 0), (0, 1), (M, 1), (1, M), (0x8000000000000000, 0x7fffffffffffffff),
         (0x7fffffffffffffff, 0x8000000000000000), (0x123456789abcdef0, 0xfedcba9876543210),
         (0xfedcba9876543210, 0x24), (0x80000001, 0x3f), (0xffffffff80000000, 0x21),
         (0x0706050403020100, 0x0001020304050607), (0xdeadbeefcafebabe, 0x10fedcba98765432)]
for op, f in rr.items():
    for a, b in pairs:
        print(f"    TEST_RR {op}, {hex(f(a, b))}, {hex(a)}, {hex(b)}")
for op, f in unary.items():
    for a in vals:
        # QEMU 7.2 gives 63 for ctzw of a value whose low half is zero but
        # upper half is not (the spec: 32).
        quirk = op == 'ctzw' and a & 0xffffffff == 0 and a
        if quirk: print("#ifndef QEMU_QUIRKS")
        print(f"    TEST_R {op}, {hex(f(a))}, {hex(a)}")
        if quirk: print("#endif")
for op, (f, w) in ri.items():
    for a in vals[:9]:
        for i in (0, 1, w // 2 - 1, w // 2, w - 1):
            print(f"    TEST_RI {op}, {hex(f(a, i))}, {hex(a)}, {i}")
