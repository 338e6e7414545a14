/*
 * A QEMU TCG plugin that counts guest instructions executed (qemu-user 7.2, plugin API version 1):
 *   qemu-aarch64 -plugin out/insncount/libinsncount.so[,out=FILE] BINARY ARGS...
 * prints "insncount: N instructions" on stderr, or into FILE, when the guest exits.
 * Build: gcc -O2 -shared -fPIC -o libinsncount.so insncount.c (scripts/insncount.sh does it).
 *
 * Debian's qemu-user is built with plugin support but ships neither example plugins nor the
 * qemu-plugin.h header, so the handful of API entry points used here are declared below from the
 * documented plugin API (the symbols are resolved against the qemu binary at load time).
 *
 * Counting is per translation block: when a block is translated, an inline add of its instruction
 * count is attached to its execution, so the running total costs one add per executed block. A block
 * left early by an exception over-counts its tail; guest code here (edge-agent) does not fault.
 * The counter is shared by all vCPUs without atomics: run the guest single-threaded (--threads 1).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

typedef uint64_t qemu_plugin_id_t;
struct qemu_info_t;
struct qemu_plugin_tb;

enum qemu_plugin_op { QEMU_PLUGIN_INLINE_ADD_U64 = 0 };

typedef void (*qemu_plugin_vcpu_tb_trans_cb_t)(qemu_plugin_id_t id, struct qemu_plugin_tb *tb);
typedef void (*qemu_plugin_udata_cb_t)(qemu_plugin_id_t id, void *userdata);

extern void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id, qemu_plugin_vcpu_tb_trans_cb_t cb);
extern void qemu_plugin_register_vcpu_tb_exec_inline(struct qemu_plugin_tb *tb, enum qemu_plugin_op op,
                                                     void *ptr, uint64_t imm);
extern size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
extern void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id, qemu_plugin_udata_cb_t cb, void *userdata);

#define EXPORT __attribute__((visibility("default")))

/* The API version this plugin is written against; qemu 7.2 accepts 0...1. */
EXPORT int qemu_plugin_version = 1;

static uint64_t executed;
static char out_path[512];

static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb) {
    (void)id;
    qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64, &executed, qemu_plugin_tb_n_insns(tb));
}

static void report_at_exit(qemu_plugin_id_t id, void *userdata) {
    (void)id; (void)userdata;
    char line[64];
    snprintf(line, sizeof line, "insncount: %llu instructions\n", (unsigned long long)executed);
    FILE *f = out_path[0] ? fopen(out_path, "w") : NULL;
    if (f) {
        fputs(line, f);
        fclose(f);
    } else {
        /* qemu_plugin_outs() would go to qemu's log, which qemu-user only opens with -d plugin. */
        fputs(line, stderr);
    }
}

EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const struct qemu_info_t *info, int argc, char **argv) {
    (void)info;
    for (int i = 0; i < argc; i++) {
        if (strncmp(argv[i], "out=", 4) == 0) {
            snprintf(out_path, sizeof out_path, "%s", argv[i] + 4);
        } else {
            fprintf(stderr, "insncount: unknown argument '%s' (out=FILE)\n", argv[i]);
            return -1;
        }
    }
    qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
    qemu_plugin_register_atexit_cb(id, report_at_exit, NULL);
    return 0;
}
