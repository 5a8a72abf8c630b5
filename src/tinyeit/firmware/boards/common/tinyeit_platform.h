/* What a board gives the test harness: a tick counter and a console. One file per board family
 * implements it; the harness and the generated model are the same C on every board. */
#ifndef TINYEIT_PLATFORM_H
#define TINYEIT_PLATFORM_H
#include <stdint.h>
#ifdef __cplusplus
extern "C" {
#endif
/* Set up the counter and console. */
void tinyeit_platform_init(void);
/* Free-running 32-bit counter in the units reported as `ticks` (core cycles on MCUs, ns on Linux). */
uint32_t tinyeit_platform_ticks(void);
/* Write a NUL-terminated ASCII string to the console. */
void tinyeit_platform_write(const char *text);
/* Run the embedded frames through the model and print the result lines; returns the model's code. */
int tinyeit_harness_run(void);
#ifdef __cplusplus
}
#endif
#endif
