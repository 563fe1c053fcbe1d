/*
 * Calls that may block, run away from the loop thread.
 *
 * A backend can block in a stream call for as long as its server pleases:
 * PortAudio's JACK host API waits up to ten minutes for a process callback
 * that a killed server never makes.  Such a call runs on a thread of its
 * own (one per call), and the loop thread learns that it returned through
 * a descriptor that becomes readable (worker_fd()), then reads the job's
 * state.  The loop thread may stop waiting for a job that does not return
 * (it abandons it): the thread then keeps running, and the job and what
 * its call touches must stay allocated.
 *
 * The descriptor is the process's, made on first use and never closed, so
 * that a thread that returns after everyone stopped waiting for it (even
 * after the loop ended) writes to it safely.
 *
 * Threads: worker_start() and worker_done() on the loop thread; run on the
 * job's thread.
 */
#pragma once

#include <stdatomic.h>
#include <stdbool.h>

/* One call to run off the loop thread. */
struct worker_job {
	/* The call; runs on the job's thread and keeps its results in the job's owner. */
	void (*run)(struct worker_job *job);
	_Atomic int state; /* WORKER_* */
};

enum {
	WORKER_IDLE,	/* never started, or done and seen */
	WORKER_RUNNING, /* run has not returned */
	WORKER_DONE,	/* run returned; its results are there to read */
};

/*
 * Runs job->run on a new thread (its signals blocked, as the loop
 * thread's).  Returns 0, or a negative errno when no thread could be made
 * (nothing runs then).
 */
int worker_start(struct worker_job *job);

/*
 * Returns true once job's run has returned (everything it stored is then
 * visible to the caller), and marks the job idle again.
 */
bool worker_done(struct worker_job *job);

/* Returns whether job has been started and has not been seen done yet. */
bool worker_busy(const struct worker_job *job);

/*
 * Returns the descriptor that becomes readable when any job returns (an
 * eventfd), or a negative errno when it cannot be made.  Never closed.
 */
int worker_fd(void);

/* Empties worker_fd() (after it became readable). */
void worker_drain(void);
