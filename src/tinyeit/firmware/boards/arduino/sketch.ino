// tinyeit on a real Arduino board (Nano 33 BLE Sense, Nicla Sense ME, ESP32): the same harness
// and generated model as the bare-metal firmware, console on Serial, ticks from the DWT cycle
// counter (Cortex-M4F) or CCOUNT (ESP32).
#include <Arduino.h>
#include "tinyeit_platform.h"

#if defined(ESP32)
#include "esp_cpu.h"
extern "C" uint32_t tinyeit_platform_ticks(void) { return (uint32_t)esp_cpu_get_cycle_count(); }
extern "C" void tinyeit_platform_init(void) {}
#else
#define DEMCR (*(volatile uint32_t *)0xE000EDFCu)
#define DWT_CTRL (*(volatile uint32_t *)0xE0001000u)
#define DWT_CYCCNT (*(volatile uint32_t *)0xE0001004u)
extern "C" void tinyeit_platform_init(void) {
  DEMCR |= (1u << 24);
  DWT_CYCCNT = 0u;
  DWT_CTRL |= 1u;
}
extern "C" uint32_t tinyeit_platform_ticks(void) { return DWT_CYCCNT; }
#endif

extern "C" void tinyeit_platform_write(const char *text) { Serial.print(text); }

void setup() {
  Serial.begin(115200);
  while (!Serial) {}
  delay(200);
  tinyeit_platform_init();
  tinyeit_harness_run();
}

void loop() { delay(1000); }
