/*
 * The shared-memory layout of a client stream: the one definition that the
 * daemon and every client share.  Frozen: a change means a new
 * SHM_VERSION.
 *
 * The daemon creates one memfd per client stream, sized, sealed against
 * shrinking and growing, and passes it to the client.  It starts with this
 * header; the ring data follows at the offsets the header names.  Audio
 * travels in two single-producer single-consumer rings: "out" carries
 * playback (the client produces, the daemon consumes), "in" carries
 * capture (the daemon produces, the client consumes).
 *
 * Every ring index is a free-running 32-bit frame count; the number of
 * frames in a ring is write_index - read_index (mod 2^32) and must never
 * exceed capacity, a power of two.  Each side keeps its own index in
 * private memory and only publishes it here (release), and reads the
 * peer's index (acquire) and validates it: the peer may be hostile.  The
 * daemon never reads anything else the client may write, except the
 * wake-up request, the end-of-stream mark and the abort request, which it
 * validates too.  pending_flags is the one word both sides modify: the
 * daemon ORs flags in, the client takes them out with an atomic exchange;
 * the daemon never acts on its value.
 */
#pragma once

#include <assert.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define SHM_MAGIC 0x53444453u /* "SDDS" in little-endian memory */
#define SHM_VERSION 1u
#define SHM_CACHELINE 64

/* Stream states, as the daemon publishes them in shm_header.state. */
enum shm_state {
	SHM_STATE_PREFILL = 0,	/* waiting for enough data (or an explicit start) */
	SHM_STATE_RUNNING = 1,	/* audio flows */
	SHM_STATE_DRAINING = 2, /* output ended; the last frames are being played */
	SHM_STATE_FINISHED = 3, /* done: all played, recorded, or stopped */
	SHM_STATE_FAILED = 4,	/* ended by an error (see the "finished" event) */
};

/* sounddevice's CallbackFlags, PortAudio's values. */
#define SHM_INPUT_UNDERFLOW 0x01u
#define SHM_INPUT_OVERFLOW 0x02u
#define SHM_OUTPUT_UNDERFLOW 0x04u
#define SHM_OUTPUT_OVERFLOW 0x08u
#define SHM_PRIMING_OUTPUT 0x10u

/*
 * A ring's clock: which ring position was (or will be) at the converter
 * at which time of the stream's clock (PortAudio's stream time, seconds).
 * Written by the daemon's audio thread once per period under a sequence
 * counter (odd while writing); readers retry while it is odd or changed.
 */
struct shm_clock {
	_Atomic uint32_t seq;
	uint32_t reserved;
	_Atomic uint64_t frame; /* ring position (frames, not wrapped) */
	_Atomic uint64_t time_bits;	 /* double: ADC time (in) or DAC time (out) of that frame */
	_Atomic uint64_t now_bits;	 /* double: the stream clock when it was written */
	_Atomic uint64_t rate_bits;	 /* double: frames per second */
	uint8_t pad[SHM_CACHELINE - 40];
};

/* One ring; each group of members that one side writes has a cache line of its own. */
struct shm_ring {
	/* Geometry, written by the daemon before the memory is shared. */
	uint32_t offset;      /* bytes from the start of the memory to the ring data */
	uint32_t capacity;    /* frames; a power of two, 0 when the ring is unused */
	uint32_t frame_bytes; /* bytes per frame: channels × sample size */
	uint32_t channels;
	uint32_t dtype; /* enum sample_format */
	uint8_t pad0[SHM_CACHELINE - 20];

	/* Written by the producer. */
	_Atomic uint32_t write_index; /* frames */
	_Atomic uint32_t eof;	      /* 1: nothing will follow write_index (playback: set by the client) */
	uint8_t pad1[SHM_CACHELINE - 8];

	/* Written by the consumer. */
	_Atomic uint32_t read_index; /* frames */
	uint8_t pad2[SHM_CACHELINE - 4];

	/* Written by the client: it sleeps on its eventfd until woken. */
	_Atomic uint32_t waiting;     /* 1: wake me through the eventfd */
	_Atomic uint32_t wake_frames; /* …once this many frames are readable (in) or writable (out) */
	_Atomic uint32_t abort;	      /* 1: end the stream now, discarding what is buffered */
	uint8_t pad3[SHM_CACHELINE - 12];

	/* Written by the daemon's audio thread. */
	struct shm_clock clock;
};

/* The header at offset 0 of every stream's memory. */
struct shm_header {
	/* Written once by the daemon before sharing. */
	uint32_t magic;	       /* SHM_MAGIC */
	uint32_t version;      /* SHM_VERSION */
	uint32_t header_bytes; /* sizeof(struct shm_header) */
	uint32_t total_bytes;  /* size of the whole memory */
	uint32_t handle;       /* the stream's handle in the protocol */
	uint32_t samplerate;   /* frames per second (integral rates only) */
	uint8_t pad0[SHM_CACHELINE - 24];

	/*
	 * Written by the daemon while the stream runs: copies of what it keeps
	 * and reports itself, never read back (a client may write them).
	 */
	_Atomic uint32_t state;	       /* enum shm_state */
	_Atomic uint32_t flags;	       /* accumulated SHM_* callback flags */
	_Atomic uint32_t xrun_count;   /* xruns so far */
	_Atomic uint32_t block_flags;  /* flags of the most recent period */
	_Atomic uint64_t frames_out;   /* frames consumed from the out ring */
	_Atomic uint64_t frames_in;    /* frames produced into the in ring */
	_Atomic uint64_t dropped_in;   /* captured frames dropped because the in ring was full */
	_Atomic uint64_t silence_out;  /* frames of silence played because the out ring was empty */
	_Atomic uint32_t pending_flags; /* flags not yet seen by the client, which clears them */
	uint8_t pad1[SHM_CACHELINE - 52];

	struct shm_ring out; /* playback: client → daemon */
	struct shm_ring in;  /* capture: daemon → client */
};

static_assert(sizeof(struct shm_clock) == SHM_CACHELINE, "shm_clock is one cache line");
static_assert(sizeof(struct shm_ring) == 5 * SHM_CACHELINE, "shm_ring layout");
static_assert(offsetof(struct shm_ring, write_index) == 1 * SHM_CACHELINE, "producer line");
static_assert(offsetof(struct shm_ring, read_index) == 2 * SHM_CACHELINE, "consumer line");
static_assert(offsetof(struct shm_ring, waiting) == 3 * SHM_CACHELINE, "wake-up line");
static_assert(offsetof(struct shm_ring, clock) == 4 * SHM_CACHELINE, "clock line");
static_assert(offsetof(struct shm_header, state) == SHM_CACHELINE, "status line");
static_assert(offsetof(struct shm_header, out) == 2 * SHM_CACHELINE, "out ring");
static_assert(offsetof(struct shm_header, in) == 7 * SHM_CACHELINE, "in ring");
static_assert(sizeof(struct shm_header) == 12 * SHM_CACHELINE, "header size");
static_assert(sizeof(_Atomic uint32_t) == 4 && sizeof(_Atomic uint64_t) == 8, "atomic sizes");

/* Ring data starts page-aligned after the header. */
#define SHM_DATA_ALIGN 4096u

/* Returns the bytes needed for a ring of capacity frames of frame_bytes, page-rounded. */
static inline size_t shm_ring_bytes(uint32_t capacity, uint32_t frame_bytes)
{
	size_t n = (size_t)capacity * frame_bytes;

	return (n + SHM_DATA_ALIGN - 1) & ~(size_t)(SHM_DATA_ALIGN - 1);
}
