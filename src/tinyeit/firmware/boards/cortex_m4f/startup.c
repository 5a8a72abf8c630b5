/* Bare-metal start of the Cortex-M4F firmware: vector table, reset handler (FPU on, .data
 * copied, .bss zeroed), then the harness, then semihosting SYS_EXIT so an emulator stops. */
#include <stdint.h>

#include "tinyeit_platform.h"

extern uint32_t _sidata, _sdata, _edata, _sbss, _ebss, _estack;
extern void SysTick_Handler(void);
extern void tinyeit_semihost_exit(int code);
int main(void);

void Reset_Handler(void);
void Default_Handler(void);

#define SCB_CPACR (*(volatile uint32_t *)0xE000ED88u)

__attribute__((section(".isr_vector"), used))
static void (*const vector_table[16])(void) = {
    (void (*)(void))(&_estack), /* initial stack pointer */
    Reset_Handler,
    Default_Handler, /* NMI */
    Default_Handler, /* HardFault */
    Default_Handler, /* MemManage */
    Default_Handler, /* BusFault */
    Default_Handler, /* UsageFault */
    0, 0, 0, 0,
    Default_Handler, /* SVCall */
    Default_Handler, /* DebugMon */
    0,
    Default_Handler, /* PendSV */
    SysTick_Handler,
};

void Reset_Handler(void) {
    SCB_CPACR |= (0xFu << 20); /* CP10, CP11 full access: the FPU */
    __asm volatile("dsb\n\tisb" ::: "memory");
    for (uint32_t *src = &_sidata, *dst = &_sdata; dst < &_edata;) *dst++ = *src++;
    for (uint32_t *dst = &_sbss; dst < &_ebss;) *dst++ = 0u;
    int status = main();
    tinyeit_semihost_exit(status);
    for (;;) {}
}

void Default_Handler(void) {
    tinyeit_platform_write("TINYEIT END status=error code=-1000\n");
    tinyeit_semihost_exit(-1000);
    for (;;) {}
}

int main(void) {
    tinyeit_platform_init();
    return tinyeit_harness_run();
}
