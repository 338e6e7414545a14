// Picks the kernel code path once at run time (AVX-512, AVX2/FMA, NEON, generic C) and lets tests force another.
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "kernels_internal.h"

static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static const cedge_isa *g_best;      // fastest path this CPU runs
static const cedge_isa *g_active;    // path in force; NULL = portable reference path
// Every SIMD path this CPU runs, fastest first: tests and benchmarks may select any of them by name.
static const cedge_isa *g_simd[4];
static int g_nsimd;

#if defined(__x86_64__)
// The OS must save zmm/opmask state on context switches, or AVX-512 faults (or corrupts) even though CPUID
// lists it. __builtin_cpu_supports() in both libgcc and compiler-rt already folds an XGETBV test into its
// avx512* bits, but that is an implementation detail, so it is checked here explicitly as well: CPUID.1:ECX
// OSXSAVE (bit 27) says XGETBV exists, then XCR0 must enable SSE (1), AVX (2), opmask (5), ZMM_Hi256 (6) and
// Hi16_ZMM (7).
static int os_saves_zmm(void) {
    unsigned eax, ebx, ecx, edx;
    __asm__ volatile("cpuid" : "=a"(eax), "=b"(ebx), "=c"(ecx), "=d"(edx) : "a"(1), "c"(0));
    if (!(ecx & (1u << 27))) return 0;
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    (void)hi;
    return (lo & 0xE6u) == 0xE6u;
}
#endif

static void detect(void) {
    g_best = &cedge_isa_generic;
    g_nsimd = 0;
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
#if defined(__x86_64__)
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
        __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("fma") &&
        os_saves_zmm())
        g_simd[g_nsimd++] = &cedge_isa_avx512;
#endif
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) g_simd[g_nsimd++] = &cedge_isa_avx2;
#elif defined(__aarch64__) || defined(__ARM_NEON)
    // NEON is baseline on aarch64; armv7 builds only define __ARM_NEON when compiled for a NEON FPU.
    g_simd[g_nsimd++] = &cedge_isa_neon;
#endif
    if (g_nsimd > 0) g_best = g_simd[0];
    g_active = g_best;
}

// CEDGE_KERNELS=<path name> starts a process on that path (benchmarks compare paths with binaries that have no
// selection flag); an unknown or unavailable name leaves the detected one.
static void detect_and_apply_env(void) {
    detect();
    const char *env = getenv("CEDGE_KERNELS");
    if (env && env[0]) {
        const cedge_isa *chosen = g_active;
        if (strcmp(env, "portable") == 0) {
            chosen = NULL;
        } else if (strcmp(env, cedge_isa_generic.name) == 0) {
            chosen = &cedge_isa_generic;
        } else {
            for (int i = 0; i < g_nsimd; i++)
                if (strcmp(env, g_simd[i]->name) == 0) chosen = g_simd[i];
        }
        g_active = chosen;
    }
}

const cedge_isa *cedge_active_isa(void) {
    pthread_once(&g_once, detect_and_apply_env);
    return g_active;
}

const char *cedge_kernel_isa(void) {
    const cedge_isa *isa = cedge_active_isa();
    return isa ? isa->name : "portable";
}

void cedge_force_portable(int on) {
    pthread_once(&g_once, detect_and_apply_env);
    g_active = on ? NULL : g_best;
}

int cedge_kernel_select(const char *name) {
    pthread_once(&g_once, detect_and_apply_env);
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
    // Only detected SIMD paths may be chosen: the others are either not compiled in or would fault.
    for (int i = 0; i < g_nsimd; i++)
        if (strcmp(name, g_simd[i]->name) == 0) {
            g_active = g_simd[i];
            return 0;
        }
    return -1;
}
