# SPDX-License-Identifier: MIT
# Generates the checks of zksed.S from a Python model of sm4ed/sm4ks written
# from the Sail code of the scalar crypto specification (the S-box is the
# specification's table, read from its asciidoc source), and checks the
# model against the SM4 standard's test vector (GB/T 32907 appendix A:
# key and plaintext 0123456789abcdeffedcba9876543210 encrypt to
# 681edf34d206965e86b3e94f536e4246) using only the two instructions (on
# words loaded little-endian, as the Sail code's byte numbering implies).
import re
import sys

M = (1 << 64) - 1


def sx32(x):
    x &= 0xffffffff
    return (x - (1 << 32) if x >> 31 else x) & M


def rol32(x, n):
    x &= 0xffffffff
    return ((x << n) | (x >> (32 - n))) & 0xffffffff if n else x


def load_sbox(path):
    text = open(path).read()
    i = text.index("let sm4_sbox_table")
    vals = [int(v, 16) for v in re.findall(r"0x[0-9A-Fa-f]{2}", text[i:text.index("]", i)])]
    assert len(vals) == 256
    return vals


SBOX = load_sbox(sys.argv[1] if len(sys.argv) > 1 else
                 "/work/shared/specs/riscv-isa/unpriv/zk.adoc")


def sm4ed(rs1, rs2, bs):
    x = SBOX[(rs2 & 0xffffffff) >> (8 * bs) & 0xff]
    y = x ^ (x << 8) ^ (x << 2) ^ (x << 18) ^ ((x & 0x3f) << 26) ^ ((x & 0xc0) << 10)
    return sx32(rol32(y, 8 * bs) ^ rs1)


def sm4ks(rs1, rs2, bs):
    x = SBOX[(rs2 & 0xffffffff) >> (8 * bs) & 0xff]
    y = x ^ ((x & 0x07) << 29) ^ ((x & 0xfe) << 7) ^ ((x & 0x01) << 23) ^ ((x & 0xf8) << 13)
    return sx32(rol32(y, 8 * bs) ^ rs1)


def bswap32(x):
    return int.from_bytes(x.to_bytes(4, "big"), "little")


def words(h):
    # The instructions work on words loaded little-endian from SM4's
    # big-endian byte strings (bs 0 selects the first byte).
    return [bswap32(int(h[i:i + 8], 16)) for i in range(0, 32, 8)]


def encrypt(key, pt):
    fk = [bswap32(w) for w in (0xa3b1bac6, 0x56aa3350, 0x677d9197, 0xb27022dc)]
    ck = [bytes((4 * i + j) * 7 % 256 for j in range(4)) for i in range(32)]
    ck = [int.from_bytes(c, "little") for c in ck]
    k = [a ^ b for a, b in zip(words(key), fk)]
    rk = []
    for i in range(32):
        t = k[i + 1] ^ k[i + 2] ^ k[i + 3] ^ ck[i]
        r = k[i]
        for bs in range(4):
            r = sm4ks(r, t, bs) & 0xffffffff
        k.append(r)
        rk.append(r)
    x = words(pt)
    for i in range(32):
        t = x[i + 1] ^ x[i + 2] ^ x[i + 3] ^ rk[i]
        r = x[i]
        for bs in range(4):
            r = sm4ed(r, t, bs) & 0xffffffff
        x.append(r)
    return "".join("%08x" % bswap32(w) for w in x[35:31:-1])


assert encrypt("0123456789abcdeffedcba9876543210",
               "0123456789abcdeffedcba9876543210") == "681edf34d206965e86b3e94f536e4246"

VALS = [0, 1, 0x80, 0xff, 0x01234567, 0x89abcdef, 0xdeadbeef, 0xffffffff,
        0x7fffffff80000000, 0xffffffff00000001, 0x0123456789abcdef, M]
lines = []
for name, fn, f7 in (("sm4ed", sm4ed, 0x18), ("sm4ks", sm4ks, 0x1a)):
    for bs in range(4):
        for a, b in zip(VALS, VALS[3:] + VALS[:3]):
            lines.append("    TEST_SM4 0x%02x, 0x%016x, 0x%016x, 0x%016x  /* %s bs %d */" %
                         (f7 | bs << 5, fn(a, b, bs), a, b, name, bs))
print("\n".join(lines))
