// Element-wise fp32 loops the models run between convolutions (the residual Add, Relu, both fused): plain loops the
// compiler vectorises, split over the pool when the tensor is large enough to pay for the hand-off (at
// batch 32 they were serial passes of several hundred KB while the second core idled).
#include "kernels_internal.h"

#define ELT_CHUNK 16384   // floats per task
#define ELT_MIN_PARALLEL (4 * ELT_CHUNK)
// Smaller tensors (the batch-1 residual adds, 3-12k floats) take one share per thread: their inputs were written
// by both cores' conv tasks, so one core doing it all waited on the other's cache for half of them (edge model,
// 2 threads: the 16x28x28 Add+Relu 1.8 us serial, 1.2 us split; the 32x14x14 one 0.9 and 0.7).
#define ELT_MIN_SPLIT 4096

typedef struct {
    size_t n;
    const float *a, *b;
    float *y;
    size_t chunk;   // floats per task
} elt_ctx;

static void add_task(void *vctx, int task, int tid) {
    (void)tid;
    const elt_ctx *c = vctx;
    const size_t i0 = (size_t)task * c->chunk, i1 = i0 + c->chunk < c->n ? i0 + c->chunk : c->n;
    for (size_t i = i0; i < i1; i++) c->y[i] = c->a[i] + c->b[i];
}

static void relu_task(void *vctx, int task, int tid) {
    (void)tid;
    const elt_ctx *c = vctx;
    const size_t i0 = (size_t)task * c->chunk, i1 = i0 + c->chunk < c->n ? i0 + c->chunk : c->n;
    for (size_t i = i0; i < i1; i++) c->y[i] = c->a[i] > 0 ? c->a[i] : 0.0f;
}

static void add_relu_task(void *vctx, int task, int tid) {
    (void)tid;
    const elt_ctx *c = vctx;
    const size_t i0 = (size_t)task * c->chunk, i1 = i0 + c->chunk < c->n ? i0 + c->chunk : c->n;
    for (size_t i = i0; i < i1; i++) {
        const float v = c->a[i] + c->b[i];
        c->y[i] = v > 0 ? v : 0.0f;
    }
}

static void run(size_t n, cedge_task_fn fn, elt_ctx *c) {
    const int width = cedge_pool_width();
    if (n >= ELT_MIN_PARALLEL) {
        c->chunk = ELT_CHUNK;
    } else if (n >= ELT_MIN_SPLIT && width > 1) {
        c->chunk = (n / (size_t)width + 15) & ~(size_t)15;   // whole 64-byte lines per share
    } else {
        c->chunk = n;
        fn(c, 0, 0);
        return;
    }
    cedge_parallel_for((int)((n + c->chunk - 1) / c->chunk), fn, c);
}

void cedge_add_f32(size_t n, const float *a, const float *b, float *y) {
    elt_ctx c = {n, a, b, y, 0};
    run(n, add_task, &c);
}

void cedge_add_relu_f32(size_t n, const float *a, const float *b, float *y) {
    elt_ctx c = {n, a, b, y, 0};
    run(n, add_relu_task, &c);
}

void cedge_relu_f32(size_t n, const float *x, float *y) {
    elt_ctx c = {n, x, NULL, y, 0};
    run(n, relu_task, &c);
}
