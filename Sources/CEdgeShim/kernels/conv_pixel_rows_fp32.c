// Strided convolutions as a GEMM with the output pixels as rows: C^T (pixels x output channels) = A (pixels x
// K taps, read in place from the zero-padded input) * W^T (K x channels, packed once), stored transposed into
// NCHW by the micro-kernel. The shifted-window GEMM computes a strided conv over pitch-padded rows of phase
// planes: at the 7x7 and 14x14 outputs of a small ResNet a quarter (span 55 for 49 cells) or an eighth of its
// columns were padding, and the phase copy and the extraction of the outputs came on top. Here a row panel is
// up to MR pixels of one output row, so every multiply-add makes an output, and nothing is copied but the
// padded input.
#include <string.h>

#include "kernels_internal.h"

static inline int imin(int a, int b) { return a < b ? a : b; }
static inline int imax(int a, int b) { return a > b ? a : b; }
static inline int ceil_div(int a, int b) { return (a + b - 1) / b; }

int cedge_rows_plan(const cedge_isa *isa, const cedge_conv_desc *d, const cedge_geom3 *g) {
    const int groups = d->groups > 0 ? d->groups : 1;
    if (!isa || !isa->ukernel_rows || groups != 1 || d->in_channels < 2 || d->out_channels < 1 || d->batch < 1)
        return 0;
    if (g->ker[0] != 1 || g->in[0] != 1 || g->out[0] != 1) return 0;   // 1-d and 2-d
    return g->str[2] >= 2 && g->out[1] * g->out[2] > 1;
}

size_t cedge_rows_packed_floats(const cedge_isa *isa, int oc, int k) {
    return (size_t)ceil_div(oc, isa->nr) * k * isa->nr;
}

// Panel jp of NR output channels: k rows of NR weights (channels past oc zero).
void cedge_rows_pack(const cedge_isa *isa, const float *w, int oc, int k, float *dst) {
    const int NR = isa->nr, KQ = ceil_div(oc, NR);
    for (int jp = 0; jp < KQ; jp++)
        for (int i = 0; i < k; i++) {
            float *row = dst + ((size_t)jp * k + i) * NR;
            for (int j = 0; j < NR; j++) {
                const int o = jp * NR + j;
                row[j] = o < oc ? w[(size_t)o * k + i] : 0.0f;
            }
        }
}

typedef struct {
    const cedge_isa *isa;
    const cedge_geom3 *g;
    const float *x, *xp;   // the input, and what the taps read: its padded copy, or x itself
    const float *b;        // packed W^T panels
    const size_t *koff;    // tap k's offset from a pixel's window origin in xp
    float *y;
    cedge_rows_epi epi;
    int C, K, OC, per_row, panels, chunks;
    int PH, PW;
    size_t plane;   // xp's plane
    int own;        // batch 1 on the pool: each task pads the rows it reads itself (xp, koff unused)
} rows_ctx;

// Tap k's offset from a pixel's window origin, in padded planes `plane` floats apart, rows PW apart.
static void fill_koff(const cedge_geom3 *g, int C, size_t plane, int PW, size_t *koff) {
    for (int ch = 0, k = 0; ch < C; ch++)
        for (int ky = 0; ky < g->ker[1]; ky++)
            for (int kx = 0; kx < g->ker[2]; kx++, k++)
                koff[k] = (size_t)ch * plane + (size_t)ky * g->dil[1] * PW + (size_t)kx * g->dil[2];
}

static size_t *koff_scratch(int tid, int k) {
    return (size_t *)(void *)cedge_scratch(tid, CEDGE_SCR_KOFF, (size_t)k * ((sizeof(size_t) + sizeof(float) - 1) / sizeof(float)));
}

static void pad_task(void *vctx, int plane, int tid) {
    (void)tid;
    const rows_ctx *c = vctx;
    cedge_pad_plane(c->g, c->x + (size_t)plane * c->g->in_plane, (float *)c->xp + (size_t)plane * c->plane, 1, c->PH,
                    c->PW);
}

// Task: output-channel panel jp, pixel panels [q0, q1) (each up to MR pixels of one output row, the row split
// evenly).
static void rows_task(void *vctx, int task, int tid) {
    const rows_ctx *c = vctx;
    const cedge_geom3 *g = c->g;
    const int NR = c->isa->nr, jp = task / c->chunks, part = task % c->chunks;
    const int q0 = (int)((long)part * c->panels / c->chunks), q1 = (int)((long)(part + 1) * c->panels / c->chunks);
    const int OH = g->out[1], OW = g->out[2], n_oc = imin(NR, c->OC - jp * NR);
    const size_t OHW = (size_t)OH * OW;
    const float *b = c->b + (size_t)jp * c->K * NR;
    cedge_rows_epi e = c->epi;
    if (e.scale) e.scale += jp * NR;
    if (e.shift) e.shift += jp * NR;
    const float *xp = c->xp;
    const size_t *koff = c->koff;
    size_t plane = c->plane;
    int row0 = 0;   // xp's first row, in padded rows
    if (c->own && q1 > q0) {
        // Batch 1: panel q is in output row q / per_row. The rows these panels read, padded by this thread
        // (a serial copy before the tasks was a step of its own, and its lines then moved to the other core).
        const int oy0 = q0 / c->per_row, oy1 = (q1 - 1) / c->per_row;
        const int rows = (oy1 - oy0) * g->str[1] + (g->ker[1] - 1) * g->dil[1] + 1;
        row0 = oy0 * g->str[1];
        plane = (size_t)rows * c->PW;
        float *buf = cedge_scratch(tid, CEDGE_SCR_AUX2, (size_t)c->C * plane);
        for (int ch = 0; ch < c->C; ch++)
            cedge_pad_rows(g, c->x + (size_t)ch * g->in_plane, buf + (size_t)ch * plane, row0, rows, c->PW);
        size_t *own = koff_scratch(tid, c->K);
        fill_koff(g, c->C, plane, c->PW, own);
        xp = buf;
        koff = own;
    }
    for (int q = q0; q < q1; q++) {
        const int per_image = OH * c->per_row, n = q / per_image, oy = (q % per_image) / c->per_row;
        const int r = q % c->per_row, ox0 = r * OW / c->per_row, cnt = (r + 1) * OW / c->per_row - ox0;
        const float *abase = xp + (size_t)n * c->C * plane + (size_t)(oy * g->str[1] - row0) * c->PW +
                             (size_t)ox0 * g->str[2];
        float *yt = c->y + ((size_t)n * c->OC + (size_t)jp * NR) * OHW + (size_t)oy * OW + ox0;
        c->isa->ukernel_rows(cnt, n_oc, c->K, abase, koff, g->str[2], b, &e, yt, OHW);
    }
}

void cedge_rows_conv(const cedge_isa *isa, const cedge_conv_desc *d, const cedge_geom3 *g, const float *x,
                     const float *w, const float *bpacked, const float *scale, const float *shift, float *y) {
    rows_ctx c;
    memset(&c, 0, sizeof c);
    c.isa = isa;
    c.g = g;
    c.x = x;
    c.y = y;
    c.C = d->in_channels;
    c.OC = d->out_channels;
    c.K = c.C * g->ker[1] * g->ker[2];
    c.epi.scale = scale;
    c.epi.shift = shift;
    c.epi.clamp = cedge_clamp_active(d->clamp_min, d->clamp_max);
    c.epi.cmin = d->clamp_min;
    c.epi.cmax = d->clamp_max;
    if (!bpacked) {
        float *bp = cedge_scratch(0, CEDGE_SCR_APACK, cedge_rows_packed_floats(isa, c.OC, c.K));
        cedge_rows_pack(isa, w, c.OC, c.K, bp);
        bpacked = bp;
    }
    c.b = bpacked;
    // The extent the windows read; without pads and within the input, the taps read x in place.
    c.PH = (g->out[1] - 1) * g->str[1] + (g->ker[1] - 1) * g->dil[1] + 1;
    c.PW = (g->out[2] - 1) * g->str[2] + (g->ker[2] - 1) * g->dil[2] + 1;
    c.per_row = ceil_div(g->out[2], isa->mr);
    c.panels = d->batch * g->out[1] * c.per_row;
    // Output-channel panels first; fewer than threads: the pixel panels are shared out too.
    const int KQ = ceil_div(c.OC, isa->nr), width = cedge_pool_width();
    c.chunks = KQ >= width ? 1 : imin(c.panels, ceil_div(width, KQ));
    c.chunks = imax(c.chunks, 1);
    if (g->pad[1] == 0 && g->pad[2] == 0 && c.PH <= g->in[1] && c.PW <= g->in[2]) {
        c.xp = x;
        c.PH = g->in[1];
        c.PW = g->in[2];
        c.plane = g->in_plane;
    } else if (d->batch == 1 && c.chunks > 1) {
        // Tasks that split an image's rows pad their own (the 14x14 stride-2 conv of the edge model on 2
        // threads: 11.3 us with the shared copy, 9.6). Tasks that split the channels share one copy: each
        // padding the whole input measured slower (7x7: 10.3 us, 11.5).
        c.own = 1;
    } else {
        c.plane = (size_t)c.PH * c.PW;
        const size_t floats = (size_t)d->batch * c.C * c.plane;
        c.xp = cedge_scratch(0, CEDGE_SCR_SHARED, floats);
        cedge_parallel_copy(d->batch * c.C, pad_task, &c, floats);
    }
    if (!c.own) {
        size_t *koff = koff_scratch(0, c.K);
        fill_koff(g, c.C, c.plane, c.PW, koff);
        c.koff = koff;
    }
    cedge_parallel_for(KQ * c.chunks, rows_task, &c);
}
