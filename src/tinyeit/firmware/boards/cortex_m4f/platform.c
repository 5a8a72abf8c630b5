/* Cortex-M4F platform: console through semihosting (QEMU -semihosting, or a debug probe), ticks
 * from DWT CYCCNT on real silicon, else from SysTick. QEMU has no DWT cycle counter; its mps2
 * SysTick runs from the 25 MHz SYSCLK and, under -icount shift=0, one instruction is 1 ns, so one
 * SysTick count is TINYEIT_EMU_CYCLES_PER_TICK (40) instructions: ticks are then instructions. */
#include <stdint.h>

#include "tinyeit_platform.h"

#ifndef TINYEIT_EMU_CYCLES_PER_TICK
#define TINYEIT_EMU_CYCLES_PER_TICK 40u
#endif

#define SYST_CSR (*(volatile uint32_t *)0xE000E010u)
#define SYST_RVR (*(volatile uint32_t *)0xE000E014u)
#define SYST_CVR (*(volatile uint32_t *)0xE000E018u)
#define DEMCR (*(volatile uint32_t *)0xE000EDFCu)
#define DWT_CTRL (*(volatile uint32_t *)0xE0001000u)
#define DWT_CYCCNT (*(volatile uint32_t *)0xE0001004u)

static volatile uint32_t systick_wraps;
static int use_dwt;

void SysTick_Handler(void) { systick_wraps++; }

static int semihost_call(int op, const void *arg) {
    register int r0 __asm("r0") = op;
    register const void *r1 __asm("r1") = arg;
    __asm volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

void tinyeit_semihost_exit(int code) {
    /* SYS_EXIT with ADP_Stopped_ApplicationExit (0x20026) or RunTimeErrorUnknown (0x20023). */
    semihost_call(0x18, (const void *)(uintptr_t)(code == 0 ? 0x20026u : 0x20023u));
}

void tinyeit_platform_write(const char *text) { semihost_call(0x04, text); /* SYS_WRITE0 */ }

void tinyeit_platform_init(void) {
    DEMCR |= (1u << 24);  /* TRCENA */
    DWT_CYCCNT = 0u;
    DWT_CTRL |= 1u;       /* CYCCNTENA */
    for (volatile int i = 0; i < 16; ++i) {}
    use_dwt = DWT_CYCCNT != 0u;
    SYST_RVR = 0x00FFFFFFu;
    SYST_CVR = 0u;
    SYST_CSR = 7u;        /* processor clock, interrupt on wrap, enabled */
}

uint32_t tinyeit_platform_ticks(void) {
    if (use_dwt) return DWT_CYCCNT;
    uint32_t wraps, value;
    do {
        wraps = systick_wraps;
        value = SYST_CVR;
    } while (wraps != systick_wraps);
    uint32_t count = (wraps << 24) + (0x00FFFFFFu - value);
    return count * TINYEIT_EMU_CYCLES_PER_TICK;
}
