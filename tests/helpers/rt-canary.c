/*
 * Code that breaks every realtime rule on purpose: an object that is only
 * archived, never linked or run.  The test realtime (tests/integration/
 * test_realtime.py) runs its symbol check on it first and expects each of
 * these calls to be reported, so that a check gone blind fails too.
 */
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

/* Declared here rather than included: the object is never linked. */
void log_error(const char *fmt, ...);
void *json_object_new_int(int value);
int sd_journal_print(int priority, const char *format, ...);

/* Returns something from every forbidden kind of call. */
int rt_canary(int fd, pthread_mutex_t *mutex, sem_t *sem, float *buf, size_t n);

int rt_canary(int fd, pthread_mutex_t *mutex, sem_t *sem, float *buf, size_t n)
{
	struct timespec ts = { 0, 1000 };
	float *copy = malloc(n * sizeof(*copy));
	int r = 0;

	if (!copy)
		return -1;
	memcpy(copy, buf, n * sizeof(*copy)); /* allowed */
	pthread_mutex_lock(mutex);
	r += sem_wait(sem);
	r += printf("%zu\n", n);
	syslog(LOG_ERR, "xrun");
	log_error("xrun");
	r += sd_journal_print(LOG_ERR, "xrun");
	r += json_object_new_int(r) != NULL;
	r += (int)read(fd, buf, n);
	r += nanosleep(&ts, NULL);
	r += (int)write(fd, buf, n); /* allowed: the eventfd write */
	pthread_mutex_unlock(mutex);
	free(copy);
	return r;
}
