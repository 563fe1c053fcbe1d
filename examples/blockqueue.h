/*
 * A queue of fixed-size blocks between one producer thread and one
 * consumer thread: the C counterpart of the queue.Queue that sounddevice's
 * examples put between the audio callback and the main thread.
 *
 * The audio callback side only ever uses the non-waiting calls (timeout 0):
 * they take no lock and allocate nothing; sem_post() makes a system call
 * only when the other thread sleeps on the semaphore.  The other side may
 * wait.  POSIX semaphores order memory, so what the producer wrote into a
 * block is visible to the consumer that takes it.
 *
 * Header-only: every example includes it and uses what it needs.
 */
#ifndef EXAMPLES_BLOCKQUEUE_H
#define EXAMPLES_BLOCKQUEUE_H

#include <errno.h>
#include <semaphore.h>
#include <stdlib.h>
#include <time.h>

#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define BLOCKQUEUE_TSAN 1
#endif
#endif
#if defined(__SANITIZE_THREAD__)
#define BLOCKQUEUE_TSAN 1
#endif
#ifdef BLOCKQUEUE_TSAN
#include <sanitizer/tsan_interface.h>
#endif

struct blockqueue {
	unsigned char *data; /* count blocks of block_bytes bytes */
	size_t *lengths;     /* bytes used in each block */
	size_t block_bytes;
	unsigned count;
	unsigned head; /* the producer's next block (producer only) */
	unsigned tail; /* the consumer's next block (consumer only) */
	sem_t filled;  /* blocks ready for the consumer */
	sem_t empty;   /* blocks free for the producer */
};

/* Makes a queue of count blocks of block_bytes bytes; returns 0 or -ENOMEM. */
static inline int blockqueue_init(struct blockqueue *q, unsigned count, size_t block_bytes)
{
	q->data = malloc((size_t)count * block_bytes);
	q->lengths = calloc(count, sizeof(*q->lengths));
	if (!q->data || !q->lengths) {
		free(q->data);
		free(q->lengths);
		return -ENOMEM;
	}
	q->block_bytes = block_bytes;
	q->count = count;
	q->head = q->tail = 0;
	sem_init(&q->filled, 0, 0);
	sem_init(&q->empty, 0, count);
	return 0;
}

static inline void blockqueue_destroy(struct blockqueue *q)
{
	sem_destroy(&q->filled);
	sem_destroy(&q->empty);
	free(q->data);
	free(q->lengths);
}

/* Waits on sem for at most timeout_ms (-1: without a limit); returns 1 when it was taken. */
static inline int blockqueue_take(sem_t *sem, int timeout_ms)
{
	struct timespec ts;

	if (timeout_ms == 0)
		return sem_trywait(sem) == 0;
	if (timeout_ms < 0)
		return sem_wait(sem) == 0;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += timeout_ms / 1000;
	ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	/* A signal ends the wait early (EINTR): the caller looks at its flags and comes back. */
	if (sem_clockwait(sem, CLOCK_MONOTONIC, &ts) != 0)
		return 0;
#ifdef BLOCKQUEUE_TSAN
	/*
	 * ThreadSanitizer (gcc 12, clang 14) intercepts sem_post() and the other
	 * waits but not sem_clockwait(): tell it that this one, too, acquired
	 * what the sem_post() it took released.
	 */
	__tsan_acquire(sem);
#endif
	return 1;
}

/*
 * Producer: returns the next free block to fill, waiting at most timeout_ms
 * for one (0: not at all), or NULL when none became free.  Hand it over
 * with blockqueue_commit().
 */
static inline unsigned char *blockqueue_reserve(struct blockqueue *q, int timeout_ms)
{
	if (!blockqueue_take(&q->empty, timeout_ms))
		return NULL;
	return q->data + (size_t)(q->head % q->count) * q->block_bytes;
}

/* Producer: hands the reserved block over, with the bytes it holds. */
static inline void blockqueue_commit(struct blockqueue *q, size_t bytes)
{
	q->lengths[q->head % q->count] = bytes;
	q->head++;
	sem_post(&q->filled);
}

/*
 * Consumer: returns the oldest filled block and stores its length in
 * bytes, waiting at most timeout_ms (0: not at all), or NULL when there is
 * none.  Give it back with blockqueue_release().
 */
static inline const unsigned char *blockqueue_peek(struct blockqueue *q, size_t *ret_bytes,
						   int timeout_ms)
{
	unsigned i;

	if (!blockqueue_take(&q->filled, timeout_ms))
		return NULL;
	i = q->tail % q->count;
	*ret_bytes = q->lengths[i];
	return q->data + (size_t)i * q->block_bytes;
}

/* Consumer: gives the block from blockqueue_peek() back to the producer. */
static inline void blockqueue_release(struct blockqueue *q)
{
	q->tail++;
	sem_post(&q->empty);
}

#endif
