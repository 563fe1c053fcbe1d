/*
 * What the PortAudio test programs share.  They are PortAudio programs like
 * any other: built against the system's libportaudio and run twice by
 * tests/integration/test_portaudio*.py, once on PortAudio itself and once
 * through sddaemon's library (sdctl run), on the same virtual devices;
 * what they print and what reaches the taps must agree.
 *
 * The signal they play is deterministic and never silent: every sample's
 * top byte is non-zero, so that the data can be found in a tap among the
 * silence around it, in every format.
 */
#pragma once

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <portaudio.h>

/* Exits with a message (and the last host error's text) when a PortAudio call failed. */
#define PA_CHECK(call)                                                                             \
	do {                                                                                       \
		PaError pa_check_e_ = (call);                                                      \
		if (pa_check_e_ < 0) {                                                             \
			const PaHostErrorInfo *pa_check_h_ = Pa_GetLastHostErrorInfo();            \
			fprintf(stderr, "%s:%d: %s: %s (%d); host error: %s\n", __FILE__,         \
				__LINE__, #call, Pa_GetErrorText(pa_check_e_), pa_check_e_,        \
				pa_check_h_ && pa_check_h_->errorText ? pa_check_h_->errorText     \
								      : "");                       \
			exit(1);                                                                   \
		}                                                                                  \
	} while (0)

/* The device whose name is name, or exits. */
static inline PaDeviceIndex pt_device(const char *name)
{
	for (PaDeviceIndex i = 0; i < Pa_GetDeviceCount(); i++)
		if (strcmp(Pa_GetDeviceInfo(i)->name, name) == 0)
			return i;
	fprintf(stderr, "no device named '%s'\n", name);
	exit(1);
}

/* A sample format by its name (float32, int32, int24, int16, int8, uint8), or exits. */
static inline PaSampleFormat pt_format(const char *name)
{
	static const struct {
		const char *name;
		PaSampleFormat format;
	} formats[] = {
		{ "float32", paFloat32 }, { "int32", paInt32 }, { "int24", paInt24 },
		{ "int16", paInt16 },	  { "int8", paInt8 },	{ "uint8", paUInt8 },
	};

	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++)
		if (strcmp(formats[i].name, name) == 0)
			return formats[i].format;
	fprintf(stderr, "unknown format '%s'\n", name);
	exit(1);
}

/* The n-th sample of the signal (channels interleaved), as 32 bits whose top byte is not 0. */
static inline uint32_t pt_sample_bits(uint64_t n, unsigned seed)
{
	uint64_t x = (n + 1) * 0x9E3779B97F4A7C15ull ^ (uint64_t)seed * 0xBF58476D1CE4E5B9ull;
	uint32_t v;

	x ^= x >> 31;
	x *= 0x94D049BB133111EBull;
	x ^= x >> 29;
	v = (uint32_t)x;
	if ((v >> 24) == 0)
		v |= 0x01000000u;
	return v;
}

/* Writes sample n of the signal in format at dst (float32 values are exact multiples of 2^-23). */
static inline void pt_put_sample(PaSampleFormat format, unsigned char *dst, uint64_t n,
				 unsigned seed)
{
	uint32_t v = pt_sample_bits(n, seed);
	int32_t s = (int32_t)v;

	switch (format & ~paNonInterleaved) {
	case paFloat32: {
		float f = (float)(s >> 8) / 16777216.0f; /* within ±0.5 */

		memcpy(dst, &f, 4);
		break;
	}
	case paInt32:
		memcpy(dst, &s, 4);
		break;
	case paInt24:
		dst[0] = (unsigned char)(v >> 8);
		dst[1] = (unsigned char)(v >> 16);
		dst[2] = (unsigned char)(v >> 24);
		break;
	case paInt16: {
		int16_t x = (int16_t)(s >> 16);

		memcpy(dst, &x, 2);
		break;
	}
	case paInt8:
		dst[0] = (unsigned char)(v >> 24);
		break;
	case paUInt8:
		dst[0] = (unsigned char)((v >> 24) + 128);
		break;
	}
}

/* Fills frames frames of the signal, from frame first on, interleaved or one buffer per channel. */
static inline void pt_fill(PaSampleFormat format, int channels, void *buffer, uint64_t first,
			   unsigned long frames, unsigned seed)
{
	size_t size = (size_t)Pa_GetSampleSize(format);

	for (unsigned long f = 0; f < frames; f++)
		for (int c = 0; c < channels; c++) {
			uint64_t n = (first + f) * (uint64_t)channels + (uint64_t)c;
			unsigned char *dst;

			if (format & paNonInterleaved)
				dst = (unsigned char *)((void **)buffer)[c] + f * size;
			else
				dst = (unsigned char *)buffer + (f * (size_t)channels + (size_t)c) * size;
			pt_put_sample(format, dst, n, seed);
		}
}
