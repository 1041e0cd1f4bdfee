# SPDX-License-Identifier: MIT
# Generates the TEST_RR/TEST_RI lines of rv64i_alu.S / rv64i_alui.S from
# Python models of the spec definitions.  Usage: python3 gen_alu.py
# helper to compute expected values for rv64i tests; prints assembly lines
M=(1<<64)-1
def s64(x): x&=M; return x-(1<<64) if x>>63 else x
def sx32(x): x&=0xffffffff; return (x-(1<<32) if x>>31 else x)&M
def h(x): return hex(x&M)
ops = {
 'add': lambda a,b: a+b, 'sub': lambda a,b: a-b,
 'and': lambda a,b: a&b, 'or': lambda a,b: a|b, 'xor': lambda a,b: a^b,
 'sll': lambda a,b: a<<(b&63), 'srl': lambda a,b: (a&M)>>(b&63), 'sra': lambda a,b: s64(a)>>(b&63),
 'slt': lambda a,b: int(s64(a)<s64(b)), 'sltu': lambda a,b: int((a&M)<(b&M)),
 'addw': lambda a,b: sx32(a+b), 'subw': lambda a,b: sx32(a-b),
 'sllw': lambda a,b: sx32(a<<(b&31)), 'srlw': lambda a,b: sx32((a&0xffffffff)>>(b&31)),
 'sraw': lambda a,b: sx32(sx32(a) if False else (( (a&0xffffffff) - (1<<32) if (a>>31)&1 else a&0xffffffff) >> (b&31))),
}
vals=[0,1,2,0x7fffffffffffffff,0x8000000000000000,0xffffffffffffffff,0x000000007fffffff,0x0000000080000000,0xffffffff80000000,0x123456789abcdef0,0xfedcba9876543210,0x00000000ffffffff]
shamts=[0,1,31,32,33,63,0xffffffffffffffe1]
out=[]
import itertools
for op,f in ops.items():
    if op in('sll','srl','sra','sllw','srlw','sraw'):
        pairs=[(a,b) for a in [0x8000000000000001,0x123456789abcdef0,0xffffffff80000000] for b in shamts]
    else:
        pairs=[(a,b) for a,b in [(0,0),(1,1),(0x7fffffffffffffff,1),(0x8000000000000000,0xffffffffffffffff),(0xffffffffffffffff,1),(0x7fffffff,1),(0x80000000,0xffffffff),(0x123456789abcdef0,0xfedcba9876543210),(0xffffffff80000000,0x80000000),(5,0xfffffffffffffffb)]]
    for a,b in pairs:
        out.append(f"    TEST_RR {op}, {h(f(a,b))}, {h(a)}, {h(b)}")
imm_ops={'addi':lambda a,i:a+i,'andi':lambda a,i:a&i,'ori':lambda a,i:a|i,'xori':lambda a,i:a^i,
 'slti':lambda a,i:int(s64(a)<i),'sltiu':lambda a,i:int((a&M)<(i&M)),'addiw':lambda a,i:sx32(a+i)}
for op,f in imm_ops.items():
    for a,i in [(0,0),(1,-1),(0x7fffffffffffffff,1),(0x8000000000000000,-1),(0x123456789abcdef0,2047),(0x123456789abcdef0,-2048),(0xffffffffffffffff,-1),(0x7fffffff,1),(0xfffffffffffff800,0x7ff),(5,-5)]:
        out.append(f"    TEST_RI {op}, {h(f(a,i))}, {h(a)}, {i}")
sh_ops={'slli':ops['sll'],'srli':ops['srl'],'srai':ops['sra']}
for op,f in sh_ops.items():
    for a in [0x8000000000000001,0x123456789abcdef0]:
        for i in [0,1,31,32,63]:
            out.append(f"    TEST_RI {op}, {h(f(a,i))}, {h(a)}, {i}")
def sraw(a,b):
    v=a&0xffffffff
    if v>>31: v-= 1<<32
    return (v>>(b&31))&M
shw={'slliw':ops['sllw'],'srliw':ops['srlw'],'sraiw':sraw}
for op,f in shw.items():
    for a in [0x8000000000000001,0x123456789abcdef0,0xffffffff7fffffff,0x80000000]:
        for i in [0,1,31]:
            out.append(f"    TEST_RI {op}, {h(f(a,i))}, {h(a)}, {i}")
# fix sraw register ops
out=[l for l in out if 'TEST_RR sraw' not in l]
for a in [0x8000000000000001,0x123456789abcdef0,1,0xffffffff80000000,0x0000000080000000]:
    for b in shamts:
        out.append(f"    TEST_RR sraw, {h(sraw(a,b))}, {h(a)}, {h(b)}")
print("\n".join(out))
print(len(out), file=__import__('sys').stderr)
