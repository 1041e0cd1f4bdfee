# SPDX-License-Identifier: MIT
# Generates the AMO lines of rv64a.S.
M=(1<<64)-1
def s(x,w): x&=(1<<w)-1; return x-(1<<w) if x>>(w-1) else x
ops={'swap':lambda a,b,w:b,'add':lambda a,b,w:a+b,'and':lambda a,b,w:a&b,'or':lambda a,b,w:a|b,'xor':lambda a,b,w:a^b,
'min':lambda a,b,w:min(s(a,w),s(b,w)),'max':lambda a,b,w:max(s(a,w),s(b,w)),
'minu':lambda a,b,w:min(a&((1<<w)-1),b&((1<<w)-1)),'maxu':lambda a,b,w:max(a&((1<<w)-1),b&((1<<w)-1))}
cases=[(0x1111111180000001,0x00000000000000ff),(0x7fffffffffffffff,1),(0xcafebabe7fffffff,0xffffffff80000000),(0x8000000000000000,0x7fffffffffffffff),(5,0xfffffffffffffffb),(0x00000000ffffffff,1)]
for op,f in ops.items():
    for w,sfx in ((64,'d'),(32,'w')):
        for mem,opd in cases:
            mk=(1<<w)-1
            old=s(mem,w)&M
            new=f(mem&mk,opd&mk,w)&mk
            newmem=(mem & ~mk & M) | new
            print(f"    AMO amo{op}.{sfx}, {hex(mem)}, {hex(opd)}, {hex(old)}, {hex(newmem)}")
