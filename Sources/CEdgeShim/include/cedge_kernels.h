// Hot numeric kernels: convolution, GEMM, pooling (fp32). Portable C always; AVX2/FMA on x86_64 and NEON
// on aarch64/armv7 chosen in kernels/dispatch.c. Layout is NCHW (N-d: N, C, D1..Dk), row-major, dense.
#ifndef CEDGE_KERNELS_H
#define CEDGE_KERNELS_H
#include <stddef.h>
#include <stdint.h>

#define CEDGE_MAX_SPATIAL 3

// Worker threads used by every kernel (default: all online cores). n < 1 means all cores.
void cedge_set_threads(int n);
int cedge_get_threads(void);
// Fills every kernel scratch buffer with NaN, for tests: run between two calls, it shows a kernel that reads
// scratch it did not write in the second call (a skipped padded copy would otherwise read the first's).
void cedge_scratch_poison(void);
// Name of the code path the dispatcher chose ("avx2-fma", "neon", "portable").
const char *cedge_kernel_isa(void);
// Forces the portable path (tests compare the fast path against it). 1 = portable only, 0 = back to the best
// path for this CPU.
void cedge_force_portable(int on);
// Selects a code path by name, for tests and benchmarks: "auto" (or NULL) = best for this CPU, "portable",
// "generic" (blocked GEMM with a plain-C micro-kernel, the fast path of CPUs without SIMD support here), or the
// CPU's SIMD path ("avx2-fma" / "neon"). Returns 0, or -1 (selection unchanged) when the path is unavailable.
int cedge_kernel_select(const char *name);

// C[M,N] = alpha * op(A) * op(B) + beta * C. Row-major; op(A) is MxK, op(B) is KxN. beta == 0 ignores C's
// previous contents (NaN-safe).
void cedge_sgemm(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a, int lda,
                 const float *b, int ldb, float beta, float *c, int ldc);

// Convolution and transposed convolution, resolved by the caller (pads, auto_pad, output sizes).
typedef struct {
    int spatial;                          // number of spatial dims, 1..3
    int batch, in_channels, out_channels, groups;
    int in_size[CEDGE_MAX_SPATIAL];       // input spatial sizes
    int out_size[CEDGE_MAX_SPATIAL];      // output spatial sizes
    int kernel[CEDGE_MAX_SPATIAL];
    int stride[CEDGE_MAX_SPATIAL];
    int dilation[CEDGE_MAX_SPATIAL];
    int pad_begin[CEDGE_MAX_SPATIAL];     // leading pads (trailing pads are implied by out_size)
    float clamp_min, clamp_max;           // fused activation: y = min(max(y, clamp_min), clamp_max)
} cedge_conv_desc;

// Conv: w is [out_channels, in_channels/groups, k...], bias [out_channels] or NULL.
void cedge_conv_f32(const cedge_conv_desc *d, const float *x, const float *w, const float *bias, float *y);
// Conv with a per-output-channel affine epilogue (a BatchNormalization folded in at run time): with s the plain
// convolution sum, y = clamp(s * scale[oc] + shift[oc]). scale NULL means 1 and shift NULL means 0, so
// cedge_conv_f32 is this with scale NULL and shift = bias.
void cedge_conv_f32_affine(const cedge_conv_desc *d, const float *x, const float *w, const float *scale,
                           const float *shift, float *y);
// The same with the weights packed once (for constant weights): cedge_conv_f32_packed_bytes is the buffer size
// (0 when this conv on the current code path has no packed form: pass NULL then), cedge_conv_f32_pack fills a
// 64-byte aligned buffer of that size. A pack made before another code path was selected is ignored.
size_t cedge_conv_f32_packed_bytes(const cedge_conv_desc *d);
void cedge_conv_f32_pack(const cedge_conv_desc *d, const float *w, void *packed);
void cedge_conv_f32_affine_packed(const cedge_conv_desc *d, const float *x, const float *w, const void *packed,
                                  const float *scale, const float *shift, float *y);
// A residual join fused into a conv (ResNet's Add after its last conv, with or without the Relu after it): r
// holds a tensor of y's shape; after the epilogue (and its clamp) each output becomes y + r, then, with relu,
// max(y + r, 0) with NaN -> 0 as cedge_add_relu_f32. Equal bit for bit to the conv followed by cedge_add_f32 or
// cedge_add_relu_f32; r must not overlap y.
typedef struct {
    const float *r;
    int relu;
} cedge_conv_residual;
void cedge_conv_f32_affine_packed_res(const cedge_conv_desc *d, const float *x, const float *w, const void *packed,
                                      const float *scale, const float *shift, const cedge_conv_residual *res, float *y);
void cedge_conv_f16w_affine_packed_res(const cedge_conv_desc *d, const float *x, const uint16_t *w,
                                       const void *packed, const float *scale, const float *shift,
                                       const cedge_conv_residual *res, float *y);
// One conv of a cedge_conv_f32_pair call: what cedge_conv_f32_affine_packed takes besides x.
typedef struct {
    const cedge_conv_desc *d;
    const float *w;
    const void *packed;   // NULL or cedge_conv_f32_pack's buffer
    const float *scale, *shift;
    float *y;
} cedge_conv_job;
// Two fp32 convs of the same input x, as a ResNet block's strided conv and its 1x1 shortcut: when the second
// reads one tap of the first's window and both take the pixel-rows GEMM, one pass over the input computes
// both; otherwise they run one after the other. Either way the outputs equal two cedge_conv_f32_affine_packed
// calls bit for bit.
void cedge_conv_f32_pair(const float *x, const cedge_conv_job *a, const cedge_conv_job *b);
// fp16 weights (binary16 bit patterns, same layout as w), fp32 arithmetic: the packed form is binary16 too, and
// the GEMM widens it one cache-sized block at a time, so the session holds half the weight bytes. The unpacked
// paths widen the whole tensor into scratch per call. cedge_conv_f16w_pack returns 0, or -1 when out of memory.
size_t cedge_conv_f16w_packed_bytes(const cedge_conv_desc *d);
int cedge_conv_f16w_pack(const cedge_conv_desc *d, const uint16_t *w, void *packed);
void cedge_conv_f16w_affine_packed(const cedge_conv_desc *d, const float *x, const uint16_t *w,
                                   const void *packed, const float *scale, const float *shift, float *y);
// binary16 <-> binary32: widening is exact; narrowing rounds to nearest even (overflow to infinity).
float cedge_half_to_float(uint16_t h);
uint16_t cedge_float_to_half(float f);
// dst[i] = src[i] widened, in bulk (F16C, NEON or portable C, per the active path).
void cedge_half_to_float_n(size_t n, const uint16_t *src, float *dst);
// How fp16 weights run here: "native fp16 (neon-fp16)" on ARMv8.2 FP16 CPUs (binary16 products and sums within
// a K block, CEDGE_FP16=widen turns it off), else "widened (f16c|neon|portable)" to fp32 arithmetic.
const char *cedge_half_path(void);
// Which Winograd F(4x4, 3x3) layout this conv takes on the current code path: 0 none, 1 tiles in lanes,
// 2 output channels in lanes (tests use it to know they exercise the path).
int cedge_conv_f32_winograd(const cedge_conv_desc *d);
// 1 when this conv takes the pixel-rows GEMM for strided convs on the current code path (tests check they
// exercise it).
int cedge_conv_f32_pixel_rows(const cedge_conv_desc *d);
// y = a + b and y = max(x, 0) (NaN -> 0) over n floats; y may be a, b or x (in place). Split over the pool
// when large.
void cedge_add_f32(size_t n, const float *a, const float *b, float *y);
void cedge_relu_f32(size_t n, const float *x, float *y);
// y = max(a + b, 0) (NaN -> 0), the residual Add and its Relu in one pass; in place allowed.
void cedge_add_relu_f32(size_t n, const float *a, const float *b, float *y);
// ConvTranspose: w is [in_channels, out_channels/groups, k...], bias [out_channels] or NULL.
// pad_begin/out_size follow ONNX's ConvTranspose meaning (output may be cropped by pads).
void cedge_conv_transpose_f32(const cedge_conv_desc *d, const float *x, const float *w, const float *bias,
                              float *y);

typedef enum { CEDGE_POOL_MAX = 0, CEDGE_POOL_AVG = 1 } cedge_pool_kind;

typedef struct {
    int spatial;
    int kind;                             // cedge_pool_kind
    int batch, channels;
    int in_size[CEDGE_MAX_SPATIAL];
    int out_size[CEDGE_MAX_SPATIAL];
    int kernel[CEDGE_MAX_SPATIAL];
    int stride[CEDGE_MAX_SPATIAL];
    int dilation[CEDGE_MAX_SPATIAL];
    int pad_begin[CEDGE_MAX_SPATIAL];
    int pad_end[CEDGE_MAX_SPATIAL];
    int count_include_pad;                // AVG: divide by the full window (pads counted) instead of valid cells
} cedge_pool_desc;

// Windows that run past the padded input (ceil_mode) only cover valid cells. For MAX, indices (may be
// NULL) receive ONNX MaxPool's index of each maximum: the flat row-major index into the whole input
// tensor, (((n * C + c) * D1 + d1) * D2 + d2)...
void cedge_pool_f32(const cedge_pool_desc *d, const float *x, float *y, int64_t *indices);

// Global average over all spatial cells of each (n, c).
void cedge_global_avg_pool_f32(int batch, int channels, int cells, const float *x, float *y);
#endif
