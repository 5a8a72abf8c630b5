/* The test harness every firmware runs: each embedded frame through tinyeit_invoke, timed, and
 * printed in the line protocol the deploy stage parses:
 *   TINYEIT BEGIN v=1 board=<b> frames=<n> in=<in> out=<out> clock_hz=<hz>
 *   TINYEIT FRAME i=<i> ticks=<uint32> out=<hex of the raw output bytes>
 *   TINYEIT END status=ok | TINYEIT END status=error code=<int>
 * No printf: the formatting is a few lines here, so the firmware needs no stdio.
 * An engine that sets itself up at run time (TFLite Micro: its interpreter and arena) defines
 * TINYEIT_HAS_PREPARE and tinyeit_prepare(), run once before BEGIN so that no frame's ticks
 * include it; a non-zero code ends the run with that error. */
#include <stdint.h>
#include <string.h>

#include "model.h"
#include "tinyeit_board.h"
#include "tinyeit_frames.h"
#include "tinyeit_platform.h"

static TINYEIT_OUTPUT_TYPE tinyeit_output[TINYEIT_OUTPUT_SIZE];
static char tinyeit_line[64 + 2 * sizeof(tinyeit_output)];

static char *put_str(char *p, const char *s) {
    while (*s) *p++ = *s++;
    return p;
}

static char *put_u32(char *p, uint32_t v) {
    char digits[10];
    int n = 0;
    do { digits[n++] = (char)('0' + v % 10u); v /= 10u; } while (v);
    while (n) *p++ = digits[--n];
    return p;
}

static char *put_i32(char *p, int32_t v) {
    if (v < 0) { *p++ = '-'; return put_u32(p, (uint32_t)0 - (uint32_t)v); }
    return put_u32(p, (uint32_t)v);
}

static char *put_hex(char *p, const void *data, uint32_t n) {
    static const char hex[] = "0123456789abcdef";
    const unsigned char *b = (const unsigned char *)data;
    for (uint32_t i = 0; i < n; ++i) { *p++ = hex[b[i] >> 4]; *p++ = hex[b[i] & 15u]; }
    return p;
}

static void emit(char *end) {
    *end++ = '\n';
    *end = '\0';
    tinyeit_platform_write(tinyeit_line);
}

#ifdef TINYEIT_HAS_PREPARE
int tinyeit_prepare(void);
#endif

int tinyeit_harness_run(void) {
#ifdef TINYEIT_HAS_PREPARE
    int prepared = tinyeit_prepare();
#else
    int prepared = 0;
#endif
    char *p = put_str(tinyeit_line, "TINYEIT BEGIN v=1 board=" TINYEIT_BOARD " frames=");
    p = put_u32(p, TINYEIT_N_FRAMES);
    p = put_str(p, " in=");
    p = put_u32(p, TINYEIT_INPUT_SIZE);
    p = put_str(p, " out=");
    p = put_u32(p, TINYEIT_OUTPUT_SIZE);
    p = put_str(p, " clock_hz=");
    p = put_u32(p, TINYEIT_CLOCK_HZ);
    emit(p);
    if (prepared != 0) {
        p = put_str(tinyeit_line, "TINYEIT END status=error code=");
        emit(put_i32(p, prepared));
        return prepared;
    }
    for (uint32_t i = 0; i < TINYEIT_N_FRAMES; ++i) {
        memset(tinyeit_output, 0, sizeof(tinyeit_output));
        uint32_t start = tinyeit_platform_ticks();
        int status = tinyeit_invoke(tinyeit_frames[i], tinyeit_output);
        uint32_t ticks = tinyeit_platform_ticks() - start;
        if (status != 0) {
            p = put_str(tinyeit_line, "TINYEIT END status=error code=");
            emit(put_i32(p, status));
            return status;
        }
        p = put_str(tinyeit_line, "TINYEIT FRAME i=");
        p = put_u32(p, i);
        p = put_str(p, " ticks=");
        p = put_u32(p, ticks);
        p = put_str(p, " out=");
        emit(put_hex(p, tinyeit_output, sizeof(tinyeit_output)));
    }
    emit(put_str(tinyeit_line, "TINYEIT END status=ok"));
    return 0;
}
