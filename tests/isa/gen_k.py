# SPDX-License-Identifier: MIT
# Generates the checks of crypto.S from a Python model of the scalar
# cryptography instructions (Zkne, Zknd, Zknh, Zksh), written from the
# specification: AES from FIPS-197's definitions (S-box from the GF(2^8)
# inverse and affine map, MixColumns as a polynomial product), RV64
# ShiftRows halves from the Sail functions.
M = (1 << 64) - 1
def sx32(x): x &= 0xffffffff; return (x - (1 << 32) if x >> 31 else x) & M
def ror(x, n, w): m = (1 << w) - 1; x &= m; return ((x >> n) | (x << (w - n))) & m
def rol(x, n, w): return ror(x, (w - n) % w, w)
def gmul(a, b):
    r = 0
    for _ in range(8):
        if b & 1: r ^= a
        a = (a << 1) ^ (0x11b if a & 0x80 else 0)
        b >>= 1
    return r & 0xff
INV = [0] + [next(y for y in range(1, 256) if gmul(x, y) == 1) for x in range(1, 256)]
SBOX = [(b ^ rol(b, 1, 8) ^ rol(b, 2, 8) ^ rol(b, 3, 8) ^ rol(b, 4, 8) ^ 0x63) for b in INV]
ISBOX = [SBOX.index(i) for i in range(256)]
def byte(x, i): return x >> (8 * i) & 0xff
def bytes_to(bs): return sum(b << (8 * i) for i, b in enumerate(bs))
# result bytes 7..0 from (register, byte) as in the Sail shiftrows functions
SR_FWD = [(1, 3), (2, 6), (2, 1), (1, 4), (2, 7), (2, 2), (1, 5), (1, 0)]
SR_INV = [(2, 3), (2, 6), (1, 1), (1, 4), (1, 7), (2, 2), (2, 5), (1, 0)]
def shiftrows(a, b, tab): return bytes_to([byte(a if r == 1 else b, i) for r, i in tab][::-1])
def sub(x, box): return bytes_to([box[byte(x, i)] for i in range(8)])
def mixcol(w, m):
    s = [byte(w, i) for i in range(4)]
    return bytes_to([gmul(s[0], m[(0 - i) % 4]) ^ gmul(s[1], m[(1 - i) % 4]) ^
                     gmul(s[2], m[(2 - i) % 4]) ^ gmul(s[3], m[(3 - i) % 4]) for i in range(4)])
def mix64(x, m): return mixcol(x >> 32, m) << 32 | mixcol(x & 0xffffffff, m)
FWD, INVM = [2, 3, 1, 1], [14, 11, 13, 9]
RCON = [1, 2, 4, 8, 0x10, 0x20, 0x40, 0x80, 0x1b, 0x36]
def ks1i(a, r):
    t = a >> 32
    if r != 10: t = ror(t, 8, 32)
    s = bytes_to([SBOX[byte(t, i)] for i in range(4)])
    if r < 10: s ^= RCON[r]
    return s << 32 | s
def ks2(a, b):
    w0 = (a >> 32) ^ (b & 0xffffffff)
    w1 = w0 ^ (b >> 32)
    return w1 << 32 | w0
rr = {
    'aes64es': lambda a, b: sub(shiftrows(a, b, SR_FWD), SBOX),
    'aes64esm': lambda a, b: mix64(sub(shiftrows(a, b, SR_FWD), SBOX), FWD),
    'aes64ds': lambda a, b: sub(shiftrows(a, b, SR_INV), ISBOX),
    'aes64dsm': lambda a, b: mix64(sub(shiftrows(a, b, SR_INV), ISBOX), INVM),
    'aes64ks2': ks2,
}
un = {
    'sha256sig0': lambda x: sx32(ror(x, 7, 32) ^ ror(x, 18, 32) ^ ((x & 0xffffffff) >> 3)),
    'sha256sig1': lambda x: sx32(ror(x, 17, 32) ^ ror(x, 19, 32) ^ ((x & 0xffffffff) >> 10)),
    'sha256sum0': lambda x: sx32(ror(x, 2, 32) ^ ror(x, 13, 32) ^ ror(x, 22, 32)),
    'sha256sum1': lambda x: sx32(ror(x, 6, 32) ^ ror(x, 11, 32) ^ ror(x, 25, 32)),
    'sha512sig0': lambda x: ror(x, 1, 64) ^ ror(x, 8, 64) ^ (x >> 7),
    'sha512sig1': lambda x: ror(x, 19, 64) ^ ror(x, 61, 64) ^ (x >> 6),
    'sha512sum0': lambda x: ror(x, 28, 64) ^ ror(x, 34, 64) ^ ror(x, 39, 64),
    'sha512sum1': lambda x: ror(x, 14, 64) ^ ror(x, 18, 64) ^ ror(x, 41, 64),
    'sm3p0': lambda x: sx32(x ^ rol(x, 9, 32) ^ rol(x, 17, 32)),
    'sm3p1': lambda x: sx32(x ^ rol(x, 15, 32) ^ rol(x, 23, 32)),
    'aes64im': lambda x: mix64(x, INVM),
}
vals = [0, 1, M, 0x8000000000000000, 0x80000000, 0x123456789abcdef0, 0xfedcba9876543210,
        0x0706050403020100, 0x00112233445566ff, 0xdeadbeefcafebabe]
pairs = [(0, 0), (M, 0), (0, M), (0x0706050403020100, 0x0f0e0d0c0b0a0908),
         (0x123456789abcdef0, 0xfedcba9876543210), (0xdeadbeefcafebabe, 0x0123456789abcdef)]
for op, f in rr.items():
    for a, b in pairs:
        print(f"    TEST_RR {op}, {hex(f(a, b))}, {hex(a)}, {hex(b)}")
for op, f in un.items():
    for a in vals:
        print(f"    TEST_R {op}, {hex(f(a))}, {hex(a)}")
for a in vals[:6]:
    for r in (0, 1, 7, 8, 9, 10):
        print(f"    TEST_RI aes64ks1i, {hex(ks1i(a, r))}, {hex(a)}, {r}")
