/* ESP32 on QEMU's `sim` machine: console and exit through semihosting (`simcall`, QEMU's Xtensa
 * semihosting: a2 = call number, a3.. = arguments, a2 = result), ticks from CCOUNT.
 * The emulator's esp32 core is imported with a 1 GHz clock, and `-icount shift=0` gives every
 * instruction 1 ns: CCOUNT then counts executed instructions, so the ticks are instructions. */
#include <stdint.h>

#include "tinyeit_platform.h"

#define TINYEIT_SYS_WRITE 4

static int simcall3(int call, int a, const void *b, int c) {
    register int a2 __asm("a2") = call;
    register int a3 __asm("a3") = a;
    register const void *a4 __asm("a4") = b;
    register int a5 __asm("a5") = c;
    __asm volatile("simcall" : "+r"(a2), "+r"(a3) : "r"(a4), "r"(a5) : "memory");
    return a2;
}

void tinyeit_platform_init(void) {}

uint32_t tinyeit_platform_ticks(void) {
    uint32_t ccount;
    __asm volatile("rsr.ccount %0" : "=r"(ccount));
    return ccount;
}

void tinyeit_platform_write(const char *text) {
    int n = 0;
    while (text[n]) ++n;
    simcall3(TINYEIT_SYS_WRITE, 1, text, n);
}

int main(void) {
    tinyeit_platform_init();
    return tinyeit_harness_run() == 0 ? 0 : 1;
}
