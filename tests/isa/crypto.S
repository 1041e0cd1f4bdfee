/* SPDX-License-Identifier: MIT */
/* Scalar cryptography: Zkne/Zknd (aes64es/esm/ds/dsm/ks1i/ks2/im), Zknh
 * (sha256/sha512 sig/sum), Zksh (sm3p0/p1) on edge values and byte
 * patterns, every aes64ks1i round number including 10; expected values
 * from a Python model of the specification (gen_k.py).  aes64ks1i with a
 * round number above 10 is reserved. */
#define TEST_NAME "crypto"
#include "isa.h"
.option arch, +zkne, +zknd, +zknh, +zksh
TEST_MAIN
    TEST_RR aes64es, 0x6363636363636363, 0x0, 0x0
    TEST_RR aes64es, 0x1663631663631616, 0xffffffffffffffff, 0x0
    TEST_RR aes64es, 0x6316166316166363, 0x0, 0xffffffffffffffff
    TEST_RR aes64es, 0x7bab01f276676b63, 0x706050403020100, 0xf0e0d0c0b0a0908
    TEST_RR aes64es, 0xb88623bcbb20b18c, 0x123456789abcdef0, 0xfedcba9876543210
    TEST_RR aes64es, 0x7426bddf7c62aeae, 0xdeadbeefcafebabe, 0x123456789abcdef
    TEST_RR aes64esm, 0x6363636363636363, 0x0, 0x0
    TEST_RR aes64esm, 0x168963fc8963fc16, 0xffffffffffffffff, 0x0
    TEST_RR aes64esm, 0x63fc1689fc168963, 0x0, 0xffffffffffffffff
    TEST_RR aes64esm, 0x51336d2c455c6a6a, 0x706050403020100, 0xf0e0d0c0b0a0908
    TEST_RR aes64esm, 0x115bd33873ab2e50, 0x123456789abcdef0, 0xfedcba9876543210
    TEST_RR aes64esm, 0x9b2a02bdd4033b0, 0xdeadbeefcafebabe, 0x123456789abcdef
    TEST_RR aes64ds, 0x5252525252525252, 0x0, 0x0
    TEST_RR aes64ds, 0x52527d7d7d52527d, 0xffffffffffffffff, 0x0
    TEST_RR aes64ds, 0x7d7d5252527d7d52, 0x0, 0xffffffffffffffff
    TEST_RR aes64ds, 0x9ed7093038a3f352, 0x706050403020100, 0xf0e0d0c0b0a0908
    TEST_RR aes64ds, 0xf939cc139fdc017, 0x123456789abcdef0, 0xfedcba9876543210
    TEST_RR aes64ds, 0xf232c0619c0e685a, 0xdeadbeefcafebabe, 0x123456789abcdef
    TEST_RR aes64dsm, 0x5252525252525252, 0x0, 0x0
    TEST_RR aes64dsm, 0xb0ee9fc1c1b0ee9f, 0xffffffffffffffff, 0x0
    TEST_RR aes64dsm, 0x9fc1b0eeee9fc1b0, 0x0, 0xffffffffffffffff
    TEST_RR aes64dsm, 0x6e29192e1c96a313, 0x706050403020100, 0xf0e0d0c0b0a0908
    TEST_RR aes64dsm, 0x61706bbb2760f8ac, 0x123456789abcdef0, 0xfedcba9876543210
    TEST_RR aes64dsm, 0x43bab32b21ad8ea2, 0xdeadbeefcafebabe, 0x123456789abcdef
    TEST_RR aes64ks2, 0x0, 0x0, 0x0
    TEST_RR aes64ks2, 0xffffffffffffffff, 0xffffffffffffffff, 0x0
    TEST_RR aes64ks2, 0xffffffff, 0x0, 0xffffffffffffffff
    TEST_RR aes64ks2, 0x30201000c0c0c0c, 0x706050403020100, 0xf0e0d0c0b0a0908
    TEST_RR aes64ks2, 0x9abcdef064606468, 0x123456789abcdef0, 0xfedcba9876543210
    TEST_RR aes64ks2, 0x5625366757067300, 0xdeadbeefcafebabe, 0x123456789abcdef
    TEST_R sha256sig0, 0x0, 0x0
    TEST_R sha256sig0, 0x2004000, 0x1
    TEST_R sha256sig0, 0x1fffffff, 0xffffffffffffffff
    TEST_R sha256sig0, 0x0, 0x8000000000000000
    TEST_R sha256sig0, 0x11002000, 0x80000000
    TEST_R sha256sig0, 0xffffffffc5dec4cc, 0x123456789abcdef0
    TEST_R sha256sig0, 0x22a233b3, 0xfedcba9876543210
    TEST_R sha256sig0, 0xffffffff802644e2, 0x706050403020100
    TEST_R sha256sig0, 0xffffffffafbdd707, 0x112233445566ff
    TEST_R sha256sig0, 0xffffffffca65989d, 0xdeadbeefcafebabe
    TEST_R sha256sig1, 0x0, 0x0
    TEST_R sha256sig1, 0xa000, 0x1
    TEST_R sha256sig1, 0x3fffff, 0xffffffffffffffff
    TEST_R sha256sig1, 0x0, 0x8000000000000000
    TEST_R sha256sig1, 0x205000, 0x80000000
    TEST_R sha256sig1, 0xfffffffff480f13e, 0x123456789abcdef0
    TEST_R sha256sig1, 0xffffffff9f57a0ec, 0xfedcba9876543210
    TEST_R sha256sig1, 0x40a0c161, 0x706050403020100
    TEST_R sha256sig1, 0x1fb15ff9, 0x112233445566ff
    TEST_R sha256sig1, 0xffffffff8a3a038e, 0xdeadbeefcafebabe
    TEST_R sha256sum0, 0x0, 0x0
    TEST_R sha256sum0, 0x40080400, 0x1
    TEST_R sha256sum0, 0xffffffffffffffff, 0xffffffffffffffff
    TEST_R sha256sum0, 0x0, 0x8000000000000000
    TEST_R sha256sum0, 0x20040200, 0x80000000
    TEST_R sha256sum0, 0x22502030, 0x123456789abcdef0
    TEST_R sha256sum0, 0xffffffffdddefffc, 0xfedcba9876543210
    TEST_R sha256sum0, 0xc4985c, 0x706050403020100
    TEST_R sha256sum0, 0xffffffffb3748605, 0x112233445566ff
    TEST_R sha256sum0, 0xffffffff9da30271, 0xdeadbeefcafebabe
    TEST_R sha256sum1, 0x0, 0x0
    TEST_R sha256sum1, 0x4200080, 0x1
    TEST_R sha256sum1, 0xffffffffffffffff, 0xffffffffffffffff
    TEST_R sha256sum1, 0x0, 0x8000000000000000
    TEST_R sha256sum1, 0x2100040, 0x80000000
    TEST_R sha256sum1, 0x4216dcad, 0x123456789abcdef0
    TEST_R sha256sum1, 0x29ce9275, 0xfedcba9876543210
    TEST_R sha256sum1, 0xffffffffa10ce845, 0x706050403020100
    TEST_R sha256sum1, 0x84aa095, 0x112233445566ff
    TEST_R sha256sum1, 0xffffffffd3affa58, 0xdeadbeefcafebabe
    TEST_R sha512sig0, 0x0, 0x0
    TEST_R sha512sig0, 0x8100000000000000, 0x1
    TEST_R sha512sig0, 0x1ffffffffffffff, 0xffffffffffffffff
    TEST_R sha512sig0, 0x4180000000000000, 0x8000000000000000
    TEST_R sha512sig0, 0x41800000, 0x80000000
    TEST_R sha512sig0, 0xf92c77c6c4f1aa1b, 0x123456789abcdef0
    TEST_R sha512sig0, 0x6e6d388393b0e55e, 0xfedcba9876543210
    TEST_R sha512sig0, 0x38a088d0d840683, 0x706050403020100
    TEST_R sha512sig0, 0x7f08a27ff7e64cd4, 0x112233445566ff
    TEST_R sha512sig0, 0xd03529b4d5205e90, 0xdeadbeefcafebabe
    TEST_R sha512sig1, 0x0, 0x0
    TEST_R sha512sig1, 0x200000000008, 0x1
    TEST_R sha512sig1, 0x3ffffffffffffff, 0xffffffffffffffff
    TEST_R sha512sig1, 0x200100000000004, 0x8000000000000000
    TEST_R sha512sig1, 0x402001000, 0x80000000
    TEST_R sha512sig1, 0xa3460dbbd4317ac, 0x123456789abcdef0
    TEST_R sha512sig1, 0x735cb9f2442bce85, 0xfedcba9876543210
    TEST_R sha512sig1, 0x780c30d4c8bc8064, 0x706050403020100
    TEST_R sha512sig1, 0xac56b510cbfc0ae9, 0x112233445566ff
    TEST_R sha512sig1, 0x21409a505f03d643, 0xdeadbeefcafebabe
    TEST_R sha512sum0, 0x0, 0x0
    TEST_R sha512sum0, 0x1042000000, 0x1
    TEST_R sha512sum0, 0xffffffffffffffff, 0xffffffffffffffff
    TEST_R sha512sum0, 0x821000000, 0x8000000000000000
    TEST_R sha512sum0, 0x2100000000000008, 0x80000000
    TEST_R sha512sum0, 0x7c57a100c7ec1abb, 0x123456789abcdef0
    TEST_R sha512sum0, 0x483a85eff3813e54, 0xfedcba9876543210
    TEST_R sha512sum0, 0x38e6944271afdd0b, 0x706050403020100
    TEST_R sha512sum0, 0xf2cb9c823f1649fc, 0x112233445566ff
    TEST_R sha512sum0, 0x82c1f83720cdda3a, 0xdeadbeefcafebabe
    TEST_R sha512sum1, 0x0, 0x0
    TEST_R sha512sum1, 0x4400000800000, 0x1
    TEST_R sha512sum1, 0xffffffffffffffff, 0xffffffffffffffff
    TEST_R sha512sum1, 0x2200000400000, 0x8000000000000000
    TEST_R sha512sum1, 0x40000000022000, 0x80000000
    TEST_R sha512sum1, 0x7031123334755677, 0x123456789abcdef0
    TEST_R sha512sum1, 0x88fceedcccb8aa98, 0xfedcba9876543210
    TEST_R sha512sum1, 0x6419cd915528fca, 0x706050403020100
    TEST_R sha512sum1, 0xdbe1eaf3bfc1c8d1, 0x112233445566ff
    TEST_R sha512sum1, 0x33b1b240cb6b8f9a, 0xdeadbeefcafebabe
    TEST_R sm3p0, 0x0, 0x0
    TEST_R sm3p0, 0x20201, 0x1
    TEST_R sm3p0, 0xffffffffffffffff, 0xffffffffffffffff
    TEST_R sm3p0, 0x0, 0x8000000000000000
    TEST_R sm3p0, 0xffffffff80010100, 0x80000000
    TEST_R sm3p0, 0x5ee00abc, 0x123456789abcdef0
    TEST_R sm3p0, 0xffffffffba10fe54, 0xfedcba9876543210
    TEST_R sm3p0, 0x5000702, 0x706050403020100
    TEST_R sm3p0, 0x236610dd, 0x112233445566ff
    TEST_R sm3p0, 0x42f652d6, 0xdeadbeefcafebabe
    TEST_R sm3p1, 0x0, 0x0
    TEST_R sm3p1, 0x808001, 0x1
    TEST_R sm3p1, 0xffffffffffffffff, 0xffffffffffffffff
    TEST_R sm3p1, 0x0, 0x8000000000000000
    TEST_R sm3p1, 0xffffffff80404000, 0x80000000
    TEST_R sm3p1, 0xffffffff8d89cdc1, 0x123456789abcdef0
    TEST_R sm3p1, 0x67672323, 0xfedcba9876543210
    TEST_R sm3p1, 0xffffffff83838181, 0x706050403020100
    TEST_R sm3p1, 0xffffffff8888ee66, 0x112233445566ff
    TEST_R sm3p1, 0xffffffffc8c4a09c, 0xdeadbeefcafebabe
    TEST_R aes64im, 0x0, 0x0
    TEST_R aes64im, 0xb0d090e, 0x1
    TEST_R aes64im, 0xffffffffffffffff, 0xffffffffffffffff
    TEST_R aes64im, 0x41f7daec00000000, 0x8000000000000000
    TEST_R aes64im, 0x41f7daec, 0x80000000
    TEST_R aes64im, 0x851bd1470d9359cf, 0x123456789abcdef0
    TEST_R aes64im, 0x39937dd7b11bf55f, 0xfedcba9876543210
    TEST_R aes64im, 0x90c0b0e0d080f0a, 0x706050403020100
    TEST_R aes64im, 0xeebbcc99054d2cec, 0x112233445566ff
    TEST_R aes64im, 0xe712a7752264206, 0xdeadbeefcafebabe
    TEST_RI aes64ks1i, 0x6363636263636362, 0x0, 0
    TEST_RI aes64ks1i, 0x6363636163636361, 0x0, 1
    TEST_RI aes64ks1i, 0x636363e3636363e3, 0x0, 7
    TEST_RI aes64ks1i, 0x6363637863636378, 0x0, 8
    TEST_RI aes64ks1i, 0x6363635563636355, 0x0, 9
    TEST_RI aes64ks1i, 0x6363636363636363, 0x0, 10
    TEST_RI aes64ks1i, 0x6363636263636362, 0x1, 0
    TEST_RI aes64ks1i, 0x6363636163636361, 0x1, 1
    TEST_RI aes64ks1i, 0x636363e3636363e3, 0x1, 7
    TEST_RI aes64ks1i, 0x6363637863636378, 0x1, 8
    TEST_RI aes64ks1i, 0x6363635563636355, 0x1, 9
    TEST_RI aes64ks1i, 0x6363636363636363, 0x1, 10
    TEST_RI aes64ks1i, 0x1616161716161617, 0xffffffffffffffff, 0
    TEST_RI aes64ks1i, 0x1616161416161614, 0xffffffffffffffff, 1
    TEST_RI aes64ks1i, 0x1616169616161696, 0xffffffffffffffff, 7
    TEST_RI aes64ks1i, 0x1616160d1616160d, 0xffffffffffffffff, 8
    TEST_RI aes64ks1i, 0x1616162016161620, 0xffffffffffffffff, 9
    TEST_RI aes64ks1i, 0x1616161616161616, 0xffffffffffffffff, 10
    TEST_RI aes64ks1i, 0x63cd636263cd6362, 0x8000000000000000, 0
    TEST_RI aes64ks1i, 0x63cd636163cd6361, 0x8000000000000000, 1
    TEST_RI aes64ks1i, 0x63cd63e363cd63e3, 0x8000000000000000, 7
    TEST_RI aes64ks1i, 0x63cd637863cd6378, 0x8000000000000000, 8
    TEST_RI aes64ks1i, 0x63cd635563cd6355, 0x8000000000000000, 9
    TEST_RI aes64ks1i, 0xcd636363cd636363, 0x8000000000000000, 10
    TEST_RI aes64ks1i, 0x6363636263636362, 0x80000000, 0
    TEST_RI aes64ks1i, 0x6363636163636361, 0x80000000, 1
    TEST_RI aes64ks1i, 0x636363e3636363e3, 0x80000000, 7
    TEST_RI aes64ks1i, 0x6363637863636378, 0x80000000, 8
    TEST_RI aes64ks1i, 0x6363635563636355, 0x80000000, 9
    TEST_RI aes64ks1i, 0x6363636363636363, 0x80000000, 10
    TEST_RI aes64ks1i, 0xbcc918b0bcc918b0, 0x123456789abcdef0, 0
    TEST_RI aes64ks1i, 0xbcc918b3bcc918b3, 0x123456789abcdef0, 1
    TEST_RI aes64ks1i, 0xbcc91831bcc91831, 0x123456789abcdef0, 7
    TEST_RI aes64ks1i, 0xbcc918aabcc918aa, 0x123456789abcdef0, 8
    TEST_RI aes64ks1i, 0xbcc91887bcc91887, 0x123456789abcdef0, 9
    TEST_RI aes64ks1i, 0xc918b1bcc918b1bc, 0x123456789abcdef0, 10
    EXPECT_TRAP
    .insn i 0x13, 1, a0, a1, 0x31b          /* aes64ks1i rnum 11 */
    CHECK_MTRAP CAUSE_ILLEGAL
    EXPECT_TRAP
    .insn i 0x13, 1, a0, a1, 0x10a          /* after sm3p1 */
    CHECK_MTRAP CAUSE_ILLEGAL
    PASS
