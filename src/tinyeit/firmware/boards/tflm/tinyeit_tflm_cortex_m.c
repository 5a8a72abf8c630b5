/* What a C++ program with TFLite Micro needs on the bare-metal Cortex-M4F besides the startup:
 * the static constructors run once (the startup is C and does not run them), newlib's _init and
 * _fini (called by no one here: -nostartfiles), and no heap: _sbrk refuses, so a malloc fails
 * instead of growing into the stack (TFLM allocates from its arena only). */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>

extern void (*__tinyeit_init_array_start[])(void);
extern void (*__tinyeit_init_array_end[])(void);

void _init(void) {}
void _fini(void) {}

void *_sbrk(ptrdiff_t increment) {
    (void)increment;
    errno = ENOMEM;
    return (void *)-1;
}

void tinyeit_run_constructors(void) {
    for (void (**f)(void) = __tinyeit_init_array_start; f < __tinyeit_init_array_end; ++f) (*f)();
}
