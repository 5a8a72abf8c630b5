/* Raspberry Pi 4 (aarch64 Linux, static): ticks are nanoseconds of CLOCK_MONOTONIC, console is
 * stdout. Runs the same under qemu-aarch64 (user mode). */
#define _POSIX_C_SOURCE 199309L
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tinyeit_platform.h"

void tinyeit_platform_init(void) {}

uint32_t tinyeit_platform_ticks(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (uint32_t)((uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec);
}

void tinyeit_platform_write(const char *text) {
    size_t left = strlen(text);
    while (left) {
        ssize_t n = write(1, text, left);
        if (n <= 0) return;
        text += n;
        left -= (size_t)n;
    }
}

int main(void) {
    tinyeit_platform_init();
    return tinyeit_harness_run() == 0 ? 0 : 1;
}
