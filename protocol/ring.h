/*
 * Single-producer single-consumer operations on the rings of shm.h, for
 * both the daemon and libsdc.  Each side passes its own index from private
 * memory and gets the peer's index validated: a violation returns -EPROTO
 * and must end the stream, never lead to an out-of-bounds access.  All
 * functions are lock-free and make no system calls, so the daemon's audio
 * thread may call them.
 */
#pragma once

#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "shm.h"

/* Returns true when x is a power of two (and not 0). */
static inline bool ring_is_pow2(uint32_t x)
{
	return x && !(x & (x - 1));
}

/*
 * Consumer: stores in ret_fill how many frames are readable after
 * read_index (the consumer's own index).  Returns 0, or -EPROTO when the
 * producer's index is impossible.
 */
static inline int ring_readable(struct shm_ring *ctl, uint32_t capacity, uint32_t read_index,
				uint32_t *ret_fill)
{
	uint32_t w = atomic_load_explicit(&ctl->write_index, memory_order_acquire);
	uint32_t fill = w - read_index;

	if (fill > capacity)
		return -EPROTO;
	*ret_fill = fill;
	return 0;
}

/* Consumer: publishes that everything before read_index has been consumed. */
static inline void ring_consumed(struct shm_ring *ctl, uint32_t read_index)
{
	atomic_store_explicit(&ctl->read_index, read_index, memory_order_release);
}

/*
 * Producer: stores in ret_space how many frames can be written after
 * write_index (the producer's own index).  Returns 0, or -EPROTO when the
 * consumer's index is impossible.
 */
static inline int ring_writable(struct shm_ring *ctl, uint32_t capacity, uint32_t write_index,
				uint32_t *ret_space)
{
	uint32_t r = atomic_load_explicit(&ctl->read_index, memory_order_acquire);
	uint32_t fill = write_index - r;

	if (fill > capacity)
		return -EPROTO;
	*ret_space = capacity - fill;
	return 0;
}

/* Producer: publishes the frames written before write_index. */
static inline void ring_produced(struct shm_ring *ctl, uint32_t write_index)
{
	atomic_store_explicit(&ctl->write_index, write_index, memory_order_release);
}

/*
 * Splits frames starting at index into the part before the end of the
 * ring's data and the part that wraps to its start.
 */
static inline void ring_spans(uint32_t index, uint32_t frames, uint32_t capacity,
			      uint32_t *ret_offset, uint32_t *ret_first, uint32_t *ret_second)
{
	uint32_t offset = index & (capacity - 1);
	uint32_t first = capacity - offset;

	if (first > frames)
		first = frames;
	*ret_offset = offset;
	*ret_first = first;
	*ret_second = frames - first;
}

/*
 * Client: asks to be woken once wake_frames frames are readable (capture)
 * or writable (playback).  Call before re-checking the ring and sleeping on
 * the eventfd; the full fence pairs with the one in ring_wake_wanted().
 */
static inline void ring_wait_prepare(struct shm_ring *ctl, uint32_t wake_frames)
{
	atomic_store_explicit(&ctl->wake_frames, wake_frames, memory_order_relaxed);
	atomic_store_explicit(&ctl->waiting, 1, memory_order_seq_cst);
	atomic_thread_fence(memory_order_seq_cst);
}

/* Client: withdraws the request (it found enough frames without sleeping). */
static inline void ring_wait_cancel(struct shm_ring *ctl)
{
	atomic_store_explicit(&ctl->waiting, 0, memory_order_relaxed);
}

/*
 * Daemon, after publishing its index: returns true when the client sleeps
 * and now has at least what it asked for (avail frames), and clears the
 * request so that exactly one wake-up is sent.  The caller then writes the
 * client's eventfd.
 */
static inline bool ring_wake_wanted(struct shm_ring *ctl, uint32_t capacity, uint32_t avail)
{
	uint32_t want;

	atomic_thread_fence(memory_order_seq_cst);
	if (!atomic_load_explicit(&ctl->waiting, memory_order_relaxed))
		return false;
	want = atomic_load_explicit(&ctl->wake_frames, memory_order_relaxed);
	/* A request beyond the capacity (hostile or careless) means "when full / empty". */
	if (want > capacity || want == 0)
		want = capacity;
	if (avail < want)
		return false;
	return atomic_exchange_explicit(&ctl->waiting, 0, memory_order_relaxed) != 0;
}

/* Writes a ring's clock: frame of the ring was or will be at the converter at time. */
static inline void ring_clock_write(struct shm_clock *c, uint64_t frame, double time, double now,
				    double rate)
{
	uint32_t seq = atomic_load_explicit(&c->seq, memory_order_relaxed);
	uint64_t bits;

	atomic_store_explicit(&c->seq, seq + 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
	atomic_store_explicit(&c->frame, frame, memory_order_relaxed);
	memcpy(&bits, &time, 8);
	atomic_store_explicit(&c->time_bits, bits, memory_order_relaxed);
	memcpy(&bits, &now, 8);
	atomic_store_explicit(&c->now_bits, bits, memory_order_relaxed);
	memcpy(&bits, &rate, 8);
	atomic_store_explicit(&c->rate_bits, bits, memory_order_relaxed);
	atomic_store_explicit(&c->seq, seq + 2, memory_order_release);
}

/* Reads a ring's clock; returns false when it was never written. */
static inline bool ring_clock_read(struct shm_clock *c, uint64_t *ret_frame, double *ret_time,
				   double *ret_now, double *ret_rate)
{
	for (int tries = 0; tries < 1000; tries++) {
		uint32_t seq = atomic_load_explicit(&c->seq, memory_order_acquire);
		uint64_t frame, t, n, r;

		if (seq & 1)
			continue;
		frame = atomic_load_explicit(&c->frame, memory_order_relaxed);
		t = atomic_load_explicit(&c->time_bits, memory_order_relaxed);
		n = atomic_load_explicit(&c->now_bits, memory_order_relaxed);
		r = atomic_load_explicit(&c->rate_bits, memory_order_relaxed);
		atomic_thread_fence(memory_order_acquire);
		if (atomic_load_explicit(&c->seq, memory_order_relaxed) != seq)
			continue;
		if (seq == 0)
			return false;
		*ret_frame = frame;
		memcpy(ret_time, &t, 8);
		memcpy(ret_now, &n, 8);
		memcpy(ret_rate, &r, 8);
		return true;
	}
	return false;
}
