/* The tflm engine's model: TensorFlow Lite Micro's interpreter over the embedded .tflite, with an
 * op resolver of just the model's ops, behind the same two calls as the generated C
 * (tinyeit_prepare, tinyeit_invoke), so the harness and its result lines are the same.
 * TINYEIT_TFLM_ARENA_BYTES is set by the build. The measuring build (TINYEIT_TFLM_MEASURE, a
 * large arena) prints before BEGIN TFLM's arena_used_bytes() and the smallest arena, in 16-byte
 * steps, with which AllocateTensors succeeds (it needs temporary room while it plans, so that
 * can be more than arena_used_bytes); the firmware is then built with that smallest arena. */
#include <new>
#include <stdint.h>
#include <string.h>

#include "tensorflow/lite/micro/micro_interpreter.h"
#include "tensorflow/lite/micro/micro_mutable_op_resolver.h"
#include "tensorflow/lite/schema/schema_generated.h"
#ifdef TINYEIT_TFLM_LOG_CALLBACK
#include "tensorflow/lite/micro/cortex_m_generic/debug_log_callback.h"
#endif

extern "C" {
#include "model.h"
#include "tinyeit_platform.h"
}
#include "tinyeit_tflm_model.h"
#include "tinyeit_tflm_ops.h"

#ifndef TINYEIT_TFLM_ARENA_BYTES
#error "the build sets TINYEIT_TFLM_ARENA_BYTES"
#endif

namespace {

alignas(16) uint8_t tensor_arena[TINYEIT_TFLM_ARENA_BYTES];
using Resolver = tflite::MicroMutableOpResolver<TINYEIT_TFLM_N_OPS>;
// Built in place by tinyeit_prepare: no global constructor to depend on.
alignas(Resolver) uint8_t resolver_storage[sizeof(Resolver)];
alignas(tflite::MicroInterpreter) uint8_t interpreter_storage[sizeof(tflite::MicroInterpreter)];
tflite::MicroInterpreter *interpreter = nullptr;

void write_line(const char *key, uint32_t value) {
    char text[64];
    char digits[10];
    int n = 0, k = 0;
    while (key[k] && k < 40) { text[k] = key[k]; ++k; }
    do { digits[n++] = (char)('0' + value % 10u); value /= 10u; } while (value);
    while (n) text[k++] = digits[--n];
    text[k++] = '\n';
    text[k] = '\0';
    tinyeit_platform_write(text);
}

#ifdef TINYEIT_TFLM_LOG_CALLBACK
void log_to_console(const char *text) { tinyeit_platform_write(text); }
#endif

}  // namespace

#ifdef TINYEIT_TFLM_BARE_METAL
extern "C" void tinyeit_run_constructors(void);
#endif

namespace {

bool allocates(const tflite::Model *model, Resolver &resolver, size_t size) {
    interpreter = new (interpreter_storage) tflite::MicroInterpreter(model, resolver, tensor_arena, size);
    return interpreter->AllocateTensors() == kTfLiteOk;
}

#ifdef TINYEIT_TFLM_MEASURE
/* The smallest multiple of 16 with which AllocateTensors succeeds: none below `used` can. */
size_t smallest_arena(const tflite::Model *model, Resolver &resolver, size_t used) {
    size_t lo = (used + 15u) / 16u * 16u;
    if (allocates(model, resolver, lo)) return lo;
    size_t step = 64u, hi = lo + step;            /* invariant: lo fails */
    while (hi < sizeof(tensor_arena) && !allocates(model, resolver, hi)) {
        lo = hi;
        step *= 2u;
        hi = lo + step;
    }
    if (hi >= sizeof(tensor_arena)) hi = sizeof(tensor_arena);
    while (hi - lo > 16u) {                        /* lo fails, hi succeeds */
        size_t mid = (lo + (hi - lo) / 2u) / 16u * 16u;
        if (mid <= lo) mid = lo + 16u;
        if (allocates(model, resolver, mid)) hi = mid; else lo = mid;
    }
    return hi;
}
#endif

}  // namespace

extern "C" int tinyeit_prepare(void) {
#ifdef TINYEIT_TFLM_BARE_METAL
    tinyeit_run_constructors();
#endif
#ifdef TINYEIT_TFLM_LOG_CALLBACK
    RegisterDebugLogCallback(log_to_console);
#endif
    const tflite::Model *model = tflite::GetModel(tinyeit_tflm_model);
    if (model->version() != TFLITE_SCHEMA_VERSION) return 2;
    Resolver *resolver = new (resolver_storage) Resolver();
    if (tinyeit_tflm_add_ops(*resolver) != kTfLiteOk) return 3;
    if (!allocates(model, *resolver, sizeof(tensor_arena))) return 4;
#ifdef TINYEIT_TFLM_MEASURE
    size_t used = interpreter->arena_used_bytes();
    size_t smallest = smallest_arena(model, *resolver, used);
    write_line("tflm arena_used_bytes=", (uint32_t)used);
    write_line("tflm arena_smallest_bytes=", (uint32_t)smallest);
    if (!allocates(model, *resolver, sizeof(tensor_arena))) return 4;
#endif
    const TfLiteTensor *in = interpreter->input(0);
    const TfLiteTensor *out = interpreter->output(0);
    if (in->bytes != TINYEIT_INPUT_SIZE * sizeof(TINYEIT_INPUT_TYPE)) return 5;
    if (out->bytes != TINYEIT_OUTPUT_SIZE * sizeof(TINYEIT_OUTPUT_TYPE)) return 6;
    return 0;
}

extern "C" int tinyeit_invoke(const void *input, void *output) {
    if (interpreter == nullptr || input == nullptr || output == nullptr) return 1;
    memcpy(interpreter->input(0)->data.raw, input, TINYEIT_INPUT_SIZE * sizeof(TINYEIT_INPUT_TYPE));
    if (interpreter->Invoke() != kTfLiteOk) return 7;
    memcpy(output, interpreter->output(0)->data.raw, TINYEIT_OUTPUT_SIZE * sizeof(TINYEIT_OUTPUT_TYPE));
    return 0;
}
