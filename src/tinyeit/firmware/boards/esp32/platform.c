/* ESP32 platform: ticks are CPU cycles (CCOUNT) at 240 MHz, console is UART0 through stdout.
 * Without ESP_PLATFORM (the host-compile check) it falls back to CLOCK_MONOTONIC and stdout. */
#include <stdint.h>
#include <stdio.h>

#include "tinyeit_platform.h"

#ifdef ESP_PLATFORM
#include "esp_cpu.h"
#include "freertos/FreeRTOS.h"
#include "freertos/task.h"

void tinyeit_platform_init(void) {}
uint32_t tinyeit_platform_ticks(void) { return (uint32_t)esp_cpu_get_cycle_count(); }
#else
#include <time.h>
void tinyeit_platform_init(void) {}
uint32_t tinyeit_platform_ticks(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (uint32_t)((uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec);
}
#endif

void tinyeit_platform_write(const char *text) {
    fputs(text, stdout);
    fflush(stdout);
}

#ifdef ESP_PLATFORM
void app_main(void) {
    vTaskDelay(pdMS_TO_TICKS(500)); /* let a serial monitor attach */
    tinyeit_platform_init();
    tinyeit_harness_run();
    for (;;) vTaskDelay(pdMS_TO_TICKS(1000));
}
#else
int main(void) {
    tinyeit_platform_init();
    return tinyeit_harness_run() == 0 ? 0 : 1;
}
#endif
