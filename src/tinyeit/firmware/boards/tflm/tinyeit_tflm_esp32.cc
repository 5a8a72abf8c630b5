/* What TFLite Micro needs on the bare-metal ESP32 (QEMU's sim machine) besides the C engine's
 * start-up and platform: the static constructors run once (the start-up is assembly and does not
 * run them), the few C++ runtime entries the library's classes reference (pure virtual calls,
 * the deleting destructors' operator delete: nothing is ever allocated, TFLM uses its arena and
 * placement new), its DebugLog on the semihosting console, and no heap: _sbrk refuses, so a
 * malloc fails instead of growing into the stack. Linked without libstdc++/libsupc++ (-nostdlib). */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "tensorflow/lite/micro/debug_log.h"
#include "tinyeit_platform.h"

extern "C" {
extern void (*__tinyeit_init_array_start[])(void);
extern void (*__tinyeit_init_array_end[])(void);

void tinyeit_run_constructors(void) {
    for (void (**f)(void) = __tinyeit_init_array_start; f < __tinyeit_init_array_end; ++f) (*f)();
}

void *_sbrk(ptrdiff_t increment) {
    (void)increment;
    errno = ENOMEM;
    return (void *)-1;
}

/* TFLM's logging (MicroPrintf, error reports): formatted into a line, written to the console. */
void DebugLog(const char *format, va_list args) {
    char line[256];
    vsnprintf(line, sizeof(line), format, args);
    tinyeit_platform_write(line);
}

int DebugVsnprintf(char *buffer, size_t buf_size, const char *format, va_list vlist) {
    return vsnprintf(buffer, buf_size, format, vlist);
}

/* A pure virtual call or an abort: an illegal instruction, so that the start-up's exception
 * path prints the harness's error line and exits with status 2. */
[[noreturn]] static void tinyeit_fatal(void) {
    for (;;) __asm volatile("ill");
}

void __cxa_pure_virtual(void) { tinyeit_fatal(); }
void abort(void) { tinyeit_fatal(); }
}

void operator delete(void *) noexcept {}
void operator delete(void *, size_t) noexcept {}
