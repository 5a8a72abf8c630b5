/* What TFLite Micro needs on the bare-metal ESP32 (QEMU's sim machine) besides the C engine's
 * start-up and platform: the static constructors run once (the start-up is assembly and does not
 * run them), the few C++ runtime entries the library's classes reference (pure virtual calls,
 * the deleting destructors' operator delete: nothing is ever allocated, TFLM uses its arena and
 * placement new), its DebugLog on the semihosting console, and no heap: sbrk refuses, so a
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

/* newlib is built without its own system calls (--disable-newlib-supplied-syscalls): its
 * reentrant wrappers call these. No heap, no files; writes go to the semihosting console. */
void *sbrk(ptrdiff_t increment) {
    (void)increment;
    errno = ENOMEM;
    return (void *)-1;
}

int write(int fd, const void *data, size_t n) {
    register int a2 __asm("a2") = 4;            /* SYS_WRITE */
    register int a3 __asm("a3") = fd;
    register const void *a4 __asm("a4") = data;
    register size_t a5 __asm("a5") = n;
    __asm volatile("simcall" : "+r"(a2), "+r"(a3) : "r"(a4), "r"(a5) : "memory");
    return a2;
}

int read(int fd, void *data, size_t n) { (void)fd; (void)data; (void)n; errno = EBADF; return -1; }
int close(int fd) { (void)fd; errno = EBADF; return -1; }
int fstat(int fd, void *st) { (void)fd; (void)st; errno = EBADF; return -1; }
int isatty(int fd) { (void)fd; return 0; }
long lseek(int fd, long offset, int whence) { (void)fd; (void)offset; (void)whence; errno = EBADF; return -1; }

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
