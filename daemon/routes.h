/*
 * How a client stream's data meets a device stream: the channel routes,
 * made by sounddevice's mapping rules, and the size of each ring.  These
 * functions only describe a stream's directions (before its shared memory
 * exists); they keep no state.  Loop thread.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "proto.h"

struct stream_dir;

/* Rings are at least this long, and (by default) hold at least this much time. */
#define ROUTES_RING_MIN_FRAMES 1024
#define ROUTES_RING_DEFAULT_SECONDS 1.0
#define ROUTES_RING_MAX_FRAMES (1u << 26)

/* A whole sound goes into the ring when it takes at most this many bytes. */
#define ROUTES_WHOLE_MAX_BYTES (32u * 1024 * 1024)

/*
 * Sets up the playback routes of d (whose channels are the data's) as
 * sounddevice maps data columns onto output channels: map holds nmap
 * 1-based channel numbers (nmap 0: columns 1…n go to channels 1…n), mono
 * data goes to every mapped channel.  max_out is the device's output
 * channel count: with mapping [1] on a device of two or more channels the
 * second plays silence (some host APIs would duplicate mono), and a shared
 * stream plays unmapped mono on the first two channels (as ALSA's plug
 * device does); 0 asks for neither (the stream API's plain channels).
 * Sets stream_channels.  Returns 0, or -EINVAL with err set when the
 * data's channels do not match the mapping.
 */
int routes_output(struct stream_dir *d, const int *map, int nmap, int max_out, bool shared,
		  struct proto_error *err);

/*
 * Sets up the capture routes of d: map lists the 1-based input channels to
 * record, in the order of the data's columns (nmap 0: channels 1…n, n the
 * data's channels).  A mapping sets the data's channels to its length.
 * Sets stream_channels.
 */
void routes_input(struct stream_dir *d, const int *map, int nmap);

/*
 * Sizes d's ring (d's channels and dtype set): buffer_frames when given
 * (> 0); else, when whole is set, the whole sound of frames (> 0) when it
 * fits in ROUTES_WHOLE_MAX_BYTES; else about a second at rate.  Rounded
 * up to a power of two from ROUTES_RING_MIN_FRAMES to
 * ROUTES_RING_MAX_FRAMES.  Sets frame_bytes and capacity, and makes the
 * direction open-ended (limit -1).
 */
void routes_size_ring(struct stream_dir *d, int64_t buffer_frames, int64_t frames, double rate,
		      bool whole);
