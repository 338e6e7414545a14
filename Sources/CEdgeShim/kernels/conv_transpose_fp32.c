// ConvTranspose (N-d, groups): portable direct scatter, and the fast path (GEMM into columns, then col2im).
#include <math.h>
#include <string.h>

#include "kernels_internal.h"

static inline int imin(int a, int b) { return a < b ? a : b; }
static inline int imax(int a, int b) { return a > b ? a : b; }
static inline int ceil_div(int a, int b) { return (a + b - 1) / b; }

// Geometry note: ConvTranspose maps input cell i and kernel cell k to output cell o = i*stride - pad + k*dil,
// cells outside [0, out) are dropped (that is the cropping by pad_begin / the implied trailing pad).
// cedge_geom_from_conv gives in = x's spatial sizes and out = y's.

static void init_bias(const cedge_conv_desc *d, const cedge_geom3 *g, const float *bias, float *y) {
    for (int n = 0; n < d->batch; n++)
        for (int oc = 0; oc < d->out_channels; oc++) {
            float *yp = y + ((size_t)n * d->out_channels + oc) * g->out_plane;
            const float b = bias ? bias[oc] : 0.0f;
            for (size_t i = 0; i < g->out_plane; i++) yp[i] = b;
        }
}

static void clamp_all(const cedge_conv_desc *d, const cedge_geom3 *g, float *y) {
    const size_t total = (size_t)d->batch * d->out_channels * g->out_plane;
    const float lo = d->clamp_min, hi = d->clamp_max;
    for (size_t i = 0; i < total; i++) {
        float v = y[i] < lo ? lo : y[i];
        y[i] = v > hi ? hi : v;
    }
}

static void conv_transpose_portable(const cedge_conv_desc *d, const cedge_geom3 *g, const float *x,
                                    const float *w, const float *bias, float *y) {
    const int groups = d->groups > 0 ? d->groups : 1;
    const int icg = d->in_channels / groups, ocg = d->out_channels / groups;
    init_bias(d, g, bias, y);
    for (int n = 0; n < d->batch; n++)
        for (int ic = 0; ic < d->in_channels; ic++) {
            const int grp = ic / icg;
            const float *xp = x + ((size_t)n * d->in_channels + ic) * g->in_plane;
            for (int id = 0; id < g->in[0]; id++)
                for (int ih = 0; ih < g->in[1]; ih++)
                    for (int iw = 0; iw < g->in[2]; iw++) {
                        const float xv = xp[((size_t)id * g->in[1] + ih) * g->in[2] + iw];
                        for (int o = 0; o < ocg; o++) {
                            const int oc = grp * ocg + o;
                            const float *wp = w + ((size_t)ic * ocg + o) * g->ker_vol;
                            float *yp = y + ((size_t)n * d->out_channels + oc) * g->out_plane;
                            for (int kd = 0; kd < g->ker[0]; kd++) {
                                const int od = id * g->str[0] - g->pad[0] + kd * g->dil[0];
                                if (od < 0 || od >= g->out[0]) continue;
                                for (int kh = 0; kh < g->ker[1]; kh++) {
                                    const int oh = ih * g->str[1] - g->pad[1] + kh * g->dil[1];
                                    if (oh < 0 || oh >= g->out[1]) continue;
                                    for (int kw = 0; kw < g->ker[2]; kw++) {
                                        const int ow = iw * g->str[2] - g->pad[2] + kw * g->dil[2];
                                        if (ow < 0 || ow >= g->out[2]) continue;
                                        yp[((size_t)od * g->out[1] + oh) * g->out[2] + ow] +=
                                            xv * wp[((size_t)kd * g->ker[1] + kh) * g->ker[2] + kw];
                                    }
                                }
                            }
                        }
                    }
        }
    if (cedge_clamp_active(d->clamp_min, d->clamp_max)) clamp_all(d, g, y);
}

// ---- fast path ------------------------------------------------------------------------------------------------
// Per (n, group): col[ocg*kvol, cells] = W_g^T * x_g[:, cells] on a chunk of input cells (bounded so the
// column buffer stays a few MB), then every output channel scatters its kvol rows into y. The scatter is
// split by output channel so tasks never write the same output.

typedef struct {
    const cedge_geom3 *g;
    const float *col;
    float *y;          // output of this (n, group): ocg planes
    int j0, cols;      // input cells [j0, j0+cols) in the chunk
} col2im_ctx;

static void col2im_task(void *vctx, int oc, int tid) {
    (void)tid;
    const col2im_ctx *c = vctx;
    const cedge_geom3 *g = c->g;
    const int KH = g->ker[1], KW = g->ker[2], IH = g->in[1], IW = g->in[2];
    const int OD = g->out[0], OH = g->out[1], OW = g->out[2], sw = g->str[2];
    float *yp = c->y + (size_t)oc * g->out_plane;
    const int hw = IH * IW;
    for (int kidx = 0; kidx < (int)g->ker_vol; kidx++) {
        const int kd = kidx / (KH * KW), kh = (kidx / KW) % KH, kw = kidx % KW;
        const float *crow = c->col + ((size_t)oc * g->ker_vol + kidx) * c->cols;
        const int offd = kd * g->dil[0] - g->pad[0], offh = kh * g->dil[1] - g->pad[1];
        const int offw = kw * g->dil[2] - g->pad[2];
        int j = c->j0, id = j / hw, ih = (j % hw) / IW, iw = j % IW, left = c->cols;
        const float *src = crow;
        while (left > 0) {
            const int seg = imin(IW - iw, left);
            const int od = id * g->str[0] + offd, oh = ih * g->str[1] + offh;
            if (od >= 0 && od < OD && oh >= 0 && oh < OH) {
                // Input cells t in [0, seg) land on ow = ow0 + t*sw; keep those inside [0, OW).
                const int ow0 = iw * sw + offw;
                int lo = ow0 >= 0 ? 0 : ceil_div(-ow0, sw);
                int hi = ow0 < OW ? ceil_div(OW - ow0, sw) : 0;
                lo = imin(lo, seg);
                hi = imax(lo, imin(hi, seg));
                float *orow = yp + ((size_t)od * OH + oh) * OW;
                if (sw == 1)
                    for (int t = lo; t < hi; t++) orow[ow0 + t] += src[t];
                else
                    for (int t = lo; t < hi; t++) orow[ow0 + t * sw] += src[t];
            }
            src += seg;
            left -= seg;
            iw += seg;
            if (iw == IW) {
                iw = 0;
                if (++ih == IH) {
                    ih = 0;
                    ++id;
                }
            }
        }
    }
}

void cedge_conv_transpose_f32(const cedge_conv_desc *d, const float *x, const float *w, const float *bias,
                              float *y) {
    cedge_geom3 g;
    cedge_geom_from_conv(d, &g);
    if (d->batch <= 0 || d->out_channels <= 0 || g.out_plane == 0) return;
    const cedge_isa *isa = cedge_active_isa();
    if (!isa) {
        conv_transpose_portable(d, &g, x, w, bias, y);
        return;
    }
    const int groups = d->groups > 0 ? d->groups : 1;
    const int icg = d->in_channels / groups, ocg = d->out_channels / groups;
    init_bias(d, &g, bias, y);
    const int m = ocg * (int)g.ker_vol, cells = (int)g.in_plane;
    if (m > 0 && cells > 0) {
        // ~16 MB of columns at most; whole multiples of NR keep the GEMM tiles full.
        const size_t budget = (size_t)4 << 20;
        int chunk = cells;
        if ((size_t)m * cells > budget) {
            chunk = (int)(budget / (size_t)m);
            chunk = imax(isa->nr, chunk / isa->nr * isa->nr);
            chunk = imin(chunk, cells);
        }
        float *col = cedge_scratch(0, CEDGE_SCR_SHARED, (size_t)m * chunk);
        for (int n = 0; n < d->batch; n++)
            for (int grp = 0; grp < groups; grp++) {
                const float *xg = x + ((size_t)n * d->in_channels + (size_t)grp * icg) * g.in_plane;
                for (int j0 = 0; j0 < cells; j0 += chunk) {
                    const int cols = imin(chunk, cells - j0);
                    cedge_gemm_problem p;
                    p.m = m;
                    p.n = cols;
                    p.k = icg;
                    // w is [in_channels, ocg, k...]: the group's slice is an icg x m matrix, used transposed.
                    p.a = w + (size_t)grp * icg * m;
                    p.lda = (size_t)m;
                    p.trans_a = 1;
                    p.alpha = 1.0f;
                    cedge_bsrc_matrix(&p.b, xg + j0, g.in_plane, 0);
                    p.beta = 0.0f;
                    p.c = col;
                    p.ldc = (size_t)cols;
                    p.bias = NULL;
                    p.clamp = 0;
                    p.cmin = -INFINITY;
                    p.cmax = INFINITY;
                    p.scale = NULL;
                    p.apacked = NULL;
                    p.apacked16 = NULL;
                    cedge_gemm_run(isa, &p, 1);
                    col2im_ctx c = {&g, col, y + ((size_t)n * d->out_channels + (size_t)grp * ocg) * g.out_plane,
                                    j0, cols};
                    cedge_parallel_for(ocg, col2im_task, &c);
                }
            }
    }
    if (cedge_clamp_active(d->clamp_min, d->clamp_max)) clamp_all(d, &g, y);
}
