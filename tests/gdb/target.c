/* SPDX-License-Identifier: MIT */
/* A bare-metal program for tests/gdb/test_gdb.py: GDB breaks in bump(),
 * watches counter, steps and rewrites memory; it exits 0 (HTIF) when
 * counter ends at 55. */
typedef unsigned long uint64_t;
volatile uint64_t tohost __attribute__((section(".tohost"), aligned(64)));
volatile uint64_t fromhost __attribute__((section(".tohost"), aligned(8)));
volatile uint64_t counter;
uint64_t values[4];
double scale = 1.5;

void bump(int i)
{
    counter += i;
    values[i & 3] = counter;
}

void main_loop(void)
{
    for (int i = 1; i <= 10; i++)
        bump(i);
    scale *= counter;
    tohost = ((counter == 55 ? 0 : 1) << 1) | 1;
    for (;;)
        ;
}
