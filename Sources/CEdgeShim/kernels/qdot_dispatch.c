// Picks the int8 dot tile once at run time: AVX2 by cpuid, NEON always on ARM, SDOT when the kernel reports
// HWCAP_ASIMDDP. The fp32 "portable" switch (cedge_force_portable) also forces the generic tile.
#include <pthread.h>
#include <string.h>
#include "cedge_qkernels.h"
#include "kernels_internal.h"
#include "qkernels_internal.h"
#if defined(__aarch64__) && defined(__linux__)
#include <sys/auxv.h>
#ifndef HWCAP_ASIMDDP
#define HWCAP_ASIMDDP (1UL << 20)
#endif
#endif

typedef struct {
    const char *name;
    cedge_qdot_fn fn;
} qpath;

static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static qpath g_paths[4];     // paths this CPU runs, best first; the last is generic
static int g_npaths;
static const qpath *g_chosen;

static void detect(void) {
    g_npaths = 0;
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2")) g_paths[g_npaths++] = (qpath){"avx2", cedge_qdot_avx2};
#endif
#if defined(__aarch64__) && defined(__linux__)
    if (getauxval(AT_HWCAP) & HWCAP_ASIMDDP) g_paths[g_npaths++] = (qpath){"neon-dotprod", cedge_qdot_neon_dotprod};
#endif
#if defined(__aarch64__) || defined(__ARM_NEON)
    g_paths[g_npaths++] = (qpath){"neon", cedge_qdot_neon};
#endif
    g_paths[g_npaths++] = (qpath){"generic", cedge_qdot_generic};
    g_chosen = &g_paths[0];
}

cedge_qdot_fn cedge_qdot_active(void);
cedge_qdot_fn cedge_qdot_active(void) {
    pthread_once(&g_once, detect);
    if (cedge_active_isa() == NULL) return cedge_qdot_generic;
    return g_chosen->fn;
}

const char *cedge_qkernel_isa(void) {
    pthread_once(&g_once, detect);
    return cedge_active_isa() == NULL ? "generic" : g_chosen->name;
}

int cedge_qkernel_select(const char *name) {
    pthread_once(&g_once, detect);
    if (name == NULL || name[0] == 0 || strcmp(name, "auto") == 0) {
        g_chosen = &g_paths[0];
        return 0;
    }
    for (int i = 0; i < g_npaths; i++)
        if (strcmp(name, g_paths[i].name) == 0) {
            g_chosen = &g_paths[i];
            return 0;
        }
    return -1;
}
