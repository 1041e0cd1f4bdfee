# SPDX-License-Identifier: MIT
# Generates the TEST_RR lines of rv64m.S.
M=(1<<64)-1
def s64(x): x&=M; return x-(1<<64) if x>>63 else x
def s32(x): x&=0xffffffff; return x-(1<<32) if x>>31 else x
def sx32(x): return s32(x)&M
def tdiv(a,b):
    q=abs(a)//abs(b); return q if (a<0)==(b<0) else -q
def div(a,b):
    a,b=s64(a),s64(b)
    if b==0: return M
    if a==-(1<<63) and b==-1: return a&M
    return tdiv(a,b)&M
def rem(a,b):
    a,b=s64(a),s64(b)
    if b==0: return a&M
    if a==-(1<<63) and b==-1: return 0
    return (a-b*tdiv(a,b))&M
def divu(a,b): return M if b&M==0 else (a&M)//(b&M)
def remu(a,b): return a&M if b&M==0 else (a&M)%(b&M)
def divw(a,b):
    a,b=s32(a),s32(b)
    if b==0: return M
    if a==-(1<<31) and b==-1: return sx32(a)
    return sx32(tdiv(a,b))
def remw(a,b):
    a,b=s32(a),s32(b)
    if b==0: return sx32(a)
    if a==-(1<<31) and b==-1: return 0
    return sx32(a-b*tdiv(a,b))
def divuw(a,b):
    a,b=a&0xffffffff,b&0xffffffff
    return M if b==0 else sx32(a//b)
def remuw(a,b):
    a,b=a&0xffffffff,b&0xffffffff
    return sx32(a) if b==0 else sx32(a%b)
ops={'mul':lambda a,b:(a*b)&M,'mulh':lambda a,b:((s64(a)*s64(b))>>64)&M,
'mulhsu':lambda a,b:((s64(a)*(b&M))>>64)&M,'mulhu':lambda a,b:(((a&M)*(b&M))>>64)&M,
'mulw':lambda a,b:sx32(a*b),'div':div,'divu':divu,'rem':rem,'remu':remu,
'divw':divw,'divuw':divuw,'remw':remw,'remuw':remuw}
pairs=[(0,0),(1,0),(7,3),(-7&M,3),(7,-3&M),(-7&M,-3&M),(0x8000000000000000,-1&M),(0x8000000000000000,1),
(0xffffffff80000000,-1&M),(0x0000000080000000,0xffffffffffffffff),(0x7fffffffffffffff,0x7fffffffffffffff),
(0xffffffffffffffff,0xffffffffffffffff),(0x123456789abcdef0,0xfedcba9876543210),(0xdeadbeef,0),(0x100000005,0x100000002),(0x80000000,2)]
for op,f in ops.items():
    for a,b in pairs:
        print(f"    TEST_RR {op}, {hex(f(a,b))}, {hex(a&M)}, {hex(b&M)}")
