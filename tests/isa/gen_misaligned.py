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
