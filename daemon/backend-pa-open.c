/*
 * An open on a thread of its own, which the loop thread waits for only so
 * long (see backend-pa.h).  PortAudio's JACK host API opens a stream by
 * registering its ports with the server and then waiting for the process
 * callback to take the stream in: a server that is stopped, or that no
 * longer runs the daemon's client, keeps Pa_OpenStream() waiting, for ten
 * minutes or for ever.  On the loop thread that wait would stop every
 * client; here it stops only the thread, which holds the turn of stream
 * calls until the open returns.
 */
#include "backend-pa.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

struct open_job {
	struct pa_open_call call;
	sem_t *turn;
	void (*gone)(void *arg);
	void *gone_arg;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool done;	/* the open returned */
	bool abandoned; /* the caller stopped waiting: the thread cleans up */
	PaStream *pa;
	PaError result;
};

static void job_free(struct open_job *job)
{
	pthread_cond_destroy(&job->cond);
	pthread_mutex_destroy(&job->lock);
	free(job);
}

static void *open_main(void *arg)
{
	struct open_job *job = arg;
	const struct pa_open_call *c = &job->call;
	PaStream *pa = NULL;
	PaError result;
	bool abandoned;

	result = Pa_OpenStream(&pa, c->has_in ? &c->in : NULL, c->has_out ? &c->out : NULL, c->rate,
			       c->frames, c->flags, c->callback, c->data);
	if (result == paNoError && c->finished)
		Pa_SetStreamFinishedCallback(pa, c->finished);
	pthread_mutex_lock(&job->lock);
	job->done = true;
	job->pa = pa;
	job->result = result;
	abandoned = job->abandoned;
	pthread_cond_signal(&job->cond);
	pthread_mutex_unlock(&job->lock);
	if (!abandoned)
		return NULL; /* The caller takes the stream, the turn and the job. */
	/* Nobody waits for this stream: it was never started, so it closes without waiting. */
	if (result == paNoError)
		Pa_CloseStream(pa);
	sem_post(job->turn);
	job->gone(job->gone_arg);
	job_free(job);
	return NULL;
}

int pa_open_bounded(const struct pa_open_call *call, sem_t *turn, unsigned wait_ms,
		    void (*gone)(void *arg), void *gone_arg, PaStream **ret, PaError *ret_result)
{
	struct open_job *job = calloc(1, sizeof(*job));
	struct timespec until;
	pthread_attr_t attr;
	pthread_t thread;
	int r;

	if (!job)
		return -ENOMEM;
	*job = (struct open_job){ .call = *call, .turn = turn, .gone = gone, .gone_arg = gone_arg };
	pthread_mutex_init(&job->lock, NULL);
	pthread_cond_init(&job->cond, NULL);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	r = pthread_create(&thread, &attr, open_main, job);
	pthread_attr_destroy(&attr);
	if (r != 0) {
		job_free(job);
		return -r;
	}
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += wait_ms / 1000;
	until.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
	until.tv_sec += until.tv_nsec / 1000000000L;
	until.tv_nsec %= 1000000000L;
	pthread_mutex_lock(&job->lock);
	while (!job->done)
		if (pthread_cond_timedwait(&job->cond, &job->lock, &until) == ETIMEDOUT)
			break;
	if (!job->done) {
		/* The thread owns the job and the turn from now on. */
		job->abandoned = true;
		pthread_mutex_unlock(&job->lock);
		return -ETIMEDOUT;
	}
	pthread_mutex_unlock(&job->lock);
	*ret = job->pa;
	*ret_result = job->result;
	job_free(job);
	return 0;
}
