// Element-wise fp32 loops the models run between convolutions (the residual Add, Relu, both fused): plain loops the
// compiler vectorises, split over the pool when the tensor is large enough to pay for the hand-off (at
// batch 32 they were serial passes of several hundred KB while the second core idled).
#include "kernels_internal.h"

#define ELT_CHUNK 16384   // floats per task
#define ELT_MIN_PARALLEL (4 * ELT_CHUNK)

typedef struct {
    size_t n;
    const float *a, *b;
    float *y;
} elt_ctx;

static void add_task(void *vctx, int task, int tid) {
    (void)tid;
    const elt_ctx *c = vctx;
    const size_t i0 = (size_t)task * ELT_CHUNK, i1 = i0 + ELT_CHUNK < c->n ? i0 + ELT_CHUNK : c->n;
    for (size_t i = i0; i < i1; i++) c->y[i] = c->a[i] + c->b[i];
}

static void relu_task(void *vctx, int task, int tid) {
    (void)tid;
    const elt_ctx *c = vctx;
    const size_t i0 = (size_t)task * ELT_CHUNK, i1 = i0 + ELT_CHUNK < c->n ? i0 + ELT_CHUNK : c->n;
    for (size_t i = i0; i < i1; i++) c->y[i] = c->a[i] > 0 ? c->a[i] : 0.0f;
}

static void add_relu_task(void *vctx, int task, int tid) {
    (void)tid;
    const elt_ctx *c = vctx;
    const size_t i0 = (size_t)task * ELT_CHUNK, i1 = i0 + ELT_CHUNK < c->n ? i0 + ELT_CHUNK : c->n;
    for (size_t i = i0; i < i1; i++) {
        const float v = c->a[i] + c->b[i];
        c->y[i] = v > 0 ? v : 0.0f;
    }
}

static void run(size_t n, cedge_task_fn fn, elt_ctx *c) {
    const int tasks = (int)((n + ELT_CHUNK - 1) / ELT_CHUNK);
    if (n >= ELT_MIN_PARALLEL) {
        cedge_parallel_for(tasks, fn, c);
    } else {
        for (int t = 0; t < tasks; t++) fn(c, t, 0);
    }
}

void cedge_add_f32(size_t n, const float *a, const float *b, float *y) {
    elt_ctx c = {n, a, b, y};
    run(n, add_task, &c);
}

void cedge_add_relu_f32(size_t n, const float *a, const float *b, float *y) {
    elt_ctx c = {n, a, b, y};
    run(n, add_relu_task, &c);
}

void cedge_relu_f32(size_t n, const float *x, float *y) {
    elt_ctx c = {n, x, NULL, y};
    run(n, relu_task, &c);
}
