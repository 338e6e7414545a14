// Shared internals of the fp32 kernels: ISA table, GEMM core interface, thread pool and scratch buffers.
#ifndef CEDGE_KERNELS_INTERNAL_H
#define CEDGE_KERNELS_INTERNAL_H
#include <stddef.h>
#include <stdint.h>
#include "cedge_kernels.h"

// ---- micro-kernel epilogue ------------------------------------------------------------------------------
// What a micro-kernel does with its MR x NR accumulator tile `acc` when storing it to C:
//   load_c == 0: C = acc                     (beta == 0, or first K block with beta == 0: NaN-safe)
//   load_c == 1: C = beta * C + acc          (beta == 1 is special-cased to a plain add)
// then, if scale != NULL, C[r][*] *= scale[r], if bias != NULL, C[r][*] += bias[r] (both already offset to the
// tile's first row), and if clamp != 0, C = min(max(C, cmin), cmax). Scale, bias and clamp are only set for the
// last K block of a GEMM. This is the one affine epilogue every conv path applies (see cedge_conv_f32_affine).
typedef struct {
    int load_c;
    float beta;
    const float *bias;
    int clamp;
    float cmin, cmax;
    const float *scale;     // last, so positional initialisers that leave it out mean "no scale"
} cedge_ukp;

// Micro-kernel: a is a packed MR x k panel (k-major, MR floats per k), b a packed k x NR panel (NR floats per
// k, 64-byte aligned), c the tile's top-left element with row stride ldc. Stores the first m rows (1..MR) of
// the first n columns (1..NR); a kernel may skip computing rows past m.
typedef void (*cedge_ukernel_fn)(int m, int n, int k, const float *a, const float *b, float *c, size_t ldc,
                                 const cedge_ukp *p);
// Same with B read in place: row k of the k x NR panel is the NR floats at base + koff[k] (unaligned; reading
// all NR even when n < NR, so the source needs NR floats of slack).
typedef void (*cedge_ukernel_indirect_fn)(int m, int n, int k, const float *a, const float *base,
                                          const size_t *koff, float *c, size_t ldc, const cedge_ukp *p);

// Native fp16 micro-kernel: a is a binary16 MR x k panel (the layout of cedge_gemm_pack_a, in binary16), b an fp32
// panel or, with koff set, rows read in place as for the indirect kernel; products and sums in binary16 within
// the call, stored to fp32 C through the usual epilogue.
typedef void (*cedge_ukernel_f16a_fn)(int m, int n, int k, const uint16_t *a, const float *b, const size_t *koff,
                                      float *c, size_t ldc, const cedge_ukp *p);

// Depthwise row: out[i] = clamp(scale * (sum_t w[t] * src[t][i * stride]) + bias) for i in [0, n), the GEMM
// epilogue's order (the multiply is skipped when scale == 1).
typedef void (*cedge_dw_row_fn)(int n, int taps, const float *const *src, const float *w, int stride,
                                float scale, float bias, float cmin, float cmax, float *out);

// Winograd F(4x4, 3x3) tile transforms across nr lanes, one tile per lane (conv_winograd_fp32.c).
// wino_in: lane l's 6x6 input window has its rows at src[l] + off + r * pitch (8 floats readable per row);
// writes V = B^T d B, point xi's nr lanes at v + xi * xs. `stage` is 36 * nr floats of scratch.
typedef void (*cedge_wino_in_fn)(int nr, const float *const *src, size_t off, size_t pitch, float *stage,
                                 float *v, size_t xs);
// The conv epilogue of one output channel: y = clamp(y * scale + bias), the multiply skipped without scale.
// lane_scale / lane_bias, when set, replace scale / bias with a value per lane (lanes < nt read). res, when set,
// is the residual join (cedge_conv_residual): lane l's cell adds res[l][off + i * pitch + j] (dst's layout),
// then with res_relu takes max(v, 0), NaN -> 0.
typedef struct {
    int has_scale, clamp;
    float scale, bias, cmin, cmax;
    const float *lane_scale, *lane_bias;
    const float *const *res;
    int res_relu;
} cedge_wino_epi;
// wino_out: Y = A^T M A (point xi's nr lanes at m + xi * xs) with the epilogue; lane l < nt stores the first
// rows[l] x cols[l] cells of its 4x4 tile at dst[l] + off, rows `pitch` apart. `stage`: 16 * nr floats.
typedef void (*cedge_wino_out_fn)(int nr, int nt, const float *m, size_t xs, const cedge_wino_epi *e,
                                  float *const *dst, size_t off, size_t pitch, const unsigned char *rows,
                                  const unsigned char *cols, float *stage);

// Pixel-rows GEMM (conv_pixel_rows_fp32.c), m <= MR output pixels by n <= NR output channels: row r's value
// at k is abase[koff[k] + r * as] (the pixel's input tap, read in place), B a packed k x NR panel of transposed
// weights. Each column (output channel) j gets y = clamp(sum * scale[j] + shift[j]) (NULL: 1 and 0), and the
// tile is stored transposed: column j's m values contiguous at y + j * ldy.
typedef struct {
    const float *scale, *shift;
    int clamp;
    float cmin, cmax;
} cedge_rows_epi;
typedef void (*cedge_ukernel_rows_fn)(int m, int n, int k, const float *abase, const size_t *koff, int as,
                                      const float *b, const cedge_rows_epi *e, float *y, size_t ldy);

// One code path. Block sizes are in elements: kc (K block, sized so an A and a B micro-panel sit in L1),
// mc (rows of the packed A block kept in L2), nc (columns of the packed B block).
typedef struct {
    const char *name;
    int mr, nr, kc, mc, nc;
    cedge_ukernel_fn ukernel;
    cedge_ukernel_indirect_fn ukernel_indirect;   // NULL: the driver packs indirect B sources instead
    float (*dot)(int n, const float *x, const float *y);
    void (*axpy)(int n, float a, const float *x, float *y);   // y += a * x
    cedge_dw_row_fn dw_row;
    // Binary16 weight panels with native fp16 arithmetic (NULL: none; used only when cedge_half_native()).
    cedge_ukernel_f16a_fn ukernel_f16a;
    // Both set: 3x3 stride-1 convs may take the Winograd path (conv_winograd_fp32.c) when it is cheaper.
    cedge_wino_in_fn wino_in;
    cedge_wino_out_fn wino_out;
    // Stride-2 phase planes: dst[r * dp + i] = src[r * sp + 2 * i] for r < rows, i < n, reading nothing past
    // a row's src[2n - 2]. NULL: cedge_copy_strided_rows.
    void (*copy_even)(int rows, int n, const float *src, size_t sp, float *dst, size_t dp);
    // Set: strided convs may take the pixel-rows GEMM (conv_pixel_rows_fp32.c).
    cedge_ukernel_rows_fn ukernel_rows;
} cedge_isa;

extern const cedge_isa cedge_isa_generic;
#if defined(__x86_64__) || defined(__i386__)
extern const cedge_isa cedge_isa_avx2;
#endif
#if defined(__x86_64__)
extern const cedge_isa cedge_isa_avx512;
// x86/winograd_avx512.c
void cedge_wino_in_avx512(int nr, const float *const *src, size_t off, size_t pitch, float *stage, float *v,
                          size_t xs);
void cedge_wino_out_avx512(int nr, int nt, const float *m, size_t xs, const cedge_wino_epi *e, float *const *dst,
                           size_t off, size_t pitch, const unsigned char *rows, const unsigned char *cols,
                           float *stage);
#endif
#if defined(__aarch64__) || defined(__ARM_NEON)
extern const cedge_isa cedge_isa_neon;
#endif

// The chosen fast path, or NULL when the portable reference path is in force.
const cedge_isa *cedge_active_isa(void);

// Shared scalar epilogue, used by the generic micro-kernel and for partial edge tiles of every ISA:
// applies cedge_ukp semantics to an m x n block of accumulators acc (row stride ldacc).
void cedge_store_tile(const float *acc, int ldacc, int m, int n, float *c, size_t ldc, const cedge_ukp *p);
float cedge_dot_generic(int n, const float *x, const float *y);
void cedge_axpy_generic(int n, float a, const float *x, float *y);
// dst[r * dp + i] = src[r * sp + i * stride] for r < rows, i < n.
void cedge_copy_strided_rows(int rows, int n, int stride, const float *src, size_t sp, float *dst, size_t dp);
void cedge_dw_row_generic(int n, int taps, const float *const *src, const float *w, int stride, float scale,
                          float bias, float cmin, float cmax, float *out);

// ---- GEMM core --------------------------------------------------------------------------------------------
// Where op(B) comes from: a plain matrix, or an im2col view of a convolution input that is packed on the fly
// (no im2col buffer). pack() writes op(B)[k0:k0+kc, n0:n0+nc] as ceil(nc/nr) panels of kc x nr floats
// (panel p at dst + p*kc*nr), zero-filling the columns past nc in the last panel.
typedef struct cedge_bsrc cedge_bsrc;
struct cedge_bsrc {
    void (*pack)(const cedge_bsrc *s, int k0, int kc, int n0, int nc, int nr, float *dst);
    const float *b;
    size_t ldb;
    int trans;
    const void *ctx;
    // When set, op(B)[k][j] = b[koff[k] + j] (b has NR floats of slack past the last element read), and an
    // ISA with ukernel_indirect reads B in place instead of packing it.
    const size_t *koff;
};
void cedge_bsrc_matrix(cedge_bsrc *s, const float *b, size_t ldb, int trans);
// pack() of offset-table sources (koff set).
void cedge_pack_offsets(const cedge_bsrc *s, int k0, int kc, int n0, int nc, int nr, float *dst);
// Floats of slack an offset-table source needs past its last element (at least the largest NR).
#define CEDGE_B_SLACK 64

// C[m x n] = alpha * op(A) * op(B) + beta * C (* scale per row) (+ bias per row) (clamped).
typedef struct {
    int m, n, k;
    const float *a;
    size_t lda;
    int trans_a;
    float alpha;
    cedge_bsrc b;
    float beta;
    float *c;
    size_t ldc;
    const float *bias;      // per row of C, or NULL
    int clamp;
    float cmin, cmax;
    const float *scale;     // per row of C, applied before bias (cedge_ukp), or NULL
    // op(A) already packed by cedge_gemm_pack_a for the ISA that runs the problem (shared by every problem of
    // the batch: set it only when they all have the same A), or NULL to pack it per run.
    const float *apacked;
    // The same packing in binary16 (fp16 weights), widened one A block at a time into L1-sized scratch; op(A)
    // is then read from nowhere else (a may be NULL). At most one of apacked and apacked16 is set.
    const uint16_t *apacked16;
} cedge_gemm_problem;

// Below this many flops a thread hand-off costs more than splitting a GEMM saves.
#define CEDGE_MIN_SPLIT_FLOPS 1.0e5
// Runs `count` independent problems of the same m x n shape in parallel on the pool (splitting each into
// tiles when there are fewer problems than threads).
void cedge_gemm_run(const cedge_isa *isa, const cedge_gemm_problem *problems, int count);
// Whole-op(A) packing in the layout the GEMM core reads (per K block, ceil(m/MR) panels of kc x MR): size in
// floats, and the packer (alpha applied; the problem's B and C are not read).
size_t cedge_gemm_packed_a_floats(const cedge_isa *isa, int m, int k);
void cedge_gemm_pack_a(const cedge_isa *isa, const cedge_gemm_problem *p, float *dst);
// Serial blocked GEMM over the C sub-block rows [m0, m1) x columns [n0, n1), on pool thread `tid` (reading
// p->apacked when set).
void cedge_gemm_tile(const cedge_isa *isa, int tid, const cedge_gemm_problem *p, int m0, int m1, int n0,
                     int n1);
// Reference matrix product (obviously-right loops); also the portable cedge_sgemm.
void cedge_sgemm_portable(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a, int lda,
                          const float *b, int ldb, float beta, float *c, int ldc);

// 1 when the clamp bounds are not (-inf, +inf).
int cedge_clamp_active(float cmin, float cmax);

// 1 when binary16 weights run with native fp16 arithmetic here (ARMv8.2 FP16 seen at run time, the active path
// has a kernel for it, and CEDGE_FP16 is not "widen"); 0: they are widened to fp32 first.
int cedge_half_native(void);

// ---- N-d geometry ---------------------------------------------------------------------------------------
// Convolution/pooling geometry with 1..3 spatial dims right-aligned into (D, H, W); missing leading dims are
// size 1, kernel 1, stride 1, dilation 1, pad 0, so every kernel loops over three dims only.
typedef struct {
    int in[3], out[3], ker[3], str[3], dil[3], pad[3], pad_end[3];
    size_t in_plane, out_plane, ker_vol;
} cedge_geom3;
void cedge_geom_from_conv(const cedge_conv_desc *d, cedge_geom3 *g);
void cedge_geom_from_pool(const cedge_pool_desc *d, cedge_geom3 *g);
// One input plane (g's extents) copied into a zero-filled D x H x W buffer at +pad, as the windowed conv paths
// read it without bounds checks; cells past the buffer are dropped (no window reads them).
void cedge_pad_plane(const cedge_geom3 *g, const float *src, float *dst, int D, int H, int W);
// Rows [row0, row0 + rows) of the zero-bordered copies (g's pads, PW wide) of `channels` 2-d planes (src: g's
// in_plane floats apart; dst: `plane` apart), for tasks that pad only the rows they read.
void cedge_pad_rows(const cedge_geom3 *g, const float *src, int channels, float *dst, size_t plane, int row0, int rows,
                    int PW);

// ---- Winograd F(4x4, 3x3) convolution ------------------------------------------------------------------
// Which Winograd layout this conv takes on `isa` (3x3, stride 1, groups 1, and cheaper than the GEMM path),
// or 0 for none; see conv_winograd_fp32.c.
enum { CEDGE_WINO_TILES = 1, CEDGE_WINO_CHANNELS = 2 };
int cedge_wino_plan(const cedge_isa *isa, const cedge_conv_desc *d, const cedge_geom3 *g);
// Transformed weights for k output and c input channels in that layout: size in floats, and the packer (w is
// K x C x 3 x 3).
size_t cedge_wino_packed_floats(const cedge_isa *isa, int mode, int k, int c);
void cedge_wino_pack(const cedge_isa *isa, int mode, const float *w, int k, int c, float *dst);
// The conv, epilogue included; upacked NULL transforms the weights on this call.
void cedge_wino_conv(const cedge_isa *isa, int mode, const cedge_conv_desc *d, const cedge_geom3 *g,
                     const float *x, const float *w, const float *upacked, const float *scale, const float *shift,
                     const cedge_conv_residual *res, float *y);

// ---- pixel-rows GEMM for strided convolutions --------------------------------------------------------------
// 1 when this conv takes it on `isa` (groups 1, 1-d or 2-d, strided along the width); see conv_pixel_rows_fp32.c.
int cedge_rows_plan(const cedge_isa *isa, const cedge_conv_desc *d, const cedge_geom3 *g);
// Transposed weights (w is oc x k) in panels of NR output channels: size in floats, and the packer.
size_t cedge_rows_packed_floats(const cedge_isa *isa, int oc, int k);
void cedge_rows_pack(const cedge_isa *isa, const float *w, int oc, int k, float *dst);
// The main-conv tap the shortcut conv b reads (both on the pixel-rows path, b 1x1 unpadded with a's input,
// strides and output), or -1.
int cedge_rows_shortcut_tap(const cedge_isa *isa, const cedge_conv_desc *a, const cedge_geom3 *ga,
                            const cedge_conv_desc *b, const cedge_geom3 *gb);
// Both in one pass (g: a's geometry; pa, pb: packed panels or NULL to pack on this call).
void cedge_rows_conv_pair(const cedge_isa *isa, int tap, const cedge_geom3 *g, const float *x, const cedge_conv_job *a,
                          const float *pa, const cedge_conv_job *b, const float *pb);
// The conv, epilogue included; bpacked NULL packs the weights on this call.
void cedge_rows_conv(const cedge_isa *isa, const cedge_conv_desc *d, const cedge_geom3 *g, const float *x,
                     const float *w, const float *bpacked, const float *scale, const float *shift, float *y);

// ---- thread pool ----------------------------------------------------------------------------------------
#define CEDGE_MAX_THREADS 256
// fn(ctx, task, tid) for task in [0, ntasks), spread over the pool; tid in [0, threads) identifies the calling
// pool thread (for per-thread scratch). The caller runs tasks too. Runs inline when threads == 1, when
// ntasks == 1, or when called from inside a task (nested use).
typedef void (*cedge_task_fn)(void *ctx, int task, int tid);
void cedge_parallel_for(int ntasks, cedge_task_fn fn, void *ctx);
// Threads a parallel_for issued now would use (1 inside a task).
int cedge_pool_width(void);
// The same for data-movement loops (copies, padding) touching about `floats` elements in all: below a few
// microseconds of work the hand-off to the workers costs more than it saves, so it runs on this thread.
void cedge_parallel_copy(int ntasks, cedge_task_fn fn, void *ctx, size_t floats);
// A preparation step that every task of a parallel_for needs done first (a shared padded copy), shared out
// among the tasks themselves instead of a pass of its own before them (whose hand-off and serial start cost
// about as much as the copy at batch 1). Each task calls cedge_shared_prep_run at its start: it runs pieces
// that no task has claimed yet, fn(ctx, piece, tid) for piece in [0, pieces), then waits until every piece is
// done. That wait is only ever for pieces that running tasks have claimed, so it cannot deadlock. Zero the
// counters (cedge_shared_prep_init) before the parallel_for.
typedef struct {
    int pieces;
    int next, done;   // atomics, touched only through the pool's functions
} cedge_shared_prep;
void cedge_shared_prep_init(cedge_shared_prep *s, int pieces);
void cedge_shared_prep_run(cedge_shared_prep *s, cedge_task_fn fn, void *ctx, int tid);

// ---- scratch --------------------------------------------------------------------------------------------
// Per-thread, grow-only, 64-byte aligned float buffers, reused across calls so the hot path does not allocate
// after warm-up. Each slot has one purpose so nested users never share a buffer.
enum {
    CEDGE_SCR_PACK_A = 0,
    CEDGE_SCR_PACK_B,
    CEDGE_SCR_AUX,      // depthwise padded plane, pooling accumulator rows
    CEDGE_SCR_AUX2,     // depthwise tap pointers, pooling counts, own padded rows (Winograd block, pixel-rows task)
    CEDGE_SCR_AUX3,     // depthwise virtual output plane
    // The two below are only used with tid 0 by the calling thread, outside tasks: data shared by all tasks.
    CEDGE_SCR_SHARED,   // GEMV vector copies, conv single-column im2col and phase planes, ConvTranspose columns
    CEDGE_SCR_JOBS,     // arrays of GEMM problems
    CEDGE_SCR_KOFF,     // conv: per-k offsets of the shifted-window B rows or pixel-rows taps (also per task)
    CEDGE_SCR_VOUT,     // conv: virtual (pitch-padded) output planes
    CEDGE_SCR_APACK,    // GEMM: op(A) packed once for a batch of problems that share it (conv weights)
    CEDGE_SCR_APACK2,   // pixel-rows pair: the shortcut conv's weights packed on the call
    CEDGE_SCR_WIDE,     // conv: binary16 weights widened for the paths that read them unpacked
    CEDGE_SCR_WINO_V,   // Winograd: transformed input tiles (channels in lanes; tiles in lanes, blocks split)
    CEDGE_SCR_WINO_M,   // Winograd, channels in lanes: per-point products
    CEDGE_SCR_SLOTS
};
float *cedge_scratch(int tid, int slot, size_t count);
#endif
