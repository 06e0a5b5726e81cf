/*
 * src/pool.c -- the worker pool behind myr_to_thread() and host name
 * lookups. Workers run blocking functions; a finished job goes on a done
 * list and the worker writes an eventfd. The loop keeps one read of that
 * eventfd in its ring while jobs are out, so completions arrive through the
 * ring like any other I/O and the loop never blocks on a lock for long.
 */
#include <errno.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "internal.h"

struct myr__pool {
    ur_owner owner;
    myr_loop *loop;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    myr__job *pending_head, *pending_tail;   /* under lock */
    myr__job *done_head, *done_tail;   /* under lock */
    int stopping;                      /* under lock */
    unsigned nthreads;
    pthread_t *threads;
    int efd;
    uint64_t efd_value;                /* the ring reads into this */
    unsigned outstanding;              /* jobs submitted, done not yet run (loop thread) */
    uint8_t read_armed;
    uint8_t released;
    uint8_t discarded;                 /* freed by myr_loop_discard in a fork() child */
};

static void *worker_main(void *arg)
{
    myr__pool *p = arg;
    pthread_mutex_lock(&p->lock);
    for (;;) {
        while (p->pending_head == NULL && !p->stopping)
            pthread_cond_wait(&p->wake, &p->lock);
        if (p->pending_head == NULL)
            break;
        myr__job *job = p->pending_head;
        p->pending_head = job->next;
        if (p->pending_head == NULL)
            p->pending_tail = NULL;
        pthread_mutex_unlock(&p->lock);

        job->ret = job->fn(job->arg);

        pthread_mutex_lock(&p->lock);
        job->next = NULL;
        if (p->done_tail)
            p->done_tail->next = job;
        else
            p->done_head = job;
        p->done_tail = job;
        uint64_t one = 1;
        ssize_t w = write(p->efd, &one, sizeof one);   /* cannot block: counter */
        (void)w;
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

static void arm_read(myr__pool *p)
{
    if (p->read_armed || p->outstanding == 0 || p->released)
        return;
    if (ur_read(&p->owner, 0, p->efd, &p->efd_value, sizeof p->efd_value, NULL) == 0)
        p->read_armed = 1;
}

static void run_done(myr__job *jobs, int status);

static void pool_complete(ur_owner *o, uint32_t tag, int res, uint32_t flags)
{
    (void)tag;
    (void)res;
    (void)flags;
    myr__pool *p = (myr__pool *)o;
    p->read_armed = 0;
    if (p->discarded)
        return;   /* a fork() child's discard: see myr__pool_free */
    pthread_mutex_lock(&p->lock);
    myr__job *jobs = p->done_head;
    p->done_head = p->done_tail = NULL;
    pthread_mutex_unlock(&p->lock);
    for (myr__job *j = jobs; j != NULL; j = j->next)
        p->outstanding--;
    run_done(jobs, 0);
    arm_read(p);
}

/* Only a discarded pool is freed here (myr__pool_free frees the others). */
static void pool_released(ur_owner *o)
{
    myr__pool *p = (myr__pool *)o;
    if (!p->discarded)
        return;
    close(p->efd);
    myr__free(p->threads);
    myr__free(p);
}

static myr__pool *pool_start(myr_loop *loop)
{
    myr__pool *p = myr__calloc(1, sizeof *p);
    if (p == NULL)
        return NULL;
    p->loop = loop;
    p->efd = eventfd(0, EFD_CLOEXEC);
    p->nthreads = loop->pool_threads ? loop->pool_threads : 4;
    p->threads = myr__calloc(p->nthreads, sizeof *p->threads);
    if (p->efd < 0 || p->threads == NULL) {
        if (p->efd >= 0)
            close(p->efd);
        myr__free(p->threads);
        myr__free(p);
        return NULL;
    }
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->wake, NULL);
    ur_owner_init(&p->owner, loop->ur, pool_complete, pool_released);
    unsigned started = 0;
    for (; started < p->nthreads; started++)
        if (pthread_create(&p->threads[started], NULL, worker_main, p) != 0)
            break;
    p->nthreads = started;
    if (started == 0) {
        myr__pool_free(p);
        return NULL;
    }
    return p;
}

int myr__pool_submit(myr_loop *loop, myr__job *job)
{
    if (loop->pool == NULL && (loop->pool = pool_start(loop)) == NULL)
        return MYR_ENOMEM;
    myr__pool *p = loop->pool;
    /* Arm the completion read first: without it the job's end is never seen. */
    p->outstanding++;
    arm_read(p);
    if (!p->read_armed) {
        p->outstanding--;
        return MYR_ENOMEM;
    }
    job->status = 0;
    job->next = NULL;
    pthread_mutex_lock(&p->lock);
    if (p->pending_tail)
        p->pending_tail->next = job;
    else
        p->pending_head = job;
    p->pending_tail = job;
    pthread_cond_signal(&p->wake);
    pthread_mutex_unlock(&p->lock);
    return 0;
}

static void run_done(myr__job *jobs, int status)
{
    while (jobs != NULL) {
        myr__job *next = jobs->next;
        jobs->status = status;
        jobs->done(jobs);
        jobs = next;
    }
}

/* Stop the workers (jobs already running finish first), drain the eventfd
 * read, then report every job: finished ones normally, never-started ones
 * with MYR_ECANCELED. */
void myr__pool_free(myr__pool *p)
{
    if (p == NULL)
        return;
    if (p->loop->discard) {
        /* A fork() child discarding the parent's loop: the workers are the
         * parent's (none runs here, and one may have held the lock at fork
         * time: it is not taken). Only this process's copies go: the jobs
         * it knows of report MYR_ECANCELED (one a worker was running at
         * fork time is on no list: its record stays, its future is
         * canceled with the loop's); the memory goes once the engine has
         * dropped the read of the eventfd (pool_released). */
        p->discarded = 1;
        p->released = 1;
        myr__job *done = p->done_head, *never_ran = p->pending_head;
        p->done_head = p->done_tail = p->pending_head = p->pending_tail = NULL;
        run_done(done, MYR_ECANCELED);
        run_done(never_ran, MYR_ECANCELED);
        ur_owner_release(&p->owner);   /* in a child: marked, the ring untouched */
        return;
    }
    pthread_mutex_lock(&p->lock);
    p->stopping = 1;
    myr__job *never_ran = p->pending_head;
    p->pending_head = p->pending_tail = NULL;
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->lock);
    for (unsigned i = 0; i < p->nthreads; i++)
        pthread_join(p->threads[i], NULL);
    p->released = 1;
    ur_owner_release(&p->owner);
    /* The kernel must be done with efd_value before the memory goes. */
    while (p->owner.inflight > 0)
        ur_loop_tick(p->loop->ur, -1);
    run_done(p->done_head, 0);
    run_done(never_ran, MYR_ECANCELED);
    close(p->efd);
    pthread_mutex_destroy(&p->lock);
    pthread_cond_destroy(&p->wake);
    myr__free(p->threads);
    myr__free(p);
}
