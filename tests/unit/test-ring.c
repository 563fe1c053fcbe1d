/*
 * The single-producer single-consumer rings of protocol/ring.h: index
 * arithmetic across the 32-bit wrap, validation of impossible peer
 * indices, the wake-up handshake, the clock's sequence counter, and a
 * two-thread stress test in which a producer and a consumer move a counting
 * sequence through a small ring in chunks of changing sizes (every frame
 * must arrive once, in order, unchanged).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "ring.h"
#include "tap.h"

#define CAPACITY 256u
#define FRAMES_TOTAL (4u * 1000 * 1000)

struct shared {
	struct shm_ring ring;
	uint32_t data[CAPACITY];
	_Atomic int failed;
};

static void test_arithmetic(void)
{
	struct shm_ring r;
	uint32_t fill, space, off, first, second;

	memset(&r, 0, sizeof(r));
	/* Indices just below the wrap of 2^32. */
	atomic_store(&r.read_index, 0xFFFFFFF0u);
	atomic_store(&r.write_index, 0x00000010u);
	CHECK(ring_readable(&r, 64, 0xFFFFFFF0u, &fill) == 0 && fill == 32,
	      "fill across the 2^32 wrap is write - read");
	CHECK(ring_writable(&r, 64, 0x00000010u, &space) == 0 && space == 32,
	      "space across the wrap");
	ring_spans(0xFFFFFFF0u, 32, 64, &off, &first, &second);
	CHECK(off == 48 && first == 16 && second == 16, "spans split at the end of the data");
	ring_spans(5, 10, 64, &off, &first, &second);
	CHECK(off == 5 && first == 10 && second == 0, "a span inside the data is one piece");
	CHECK(ring_is_pow2(64) && !ring_is_pow2(0) && !ring_is_pow2(96), "powers of two");
}

static void test_validation(void)
{
	struct shm_ring r;
	uint32_t v;

	memset(&r, 0, sizeof(r));
	atomic_store(&r.write_index, 65);
	CHECK(ring_readable(&r, 64, 0, &v) == -EPROTO, "a producer index beyond the capacity");
	atomic_store(&r.write_index, 10);
	CHECK(ring_readable(&r, 64, 20, &v) == -EPROTO, "a producer index behind the consumer");
	atomic_store(&r.read_index, 30);
	CHECK(ring_writable(&r, 64, 20, &v) == -EPROTO, "a consumer index ahead of the producer");
	atomic_store(&r.read_index, 0xFFFFFF00u);
	CHECK(ring_writable(&r, 64, 20, &v) == -EPROTO, "a consumer index far behind");
	atomic_store(&r.read_index, 20 - 64);
	CHECK(ring_writable(&r, 64, 20, &v) == 0 && v == 0, "exactly full is valid");
}

static void test_wakeups(void)
{
	struct shm_ring r;

	memset(&r, 0, sizeof(r));
	CHECK(!ring_wake_wanted(&r, 64, 64), "nobody waits: no wake-up");
	ring_wait_prepare(&r, 16);
	CHECK(!ring_wake_wanted(&r, 64, 15), "not yet what the waiter asked for");
	CHECK(ring_wake_wanted(&r, 64, 16), "a wake-up once 16 frames are there");
	CHECK(!ring_wake_wanted(&r, 64, 64), "exactly one wake-up per request");
	ring_wait_prepare(&r, 1000);
	CHECK(!ring_wake_wanted(&r, 64, 63) && ring_wake_wanted(&r, 64, 64),
	      "a request beyond the capacity means: when full");
	ring_wait_prepare(&r, 8);
	ring_wait_cancel(&r);
	CHECK(!ring_wake_wanted(&r, 64, 64), "a cancelled request");
}

static void test_clock(void)
{
	struct shm_clock c;
	uint64_t frame;
	double t, now, rate;

	memset(&c, 0, sizeof(c));
	CHECK(!ring_clock_read(&c, &frame, &t, &now, &rate), "a clock never written");
	ring_clock_write(&c, 4800, 1.5, 1.25, 48000);
	CHECK(ring_clock_read(&c, &frame, &t, &now, &rate) && frame == 4800 && t == 1.5 &&
		      now == 1.25 && rate == 48000,
	      "what was written is read back");
	atomic_store(&c.seq, atomic_load(&c.seq) + 1); /* a writer in the middle */
	CHECK(!ring_clock_read(&c, &frame, &t, &now, &rate), "a clock being written is not read");
}

/* Producer thread: writes 0, 1, 2, … in chunks of 1 to 97 frames. */
static void *producer(void *arg)
{
	struct shared *sh = arg;
	uint32_t w = 0xFFFFFF00u, next = 0, chunk = 1;

	while (next < FRAMES_TOTAL && !atomic_load(&sh->failed)) {
		uint32_t space, off, first, second, n;

		if (ring_writable(&sh->ring, CAPACITY, w, &space) < 0) {
			atomic_store(&sh->failed, 1);
			break;
		}
		n = chunk < space ? chunk : space;
		if (n > FRAMES_TOTAL - next)
			n = FRAMES_TOTAL - next;
		ring_spans(w, n, CAPACITY, &off, &first, &second);
		for (uint32_t i = 0; i < first; i++)
			sh->data[off + i] = next + i;
		for (uint32_t i = 0; i < second; i++)
			sh->data[i] = next + first + i;
		next += n;
		w += n;
		ring_produced(&sh->ring, w);
		chunk = chunk % 97 + 1;
	}
	return NULL;
}

/* Consumer thread: reads in chunks of 1 to 89 frames and checks the sequence. */
static void *consumer(void *arg)
{
	struct shared *sh = arg;
	uint32_t r = 0xFFFFFF00u, want = 0, chunk = 1;

	while (want < FRAMES_TOTAL && !atomic_load(&sh->failed)) {
		uint32_t fill, off, first, second, n;

		if (ring_readable(&sh->ring, CAPACITY, r, &fill) < 0) {
			atomic_store(&sh->failed, 2);
			break;
		}
		n = chunk < fill ? chunk : fill;
		ring_spans(r, n, CAPACITY, &off, &first, &second);
		for (uint32_t i = 0; i < first; i++)
			if (sh->data[off + i] != want + i)
				atomic_store(&sh->failed, 3);
		for (uint32_t i = 0; i < second; i++)
			if (sh->data[i] != want + first + i)
				atomic_store(&sh->failed, 3);
		want += n;
		r += n;
		ring_consumed(&sh->ring, r);
		chunk = chunk % 89 + 1;
	}
	return NULL;
}

static void test_two_threads(void)
{
	struct shared *sh = calloc(1, sizeof(*sh));
	pthread_t p, c;

	/* Both indices start just below the wrap, before either thread runs. */
	atomic_store(&sh->ring.read_index, 0xFFFFFF00u);
	atomic_store(&sh->ring.write_index, 0xFFFFFF00u);
	pthread_create(&c, NULL, consumer, sh);
	pthread_create(&p, NULL, producer, sh);
	pthread_join(p, NULL);
	pthread_join(c, NULL);
	CHECK(atomic_load(&sh->failed) == 0,
	      "%u frames through a %u-frame ring, across the index wrap, in order (failure %d)",
	      FRAMES_TOTAL, CAPACITY, atomic_load(&sh->failed));
	free(sh);
}

int main(void)
{
	test_arithmetic();
	test_validation();
	test_wakeups();
	test_clock();
	test_two_threads();
	return tap_done();
}
