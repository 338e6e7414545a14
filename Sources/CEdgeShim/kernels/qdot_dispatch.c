// Picks the int8 path once at run time: AVX-512 VNNI, then AVX2, by cpuid on x86; NEON always on ARM, SDOT when
// the kernel reports HWCAP_ASIMDDP. The fp32 "portable" switch (cedge_force_portable) also forces generic C.
#include <pthread.h>
#include <string.h>
#include "cedge_qkernels.h"
#include "kernels_internal.h"
#include "qconv_int8_plan.h"
#include "qkernels_internal.h"
#if defined(__aarch64__) && defined(__linux__)
#include <sys/auxv.h>
#ifndef HWCAP_ASIMDDP
#define HWCAP_ASIMDDP (1UL << 20)
#endif
#endif

static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static cedge_qdirect_path g_paths[4];   // paths this CPU runs, best first; the last is generic
static int g_npaths;
static const cedge_qdirect_path *g_chosen;
static const cedge_qdirect_path g_generic = {"generic", cedge_qdot_generic, cedge_qdirect_generic, 1, NULL};

static void detect(void) {
    g_npaths = 0;
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx2"))
        g_paths[g_npaths++] = (cedge_qdirect_path){"avx512-vnni", cedge_qdot_avx2, cedge_qdirect_avx512vnni, 1, cedge_qadd_avx512};
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        g_paths[g_npaths++] = (cedge_qdirect_path){"avx2", cedge_qdot_avx2, cedge_qdirect_avx2, 1, cedge_qadd_avx2};
#endif
#if defined(__aarch64__) && defined(__linux__)
    if (getauxval(AT_HWCAP) & HWCAP_ASIMDDP)
        g_paths[g_npaths++] = (cedge_qdirect_path){"neon-dotprod", cedge_qdot_neon_dotprod, cedge_qdirect_neon_dotprod, 0, NULL};
#endif
#if defined(__aarch64__) || defined(__ARM_NEON)
    g_paths[g_npaths++] = (cedge_qdirect_path){"neon", cedge_qdot_neon, cedge_qdirect_neon, 0, NULL};
#endif
    g_paths[g_npaths++] = g_generic;
    g_chosen = &g_paths[0];
}

const cedge_qdirect_path *cedge_qpath_active(void) {
    pthread_once(&g_once, detect);
    if (cedge_active_isa() == NULL) return &g_generic;
    return g_chosen;
}

const char *cedge_qkernel_isa(void) {
    return cedge_qpath_active()->name;
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
