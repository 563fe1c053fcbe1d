/*
 * Calls that may block, each on a thread of its own, reported back
 * through one eventfd of the process's; see worker.h.  worker_start() and
 * worker_done() run on the loop thread, the calls on their threads.
 */
#include "worker.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <unistd.h>

static pthread_once_t fd_once = PTHREAD_ONCE_INIT;
static int done_fd = -1;
static int done_fd_errno;

static void make_fd(void)
{
	done_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (done_fd < 0)
		done_fd_errno = errno;
}

int worker_fd(void)
{
	pthread_once(&fd_once, make_fd);
	return done_fd >= 0 ? done_fd : -done_fd_errno;
}

void worker_drain(void)
{
	uint64_t count;

	if (worker_fd() >= 0 && read(done_fd, &count, sizeof(count)) < 0) {
		/* EAGAIN: another wake-up took it already. */
	}
}

/* The job's thread: the call, then the news (the job is not touched after DONE). */
static void *job_main(void *arg)
{
	struct worker_job *job = arg;
	uint64_t one = 1;
	ssize_t n;

	job->run(job);
	atomic_store_explicit(&job->state, WORKER_DONE, memory_order_release);
	n = write(done_fd, &one, sizeof(one));
	(void)n;
	return NULL;
}

int worker_start(struct worker_job *job)
{
	sigset_t all, old;
	pthread_attr_t attr;
	pthread_t thread;
	int r = worker_fd();

	if (r < 0)
		return r;
	atomic_store_explicit(&job->state, WORKER_RUNNING, memory_order_relaxed);
	r = pthread_attr_init(&attr);
	if (r)
		goto fail;
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	/* No signal is ever handled on a job's thread. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	r = pthread_create(&thread, &attr, job_main, job);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	if (r == 0)
		return 0;
fail:
	atomic_store_explicit(&job->state, WORKER_IDLE, memory_order_relaxed);
	return -r;
}

bool worker_done(struct worker_job *job)
{
	if (atomic_load_explicit(&job->state, memory_order_acquire) != WORKER_DONE)
		return false;
	atomic_store_explicit(&job->state, WORKER_IDLE, memory_order_relaxed);
	return true;
}

bool worker_busy(const struct worker_job *job)
{
	return atomic_load_explicit(&((struct worker_job *)job)->state, memory_order_acquire) !=
	       WORKER_IDLE;
}
