// Persistent pthread pool with a parallel-for, plus the per-thread grow-only scratch buffers of the kernels.
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kernels_internal.h"

// Design: the calling thread is pool thread 0 and runs tasks itself; workers 1..n-1 wait for a new job
// generation, first spinning briefly (layers are issued back to back, and a futex wake-up costs tens of
// microseconds, a lot next to a small layer), then sleeping on a condition variable. Tasks are claimed from
// one atomic word, generation << 32 | tasks left, with a compare-and-swap that only succeeds while the
// claimer's generation is current. So the caller waits only for tasks that were claimed, never for a worker
// to wake up and check in: when another process holds the other core (a worker not scheduled for a whole
// time slice), the caller runs every task itself instead of waiting for it. One caller at a time (the Swift
// executor).

#define SPIN_ROUNDS 20000

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__) || defined(__arm__)
    __asm__ __volatile__("yield" ::: "memory");
#endif
}

typedef struct {
    cedge_task_fn fn;
    void *ctx;
    int ntasks;
} job_t;

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_wake = PTHREAD_COND_INITIALIZER;
// Two slots: the caller writes the next generation's job while a late worker may still read the current one
// (what it reads is only used if its claim succeeds, i.e. while that generation is current).
static job_t g_jobs[2];
static _Atomic unsigned long long g_claim;   // generation << 32 | tasks not yet claimed
static unsigned g_gen;                       // caller's copy of the current generation
static atomic_int g_done;                    // tasks finished in the current generation
static atomic_int g_exit;
static unsigned g_spawn_generation;          // generation current when the workers were created

static int g_threads;               // configured width (0 = not yet decided)
static int g_workers;               // running worker threads (width - 1 once started)
static pthread_t g_worker_ids[CEDGE_MAX_THREADS];

static _Thread_local int t_tid;     // pool thread index of this thread
static _Thread_local int t_in_task; // 1 while running a task: nested parallel_for runs inline

static int online_cores(void) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    if (n < 1) return 1;
    if (n > CEDGE_MAX_THREADS) return CEDGE_MAX_THREADS;
    return (int)n;
}

static inline unsigned claim_generation(void) {
    return (unsigned)(atomic_load_explicit(&g_claim, memory_order_acquire) >> 32);
}

// Claims and runs tasks of generation `gen` until none is left (or a newer generation is current).
static void run_tasks(unsigned gen, int tid) {
    const job_t job = g_jobs[gen & 1];
    unsigned long long c = atomic_load_explicit(&g_claim, memory_order_acquire);
    while ((unsigned)(c >> 32) == gen && (unsigned)c > 0) {
        if (!atomic_compare_exchange_weak_explicit(&g_claim, &c, c - 1, memory_order_acq_rel, memory_order_acquire))
            continue;
        t_in_task = 1;
        job.fn(job.ctx, job.ntasks - (int)(unsigned)c, tid);
        t_in_task = 0;
        atomic_fetch_add_explicit(&g_done, 1, memory_order_release);
        c = atomic_load_explicit(&g_claim, memory_order_acquire);
    }
}

static void *worker_main(void *arg) {
    int tid = (int)(intptr_t)arg;
    t_tid = tid;
    // Not the live counter: a worker scheduled late must still see the first job as new.
    unsigned seen = g_spawn_generation;
    for (;;) {
        unsigned gen;
        int spins = 0;
        while ((gen = claim_generation()) == seen && spins < SPIN_ROUNDS) {
            cpu_relax();
            spins++;
        }
        if (gen == seen) {
            pthread_mutex_lock(&g_lock);
            while ((gen = claim_generation()) == seen) pthread_cond_wait(&g_wake, &g_lock);
            pthread_mutex_unlock(&g_lock);
        }
        seen = gen;
        if (atomic_load_explicit(&g_exit, memory_order_acquire)) return NULL;
        run_tasks(gen, tid);
    }
}

// Publishes a new generation with `ntasks` tasks of `job` (none: the exit request) and wakes the workers.
static unsigned publish(const job_t *job, int ntasks) {
    const unsigned gen = ++g_gen;
    if (job) g_jobs[gen & 1] = *job;
    atomic_store_explicit(&g_done, 0, memory_order_relaxed);
    pthread_mutex_lock(&g_lock);
    atomic_store_explicit(&g_claim, (unsigned long long)gen << 32 | (unsigned)ntasks, memory_order_release);
    pthread_cond_broadcast(&g_wake);
    pthread_mutex_unlock(&g_lock);
    return gen;
}

static void stop_workers(void) {
    if (g_workers == 0) return;
    atomic_store_explicit(&g_exit, 1, memory_order_release);
    publish(NULL, 0);
    for (int i = 0; i < g_workers; i++) pthread_join(g_worker_ids[i], NULL);
    g_workers = 0;
    atomic_store_explicit(&g_exit, 0, memory_order_release);
}

static void start_workers(void) {
    g_spawn_generation = g_gen;
    for (int i = 1; i < g_threads; i++) {
        if (pthread_create(&g_worker_ids[g_workers], NULL, worker_main, (void *)(intptr_t)i) != 0) {
            // Too few threads is not an error: run with what started.
            g_threads = g_workers + 1;
            break;
        }
        g_workers++;
    }
}

static void release_scratch_from(int first_tid);

void cedge_set_threads(int n) {
    if (n < 1) n = online_cores();
    if (n > CEDGE_MAX_THREADS) n = CEDGE_MAX_THREADS;
    if (n == g_threads) return;
    stop_workers();
    if (g_threads > n) release_scratch_from(n);
    g_threads = n;   // workers start lazily at the next parallel_for
}

int cedge_get_threads(void) {
    if (g_threads == 0) g_threads = online_cores();
    return g_threads;
}

int cedge_pool_width(void) {
    return t_in_task ? 1 : cedge_get_threads();
}

void cedge_parallel_for(int ntasks, cedge_task_fn fn, void *ctx) {
    if (ntasks <= 0) return;
    int width = cedge_pool_width();
    if (width <= 1 || ntasks == 1) {
        int tid = t_tid, nested = t_in_task;
        t_in_task = 1;
        for (int t = 0; t < ntasks; t++) fn(ctx, t, tid);
        t_in_task = nested;
        return;
    }
    if (g_workers != g_threads - 1) {
        stop_workers();
        start_workers();
        if (g_workers == 0) {
            for (int t = 0; t < ntasks; t++) fn(ctx, t, 0);
            return;
        }
    }
    job_t job = {fn, ctx, ntasks};
    const unsigned gen = publish(&job, ntasks);
    run_tasks(gen, 0);
    // Only tasks that a worker claimed can still be running.
    int spins = 0;
    while (atomic_load_explicit(&g_done, memory_order_acquire) < ntasks) {
        if (++spins < SPIN_ROUNDS) cpu_relax();
        else sched_yield();
    }
}

void cedge_shared_prep_init(cedge_shared_prep *s, int pieces) {
    s->pieces = pieces;
    __atomic_store_n(&s->next, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&s->done, 0, __ATOMIC_RELAXED);
}

void cedge_shared_prep_run(cedge_shared_prep *s, cedge_task_fn fn, void *ctx, int tid) {
    if (__atomic_load_n(&s->done, __ATOMIC_ACQUIRE) >= s->pieces) return;
    for (int p; (p = __atomic_fetch_add(&s->next, 1, __ATOMIC_RELAXED)) < s->pieces;) {
        fn(ctx, p, tid);
        __atomic_fetch_add(&s->done, 1, __ATOMIC_RELEASE);
    }
    // Only pieces that a running task claimed can be outstanding.
    for (int spins = 0; __atomic_load_n(&s->done, __ATOMIC_ACQUIRE) < s->pieces;)
        if (++spins < SPIN_ROUNDS) cpu_relax();
        else sched_yield();
}

// A copy's tasks are whole planes, often tiny (a 28x28 plane is 3 KB): on the pool they run in groups of about
// COPY_TASK_FLOATS, since one claim per plane (thousands per batch-32 inference, each a compare-and-swap on a
// line both cores write) cost about as much as the copying.
#define COPY_TASK_FLOATS 16384

typedef struct {
    cedge_task_fn fn;
    void *ctx;
    int ntasks, group;
} copy_group;

static void copy_group_task(void *vctx, int task, int tid) {
    const copy_group *g = vctx;
    const int end = (task + 1) * g->group < g->ntasks ? (task + 1) * g->group : g->ntasks;
    for (int t = task * g->group; t < end; t++) g->fn(g->ctx, t, tid);
}

void cedge_parallel_copy(int ntasks, cedge_task_fn fn, void *ctx, size_t floats) {
    if (floats >= 32768 && ntasks > 0) {
        const size_t per = floats / (size_t)ntasks > 0 ? floats / (size_t)ntasks : 1;
        copy_group g = {fn, ctx, ntasks, per >= COPY_TASK_FLOATS ? 1 : (int)(COPY_TASK_FLOATS / per)};
        cedge_parallel_for((ntasks + g.group - 1) / g.group, copy_group_task, &g);
        return;
    }
    int tid = t_tid, nested = t_in_task;
    t_in_task = 1;
    for (int t = 0; t < ntasks; t++) fn(ctx, t, tid);
    t_in_task = nested;
}

// ---- scratch ----------------------------------------------------------------------------------------------
typedef struct {
    float *ptr;
    size_t cap;
} scratch_t;

static scratch_t g_scratch[CEDGE_MAX_THREADS][CEDGE_SCR_SLOTS];

float *cedge_scratch(int tid, int slot, size_t count) {
    scratch_t *s = &g_scratch[tid][slot];
    if (count > s->cap) {
        // Grow by half again so a slowly growing sequence of shapes settles after a few calls.
        size_t cap = count + count / 2;
        if (cap < 1024) cap = 1024;
        void *p = NULL;
        if (posix_memalign(&p, 64, cap * sizeof(float)) != 0) {
            fprintf(stderr, "cedge kernels: out of memory (scratch of %zu bytes)\n", cap * sizeof(float));
            abort();
        }
        free(s->ptr);
        s->ptr = p;
        s->cap = cap;
    }
    return s->ptr;
}

void cedge_scratch_poison(void) {
    for (int t = 0; t < CEDGE_MAX_THREADS; t++)
        for (int s = 0; s < CEDGE_SCR_SLOTS; s++)
            for (size_t i = 0; i < g_scratch[t][s].cap; i++) g_scratch[t][s].ptr[i] = __builtin_nanf("");
}

static void release_scratch_from(int first_tid) {
    for (int t = first_tid; t < CEDGE_MAX_THREADS; t++)
        for (int s = 0; s < CEDGE_SCR_SLOTS; s++) {
            free(g_scratch[t][s].ptr);
            g_scratch[t][s].ptr = NULL;
            g_scratch[t][s].cap = 0;
        }
}
