// Picks the kernel code path once at run time (AVX2/FMA, NEON, generic C) and lets tests force another one.
#include <pthread.h>
#include <string.h>

#include "kernels_internal.h"

static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static const cedge_isa *g_best;      // fastest path this CPU runs
static const cedge_isa *g_active;    // path in force; NULL = portable reference path

static void detect(void) {
    g_best = &cedge_isa_generic;
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) g_best = &cedge_isa_avx2;
#elif defined(__aarch64__) || defined(__ARM_NEON)
    // NEON is baseline on aarch64; armv7 builds only define __ARM_NEON when compiled for a NEON FPU.
    g_best = &cedge_isa_neon;
#endif
    g_active = g_best;
}

const cedge_isa *cedge_active_isa(void) {
    pthread_once(&g_once, detect);
    return g_active;
}

const char *cedge_kernel_isa(void) {
    const cedge_isa *isa = cedge_active_isa();
    return isa ? isa->name : "portable";
}

void cedge_force_portable(int on) {
    pthread_once(&g_once, detect);
    g_active = on ? NULL : g_best;
}

int cedge_kernel_select(const char *name) {
    pthread_once(&g_once, detect);
    if (name == NULL || name[0] == 0 || strcmp(name, "auto") == 0) {
        g_active = g_best;
        return 0;
    }
    if (strcmp(name, "portable") == 0) {
        g_active = NULL;
        return 0;
    }
    if (strcmp(name, cedge_isa_generic.name) == 0) {
        g_active = &cedge_isa_generic;
        return 0;
    }
    // Only the detected SIMD path may be chosen: the others are either not compiled in or would fault.
    if (g_best != &cedge_isa_generic && strcmp(name, g_best->name) == 0) {
        g_active = g_best;
        return 0;
    }
    return -1;
}
