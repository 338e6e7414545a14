// Pooling: MAX (dilations, ONNX indices) and AVG (count_include_pad) N-d, and global average pool.
#include <math.h>
#include <string.h>

#include "kernels_internal.h"

static inline int imin(int a, int b) { return a < b ? a : b; }
static inline int ceil_div(int a, int b) { return (a + b - 1) / b; }

// Cells counted by AVG in one dim for a window starting at `start`: count_include_pad counts the cells inside
// the padded extent [-pad_begin, in + pad_end) (ONNX/PyTorch: not the part of a ceil_mode window that runs past
// it), otherwise the cells inside the input.
static int dim_count(const cedge_geom3 *g, int i, int start, int include_pad) {
    const int lo = include_pad ? -g->pad[i] : 0, hi = include_pad ? g->in[i] + g->pad_end[i] : g->in[i];
    int n = 0;
    for (int k = 0; k < g->ker[i]; k++) {
        const int p = start + k * g->dil[i];
        if (p >= lo && p < hi) n++;
    }
    return n;
}

// ---- portable reference (also the path that produces MAX indices) ------------------------------------------
typedef struct {
    const cedge_pool_desc *d;
    const cedge_geom3 *g;
    const float *x;
    float *y;
    int64_t *indices;
    const float *wcount;   // fast AVG: per-ow count along W
} pool_ctx;

static void pool_plane_portable(void *vctx, int plane, int tid) {
    (void)tid;
    const pool_ctx *c = vctx;
    const cedge_geom3 *g = c->g;
    const int is_max = c->d->kind == CEDGE_POOL_MAX;
    const float *xp = c->x + (size_t)plane * g->in_plane;
    float *yp = c->y + (size_t)plane * g->out_plane;
    int64_t *ip = c->indices ? c->indices + (size_t)plane * g->out_plane : NULL;
    for (int od = 0; od < g->out[0]; od++)
        for (int oh = 0; oh < g->out[1]; oh++)
            for (int ow = 0; ow < g->out[2]; ow++) {
                const int sd = od * g->str[0] - g->pad[0], sh = oh * g->str[1] - g->pad[1];
                const int sw = ow * g->str[2] - g->pad[2];
                float best = -INFINITY, sum = 0.0f;
                int64_t best_at = -1;
                for (int kd = 0; kd < g->ker[0]; kd++) {
                    const int id = sd + kd * g->dil[0];
                    if (id < 0 || id >= g->in[0]) continue;
                    for (int kh = 0; kh < g->ker[1]; kh++) {
                        const int ih = sh + kh * g->dil[1];
                        if (ih < 0 || ih >= g->in[1]) continue;
                        for (int kw = 0; kw < g->ker[2]; kw++) {
                            const int iw = sw + kw * g->dil[2];
                            if (iw < 0 || iw >= g->in[2]) continue;
                            const size_t at = ((size_t)id * g->in[1] + ih) * g->in[2] + iw;
                            const float v = xp[at];
                            sum += v;
                            if (best_at < 0 || v > best) {
                                best = v;
                                best_at = (int64_t)at;
                            }
                        }
                    }
                }
                const size_t o = ((size_t)od * g->out[1] + oh) * g->out[2] + ow;
                if (is_max) {
                    yp[o] = best;
                    if (ip) ip[o] = best_at < 0 ? 0 : (int64_t)((size_t)plane * g->in_plane) + best_at;
                } else {
                    const int include = c->d->count_include_pad;
                    const int n = dim_count(g, 0, sd, include) * dim_count(g, 1, sh, include) *
                                  dim_count(g, 2, sw, include);
                    yp[o] = n > 0 ? sum / (float)n : 0.0f;
                }
            }
}

// ---- fast path: window taps as row operations ---------------------------------------------------------------
// For a fixed output row and kernel cell (kd, kh, kw), the inputs form a strided row segment, so each tap is
// one vectorisable max/add pass over the output row; counts factor per dimension.
static void pool_plane_fast(void *vctx, int plane, int tid) {
    (void)tid;
    const pool_ctx *c = vctx;
    const cedge_geom3 *g = c->g;
    const int is_max = c->d->kind == CEDGE_POOL_MAX, include = c->d->count_include_pad;
    const int IH = g->in[1], IW = g->in[2], OH = g->out[1], OW = g->out[2], sw = g->str[2];
    const float *xp = c->x + (size_t)plane * g->in_plane;
    float *yp = c->y + (size_t)plane * g->out_plane;
    for (int od = 0; od < g->out[0]; od++)
        for (int oh = 0; oh < OH; oh++) {
            float *out = yp + ((size_t)od * OH + oh) * OW;
            const float init = is_max ? -INFINITY : 0.0f;
            for (int ow = 0; ow < OW; ow++) out[ow] = init;
            const int sd = od * g->str[0] - g->pad[0], sh = oh * g->str[1] - g->pad[1];
            for (int kd = 0; kd < g->ker[0]; kd++) {
                const int id = sd + kd * g->dil[0];
                if (id < 0 || id >= g->in[0]) continue;
                for (int kh = 0; kh < g->ker[1]; kh++) {
                    const int ih = sh + kh * g->dil[1];
                    if (ih < 0 || ih >= IH) continue;
                    const float *row = xp + ((size_t)id * IH + ih) * IW;
                    for (int kw = 0; kw < g->ker[2]; kw++) {
                        const int off = kw * g->dil[2] - g->pad[2];
                        // ow*sw + off inside [0, IW)
                        const int lo = off >= 0 ? 0 : ceil_div(-off, sw);
                        const int hi = imin(OW, off < IW ? ceil_div(IW - off, sw) : 0);
                        if (is_max) {
                            if (sw == 1)
                                for (int ow = lo; ow < hi; ow++) {
                                    const float v = row[ow + off];
                                    out[ow] = v > out[ow] ? v : out[ow];
                                }
                            else
                                for (int ow = lo; ow < hi; ow++) {
                                    const float v = row[ow * sw + off];
                                    out[ow] = v > out[ow] ? v : out[ow];
                                }
                        } else {
                            if (sw == 1)
                                for (int ow = lo; ow < hi; ow++) out[ow] += row[ow + off];
                            else
                                for (int ow = lo; ow < hi; ow++) out[ow] += row[ow * sw + off];
                        }
                    }
                }
            }
            if (!is_max) {
                const int n_dh = dim_count(g, 0, sd, include) * dim_count(g, 1, sh, include);
                for (int ow = 0; ow < OW; ow++) {
                    const float n = (float)n_dh * c->wcount[ow];
                    out[ow] = n > 0.0f ? out[ow] / n : 0.0f;
                }
            }
        }
}

void cedge_pool_f32(const cedge_pool_desc *d, const float *x, float *y, int64_t *indices) {
    cedge_geom3 g;
    cedge_geom_from_pool(d, &g);
    const int planes = d->batch * d->channels;
    if (planes <= 0 || g.out_plane == 0) return;
    pool_ctx c = {d, &g, x, y, d->kind == CEDGE_POOL_MAX ? indices : NULL, NULL};
    const cedge_isa *isa = cedge_active_isa();
    if (!isa) {
        for (int p = 0; p < planes; p++) pool_plane_portable(&c, p, 0);
        return;
    }
    if (c.indices) {
        cedge_parallel_for(planes, pool_plane_portable, &c);
        return;
    }
    if (d->kind != CEDGE_POOL_MAX) {
        float *wc = cedge_scratch(0, CEDGE_SCR_SHARED, (size_t)g.out[2]);
        for (int ow = 0; ow < g.out[2]; ow++)
            wc[ow] = (float)dim_count(&g, 2, ow * g.str[2] - g.pad[2], d->count_include_pad);
        c.wcount = wc;
    }
    cedge_parallel_for(planes, pool_plane_fast, &c);
}

// ---- global average ------------------------------------------------------------------------------------------
typedef struct {
    const float *x;
    float *y;
    int cells, per_task, planes;
} gap_ctx;

static float plane_sum(const float *x, int n) {
    float s[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    int i = 0;
    for (; i + 8 <= n; i += 8)
        for (int j = 0; j < 8; j++) s[j] += x[i + j];
    float t = ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
    for (; i < n; i++) t += x[i];
    return t;
}

static void gap_task(void *vctx, int task, int tid) {
    (void)tid;
    const gap_ctx *c = vctx;
    const int p1 = imin(c->planes, (task + 1) * c->per_task);
    for (int p = task * c->per_task; p < p1; p++)
        c->y[p] = plane_sum(c->x + (size_t)p * c->cells, c->cells) / (float)c->cells;
}

void cedge_global_avg_pool_f32(int batch, int channels, int cells, const float *x, float *y) {
    const int planes = batch * channels;
    if (planes <= 0) return;
    if (cells <= 0) {
        memset(y, 0, (size_t)planes * sizeof(float));
        return;
    }
    if (!cedge_active_isa()) {
        for (int p = 0; p < planes; p++) {
            float s = 0.0f;
            for (int i = 0; i < cells; i++) s += x[(size_t)p * cells + i];
            y[p] = s / (float)cells;
        }
        return;
    }
    const int width = cedge_pool_width();
    const int tasks = (width > 1 && (double)planes * cells >= 65536.0) ? imin(width * 4, planes) : 1;
    gap_ctx c = {x, y, cells, ceil_div(planes, tasks), planes};
    cedge_parallel_for(ceil_div(planes, c.per_task), gap_task, &c);
}
