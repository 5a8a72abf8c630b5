/* Bare-metal start of the ESP32 firmware on QEMU's `sim` machine (core `esp32`, Xtensa LX6 with
 * the windowed ABI). QEMU resets the PC to 0x50000000 whatever the ELF's entry is, so a jump
 * sits there; _start then sets the vector base (window overflow/underflow handlers below), one
 * live register window, PS (user mode, window overflow exceptions on, interrupts at level 0),
 * CPENABLE for the FPU (coprocessor 0, else every float instruction traps), the stack, .bss,
 * and calls main through call4. main's result leaves through the `simcall` exit (semihosting).
 * The window handlers are the standard spill/fill sequences of the Xtensa ISA. */

#define SYS_EXIT 1
#define SYS_WRITE 4
#define PS_WOE (1 << 18)
#define PS_UM (1 << 5)

    .section .reset_vector, "ax"
    .global _reset_vector
    .align 4
_reset_vector:
    .begin no-transform
    j       1f
    .align  4
.Lstart_address:
    .word   _start
1:
    l32r    a2, .Lstart_address
    jx      a2
    .end no-transform

    .section .iram0.vectors, "ax"
    .global _vector_base
    .align 4
_vector_base:
    .begin no-transform
    .org    0x00                    /* call4 frame overflow */
_WindowOverflow4:
    s32e    a0, a5, -16
    s32e    a1, a5, -12
    s32e    a2, a5, -8
    s32e    a3, a5, -4
    rfwo
    .org    0x40                    /* call4 frame underflow */
_WindowUnderflow4:
    l32e    a0, a5, -16
    l32e    a1, a5, -12
    l32e    a2, a5, -8
    l32e    a3, a5, -4
    rfwu
    .org    0x80                    /* call8 frame overflow */
_WindowOverflow8:
    s32e    a0, a9, -16
    l32e    a0, a1, -12
    s32e    a2, a9, -8
    s32e    a1, a9, -12
    s32e    a3, a9, -4
    s32e    a4, a0, -32
    s32e    a5, a0, -28
    s32e    a6, a0, -24
    s32e    a7, a0, -20
    rfwo
    .org    0xC0                    /* call8 frame underflow */
_WindowUnderflow8:
    l32e    a1, a9, -12
    l32e    a0, a9, -16
    l32e    a7, a1, -12
    l32e    a2, a9, -8
    l32e    a4, a7, -32
    l32e    a3, a9, -4
    l32e    a5, a7, -28
    l32e    a6, a7, -24
    l32e    a7, a7, -20
    rfwu
    .org    0x100                   /* call12 frame overflow */
_WindowOverflow12:
    s32e    a0, a13, -16
    l32e    a0, a1, -12
    s32e    a1, a13, -12
    s32e    a2, a13, -8
    s32e    a3, a13, -4
    s32e    a4, a0, -48
    s32e    a5, a0, -44
    s32e    a6, a0, -40
    s32e    a7, a0, -36
    s32e    a8, a0, -32
    s32e    a9, a0, -28
    s32e    a10, a0, -24
    s32e    a11, a0, -20
    rfwo
    .org    0x140                   /* call12 frame underflow */
_WindowUnderflow12:
    l32e    a1, a13, -12
    l32e    a0, a13, -16
    l32e    a11, a1, -12
    l32e    a2, a13, -8
    l32e    a4, a11, -48
    l32e    a8, a11, -32
    l32e    a3, a13, -4
    l32e    a5, a11, -44
    l32e    a6, a11, -40
    l32e    a7, a11, -36
    l32e    a9, a11, -28
    l32e    a10, a11, -24
    l32e    a11, a11, -20
    rfwu
    .org    0x300                   /* kernel exception */
    j       _fatal_exception
    .org    0x340                   /* user exception (PS.UM = 1): illegal op, bad access... */
    j       _fatal_exception
    .org    0x3C0                   /* double exception */
    j       _fatal_exception
    .end no-transform

    .section .rodata.tinyeit_fatal, "a"
.Lfatal_line:
    .ascii  "TINYEIT END status=error code=-1000\n"
    .set    .Lfatal_length, . - .Lfatal_line

    .section .iram0.text, "ax"
    .align  4
/* Any exception is fatal here: the harness's error line, then exit with status 2. */
_fatal_exception:
    movi    a2, SYS_WRITE
    movi    a3, 1
    movi    a4, .Lfatal_line
    movi    a5, .Lfatal_length
    simcall
    movi    a2, SYS_EXIT
    movi    a3, 2
    simcall
1:  j       1b

    .global _start
    .type   _start, @function
    .align 4
_start:
    movi    a0, 0
    movi    a2, _vector_base
    wsr     a2, vecbase
    movi    a2, 0
    wsr     a2, windowbase
    rsync
    movi    a2, 1
    wsr     a2, windowstart
    rsync
    movi    a2, PS_WOE | PS_UM
    wsr     a2, ps
    rsync
    movi    a2, 1
    wsr     a2, cpenable
    rsync
    movi    a1, _stack_top
    movi    a2, _bss_start
    movi    a3, _bss_end
    movi    a4, 0
    bgeu    a2, a3, 2f
1:  s32i    a4, a2, 0
    addi    a2, a2, 4
    bltu    a2, a3, 1b
2:  movi    a4, main
    callx4  a4
    /* main's result comes back in a6 (the callee's a2 under call4) */
    movi    a2, SYS_EXIT
    mov     a3, a6
    simcall
3:  j       3b
    .size   _start, . - _start
