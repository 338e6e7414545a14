// binary16 <-> binary32 conversion for fp16-weight kernels: weights are stored as binary16 and widened to fp32
// just before the arithmetic (F16C on x86, FCVTL on aarch64 / VCVT.F32.F16 on armv7 NEON, else portable C),
// unless the CPU does fp16 arithmetic itself (cedge_half_native).
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "kernels_internal.h"
#if defined(__aarch64__) && defined(__linux__)
#include <sys/auxv.h>
#ifndef HWCAP_FPHP
#define HWCAP_FPHP (1UL << 9)
#endif
#ifndef HWCAP_ASIMDHP
#define HWCAP_ASIMDHP (1UL << 10)
#endif
#endif

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif
#if defined(__ARM_NEON) && (defined(__aarch64__) || ((__ARM_FP & 2) && defined(__ARM_FP16_FORMAT_IEEE)))
#include <arm_neon.h>
#define HALF_NEON 1
#endif

static inline uint32_t f32_bits(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static inline float bits_f32(uint32_t u) {
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

// Exact for every binary16 value, subnormals, infinities and NaNs included.
float cedge_half_to_float(uint16_t h) {
    const uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    const uint32_t exp = (h >> 10) & 0x1Fu, man = h & 0x3FFu;
    if (exp == 0x1Fu) return bits_f32(sign | 0x7F800000u | (man << 13));   // inf / NaN (payload kept)
    if (exp != 0) return bits_f32(sign | ((exp + 112u) << 23) | (man << 13));
    // Zero or subnormal: man * 2^-24, exact in binary32.
    const float v = (float)man * (1.0f / 16777216.0f);
    return sign ? -v : v;
}

// Round to nearest, ties to even (what Swift's Float16(Float) does), overflow to infinity, NaN stays NaN.
uint16_t cedge_float_to_half(float f) {
    const uint32_t u = f32_bits(f);
    const uint16_t sign = (uint16_t)((u >> 16) & 0x8000u);
    const uint32_t abs = u & 0x7FFFFFFFu;
    if (abs > 0x7F800000u) return sign | 0x7E00u | (uint16_t)((abs >> 13) & 0x1FFu);   // quiet NaN
    if (abs >= 0x477FF000u) return sign | 0x7C00u;   // rounds to >= 65520: infinity
    if (abs < 0x38800000u) {
        // Below the smallest normal (2^-14): the subnormal grid is a multiple of 2^-24; the float's own
        // rounding to nearest even in this add does the work.
        const float scaled = bits_f32(abs) + 0.5f;   // 0.5 = 2^-1: the 2^-24 step lands on the last mantissa bit
        return sign | (uint16_t)(f32_bits(scaled) - 0x3F000000u);
    }
    // Normal: rebias, then round the 13 dropped bits to nearest even (a carry may bump the exponent, correctly).
    const uint32_t mant_odd = (abs >> 13) & 1u;
    const uint32_t r = (abs + 0xFFFu + mant_odd) >> 13;
    return sign | (uint16_t)(r - (112u << 10));
}

static void widen_portable(size_t n, const uint16_t *src, float *dst) {
    for (size_t i = 0; i < n; i++) dst[i] = cedge_half_to_float(src[i]);
}

#if defined(__x86_64__) || defined(__i386__)
__attribute__((target("f16c,avx"))) static void widen_f16c(size_t n, const uint16_t *src, float *dst) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(const void *)(src + i))));
    for (; i < n; i++) dst[i] = cedge_half_to_float(src[i]);
}

static int has_f16c(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx") && __builtin_cpu_supports("f16c");
}
#endif

#if HALF_NEON
static void widen_neon(size_t n, const uint16_t *src, float *dst) {
    size_t i = 0;
    for (; i + 4 <= n; i += 4) vst1q_f32(dst + i, vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(src + i))));
    for (; i < n; i++) dst[i] = cedge_half_to_float(src[i]);
}
#endif

void cedge_half_to_float_n(size_t n, const uint16_t *src, float *dst) {
    // The portable reference path (cedge_force_portable) widens in plain C too, so tests can compare.
    if (!cedge_active_isa()) {
        widen_portable(n, src, dst);
        return;
    }
#if defined(__x86_64__) || defined(__i386__)
    static int f16c = -1;
    if (f16c < 0) f16c = has_f16c();
    if (f16c) {
        widen_f16c(n, src, dst);
        return;
    }
#elif HALF_NEON
    widen_neon(n, src, dst);
    return;
#endif
    widen_portable(n, src, dst);
}

// ARMv8.2 FP16 arithmetic, seen once: Raspberry Pi 5 and Jetson Orin have it, Pi 4 and Jetson Nano do not.
static pthread_once_t g_native_once = PTHREAD_ONCE_INIT;
static int g_native_cpu;

static void detect_native(void) {
#if defined(__aarch64__) && defined(__linux__)
    const unsigned long hw = getauxval(AT_HWCAP);
    g_native_cpu = (hw & HWCAP_FPHP) && (hw & HWCAP_ASIMDHP);
#endif
    const char *env = getenv("CEDGE_FP16");
    if (env && strcmp(env, "widen") == 0) g_native_cpu = 0;
}

int cedge_half_native(void) {
    pthread_once(&g_native_once, detect_native);
    const cedge_isa *isa = cedge_active_isa();
    return g_native_cpu && isa && isa->ukernel_f16a;
}

const char *cedge_half_path(void) {
    if (cedge_half_native()) return "native fp16 (neon-fp16)";
    if (!cedge_active_isa()) return "widened (portable)";
#if defined(__x86_64__) || defined(__i386__)
    return has_f16c() ? "widened (f16c)" : "widened (portable)";
#elif HALF_NEON
    return "widened (neon)";
#else
    return "widened (portable)";
#endif
}
