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
// microseconds, a lot next to a small layer), then sleeping on a condition variable. Tasks are handed out
// through an atomic counter so uneven tasks balance. The caller waits until every worker has checked in,
// so the job fields can be rewritten safely for the next call. One caller at a time (the Swift executor).

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
static job_t g_job;
static atomic_uint g_generation;
static atomic_int g_next_task;
static atomic_int g_pending;        // workers that have not finished the current generation
static atomic_int g_exit;
static unsigned g_spawn_generation; // generation current when the workers were created

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

static void run_tasks(const job_t *job, int tid) {
    t_in_task = 1;
    for (;;) {
        int t = atomic_fetch_add_explicit(&g_next_task, 1, memory_order_relaxed);
        if (t >= job->ntasks) break;
        job->fn(job->ctx, t, tid);
    }
    t_in_task = 0;
}

static void *worker_main(void *arg) {
    int tid = (int)(intptr_t)arg;
    t_tid = tid;
    // Not the live counter: a worker scheduled late must still see the first job as new.
    unsigned seen = g_spawn_generation;
    for (;;) {
        unsigned gen;
        int spins = 0;
        while ((gen = atomic_load_explicit(&g_generation, memory_order_acquire)) == seen && spins < SPIN_ROUNDS) {
            cpu_relax();
            spins++;
        }
        if (gen == seen) {
            pthread_mutex_lock(&g_lock);
            while ((gen = atomic_load_explicit(&g_generation, memory_order_acquire)) == seen)
                pthread_cond_wait(&g_wake, &g_lock);
            pthread_mutex_unlock(&g_lock);
        }
        seen = gen;
        if (atomic_load_explicit(&g_exit, memory_order_acquire)) {
            atomic_fetch_sub_explicit(&g_pending, 1, memory_order_release);
            return NULL;
        }
        job_t job = g_job;
        run_tasks(&job, tid);
        atomic_fetch_sub_explicit(&g_pending, 1, memory_order_release);
    }
}

// Publishes a job (or the exit request) to every worker and waits until all have checked in.
static void broadcast_and_wait(const job_t *job, int run_here) {
    if (job) g_job = *job;
    atomic_store_explicit(&g_next_task, 0, memory_order_relaxed);
    atomic_store_explicit(&g_pending, g_workers, memory_order_relaxed);
    pthread_mutex_lock(&g_lock);
    atomic_fetch_add_explicit(&g_generation, 1, memory_order_acq_rel);
    pthread_cond_broadcast(&g_wake);
    pthread_mutex_unlock(&g_lock);
    if (run_here && job) run_tasks(job, 0);
    int spins = 0;
    while (atomic_load_explicit(&g_pending, memory_order_acquire) > 0) {
        if (++spins < SPIN_ROUNDS) cpu_relax();
        else sched_yield();
    }
}

static void stop_workers(void) {
    if (g_workers == 0) return;
    atomic_store_explicit(&g_exit, 1, memory_order_release);
    broadcast_and_wait(NULL, 0);
    for (int i = 0; i < g_workers; i++) pthread_join(g_worker_ids[i], NULL);
    g_workers = 0;
    atomic_store_explicit(&g_exit, 0, memory_order_release);
}

static void start_workers(void) {
    g_spawn_generation = atomic_load_explicit(&g_generation, memory_order_relaxed);
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
    broadcast_and_wait(&job, 1);
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

static void release_scratch_from(int first_tid) {
    for (int t = first_tid; t < CEDGE_MAX_THREADS; t++)
        for (int s = 0; s < CEDGE_SCR_SLOTS; s++) {
            free(g_scratch[t][s].ptr);
            g_scratch[t][s].ptr = NULL;
            g_scratch[t][s].cap = 0;
        }
}
