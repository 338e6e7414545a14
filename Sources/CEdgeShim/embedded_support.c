// C symbols that Embedded Swift code expects from its platform, for the board build (static Linux
// userspace binaries, see toolchains/ and scripts/cross-build.sh). The Embedded stdlib is built for
// bare-metal triples and leaves these to the "platform"; on a desktop Swift toolchain the Swift runtime
// (libswiftCore) provides them instead, so this whole file only exists when the cross build asks for it
// with -DCEDGE_EMBEDDED_SUPPORT and the host SwiftPM build compiles it to nothing.
//
// Every definition is weak: when the C library linked in does have the symbol (glibc >= 2.36 has
// arc4random_buf) and something else pulls that archive member in, the libc one wins without a
// duplicate-definition error; when nothing else needs it, ours satisfies the reference.
#if defined(CEDGE_EMBEDDED_SUPPORT)

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/syscall.h>
#include <unistd.h>

#define CEDGE_WEAK __attribute__((weak, used))

// --- randomness: Hasher's per-process seed, SystemRandomNumberGenerator --------------------------------
// Embedded Swift calls arc4random_buf, which glibc only gained in 2.36 (boards on Debian 11 / Raspberry
// Pi OS bullseye have 2.31, and older Jetson L4T releases have 2.27 or 2.31). Uses getrandom(2) (Linux
// 3.17+) through syscall() so it does not depend on the libc wrapper, and /dev/urandom before that.
CEDGE_WEAK void arc4random_buf(void *buffer, size_t length) {
    uint8_t *out = buffer;
    size_t done = 0;
#if defined(SYS_getrandom)
    while (done < length) {
        long n = syscall(SYS_getrandom, out + done, length - done, 0);
        if (n > 0) { done += (size_t)n; continue; }
        if (n < 0 && errno == EINTR) continue;
        break;  // ENOSYS (kernel older than 3.17) or another failure: fall back below
    }
#endif
    if (done < length) {
        int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
        while (fd >= 0 && done < length) {
            ssize_t n = read(fd, out + done, length - done);
            if (n > 0) done += (size_t)n;
            else if (n < 0 && errno == EINTR) continue;
            else break;
        }
        if (fd >= 0) close(fd);
    }
    if (done < length) abort();  // never hand out predictable "random" bytes
}

// --- floating-point parsing: Float("1.5"), Double(text) --------------------------------------------
// The stdlib's LosslessStringConvertible initializers call these runtime stubs (declared in Swift's
// shims/RuntimeShims.h): parse with the C locale, store the value in *out, return the end of the parsed
// text, or NULL when the value is out of range. Same contract as the Swift runtime's Stubs.cpp.
static locale_t cedge_c_locale(void) {
    static locale_t c_locale;
    locale_t current = __atomic_load_n(&c_locale, __ATOMIC_ACQUIRE);
    if (current) return current;
    locale_t made = newlocale(LC_ALL_MASK, "C", (locale_t)0);
    locale_t expected = (locale_t)0;
    if (!__atomic_compare_exchange_n(&c_locale, &expected, made, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
        freelocale(made);
        return expected;
    }
    return made;
}

// "snan", "+snan", "-snan" (any case), which strto* does not know: a signaling NaN with that sign.
static int cedge_is_signaling_nan(const char *text, int *negative) {
    *negative = 0;
    if (*text == '+' || *text == '-') { *negative = *text == '-'; text++; }
    return strcasecmp(text, "snan") == 0;
}

CEDGE_WEAK const char *_swift_stdlib_strtod_clocale(const char *nptr, double *out) {
    int negative;
    if (cedge_is_signaling_nan(nptr, &negative)) {
        double value = __builtin_nans("");
        *out = negative ? -value : value;
        return nptr + strlen(nptr);
    }
    char *end;
    errno = 0;
    double value = strtod_l(nptr, &end, cedge_c_locale());
    *out = value;
    if ((value == __builtin_huge_val() || value == -__builtin_huge_val() || value == 0.0) && errno == ERANGE)
        return NULL;
    return end;
}

CEDGE_WEAK const char *_swift_stdlib_strtof_clocale(const char *nptr, float *out) {
    int negative;
    if (cedge_is_signaling_nan(nptr, &negative)) {
        float value = __builtin_nansf("");
        *out = negative ? -value : value;
        return nptr + strlen(nptr);
    }
    char *end;
    errno = 0;
    float value = strtof_l(nptr, &end, cedge_c_locale());
    *out = value;
    if ((value == __builtin_huge_valf() || value == -__builtin_huge_valf() || value == 0.0f) && errno == ERANGE)
        return NULL;
    return end;
}

#if defined(__aarch64__)
// Float16(text): parsed as float, then rounded (double rounding is harmless at these precisions except
// for exact ties, which the Swift runtime's own stub handles the same way).
CEDGE_WEAK const char *_swift_stdlib_strtof16_clocale(const char *nptr, __fp16 *out) {
    float value;
    const char *end = _swift_stdlib_strtof_clocale(nptr, &value);
    *out = (__fp16)value;
    return end;
}
#endif

#if defined(__arm__)
// --- Float16 conversions on 32-bit ARM ------------------------------------------------------------------
// Swift compiled for the bare-metal armv7-none-none-eabi triple converts Float16 through the ARM RTABI
// helpers __aeabi_d2h/__aeabi_f2h/__aeabi_h2f; GNU libgcc for gnueabihf only ships the same routines
// under their __gnu_*_ieee names. All of them take and return bit patterns in core registers (base
// AAPCS, which RTABI helpers use even in hard-float programs), so forwarding keeps the calling convention.
unsigned short __gnu_d2h_ieee(unsigned long long bits);
unsigned short __gnu_f2h_ieee(unsigned int bits);
unsigned int __gnu_h2f_ieee(unsigned short bits);
CEDGE_WEAK unsigned short __aeabi_d2h(unsigned long long bits) { return __gnu_d2h_ieee(bits); }
CEDGE_WEAK unsigned short __aeabi_f2h(unsigned int bits) { return __gnu_f2h_ieee(bits); }
CEDGE_WEAK unsigned int __aeabi_h2f(unsigned short bits) { return __gnu_h2f_ieee(bits); }
#endif

#endif  // CEDGE_EMBEDDED_SUPPORT
