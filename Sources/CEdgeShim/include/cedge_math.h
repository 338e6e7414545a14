// libm for Swift code that cannot import Glibc/Foundation (Embedded builds): thin inline wrappers.
#ifndef CEDGE_MATH_H
#define CEDGE_MATH_H
#include <math.h>
static inline float cedge_expf(float x) { return expf(x); }
static inline float cedge_logf(float x) { return logf(x); }
static inline float cedge_erff(float x) { return erff(x); }
static inline float cedge_tanhf(float x) { return tanhf(x); }
static inline float cedge_powf(float x, float y) { return powf(x, y); }
static inline float cedge_sqrtf(float x) { return sqrtf(x); }
static inline float cedge_sinf(float x) { return sinf(x); }
static inline float cedge_cosf(float x) { return cosf(x); }
static inline float cedge_tanf(float x) { return tanf(x); }
static inline float cedge_asinf(float x) { return asinf(x); }
static inline float cedge_acosf(float x) { return acosf(x); }
static inline float cedge_atanf(float x) { return atanf(x); }
static inline float cedge_sinhf(float x) { return sinhf(x); }
static inline float cedge_coshf(float x) { return coshf(x); }
static inline float cedge_asinhf(float x) { return asinhf(x); }
static inline float cedge_acoshf(float x) { return acoshf(x); }
static inline float cedge_atanhf(float x) { return atanhf(x); }
static inline float cedge_log1pf(float x) { return log1pf(x); }
static inline float cedge_nearbyintf(float x) { return nearbyintf(x); }  // round half to even
static inline float cedge_fmodf(float x, float y) { return fmodf(x, y); }
static inline double cedge_exp(double x) { return exp(x); }
static inline double cedge_log(double x) { return log(x); }
static inline double cedge_pow(double x, double y) { return pow(x, y); }
static inline double cedge_sqrt(double x) { return sqrt(x); }
static inline double cedge_erf(double x) { return erf(x); }
static inline double cedge_tanh(double x) { return tanh(x); }
#endif
