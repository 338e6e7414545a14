// Winograd F(4x4, 3x3) for 3x3 stride-1 convolutions: each 4x4 output tile costs 36 multiplies per channel
// pair instead of 144, which on the models' 28x28 and 14x14 layers more than pays for the transforms.
//
// Two layouts of the 36 per-point GEMMs M[xi] (K x tiles) = U[xi] (K x C) * V[xi] (C x tiles):
// - tiles in lanes (CEDGE_WINO_TILES, many tiles): blocks of up to NR tiles (the ISA's micro-kernel width) are
//   transformed into 36 packed B panels (C rows of NR lanes), the micro-kernel multiplies each with that
//   point's transformed weights (MR-row A panels), and MR output channels at a time are transformed back,
//   with the conv epilogue, and scattered into y. A block's data stays in L2; blocks are tasks for the pool
//   (with fewer blocks than threads, a block's input transform and its output channels are each split).
// - output channels in lanes (CEDGE_WINO_CHANNELS, at most 2 MR tiles: a 7x7 layer at batch 1 has 4, a 14x14
//   one 16): the few tiles are the micro-kernel's rows (A) and the transformed weights its NR-lane B panels, so
//   no lane is spent on tiles that do not exist; panels of NR output channels are the pool's tasks (with two
//   panels of tiles, each panel is a task that transforms its own tiles).
#include <string.h>

#include "kernels_internal.h"

static inline int imin(int a, int b) { return a < b ? a : b; }
static inline int ceil_div(int a, int b) { return (a + b - 1) / b; }

#define WINO_T 4    // output tile
#define WINO_A 6    // input tile (T + 3 - 1)
#define WINO_XI 36  // transform points

// Lane columns the micro-kernel computes for a block of nt tiles: whole vectors of NR / 2.
static int lane_cols(int nt, int nr) {
    const int half = nr / 2 > 0 ? nr / 2 : nr;
    return ceil_div(nt, half) * half;
}

static void plan_blocks(int tiles, int nr, int *nblocks, int *per_block) {
    *nblocks = ceil_div(tiles, nr);
    *per_block = ceil_div(tiles, *nblocks);
}

int cedge_wino_plan(const cedge_isa *isa, const cedge_conv_desc *d, const cedge_geom3 *g) {
    const int groups = d->groups > 0 ? d->groups : 1;
    if (!isa || !isa->wino_in || !isa->wino_out || isa->nr > 64 || isa->mr > 16 || groups != 1 || d->batch <= 0)
        return 0;
    if (g->ker[0] != 1 || g->out[0] != 1 || g->in[0] != 1 || g->ker[1] != 3 || g->ker[2] != 3) return 0;
    for (int i = 1; i < 3; i++)
        if (g->str[i] != 1 || g->dil[i] != 1 || g->pad[i] < 0 || g->pad[i] > 2) return 0;
    // Few input channels: the GEMM's inner dimension is C, too short to amortise the transforms.
    if (d->in_channels < 8 || d->out_channels < 1 || g->out[1] < 1 || g->out[2] < 1) return 0;
    if (g->out[1] * g->out[2] == 1) return 0;   // the single-cell dot-product path takes it
    // Cost in lane-MACs per (input, output) channel pair, against the shifted-window GEMM's 9 rows over the
    // pitch-padded span in whole NR tiles; the transforms are counted as doubling the Winograd GEMM.
    const int tiles = d->batch * ceil_div(g->out[1], WINO_T) * ceil_div(g->out[2], WINO_T);
    const int span = (g->out[1] - 1) * (g->out[2] + 2) + g->out[2];
    const double direct = 9.0 * d->batch * (double)ceil_div(span, isa->nr) * isa->nr;
    // Up to two row panels of tiles (a 14x14 layer at batch 1 has 16): channels in lanes too, each panel's
    // tiles a task of their own (no transformed input crosses to the other core).
    if (tiles <= 2 * isa->mr) return 2.0 * WINO_XI * tiles < direct ? CEDGE_WINO_CHANNELS : 0;
    int nblocks, per;
    plan_blocks(tiles, isa->nr, &nblocks, &per);
    const double wino = 2.0 * WINO_XI * (double)(nblocks - 1) * lane_cols(per, isa->nr) +
                        2.0 * WINO_XI * lane_cols(tiles - (nblocks - 1) * per, isa->nr);
    return wino < direct ? CEDGE_WINO_TILES : 0;
}

// Tiles in lanes: per point, ceil(K / MR) A panels of C x MR. Channels in lanes: per point, ceil(K / NR) B
// panels of C x NR.
static int panel_rows(const cedge_isa *isa, int mode) { return mode == CEDGE_WINO_CHANNELS ? isa->nr : isa->mr; }

size_t cedge_wino_packed_floats(const cedge_isa *isa, int mode, int k, int c) {
    const int pr = panel_rows(isa, mode);
    return (size_t)WINO_XI * ceil_div(k, pr) * pr * (size_t)c;
}

// U = G g G^T per (out channel, in channel), in double, packed per transform point in the mode's panels
// (channels past K zero).
void cedge_wino_pack(const cedge_isa *isa, int mode, const float *w, int k, int c, float *dst) {
    static const double G[WINO_A][3] = {{1.0 / 4, 0, 0},
                                        {-1.0 / 6, -1.0 / 6, -1.0 / 6},
                                        {-1.0 / 6, 1.0 / 6, -1.0 / 6},
                                        {1.0 / 24, 1.0 / 12, 1.0 / 6},
                                        {1.0 / 24, -1.0 / 12, 1.0 / 6},
                                        {0, 0, 1}};
    const int pr = panel_rows(isa, mode), np = ceil_div(k, pr);
    memset(dst, 0, cedge_wino_packed_floats(isa, mode, k, c) * sizeof(float));
    for (int o = 0; o < k; o++)
        for (int i = 0; i < c; i++) {
            const float *g = w + ((size_t)o * c + i) * 9;
            double t[WINO_A][3];   // G g
            for (int a = 0; a < WINO_A; a++)
                for (int col = 0; col < 3; col++)
                    t[a][col] = G[a][0] * g[col] + G[a][1] * g[3 + col] + G[a][2] * g[6 + col];
            for (int a = 0; a < WINO_A; a++)
                for (int b = 0; b < WINO_A; b++) {
                    const double u = t[a][0] * G[b][0] + t[a][1] * G[b][1] + t[a][2] * G[b][2];
                    const size_t xi = (size_t)a * WINO_A + b;
                    dst[((xi * np + o / pr) * c + i) * pr + o % pr] = (float)u;
                }
        }
}

typedef struct {
    const cedge_isa *isa;
    const cedge_geom3 *g;
    const float *xp;   // zero-padded input planes [batch * C][PH][PW]
    const float *x;
    const float *u;
    const float *scale, *shift;
    float *y;
    const float *res;  // residual join (y's layout) or NULL
    int res_relu;
    int batch, C, K, KP, TH, TW, tiles, PH, PW, per_block, clamp;
    int ksplit;        // fewer blocks (tile panels) than threads: parts each one's work is split into
    float cmin, cmax;
    // Channels in lanes: the tiles' transformed input (per point, C k-steps of MR lanes) and the products
    // (per point, one row of KQ * NR channels per tile). Tiles in lanes, split blocks: the blocks' panels.
    const float *v;
    float *mt;
    size_t vs, mts;
    int KQ;
    int own_rows;   // each block (tiles in lanes) or tile panel (channels) pads the rows it reads itself (xp unused)
} wino_ctx;

// Channel plane `plane` into its zero border: input cell (h, w) at (h + pad_h, w + pad_w); cells past PH x PW
// are never read by a tile.
static void wino_pad_task(void *vctx, int plane, int tid) {
    (void)tid;
    const wino_ctx *c = vctx;
    const cedge_geom3 *g = c->g;
    cedge_pad_plane(g, c->x + (size_t)plane * g->in_plane, (float *)c->xp + (size_t)plane * c->PH * c->PW, 1, c->PH, c->PW);
}

// Lane (tile, output cell) bookkeeping of tile t: its output offset in y, its valid rows and columns.
static void tile_at(const wino_ctx *c, int t, size_t *dst, unsigned char *rows, unsigned char *cols) {
    const int OH = c->g->out[1], OW = c->g->out[2], per_image = c->TH * c->TW;
    const int n = t / per_image, ty = (t % per_image) / c->TW, tx = t % c->TW;
    *dst = (size_t)n * c->K * OH * OW + (size_t)(ty * WINO_T) * OW + (size_t)tx * WINO_T;
    *rows = (unsigned char)imin(WINO_T, OH - ty * WINO_T);
    *cols = (unsigned char)imin(WINO_T, OW - tx * WINO_T);
}

// Tile t's input window in its first channel's padded plane, in what tile_rows returned (xp, planes `plane`
// floats apart, from padded row row0 on): the shared copy of every image, or a task's own rows of t's image.
static const float *tile_src(const wino_ctx *c, int t, const float *xp, size_t plane, int row0) {
    const int per_image = c->TH * c->TW, n = t / per_image, ty = (t % per_image) / c->TW, tx = t % c->TW;
    return xp + (c->own_rows ? 0 : (size_t)n * c->C * plane) + (size_t)(ty * WINO_T - row0) * c->PW +
           (size_t)tx * WINO_T;
}

// The padded input that tiles [t0, t0 + nt) read: without own_rows, the shared copy xp (every channel, planes
// PH x PW, from row 0). With own_rows, a block or tile panel within one image pads just the rows its tiles
// read, on the thread that reads them: at batch 1 the shared padded copy was a serial step before the tasks,
// and its lines then moved to the other core. Then it pads channels [ch0, ch0 + nch) only. Returns the planes
// (plane floats apart) and the padded row they start at.
static const float *tile_rows(const wino_ctx *c, int t0, int nt, int ch0, int nch, int tid, size_t *plane, int *row0) {
    if (!c->own_rows) {
        *plane = (size_t)c->PH * c->PW;
        *row0 = 0;
        return c->xp;
    }
    const int per_image = c->TH * c->TW, n = t0 / per_image;
    const int ty0 = (t0 % per_image) / c->TW, ty1 = ((t0 + nt - 1) % per_image) / c->TW;
    const int rows = (ty1 - ty0) * WINO_T + WINO_A;
    *row0 = ty0 * WINO_T;
    *plane = (size_t)rows * c->PW;
    // Slack: a window row is read 8 floats wide.
    float *buf = cedge_scratch(tid, CEDGE_SCR_AUX2, (size_t)nch * *plane + 8);
    memset(buf + (size_t)nch * *plane, 0, 8 * sizeof(float));
    const cedge_geom3 *g = c->g;
    cedge_pad_rows(g, c->x + ((size_t)n * c->C + ch0) * g->in_plane, nch, buf, *plane, *row0, rows, c->PW);
    return buf;
}

// The 36 points' panels are written (and read back) together: strides of a multiple of 4 KB would put all 36
// in one L1 set, so each is padded by a cache line (which keeps the 64-byte alignment).
static size_t v_stride(const wino_ctx *c) { return (size_t)c->C * c->isa->nr + 16; }

// Transforms input channels [ch0, ch1) of block blk's tiles into v (the block's 36 point panels). Lanes past
// the block's tiles repeat its last tile (computed, never stored), so the transforms need no special case;
// only whole 16-lane groups holding tiles are transformed (16: a multiple of every ISA's vector width).
static void block_in(const wino_ctx *c, int blk, int ch0, int ch1, int tid, float *v) {
    const cedge_isa *isa = c->isa;
    const int NR = isa->nr, t0 = blk * c->per_block, nt = imin(c->per_block, c->tiles - t0);
    size_t plane;
    int row0;
    const float *xp = tile_rows(c, t0, nt, ch0, ch1 - ch0, tid, &plane, &row0);
    const float *src[64];
    // Own rows hold channels from ch0 on; the shared copy all of them.
    for (int l = 0; l < NR; l++)
        src[l] = tile_src(c, t0 + imin(l, nt - 1), xp, plane, row0) + (c->own_rows ? 0 : ch0 * plane);
    const int lanes = imin(NR, ceil_div(nt, 16) * 16);
    float *stage = cedge_scratch(tid, CEDGE_SCR_AUX, (size_t)WINO_XI * NR);
    const size_t vs = v_stride(c);
    for (int ch = ch0; ch < ch1; ch++)
        isa->wino_in(lanes, src, (size_t)(ch - ch0) * plane, (size_t)c->PW, stage, v + (size_t)ch * NR, vs);
}

// Output-channel panels [kp0, kp1) of block blk from its transformed input v: the 36 products, then the
// output transform with the epilogue into y.
static void block_out(const wino_ctx *c, int blk, int kp0, int kp1, int tid, const float *v) {
    const cedge_isa *isa = c->isa;
    const int NR = isa->nr, MR = isa->mr, C = c->C;
    const int t0 = blk * c->per_block, nt = imin(c->per_block, c->tiles - t0);
    const int OH = c->g->out[1], OW = c->g->out[2];
    const size_t vs = v_stride(c), ms = (size_t)MR * NR + 16;
    float *mb = cedge_scratch(tid, CEDGE_SCR_PACK_A, WINO_XI * ms);
    float *stage = cedge_scratch(tid, CEDGE_SCR_AUX, (size_t)WINO_XI * NR);
    float *dst[64];
    const float *res[64];
    unsigned char rows[64], cols[64];
    for (int l = 0; l < NR; l++) {
        size_t off;
        tile_at(c, t0 + imin(l, nt - 1), &off, &rows[l], &cols[l]);
        dst[l] = c->y + off;
        res[l] = c->res ? c->res + off : NULL;
    }
    const int lanes = imin(NR, ceil_div(nt, 16) * 16);
    const cedge_ukp plain = {0, 0.0f, NULL, 0, 0.0f, 0.0f, NULL};
    for (int kp = kp0; kp < kp1; kp++) {
        const int m = imin(MR, c->K - kp * MR);
        for (int xi = 0; xi < WINO_XI; xi++)
            isa->ukernel(m, nt, C, c->u + ((size_t)xi * c->KP + kp) * C * MR, v + xi * vs, mb + xi * ms, (size_t)NR,
                         &plain);
        for (int r = 0; r < m; r++) {
            const int oc = kp * MR + r;
            const cedge_wino_epi e = {c->scale != NULL, c->clamp, c->scale ? c->scale[oc] : 1.0f,
                                      c->shift ? c->shift[oc] : 0.0f, c->cmin, c->cmax, NULL, NULL,
                                      c->res ? res : NULL, c->res_relu};
            isa->wino_out(lanes, nt, mb + (size_t)r * NR, ms, &e, dst, (size_t)oc * OH * OW, (size_t)OW,
                          rows, cols, stage);
        }
    }
}

// A whole block on one thread: its input transform into the thread's own panels, then every output channel.
static void wino_block_task(void *vctx, int blk, int tid) {
    const wino_ctx *c = vctx;
    float *v = cedge_scratch(tid, CEDGE_SCR_PACK_B, WINO_XI * v_stride(c));
    block_in(c, blk, 0, c->C, tid, v);
    block_out(c, blk, 0, c->KP, tid, v);
}

// Fewer blocks than threads: each block's input transform is split by channels (into panels all tasks share),
// then its output channels, in a second pass. (Each part transforming the whole block itself, as before, spent
// a third of a 14x14 layer's time on 2 threads transforming and padding twice.)
static float *split_v(const wino_ctx *c, int blk) { return (float *)c->v + (size_t)blk * WINO_XI * v_stride(c); }

static void wino_split_in_task(void *vctx, int task, int tid) {
    const wino_ctx *c = vctx;
    const int blk = task / c->ksplit, part = task % c->ksplit;
    block_in(c, blk, (int)((long)part * c->C / c->ksplit), (int)((long)(part + 1) * c->C / c->ksplit), tid,
             split_v(c, blk));
}

static void wino_split_out_task(void *vctx, int task, int tid) {
    const wino_ctx *c = vctx;
    const int blk = task / c->ksplit, part = task % c->ksplit;
    block_out(c, blk, (int)((long)part * c->KP / c->ksplit), (int)((long)(part + 1) * c->KP / c->ksplit), tid,
              split_v(c, blk));
}

// Channels in lanes, output channels [jp * NR, +NR) of tile panel g (tiles g * MR ...): the 36 products of its
// transformed input v (per point, C k-steps of MR lanes, vs apart) into mt (per point, one row of KQ * NR
// channels per tile, mts apart), then each tile's outputs.
static void chan_out(const wino_ctx *c, int g, int jp, int tid, const float *v, size_t vs, float *mt) {
    const cedge_isa *isa = c->isa;
    const int NR = isa->nr, MR = isa->mr, k0 = jp * NR, n = imin(NR, c->K - k0), t0 = g * MR;
    const int T = imin(MR, c->tiles - t0);
    const size_t OHW = (size_t)c->g->out[1] * c->g->out[2], pitch = (size_t)c->KQ * NR;
    const cedge_ukp plain = {0, 0.0f, NULL, 0, 0.0f, 0.0f, NULL};
    for (int xi = 0; xi < WINO_XI; xi++)
        isa->ukernel(T, n, c->C, v + xi * vs, c->u + ((size_t)xi * c->KQ + jp) * c->C * NR, mt + xi * c->mts + k0,
                     pitch, &plain);
    float *stage = cedge_scratch(tid, CEDGE_SCR_AUX, (size_t)WINO_T * WINO_T * NR);
    float *dst[64];
    const float *res[64];
    unsigned char rows[64], cols[64];
    const cedge_wino_epi e = {c->scale != NULL, c->clamp, 1.0f, 0.0f, c->cmin, c->cmax,
                              c->scale ? c->scale + k0 : NULL, c->shift ? c->shift + k0 : NULL,
                              c->res ? res : NULL, c->res_relu};
    for (int t = 0; t < T; t++) {
        size_t off;
        unsigned char r, q;
        tile_at(c, t0 + t, &off, &r, &q);
        for (int l = 0; l < NR; l++) {
            dst[l] = c->y + off + (size_t)(k0 + imin(l, n - 1)) * OHW;
            res[l] = c->res ? c->res + off + (size_t)(k0 + imin(l, n - 1)) * OHW : NULL;
            rows[l] = r;
            cols[l] = q;
        }
        isa->wino_out(NR, n, mt + t * pitch + k0, c->mts, &e, dst, 0, (size_t)c->g->out[2], rows, cols, stage);
    }
}

static void wino_channels_task(void *vctx, int jp, int tid) {
    const wino_ctx *c = vctx;
    chan_out(c, 0, jp, tid, c->v, c->vs, c->mt);
}

#define CHAN_LANES 16    // wino_in's lane count in the channels-in-lanes layout: a multiple of every ISA's WL
#define CHAN_PER_TASK 16

// Channels in lanes: transforms input channels [c0, c1) of tile panel `panel` (tiles panel * MR, at most MR of
// them), read from padded planes xp (as tile_src takes them), into v (per point, C k-steps of MR lanes, vs
// apart). One wino_in call takes G = 16 / MR channels (2 with MR 8 or 6): lane l is tile l % MR of channel
// l / MR, so the call writes those channels' MR-float rows side by side. (One channel a call left 12 of 16
// lanes repeating the 4 tiles of a 7x7 layer: the transform was a quarter of that layer's time.) Lanes past
// G * MR spill into the next channels, which are written after them; the calls whose lanes would reach past
// c1 go through `stage` instead, so tasks never write each other's channels. (Only the last one did: on AVX2
// the one before it spilled 4 floats into the next task's first channel, a race that 2-thread tests caught
// now and then.)
static void chan_in(const wino_ctx *c, int panel, int c0, int c1, int tid, const float *xp, size_t plane, int row0,
                    float *v, size_t vs) {
    const cedge_isa *isa = c->isa;
    const int MR = isa->mr, G = CHAN_LANES / MR;
    float *stage = cedge_scratch(tid, CEDGE_SCR_AUX, (size_t)WINO_XI * CHAN_LANES * 2);
    float *last = stage + (size_t)WINO_XI * CHAN_LANES;
    // srcs[n - 1]: the lanes of a call that takes n channels (lanes of channels past n read channel 0's tiles).
    const float *srcs[CHAN_LANES][CHAN_LANES];
    for (int n = 1; n <= G; n++)
        for (int l = 0; l < CHAN_LANES; l++) {
            const int g = l / MR < n ? l / MR : 0;
            srcs[n - 1][l] = tile_src(c, imin(panel * MR + l % MR, c->tiles - 1), xp, plane, row0) + g * plane;
        }
    for (int ch = c0; ch < c1; ch += G) {
        const int n = imin(G, c1 - ch);
        if (ch * MR + CHAN_LANES <= c1 * MR) {
            isa->wino_in(CHAN_LANES, srcs[n - 1], (size_t)ch * plane, (size_t)c->PW, stage, v + (size_t)ch * MR, vs);
            continue;
        }
        isa->wino_in(CHAN_LANES, srcs[n - 1], (size_t)ch * plane, (size_t)c->PW, stage, last, CHAN_LANES);
        for (int xi = 0; xi < WINO_XI; xi++)
            memcpy(v + xi * vs + (size_t)ch * MR, last + (size_t)xi * CHAN_LANES, (size_t)n * MR * sizeof(float));
    }
}

// One tile panel: each task pads the planes of its channels [c0, c1) into the shared copy itself (a serial
// copy before the tasks was a step of its own at batch 1: 2 us of the 7x7 layer's 9 on 2 threads).
static void wino_chan_in_task(void *vctx, int task, int tid) {
    const wino_ctx *c = vctx;
    const int c0 = task * CHAN_PER_TASK, c1 = imin(c->C, (task + 1) * CHAN_PER_TASK);
    const size_t plane = (size_t)c->PH * c->PW;
    for (int n = 0; n < c->batch; n++)
        for (int ch = c0; ch < c1; ch++) wino_pad_task(vctx, n * c->C + ch, tid);
    chan_in(c, 0, c0, c1, tid, c->xp, plane, 0, (float *)c->v, c->vs);
}

// Channels in lanes, two tile panels: task (panel g, part) pads the rows its tiles read and transforms them itself,
// into its own scratch (no padded copy on the calling thread first, nor transformed input crossing cores), then
// computes its part of the output-channel panels. Parts (more threads than panels) repeat the transform.
static void wino_group_task(void *vctx, int task, int tid) {
    const wino_ctx *c = vctx;
    const int g = task / c->ksplit, part = task % c->ksplit;
    float *v = cedge_scratch(tid, CEDGE_SCR_WINO_V, WINO_XI * c->vs);
    float *mt = cedge_scratch(tid, CEDGE_SCR_WINO_M, WINO_XI * c->mts);
    // Channels past K (last panel) are computed from whatever the rows hold: keep them finite.
    if (c->K % c->isa->nr) memset(mt, 0, WINO_XI * c->mts * sizeof(float));
    const int t0 = g * c->isa->mr, nt = imin(c->isa->mr, c->tiles - t0);
    size_t plane;
    int row0;
    const float *xp = tile_rows(c, t0, nt, 0, c->C, tid, &plane, &row0);
    chan_in(c, g, 0, c->C, tid, xp, plane, row0, v, c->vs);
    for (int jp = (int)((long)part * c->KQ / c->ksplit); jp < (int)((long)(part + 1) * c->KQ / c->ksplit); jp++)
        chan_out(c, g, jp, tid, v, c->vs, mt);
}

// Channels in lanes: the tiles' input transform, then the output-channel panels, both on the pool.
static void wino_channels(wino_ctx *c, int width) {
    const cedge_isa *isa = c->isa;
    const int NR = isa->nr;
    c->vs = (size_t)c->C * isa->mr + CHAN_LANES;
    c->KQ = ceil_div(c->K, NR);
    const int panels = ceil_div(c->tiles, isa->mr);
    if (panels > 1) {
        c->mts = (size_t)isa->mr * c->KQ * NR + 16;
        c->ksplit = imin(c->KQ, ceil_div(width, panels));
        cedge_parallel_for(panels * c->ksplit, wino_group_task, c);
        return;
    }
    c->v = cedge_scratch(0, CEDGE_SCR_WINO_V, WINO_XI * c->vs);
    c->mts = (size_t)c->tiles * c->KQ * NR + 16;
    c->mt = cedge_scratch(0, CEDGE_SCR_WINO_M, WINO_XI * c->mts);
    // Channels past K (last panel) are computed from whatever the rows hold: keep them finite.
    if (c->K % NR) memset(c->mt, 0, WINO_XI * c->mts * sizeof(float));
    cedge_parallel_for(ceil_div(c->C, CHAN_PER_TASK), wino_chan_in_task, c);
    cedge_parallel_for(c->KQ, wino_channels_task, c);
}

void cedge_wino_conv(const cedge_isa *isa, int mode, const cedge_conv_desc *d, const cedge_geom3 *g,
                     const float *x, const float *w, const float *upacked, const float *scale, const float *shift,
                     const cedge_conv_residual *res, float *y) {
    wino_ctx c;
    memset(&c, 0, sizeof c);
    c.isa = isa;
    c.g = g;
    c.x = x;
    c.batch = d->batch;
    c.C = d->in_channels;
    c.K = d->out_channels;
    c.KP = ceil_div(c.K, isa->mr);
    c.TH = ceil_div(g->out[1], WINO_T);
    c.TW = ceil_div(g->out[2], WINO_T);
    c.tiles = d->batch * c.TH * c.TW;
    c.PH = c.TH * WINO_T + 2;
    c.PW = c.TW * WINO_T + 2;
    c.scale = scale;
    c.shift = shift;
    c.y = y;
    c.res = res ? res->r : NULL;
    c.res_relu = res ? res->relu : 0;
    c.clamp = cedge_clamp_active(d->clamp_min, d->clamp_max);
    c.cmin = d->clamp_min;
    c.cmax = d->clamp_max;
    if (!upacked) {
        float *u = cedge_scratch(0, CEDGE_SCR_APACK, cedge_wino_packed_floats(isa, mode, c.K, c.C));
        cedge_wino_pack(isa, mode, w, c.K, c.C, u);
        upacked = u;
    }
    c.u = upacked;
    int nblocks = 0;
    const int width = cedge_pool_width();
    if (mode == CEDGE_WINO_TILES) plan_blocks(c.tiles, isa->nr, &nblocks, &c.per_block);
    else c.per_block = isa->mr;   // a tile panel
    // Blocks (tile panels) pad their own rows on the pool when each lies within one image (batch 1 and the
    // like); one tile panel of channels in lanes: its input-transform tasks pad their channels' planes.
    const int per_image = c.TH * c.TW, panels = mode == CEDGE_WINO_TILES ? nblocks : ceil_div(c.tiles, c.per_block);
    c.own_rows = mode == CEDGE_WINO_TILES ? width > 1 : panels > 1;
    for (int b = 0; b < panels && c.own_rows; b++) {
        const int t0 = b * c.per_block, t1 = imin(c.tiles, t0 + c.per_block) - 1;
        c.own_rows = t0 / per_image == t1 / per_image;
    }
    if (!c.own_rows) {
        // Slack: a window row is read 8 floats wide.
        const size_t padded = (size_t)d->batch * c.C * c.PH * c.PW;
        float *xp = cedge_scratch(0, CEDGE_SCR_SHARED, padded + 8);
        memset(xp + padded, 0, 8 * sizeof(float));
        c.xp = xp;
        if (mode == CEDGE_WINO_TILES || panels > 1) cedge_parallel_copy(d->batch * c.C, wino_pad_task, &c, padded);
    }
    if (mode == CEDGE_WINO_CHANNELS) {
        wino_channels(&c, width);
        return;
    }
    c.ksplit = nblocks < width ? imin(imin(c.KP, c.C), ceil_div(width, nblocks)) : 1;
    if (c.ksplit == 1) {
        cedge_parallel_for(nblocks, wino_block_task, &c);
        return;
    }
    c.v = cedge_scratch(0, CEDGE_SCR_WINO_V, (size_t)nblocks * WINO_XI * v_stride(&c));
    cedge_parallel_for(nblocks * c.ksplit, wino_split_in_task, &c);
    cedge_parallel_for(nblocks * c.ksplit, wino_split_out_task, &c);
}
