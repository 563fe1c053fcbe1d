/*
 * Prints the shared-memory layout of protocol/shm.h as the C compiler sees
 * it: every member of struct shm_header, shm_ring and shm_clock with its
 * byte offset, size and type, the size of each struct, and the constants a
 * client needs (magic, version, states, flags, the sample formats of
 * shm_ring.dtype).  The test shm_layout (tests/integration/
 * test_shm_layout.py) checks the tests' Python copy of the layout
 * (tests/integration/shmlayout.py) and the byte-offset tables of
 * protocol/PROTOCOL.md against this output.  Single-threaded.
 *
 * Output, one tab-separated record a line:
 *   struct  NAME  SIZE
 *   field   STRUCT  MEMBER  OFFSET  SIZE  TYPE
 *   const   NAME  VALUE
 *   dtype   NAME  VALUE  SAMPLE_BYTES
 * Members are listed in declaration order, padding included, so that the
 * test can check that they tile each struct: a member added to shm.h but
 * not here leaves a gap it reports.
 */
#include <stdint.h>
#include <stdio.h>

#include "sample.h"
#include "shm.h"

/*
 * The type of a member, named from its C type, so that a change of type in
 * shm.h changes the output (a type not named here does not compile).
 * Atomic and plain words are told apart through pointers, which keep the
 * qualifier that reading the value would drop.
 */
#define TYPE_NAME(ptr)                                  \
	_Generic((ptr),                                 \
		uint32_t *: "u32",                      \
		uint64_t *: "u64",                      \
		_Atomic uint32_t *: "atomic u32",       \
		_Atomic uint64_t *: "atomic u64",       \
		struct shm_ring *: "struct shm_ring",   \
		struct shm_clock *: "struct shm_clock")

static struct shm_header header;
static struct shm_ring ring;
static struct shm_clock clock_;

#define FIELD(obj, sname, member)                                                       \
	printf("field\t%s\t%s\t%zu\t%zu\t%s\n", sname, #member,                         \
	       (size_t)((char *)&(obj).member - (char *)&(obj)), sizeof((obj).member), \
	       TYPE_NAME(&(obj).member))

/* Padding: an array of bytes (anything else does not compile). */
#define PAD(obj, sname, member)                                                         \
	printf("field\t%s\t%s\t%zu\t%zu\tu8[%zu]\n", sname, #member,                    \
	       (size_t)((char *)&(obj).member - (char *)&(obj)), sizeof((obj).member), \
	       _Generic(&(obj).member[0], uint8_t *: sizeof((obj).member)))

#define CONST(name) printf("const\t%s\t%llu\n", #name, (unsigned long long)(name))

static void print_header(void)
{
	printf("struct\tshm_header\t%zu\n", sizeof(header));
	FIELD(header, "shm_header", magic);
	FIELD(header, "shm_header", version);
	FIELD(header, "shm_header", header_bytes);
	FIELD(header, "shm_header", total_bytes);
	FIELD(header, "shm_header", handle);
	FIELD(header, "shm_header", samplerate);
	PAD(header, "shm_header", pad0);
	FIELD(header, "shm_header", state);
	FIELD(header, "shm_header", flags);
	FIELD(header, "shm_header", xrun_count);
	FIELD(header, "shm_header", block_flags);
	FIELD(header, "shm_header", frames_out);
	FIELD(header, "shm_header", frames_in);
	FIELD(header, "shm_header", dropped_in);
	FIELD(header, "shm_header", silence_out);
	FIELD(header, "shm_header", pending_flags);
	PAD(header, "shm_header", pad1);
	FIELD(header, "shm_header", out);
	FIELD(header, "shm_header", in);
}

static void print_ring(void)
{
	printf("struct\tshm_ring\t%zu\n", sizeof(ring));
	FIELD(ring, "shm_ring", offset);
	FIELD(ring, "shm_ring", capacity);
	FIELD(ring, "shm_ring", frame_bytes);
	FIELD(ring, "shm_ring", channels);
	FIELD(ring, "shm_ring", dtype);
	PAD(ring, "shm_ring", pad0);
	FIELD(ring, "shm_ring", write_index);
	FIELD(ring, "shm_ring", eof);
	PAD(ring, "shm_ring", pad1);
	FIELD(ring, "shm_ring", read_index);
	PAD(ring, "shm_ring", pad2);
	FIELD(ring, "shm_ring", waiting);
	FIELD(ring, "shm_ring", wake_frames);
	FIELD(ring, "shm_ring", abort);
	PAD(ring, "shm_ring", pad3);
	FIELD(ring, "shm_ring", clock);
}

static void print_clock(void)
{
	printf("struct\tshm_clock\t%zu\n", sizeof(clock_));
	FIELD(clock_, "shm_clock", seq);
	FIELD(clock_, "shm_clock", reserved);
	FIELD(clock_, "shm_clock", frame);
	FIELD(clock_, "shm_clock", time_bits);
	FIELD(clock_, "shm_clock", now_bits);
	FIELD(clock_, "shm_clock", rate_bits);
	PAD(clock_, "shm_clock", pad);
}

static void print_constants(void)
{
	CONST(SHM_MAGIC);
	CONST(SHM_VERSION);
	CONST(SHM_CACHELINE);
	CONST(SHM_DATA_ALIGN);
	CONST(SHM_STATE_PREFILL);
	CONST(SHM_STATE_RUNNING);
	CONST(SHM_STATE_DRAINING);
	CONST(SHM_STATE_FINISHED);
	CONST(SHM_STATE_FAILED);
	CONST(SHM_INPUT_UNDERFLOW);
	CONST(SHM_INPUT_OVERFLOW);
	CONST(SHM_OUTPUT_UNDERFLOW);
	CONST(SHM_OUTPUT_OVERFLOW);
	CONST(SHM_PRIMING_OUTPUT);
}

/* The values of shm_ring.dtype: every sample format, by its dtype name. */
static void print_dtypes(void)
{
	for (int fmt = 0; fmt < SAMPLE_FORMAT_COUNT_; fmt++)
		printf("dtype\t%s\t%d\t%zu\n", sample_format_name(fmt), fmt,
		       sample_format_size(fmt));
}

int main(void)
{
	print_header();
	print_ring();
	print_clock();
	print_constants();
	print_dtypes();
	return ferror(stdout) || fflush(stdout) ? 1 : 0;
}
