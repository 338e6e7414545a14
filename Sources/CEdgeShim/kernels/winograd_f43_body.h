// Winograd F(4x4, 3x3) tile transforms, vectorised across tiles (lane l of every vector is one tile), with a
// scalar gather of the input windows and a scalar scatter of the output tiles. Included by an ISA file after
// defining WINO_ATTR (its target attribute), WINO_VB (vector bytes) and WINO_NAME(x) (suffixes the names); GCC
// vector types then compile to that ISA's registers. The matrices are Lavin & Gray's (interpolation points 0,
// +-1, +-2, inf); the hooks' contracts are in kernels_internal.h, the driver in conv_winograd_fp32.c.
#include <stddef.h>

typedef float WINO_NAME(wvec) __attribute__((vector_size(WINO_VB)));
typedef int WINO_NAME(wmask) __attribute__((vector_size(WINO_VB)));
typedef float WINO_NAME(wvec_u) __attribute__((vector_size(WINO_VB), aligned(4)));   // unaligned access
#define WV WINO_NAME(wvec)
#define WVU WINO_NAME(wvec_u)
#define WM WINO_NAME(wmask)
#define WL ((int)(WINO_VB / sizeof(float)))

// B^T applied to six values (also d B along a row: B^T's rows are B's columns).
#define WINO_BT(d0, d1, d2, d3, d4, d5, o0, o1, o2, o3, o4, o5)                                                 \
    do {                                                                                                        \
        const WV a_ = (d4) - 4.0f * (d2), b_ = (d3) - 4.0f * (d1), c_ = (d4) - (d2), e_ = 2.0f * ((d3) - (d1)); \
        o0 = 4.0f * (d0) - 5.0f * (d2) + (d4);                                                                  \
        o1 = a_ + b_;                                                                                           \
        o2 = a_ - b_;                                                                                           \
        o3 = c_ + e_;                                                                                           \
        o4 = c_ - e_;                                                                                           \
        o5 = 4.0f * (d1) - 5.0f * (d3) + (d5);                                                                  \
    } while (0)

// A^T applied to six values.
#define WINO_AT(m0, m1, m2, m3, m4, m5, o0, o1, o2, o3)                                                         \
    do {                                                                                                        \
        const WV s12_ = (m1) + (m2), d12_ = (m1) - (m2), s34_ = (m3) + (m4), d34_ = (m3) - (m4);                \
        o0 = (m0) + s12_ + s34_;                                                                                \
        o1 = d12_ + 2.0f * d34_;                                                                                \
        o2 = s12_ + 4.0f * s34_;                                                                                \
        o3 = d12_ + 8.0f * d34_ + (m5);                                                                         \
    } while (0)

// A^T down the six columns of one lane block of the 36 per-point products m (point stride xs, lanes from l):
// t[6 i + j] is row i of column j's result, which the row transform then takes six at a time.
#define WINO_MPT_(m, xs, l, r, j) (*(const WV *)((m) + (size_t)((r) * 6 + (j)) * (xs) + (l)))
#define WINO_AT_COLUMNS(t, m, xs, l)                                                                             \
    for (int j_ = 0; j_ < 6; j_++)                                                                              \
    WINO_AT(WINO_MPT_(m, xs, l, 0, j_), WINO_MPT_(m, xs, l, 1, j_), WINO_MPT_(m, xs, l, 2, j_),                 \
            WINO_MPT_(m, xs, l, 3, j_), WINO_MPT_(m, xs, l, 4, j_), WINO_MPT_(m, xs, l, 5, j_), (t)[j_],         \
            (t)[6 + j_], (t)[12 + j_], (t)[18 + j_])

WINO_ATTR __attribute__((unused)) static void WINO_NAME(wino_in)(int nr, const float *const *src, size_t off, size_t pitch,
                                         float *restrict stage, float *restrict v, size_t xs) {
    for (int l = 0; l < nr; l++) {
        const float *p = src[l] + off;
        for (int r = 0; r < 6; r++, p += pitch)
            for (int q = 0; q < 6; q++) stage[(size_t)(r * 6 + q) * nr + l] = p[q];
    }
    for (int l = 0; l < nr; l += WL) {
        WV t[36];
        for (int j = 0; j < 6; j++) {
#define D(r) (*(const WV *)(stage + (size_t)((r) * 6 + j) * nr + l))
            WINO_BT(D(0), D(1), D(2), D(3), D(4), D(5), t[j], t[6 + j], t[12 + j], t[18 + j], t[24 + j], t[30 + j]);
#undef D
        }
        for (int i = 0; i < 6; i++) {
            const WV *r = t + 6 * i;
            float *o = v + (size_t)(6 * i) * xs + l;
            WINO_BT(r[0], r[1], r[2], r[3], r[4], r[5], *(WVU *)(o + 0 * xs), *(WVU *)(o + 1 * xs),
                    *(WVU *)(o + 2 * xs), *(WVU *)(o + 3 * xs), *(WVU *)(o + 4 * xs), *(WVU *)(o + 5 * xs));
        }
    }
}

WINO_ATTR __attribute__((unused)) static void WINO_NAME(wino_out)(int nr, int nt, const float *restrict m, size_t xs, const cedge_wino_epi *e,
                                          float *const *dst, size_t off, size_t pitch, const unsigned char *rows,
                                          const unsigned char *cols, float *restrict stage) {
    for (int l = 0; l < nr; l += WL) {
        WV sv = (WV){0} + e->scale, bv = (WV){0} + e->bias;
        for (int k = 0; k < WL; k++) {
            if (e->lane_scale && l + k < nt) sv[k] = e->lane_scale[l + k];
            if (e->lane_bias && l + k < nt) bv[k] = e->lane_bias[l + k];
        }
        WV t[24];
        WINO_AT_COLUMNS(t, m, xs, l);
        for (int i = 0; i < 4; i++) {
            const WV *r = t + 6 * i;
            WV y[4];
            WINO_AT(r[0], r[1], r[2], r[3], r[4], r[5], y[0], y[1], y[2], y[3]);
            for (int j = 0; j < 4; j++) {
                WV q = y[j];
                if (e->has_scale) q = q * sv;
                q = q + bv;
                if (e->clamp) {
                    // Blends through the comparison masks (C has no vector ?:); NaN stays NaN, as in the
                    // portable epilogue.
                    const WV lo = (WV){0} + e->cmin, hi = (WV){0} + e->cmax;
                    const WM below = q < lo, above = q > hi;
                    q = (WV)((below & (WM)lo) | (~below & (WM)q));
                    q = (WV)((above & (WM)hi) | (~above & (WM)q));
                }
                *(WV *)(stage + (size_t)(4 * i + j) * nr + l) = q;
            }
        }
    }
    for (int l = 0; l < nt; l++) {
        float *yt = dst[l] + off;
        const float *rt = e->res ? e->res[l] + off : NULL;
        for (int i = 0; i < rows[l]; i++)
            for (int j = 0; j < cols[l]; j++) {
                float v = stage[(size_t)(i * 4 + j) * nr + l];
                if (rt) {
                    v += rt[(size_t)i * pitch + j];
                    if (e->res_relu) v = v > 0 ? v : 0.0f;
                }
                yt[(size_t)i * pitch + j] = v;
            }
    }
}
