/* QEMU TCG plugin (plugin API version 1, QEMU 7.x user mode): deterministic instruction counts.
 *
 * Under qemu-aarch64 the firmware's clock_gettime ticks are host nanoseconds, so they are
 * neither deterministic nor the board's time. This plugin counts every executed guest
 * instruction and prints the running count at each clock_gettime system call, one line each:
 *     TINYEIT_INSN <count>
 * on stderr. The firmware reads the clock just before and just after each inference, so the
 * difference of consecutive pairs is the instructions of one inference (plus the fixed few of
 * the clock_gettime wrapper). The plugin API comes from qemu_plugin_api.h beside it.
 */
#include <inttypes.h>
#include <stdio.h>

#include "qemu_plugin_api.h"

PLUGIN_EXPORT int qemu_plugin_version = 1;

/* aarch64 Linux system call number of clock_gettime. */
#define SYS_CLOCK_GETTIME 113

static uint64_t executed;

static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
    size_t n = qemu_plugin_tb_n_insns(tb);
    /* Per instruction, not per block: a block left early (fault, syscall) still counts exactly. */
    for (size_t i = 0; i < n; i++) {
        qemu_plugin_register_vcpu_insn_exec_inline(qemu_plugin_tb_get_insn(tb, i),
                                                   QEMU_PLUGIN_INLINE_ADD_U64, &executed, 1);
    }
}

static void on_syscall(qemu_plugin_id_t id, unsigned int vcpu_index, int64_t num,
                       uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4,
                       uint64_t a5, uint64_t a6, uint64_t a7, uint64_t a8)
{
    if (num == SYS_CLOCK_GETTIME) {
        fprintf(stderr, "TINYEIT_INSN %" PRIu64 "\n", executed);
        fflush(stderr);
    }
}

PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const struct qemu_info_t *info,
                                      int argc, char **argv)
{
    qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
    qemu_plugin_register_vcpu_syscall_cb(id, on_syscall);
    return 0;
}
