// SGEMM: portable reference loops, the blocked/packed GEMM core shared by every ISA, GEMV shortcuts, and the
// generic-C micro-kernel used when the CPU has no SIMD path.
#include <math.h>
#include <string.h>

#include "kernels_internal.h"

static inline int imin(int a, int b) { return a < b ? a : b; }
static inline int ceil_div(int a, int b) { return (a + b - 1) / b; }
static inline int round_up(int a, int b) { return ceil_div(a, b) * b; }

int cedge_clamp_active(float cmin, float cmax) {
    return !(isinf(cmin) && cmin < 0 && isinf(cmax) && cmax > 0);
}

// ---- portable reference -------------------------------------------------------------------------------------
void cedge_sgemm_portable(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a, int lda,
                          const float *b, int ldb, float beta, float *c, int ldc) {
    for (int i = 0; i < m; i++) {
        float *crow = c + (size_t)i * ldc;
        for (int j = 0; j < n; j++) {
            float acc = 0.0f;
            for (int p = 0; p < k; p++) {
                float av = trans_a ? a[(size_t)p * lda + i] : a[(size_t)i * lda + p];
                float bv = trans_b ? b[(size_t)j * ldb + p] : b[(size_t)p * ldb + j];
                acc += av * bv;
            }
            crow[j] = beta == 0.0f ? alpha * acc : alpha * acc + beta * crow[j];
        }
    }
}

// ---- shared epilogue and generic-C primitives ---------------------------------------------------------------
void cedge_store_tile(const float *acc, int ldacc, int m, int n, float *c, size_t ldc, const cedge_ukp *p) {
    for (int i = 0; i < m; i++) {
        const float *ar = acc + (size_t)i * ldacc;
        float *cr = c + (size_t)i * ldc;
        for (int j = 0; j < n; j++) {
            float v = ar[j];
            if (p->load_c) v = p->beta == 1.0f ? cr[j] + v : p->beta * cr[j] + v;
            if (p->scale) v *= p->scale[i];
            if (p->bias) v += p->bias[i];
            if (p->clamp) {
                v = v < p->cmin ? p->cmin : v;
                v = v > p->cmax ? p->cmax : v;
            }
            cr[j] = v;
        }
    }
}

float cedge_dot_generic(int n, const float *x, const float *y) {
    // Eight independent partial sums: lets the compiler vectorise without reassociation flags.
    float s[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    int i = 0;
    for (; i + 8 <= n; i += 8)
        for (int j = 0; j < 8; j++) s[j] += x[i + j] * y[i + j];
    float t = ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
    for (; i < n; i++) t += x[i] * y[i];
    return t;
}

void cedge_axpy_generic(int n, float a, const float *x, float *y) {
    for (int i = 0; i < n; i++) y[i] += a * x[i];
}

void cedge_copy_strided_rows(int rows, int n, int stride, const float *src, size_t sp, float *dst, size_t dp) {
    for (int r = 0; r < rows; r++, src += sp, dst += dp) {
        if (stride == 1)
            memcpy(dst, src, (size_t)n * sizeof(float));
        else
            for (int i = 0; i < n; i++) dst[i] = src[(size_t)i * stride];
    }
}

void cedge_dw_row_generic(int n, int taps, const float *const *src, const float *w, int stride, float scale,
                          float bias, float cmin, float cmax, float *out) {
    for (int i = 0; i < n; i++) out[i] = 0.0f;
    // Tap by tap so the inner loop is a plain vectorisable axpy.
    for (int t = 0; t < taps; t++) {
        const float *s = src[t];
        float wt = w[t];
        if (stride == 1)
            for (int i = 0; i < n; i++) out[i] += wt * s[i];
        else
            for (int i = 0; i < n; i++) out[i] += wt * s[(size_t)i * stride];
    }
    if (scale != 1.0f)
        for (int i = 0; i < n; i++) out[i] *= scale;
    for (int i = 0; i < n; i++) out[i] += bias;
    if (cedge_clamp_active(cmin, cmax))
        for (int i = 0; i < n; i++) {
            float v = out[i] < cmin ? cmin : out[i];
            out[i] = v > cmax ? cmax : v;
        }
}

#define GEN_MR 4
#define GEN_NR 8
static void ukernel_generic(int m, int n, int k, const float *a, const float *b, float *c, size_t ldc,
                            const cedge_ukp *p) {
    float acc[GEN_MR * GEN_NR];
    memset(acc, 0, sizeof acc);
    for (int kk = 0; kk < k; kk++, a += GEN_MR, b += GEN_NR)
        for (int i = 0; i < GEN_MR; i++) {
            float av = a[i];
            for (int j = 0; j < GEN_NR; j++) acc[i * GEN_NR + j] += av * b[j];
        }
    cedge_store_tile(acc, GEN_NR, m, n, c, ldc, p);
}

static void ukernel_generic_indirect(int m, int n, int k, const float *a, const float *base, const size_t *koff,
                                     float *c, size_t ldc, const cedge_ukp *p) {
    float acc[GEN_MR * GEN_NR];
    memset(acc, 0, sizeof acc);
    for (int kk = 0; kk < k; kk++, a += GEN_MR) {
        const float *b = base + koff[kk];
        for (int i = 0; i < GEN_MR; i++) {
            float av = a[i];
            for (int j = 0; j < GEN_NR; j++) acc[i * GEN_NR + j] += av * b[j];
        }
    }
    cedge_store_tile(acc, GEN_NR, m, n, c, ldc, p);
}

const cedge_isa cedge_isa_generic = {
    .name = "generic", .mr = GEN_MR, .nr = GEN_NR, .kc = 256, .mc = 128, .nc = 512,
    .ukernel = ukernel_generic, .ukernel_indirect = ukernel_generic_indirect, .dot = cedge_dot_generic,
    .axpy = cedge_axpy_generic, .dw_row = cedge_dw_row_generic,
};

// ---- packing ------------------------------------------------------------------------------------------------
// The bodies are instantiated with a constant MR / NR (always_inline + switch) so the copy loops unroll.

static inline __attribute__((always_inline)) void pack_a_body(const float *restrict a, size_t lda, int trans,
                                                              float alpha, int rows, int kc, const int MR,
                                                              float *restrict dst) {
    if (!trans) {
        // op(A)[i][p] = a[i*lda + p]: read MR row streams, write each k's MR values contiguously.
        if (rows == MR) {
            for (int p = 0; p < kc; p++)
                for (int i = 0; i < MR; i++) dst[p * MR + i] = alpha * a[(size_t)i * lda + p];
        } else {
            for (int p = 0; p < kc; p++) {
                for (int i = 0; i < rows; i++) dst[p * MR + i] = alpha * a[(size_t)i * lda + p];
                for (int i = rows; i < MR; i++) dst[p * MR + i] = 0.0f;
            }
        }
    } else {
        // A is stored K x M: each k's MR values are already contiguous.
        for (int p = 0; p < kc; p++) {
            const float *s = a + (size_t)p * lda;
            if (rows == MR)
                for (int i = 0; i < MR; i++) dst[p * MR + i] = alpha * s[i];
            else {
                for (int i = 0; i < rows; i++) dst[p * MR + i] = alpha * s[i];
                for (int i = rows; i < MR; i++) dst[p * MR + i] = 0.0f;
            }
        }
    }
}

// Packs op(A)[i0:i0+mc, k0:k0+kc] (times alpha) as ceil(mc/MR) panels of kc x MR.
static void pack_a(const cedge_gemm_problem *pr, int mr, int i0, int mc, int k0, int kc, float *dst) {
    for (int i = 0; i < mc; i += mr) {
        int rows = imin(mr, mc - i);
        const float *src = pr->trans_a ? pr->a + (size_t)k0 * pr->lda + (i0 + i)
                                       : pr->a + (size_t)(i0 + i) * pr->lda + k0;
        float *d = dst + (size_t)(i / mr) * kc * mr;
        switch (mr) {
        case 4: pack_a_body(src, pr->lda, pr->trans_a, pr->alpha, rows, kc, 4, d); break;
        case 6: pack_a_body(src, pr->lda, pr->trans_a, pr->alpha, rows, kc, 6, d); break;
        case 8: pack_a_body(src, pr->lda, pr->trans_a, pr->alpha, rows, kc, 8, d); break;
        default: pack_a_body(src, pr->lda, pr->trans_a, pr->alpha, rows, kc, mr, d); break;
        }
    }
}

static inline __attribute__((always_inline)) void pack_b_body(const float *restrict b, size_t ldb, int trans,
                                                              int cols, int kc, const int NR, float *restrict dst) {
    if (!trans) {
        // op(B)[p][j] = b[p*ldb + j]: each k row of the panel is a contiguous copy.
        // memcpy with a constant size compiles to vector moves (a plain loop may not: b and dst could alias).
        if (cols == NR)
            for (int p = 0; p < kc; p++) memcpy(dst + (size_t)p * NR, b + (size_t)p * ldb, NR * sizeof(float));
        else
            for (int p = 0; p < kc; p++) {
                memcpy(dst + (size_t)p * NR, b + (size_t)p * ldb, (size_t)cols * sizeof(float));
                memset(dst + (size_t)p * NR + cols, 0, (size_t)(NR - cols) * sizeof(float));
            }
    } else {
        // B is stored N x K: gather one value from each of the panel's rows per k.
        for (int p = 0; p < kc; p++) {
            float *d = dst + (size_t)p * NR;
            for (int j = 0; j < cols; j++) d[j] = b[(size_t)j * ldb + p];
            for (int j = cols; j < NR; j++) d[j] = 0.0f;
        }
    }
}

static void pack_b_matrix(const cedge_bsrc *s, int k0, int kc, int n0, int nc, int nr, float *dst) {
    for (int j = 0; j < nc; j += nr) {
        int cols = imin(nr, nc - j);
        const float *src = s->trans ? s->b + (size_t)(n0 + j) * s->ldb + k0 : s->b + (size_t)k0 * s->ldb + n0 + j;
        float *d = dst + (size_t)(j / nr) * kc * nr;
        switch (nr) {
        case 8: pack_b_body(src, s->ldb, s->trans, cols, kc, 8, d); break;
        case 12: pack_b_body(src, s->ldb, s->trans, cols, kc, 12, d); break;
        case 16: pack_b_body(src, s->ldb, s->trans, cols, kc, 16, d); break;
        case 32: pack_b_body(src, s->ldb, s->trans, cols, kc, 32, d); break;
        default: pack_b_body(src, s->ldb, s->trans, cols, kc, nr, d); break;
        }
    }
}

void cedge_bsrc_matrix(cedge_bsrc *s, const float *b, size_t ldb, int trans) {
    s->pack = pack_b_matrix;
    s->b = b;
    s->ldb = ldb;
    s->trans = trans;
    s->ctx = NULL;
    s->koff = NULL;
}

// Packs an offset-table source: op(B)[k][j] = b[koff[k] + j]. Whole NR-float rows are copied even for the
// last, partial panel (the source has the slack for it); the extra columns are never stored.
static inline __attribute__((always_inline)) void pack_offsets_body(const float *restrict base,
                                                                    const size_t *koff, int kc, const int NR,
                                                                    float *restrict d) {
    for (int p = 0; p < kc; p++, d += NR) memcpy(d, base + koff[p], NR * sizeof(float));
}

void cedge_pack_offsets(const cedge_bsrc *s, int k0, int kc, int n0, int nc, int nr, float *dst) {
    const size_t *koff = s->koff + k0;
    for (int j = 0; j < nc; j += nr) {
        const float *base = s->b + n0 + j;
        float *d = dst + (size_t)(j / nr) * kc * nr;
        switch (nr) {
        case 8: pack_offsets_body(base, koff, kc, 8, d); break;
        case 12: pack_offsets_body(base, koff, kc, 12, d); break;
        case 16: pack_offsets_body(base, koff, kc, 16, d); break;
        case 32: pack_offsets_body(base, koff, kc, 32, d); break;
        default: pack_offsets_body(base, koff, kc, nr, d); break;
        }
    }
}

// ---- blocked GEMM core --------------------------------------------------------------------------------------
// Goto/BLIS loop order: N blocks (nc) > K blocks (kc, B block packed once) > M blocks (mc, A block packed)
// > NR micro-panels of B (stay in L1) > MR micro-panels of A (stream from L2) > micro-kernel.
// Block sizes are balanced so a K (or M, N) just over a block size does not leave a tiny last block.
static int balanced_block(int total, int max_block, int multiple) {
    int blocks = ceil_div(total, max_block);
    return round_up(ceil_div(total, blocks), multiple);
}

static void epilogue_only(const cedge_gemm_problem *p, int m0, int m1, int n0, int n1) {
    // k == 0: op(A)*op(B) is empty, C = beta*C (* scale) (+ bias) (clamped).
    for (int i = m0; i < m1; i++) {
        float *cr = p->c + (size_t)i * p->ldc;
        for (int j = n0; j < n1; j++) {
            float v = p->beta == 0.0f ? 0.0f : p->beta * cr[j];
            if (p->scale) v *= p->scale[i];
            if (p->bias) v += p->bias[i];
            if (p->clamp) {
                v = v < p->cmin ? p->cmin : v;
                v = v > p->cmax ? p->cmax : v;
            }
            cr[j] = v;
        }
    }
}

// apre: op(A) already packed whole (see pack_a_whole), or NULL to pack each A block here.
static void gemm_tile(const cedge_isa *isa, int tid, const cedge_gemm_problem *p, const float *apre, int m0,
                      int m1, int n0, int n1) {
    if (m1 <= m0 || n1 <= n0) return;
    if (p->k <= 0) {
        epilogue_only(p, m0, m1, n0, n1);
        return;
    }
    const int MR = isa->mr, NR = isa->nr, k = p->k;
    const int kc_step = balanced_block(k, isa->kc, 1);
    const int mc_step = balanced_block(m1 - m0, isa->mc, MR);
    const int nc_step = balanced_block(n1 - n0, isa->nc, NR);
    // Offset-table sources are read in place when the ISA has an indirect micro-kernel.
    const int in_place = p->b.koff && isa->ukernel_indirect;
    float *bpack = in_place ? NULL : cedge_scratch(tid, CEDGE_SCR_PACK_B, (size_t)kc_step * nc_step);
    float *apack = apre ? NULL : cedge_scratch(tid, CEDGE_SCR_PACK_A, (size_t)kc_step * mc_step);
    const size_t mpad = (size_t)round_up(p->m, MR);
    // Binary16 panels: read as they are by a native fp16 kernel, or widened block by block into apack.
    const int native16 = p->apacked16 && isa->ukernel_f16a && cedge_half_native();

    for (int jc = n0; jc < n1; jc += nc_step) {
        const int nc = imin(nc_step, n1 - jc);
        for (int pc = 0; pc < k; pc += kc_step) {
            const int kc = imin(kc_step, k - pc);
            const int last = pc + kc >= k;
            if (!in_place) p->b.pack(&p->b, pc, kc, jc, nc, NR, bpack);
            cedge_ukp up;
            up.load_c = pc > 0 || p->beta != 0.0f;
            up.beta = pc > 0 ? 1.0f : p->beta;
            up.clamp = last && p->clamp;
            up.cmin = p->cmin;
            up.cmax = p->cmax;
            for (int ic = m0; ic < m1; ic += mc_step) {
                const int mc = imin(mc_step, m1 - ic);
                // Blocks start on whole MR panels (m0 and mc_step are multiples of MR), so a block of the
                // whole-A packing is the same panels pack_a would write for it.
                if (apre)
                    apack = (float *)apre + (size_t)pc * mpad + (size_t)(ic / MR) * kc * MR;
                else if (p->apacked16 && !native16)
                    cedge_half_to_float_n((size_t)round_up(mc, MR) * kc,
                                          p->apacked16 + (size_t)pc * mpad + (size_t)(ic / MR) * kc * MR, apack);
                else if (!native16)
                    pack_a(p, MR, ic, mc, pc, kc, apack);
                const uint16_t *a16 = native16 ? p->apacked16 + (size_t)pc * mpad + (size_t)(ic / MR) * kc * MR : NULL;
                for (int jr = 0; jr < nc; jr += NR) {
                    const int nr = imin(NR, nc - jr);
                    const float *bp = in_place ? p->b.b + jc + jr : bpack + (size_t)(jr / NR) * kc * NR;
                    for (int ir = 0; ir < mc; ir += MR) {
                        const int mr = imin(MR, mc - ir);
                        const float *ap = apack + (size_t)(ir / MR) * kc * MR;
                        float *cp = p->c + (size_t)(ic + ir) * p->ldc + jc + jr;
                        up.bias = last && p->bias ? p->bias + ic + ir : NULL;
                        up.scale = last && p->scale ? p->scale + ic + ir : NULL;
                        if (a16)
                            isa->ukernel_f16a(mr, nr, kc, a16 + (size_t)(ir / MR) * kc * MR, bp,
                                              in_place ? p->b.koff + pc : NULL, cp, p->ldc, &up);
                        else if (in_place)
                            isa->ukernel_indirect(mr, nr, kc, ap, bp, p->b.koff + pc, cp, p->ldc, &up);
                        else
                            isa->ukernel(mr, nr, kc, ap, bp, cp, p->ldc, &up);
                    }
                }
            }
        }
    }
}

void cedge_gemm_tile(const cedge_isa *isa, int tid, const cedge_gemm_problem *p, int m0, int m1, int n0,
                     int n1) {
    gemm_tile(isa, tid, p, p->apacked, m0, m1, n0, n1);
}

// ---- parallel driver ----------------------------------------------------------------------------------------
typedef struct {
    const cedge_isa *isa;
    const cedge_gemm_problem *problems;
    const float *apre;
    int tiles_m, tiles_n;
} gemm_run_ctx;

// A batched conv runs one problem per image with the same weights as A. Packing A per problem costs M*K
// strided reads each time, which for the small-N layers (7x7: 55-61 columns) is a large share of the
// problem's M*K*N FMAs; packing it once per run for all problems removes that. Layout: per K block pc (the
// same kc_step blocking gemm_tile uses), ceil(m/MR) panels of kc x MR, the block at dst + pc * round_up(m, MR).
size_t cedge_gemm_packed_a_floats(const cedge_isa *isa, int m, int k) {
    return (size_t)round_up(m, isa->mr) * (size_t)(k > 0 ? k : 0);
}

void cedge_gemm_pack_a(const cedge_isa *isa, const cedge_gemm_problem *p, float *dst) {
    const int MR = isa->mr, k = p->k;
    const int kc_step = balanced_block(k, isa->kc, 1);
    const size_t mpad = (size_t)round_up(p->m, MR);
    for (int pc = 0; pc < k; pc += kc_step) pack_a(p, MR, 0, p->m, pc, imin(kc_step, k - pc), dst + (size_t)pc * mpad);
}

static const float *pack_a_whole(const cedge_isa *isa, const cedge_gemm_problem *problems, int count) {
    const cedge_gemm_problem *p0 = &problems[0];
    if (p0->apacked) return p0->apacked;
    if (p0->apacked16 || count < 2 || p0->k <= 0) return NULL;
    for (int i = 1; i < count; i++) {
        const cedge_gemm_problem *q = &problems[i];
        if (q->a != p0->a || q->lda != p0->lda || q->trans_a != p0->trans_a || q->alpha != p0->alpha ||
            q->m != p0->m || q->k != p0->k)
            return NULL;
    }
    // Only the calling thread, outside tasks, uses this slot (like the other shared ones).
    float *dst = cedge_scratch(0, CEDGE_SCR_APACK, cedge_gemm_packed_a_floats(isa, p0->m, p0->k));
    cedge_gemm_pack_a(isa, p0, dst);
    return dst;
}

static void gemm_run_task(void *vctx, int task, int tid) {
    const gemm_run_ctx *x = vctx;
    const int per = x->tiles_m * x->tiles_n;
    const cedge_gemm_problem *p = &x->problems[task / per];
    const int r = task % per, tm = r / x->tiles_n, tn = r % x->tiles_n;
    const int MR = x->isa->mr, NR = x->isa->nr;
    // Tiles are whole micro-tiles, so only the last tile of each dimension has edge tiles.
    const int mu = ceil_div(p->m, MR), nu = ceil_div(p->n, NR);
    const int m0 = (int)((long)tm * mu / x->tiles_m) * MR, m1 = imin(p->m, (int)((long)(tm + 1) * mu / x->tiles_m) * MR);
    const int n0 = (int)((long)tn * nu / x->tiles_n) * NR, n1 = imin(p->n, (int)((long)(tn + 1) * nu / x->tiles_n) * NR);
    gemm_tile(x->isa, tid, p, x->apre, m0, m1, n0, n1);
}

void cedge_gemm_run(const cedge_isa *isa, const cedge_gemm_problem *problems, int count) {
    if (count <= 0) return;
    const cedge_gemm_problem *p0 = &problems[0];
    if (p0->m <= 0 || p0->n <= 0) return;
    gemm_run_ctx x = {isa, problems, pack_a_whole(isa, problems, count), 1, 1};
    const int width = cedge_pool_width();
    const double flops = 2.0 * p0->m * p0->n * (p0->k > 0 ? p0->k : 1) * count;
    if (width > 1 && count < width && flops >= CEDGE_MIN_SPLIT_FLOPS) {
        const int per = ceil_div(width, count);
        const int mu = ceil_div(p0->m, isa->mr), nu = ceil_div(p0->n, isa->nr);
        // Splitting N repacks A once per part, splitting M repacks B: split the dimension that makes the
        // smaller matrix the repacked one.
        if (p0->n >= p0->m) {
            x.tiles_n = imin(per, nu);
            x.tiles_m = imin(ceil_div(per, x.tiles_n), mu);
        } else {
            x.tiles_m = imin(per, mu);
            x.tiles_n = imin(ceil_div(per, x.tiles_m), nu);
        }
    }
    cedge_parallel_for(count * x.tiles_m * x.tiles_n, gemm_run_task, &x);
}

// ---- GEMV shortcuts -----------------------------------------------------------------------------------------
// A 1-row (or 1-column) product gains nothing from packing: it reads every element of the matrix once, so
// it runs as dot products or axpys over the matrix in place.
typedef struct {
    const cedge_isa *isa;
    int n, k, chunk, trans;
    float alpha, beta;
    const float *v;     // contiguous vector of length k
    const float *mat;
    size_t ld;
    float *out;
    size_t out_stride;
} gemv_ctx;

// out[j] = alpha * dot(mat row j, v) + beta * out[j]
static void gemv_dot_task(void *vctx, int task, int tid) {
    (void)tid;
    const gemv_ctx *g = vctx;
    const int j0 = task * g->chunk, j1 = imin(g->n, j0 + g->chunk);
    for (int j = j0; j < j1; j++) {
        float s = g->alpha * g->isa->dot(g->k, g->mat + (size_t)j * g->ld, g->v);
        float *o = g->out + (size_t)j * g->out_stride;
        *o = g->beta == 0.0f ? s : s + g->beta * *o;
    }
}

// out[j0:j1] = alpha * sum_p v[p] * mat[p][j0:j1] + beta * out[j0:j1]   (out contiguous)
static void gemv_axpy_task(void *vctx, int task, int tid) {
    (void)tid;
    const gemv_ctx *g = vctx;
    const int j0 = task * g->chunk, j1 = imin(g->n, j0 + g->chunk);
    float *o = g->out + j0;
    if (g->beta == 0.0f)
        memset(o, 0, (size_t)(j1 - j0) * sizeof(float));
    else if (g->beta != 1.0f)
        for (int j = 0; j < j1 - j0; j++) o[j] *= g->beta;
    for (int p = 0; p < g->k; p++) g->isa->axpy(j1 - j0, g->alpha * g->v[p], g->mat + (size_t)p * g->ld + j0, o);
}

static void gemv_run(gemv_ctx *g, cedge_task_fn fn) {
    const int width = cedge_pool_width();
    int tasks = 1;
    if (width > 1 && (double)g->n * g->k >= 65536.0) tasks = imin(width, ceil_div(g->n, 16));
    g->chunk = round_up(ceil_div(g->n, tasks), 16);
    cedge_parallel_for(ceil_div(g->n, g->chunk), fn, g);
}

// Contiguous copy of a strided vector (into the caller's shared scratch) when needed.
static const float *contiguous(const float *v, size_t stride, int k) {
    if (stride == 1) return v;
    float *t = cedge_scratch(0, CEDGE_SCR_SHARED, (size_t)k);
    for (int p = 0; p < k; p++) t[p] = v[(size_t)p * stride];
    return t;
}

// ---- public entry -------------------------------------------------------------------------------------------
void cedge_sgemm(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a, int lda,
                 const float *b, int ldb, float beta, float *c, int ldc) {
    if (m <= 0 || n <= 0) return;
    const cedge_isa *isa = cedge_active_isa();
    if (!isa) {
        cedge_sgemm_portable(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
        return;
    }
    if (k > 0 && m == 1) {
        // Row vector times matrix: C row = alpha * a * op(B).
        gemv_ctx g = {isa, n, k, 0, 0, alpha, beta, contiguous(a, trans_a ? (size_t)lda : 1, k), b,
                      (size_t)ldb, c, 1};
        gemv_run(&g, trans_b ? gemv_dot_task : gemv_axpy_task);
        return;
    }
    if (k > 0 && n == 1 && !trans_a) {
        // Matrix times column vector: C column = alpha * A * b, as dot products over A's rows.
        gemv_ctx g = {isa, m, k, 0, 0, alpha, beta, contiguous(b, trans_b ? 1 : (size_t)ldb, k), a,
                      (size_t)lda, c, (size_t)ldc};
        gemv_run(&g, gemv_dot_task);
        return;
    }
    cedge_gemm_problem p;
    p.m = m;
    p.n = n;
    p.k = k;
    p.a = a;
    p.lda = (size_t)lda;
    p.trans_a = trans_a;
    p.alpha = alpha;
    cedge_bsrc_matrix(&p.b, b, (size_t)ldb, trans_b);
    p.beta = beta;
    p.c = c;
    p.ldc = (size_t)ldc;
    p.bias = NULL;
    p.clamp = 0;
    p.cmin = -INFINITY;
    p.cmax = INFINITY;
    p.scale = NULL;
    p.apacked = NULL;
    p.apacked16 = NULL;
    cedge_gemm_run(isa, &p, 1);
}
