/*
 * libsdc against a running sddaemon (started by test_libsdc.py with the
 * virtual ALSA devices): connecting, typed queries, defaults,
 * sdc_play/sdc_rec/sdc_playrec on caller memory, a stream's volume
 * (sdc_set_volume, sdc_get_volume), and the device list as it changes (a
 * PCM added to the daemon's ALSA configuration, $ALSA_CONFIG_PATH), in
 * TAP.  The socket comes from $SDDAEMON_SOCKET and the capture source's
 * path from $SDD_TEST_INPUT.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sdc.h"
#include "tap.h"

/* Reads the first bytes of the capture source that t_in plays. */
static unsigned char *read_input(size_t bytes)
{
	const char *path = getenv("SDD_TEST_INPUT");
	unsigned char *buf = malloc(bytes);
	FILE *f = path ? fopen(path, "rb") : NULL;

	if (!f || !buf || fread(buf, 1, bytes, f) != bytes) {
		free(buf);
		buf = NULL;
	}
	if (f)
		fclose(f);
	return buf;
}

static void test_connect_errors(void)
{
	sdc_client *c = NULL;
	int r = sdc_connect("/nonexistent/sddaemon.sock", &c);

	CHECK(r == -ENOENT && !c, "connecting to a missing socket fails with -ENOENT");
	CHECK(strstr(sdc_last_error()->message, "is it running?") != NULL,
	      "the error says what to check");
	CHECK(sdc_connect(NULL, NULL) == -EINVAL, "NULL out-parameter is -EINVAL, not a crash");
}

/* sounddevice's wait() and stop() do nothing before any play(), rec() or playrec(). */
static void test_wait_stop_before_play(void)
{
	sdc_client *c;
	sdc_status st = { .state = SDC_STATE_FAILED, .xruns = 7 };

	if (sdc_connect(NULL, &c) < 0) {
		CHECK(0, "connect: %s", sdc_last_error()->message);
		return;
	}
	CHECK(sdc_wait(c, 0, &st) == 0 && st.state == SDC_STATE_FINISHED && st.xruns == 0 &&
		      st.handle == 0,
	      "wait before any play returns at once with a clean status");
	CHECK(sdc_stop(c, 0) == 0, "stop before any play does nothing");
	CHECK(sdc_wait(c, 0, NULL) == 0, "wait without a status pointer too");
	CHECK(sdc_stop(c, 4242) == -ENOENT, "a named handle that does not exist is still an error");
	sdc_close(c);
}

static void test_queries(sdc_client *c)
{
	sdc_device_info *devs, info;
	size_t n;
	int in, out;

	CHECK(sdc_query_devices(c, &devs, &n) == 0 && n >= 5, "sdc_query_devices lists the devices");
	sdc_device_list_free(devs, n);
	CHECK(sdc_query_device(c, SDC_DEVICE_QUERY("t_out2"), SDC_KIND_OUTPUT, &info) == 0 &&
		      strcmp(info.name, "t_out2") == 0,
	      "query by string");
	sdc_device_info_clear(&info);
	CHECK(sdc_query_device(c, SDC_DEVICE_QUERY("t_"), SDC_KIND_ANY, &info) == -ENOTUNIQ &&
		      strcmp(sdc_last_error()->code, "device_ambiguous") == 0,
	      "ambiguous query is -ENOTUNIQ with the daemon's code");
	CHECK(sdc_query_device(c, SDC_DEVICE_INDEX(9999), SDC_KIND_ANY, &info) == -ENODEV,
	      "unknown id is -ENODEV");
	CHECK(sdc_default_device(c, &in, &out) == 0 && in >= 0 && out >= 0, "default devices");
	{
		sdc_settings s = { .device = SDC_DEVICE_QUERY("t_out"), .channels = 2,
				   .dtype = SDC_INT16, .samplerate = 3 };

		CHECK(sdc_check_output_settings(c, &s, NULL) == -ENOTSUP &&
			      sdc_last_error()->pa_error == -9997,
		      "unsupported settings carry PortAudio's error");
		/* sounddevice: check_output_settings(dtype='float64') raises "Invalid output sample format". */
		s.dtype = SDC_FLOAT64;
		s.samplerate = 48000;
		CHECK(sdc_check_output_settings(c, &s, NULL) == -EINVAL &&
			      strcmp(sdc_last_error()->message, "Invalid output sample format") == 0,
		      "float64 is no device format for check_output_settings");
		CHECK(sdc_check_input_settings(c, &s, NULL) == -EINVAL &&
			      strcmp(sdc_last_error()->message, "Invalid input sample format") == 0,
		      "nor for check_input_settings");
	}
}

static void test_defaults(sdc_client *c)
{
	sdc_defaults d;

	sdc_default_get(c, &d);
	CHECK(d.dtype[0] == SDC_FLOAT32 && d.dtype[1] == SDC_FLOAT32 &&
		      d.latency[1] == SDC_LATENCY_HIGH && d.device[0].by == SDC_DEVICE_BY_DEFAULT,
	      "factory defaults are sounddevice's");
	{
		char name[] = "t_out";

		CHECK(sdc_default_set_device(c, SDC_DEVICE_QUERY("t_in"), SDC_DEVICE_QUERY(name)) == 0,
		      "set default devices");
		strcpy(name, "xxxxx");
		sdc_default_get(c, &d);
		CHECK(strcmp(d.device[1].query, "t_out") == 0, "the default device's query is copied");
	}
	CHECK(sdc_default_set_latency(c, -5, 0.1) == -EINVAL, "bad latency rejected");
	CHECK(sdc_default_set_dtype(c, (sdc_dtype)99, SDC_INT16) == -EINVAL, "bad dtype rejected");
	CHECK(sdc_default_set_samplerate(c, 48000) == 0 && sdc_default_set_channels(c, 2, 2) == 0,
	      "set rate and channels");
}

static void test_play_float64(sdc_client *c)
{
	enum { FRAMES = 4800 };
	double *data = malloc(sizeof(double) * FRAMES * 2);
	sdc_play_params p = { .channels = 2, .dtype = SDC_FLOAT64, .blocking = 1 };
	sdc_status st;
	unsigned handle = 0;

	for (int i = 0; i < FRAMES * 2; i++)
		data[i] = sin(i * 0.01) * 0.5;
	CHECK(sdc_play(c, data, FRAMES, &p, &handle) == 0 && handle > 0,
	      "blocking play of float64 data on the default device");
	CHECK(sdc_get_status(c, handle, &st) == 0 && st.state == SDC_STATE_FINISHED &&
		      st.frames_played == FRAMES,
	      "all frames were played (%llu)", st.frames_played);
	CHECK(sdc_get_status(c, 0, &st) == 0 && st.handle == handle, "handle 0 means the latest");
	free(data);
}

static void test_play_large_nonblocking(sdc_client *c)
{
	/* Larger than a ring: the library's transfer thread feeds the rest. */
	size_t frames = 48000 * 3;
	sdc_play_params p = { .channels = 2, .dtype = SDC_INT16, .opt.buffer_frames = 8192,
			      .opt.exclusive = SDC_YES };
	int16_t *data = malloc(frames * 2 * sizeof(int16_t));
	unsigned handle;
	sdc_status st;

	for (size_t i = 0; i < frames * 2; i++)
		data[i] = (int16_t)(i * 7);
	CHECK(sdc_play(c, data, frames, &p, &handle) == 0, "non-blocking play returns");
	CHECK(sdc_wait(c, handle, &st) == 0 && st.frames_played == frames &&
		      st.state == SDC_STATE_FINISHED,
	      "wait: every frame played through an 8192-frame ring (%llu)", st.frames_played);
	free(data);
}

static void test_rec_exact(sdc_client *c)
{
	enum { FRAMES = 9600 };
	int16_t *buf = calloc(FRAMES * 2, sizeof(int16_t));
	unsigned char *want = read_input(FRAMES * 2 * sizeof(int16_t));
	sdc_rec_params p = { .channels = 2, .dtype = SDC_INT16,
			     .opt = { .exclusive = SDC_YES } };
	unsigned handle;
	sdc_status st;

	CHECK(want != NULL, "the capture source is readable");
	CHECK(sdc_rec(c, buf, FRAMES, &p, &handle) == 0, "non-blocking rec returns");
	CHECK(sdc_wait(c, handle, &st) == 0 && st.frames_recorded == FRAMES,
	      "wait: %llu frames recorded", st.frames_recorded);
	CHECK(want && memcmp(buf, want, FRAMES * 2 * sizeof(int16_t)) == 0,
	      "the caller's buffer holds the input, bit for bit");
	free(buf);
	free(want);
}

static void test_stop_and_errors(sdc_client *c)
{
	float tone[2 * 4096];
	sdc_play_params p = { .channels = 2, .dtype = SDC_FLOAT32, .loop = 1 };
	sdc_status st;
	unsigned handle;

	memset(tone, 0, sizeof(tone));
	CHECK(sdc_play(c, tone, 4096, &p, &handle) == 0, "looped play starts");
	CHECK(sdc_stop(c, handle) == 0, "stop");
	CHECK(sdc_get_status(c, handle, &st) == 0 && st.state == SDC_STATE_FINISHED, "stopped");
	CHECK(sdc_get_status(c, 999999, &st) == -ENOENT, "an unknown handle is -ENOENT");
	p.channels = 0;
	CHECK(sdc_play(c, tone, 10, &p, NULL) == -EINVAL, "play without channels is -EINVAL");
	{
		sdc_rec_params r = { .channels = 2, .opt.output_device = SDC_DEVICE_DEFAULT,
				     .opt.input_device = SDC_DEVICE_QUERY("nothing matches this") };
		float buf[16];

		CHECK(sdc_rec(c, buf, 8, &r, NULL) == -ENODEV, "rec on a missing device is -ENODEV");
	}
}

static void test_stream_handles(sdc_client *c)
{
	sdc_play_params p = { .channels = 1, .dtype = SDC_INT16, .opt.exclusive = SDC_YES };
	int16_t block[1000];
	sdc_stream *s;
	sdc_status st;
	long long total = 0;

	for (int i = 0; i < 1000; i++)
		block[i] = (int16_t)i;
	CHECK(sdc_play_open(c, &p, -1, &s) == 0, "an open-ended playback stream");
	CHECK(sdc_stream_channels(s, SDC_KIND_OUTPUT) == 1 &&
		      sdc_stream_dtype(s, SDC_KIND_OUTPUT) == SDC_INT16 && sdc_stream_samplerate(s) == 48000,
	      "stream properties");
	for (int i = 0; i < 200; i++)
		total += sdc_stream_write(s, block, 1000);
	CHECK(total == 200000, "200000 frames written through the ring");
	CHECK(sdc_stream_end(s) == 0, "end mark");
	CHECK(sdc_wait(c, sdc_stream_handle(s), &st) == 0 && st.frames_played == 200000,
	      "all of them played (%llu)", st.frames_played);
	CHECK(sdc_stream_read(s, block, 10) == -EINVAL, "reading a playback stream is -EINVAL");
	sdc_stream_close(s);
}

static void test_volume(sdc_client *c)
{
	float tone[2 * 4096];
	sdc_play_params p = { .channels = 2, .dtype = SDC_FLOAT32, .loop = 1 };
	sdc_play_params x = { .channels = 2, .dtype = SDC_FLOAT32, .loop = 1,
			      .opt.exclusive = SDC_YES };
	double half = 0.5, pair[2] = { 1.0, 0.25 }, got[4] = { 0 }, bad = -1;
	unsigned handle, excl;
	int count = 0, mute = -1;

	memset(tone, 0, sizeof(tone));
	CHECK(sdc_play(c, tone, 4096, &p, &handle) == 0, "a shared playback for the volume");
	CHECK(sdc_get_volume(c, handle, got, 4, &count, &mute) == 0 && count == 2 &&
		      got[0] == 1.0 && got[1] == 1.0 && mute == 0,
	      "a new stream's volume is 1 on each channel, unmuted");
	CHECK(sdc_set_volume(c, handle, &half, 1, 0) == 0 &&
		      sdc_get_volume(c, handle, got, 4, &count, &mute) == 0 && got[0] == 0.5 &&
		      got[1] == 0.5,
	      "sdc_set_volume with one gain sets every channel");
	CHECK(sdc_set_volume(c, handle, pair, 2, SDC_YES) == 0 &&
		      sdc_get_volume(c, handle, got, 1, &count, &mute) == 0 && count == 2 &&
		      got[0] == 1.0 && got[1] == 0.5 && mute == 1,
	      "one gain per channel and mute (max 1 stores one gain, count says 2)");
	CHECK(sdc_set_volume(c, handle, NULL, 0, SDC_NO) == 0 &&
		      sdc_get_volume(c, handle, got, 4, NULL, &mute) == 0 && mute == 0 &&
		      got[1] == 0.25,
	      "unmuted, the gains kept");
	CHECK(sdc_set_volume(c, handle, &bad, 1, 0) == -EINVAL &&
		      sdc_set_volume(c, handle, NULL, 0, 0) == -EINVAL &&
		      sdc_set_volume(NULL, handle, &half, 1, 0) == -EINVAL,
	      "a negative gain, nothing to set and no client are -EINVAL");
	CHECK(sdc_set_volume(c, 999999, &half, 1, 0) == -ENOENT, "an unknown handle is -ENOENT");
	sdc_stop(c, handle);
	x.opt.keep_previous = 1;
	CHECK(sdc_play(c, tone, 4096, &x, &excl) == 0, "an exclusive playback");
	CHECK(sdc_set_volume(c, excl, &half, 1, 0) == -ENOTSUP &&
		      sdc_get_volume(c, excl, got, 4, &count, &mute) == -ENOTSUP,
	      "an exclusive stream has no volume: -ENOTSUP (%s)", sdc_last_error()->message);
	sdc_stop(c, excl);
}

/* What the devices_changed callback saw. */
static struct {
	int calls;
	unsigned generation;
	char added[64], added_id[64];
	char removed_id[64];
} seen;

static void on_devices_changed(void *userdata, const sdc_devices_change *ch)
{
	seen.calls++;
	seen.generation = ch->generation;
	if (ch->added_count > 0) {
		snprintf(seen.added, sizeof(seen.added), "%s", ch->added[0].name);
		snprintf(seen.added_id, sizeof(seen.added_id), "%s", ch->added[0].stable_id);
	}
	if (ch->removed_count > 0)
		snprintf(seen.removed_id, sizeof(seen.removed_id), "%s", ch->removed[0].stable_id);
}

/* Adds (or, with add 0, removes) a PCM of the ALSA configuration, replacing the file at once. */
static int edit_alsa_config(int add)
{
	static const char pcm[] = "pcm.t_lib { type null; hint { show on; description \"libsdc\" } }\n";
	const char *path = getenv("ALSA_CONFIG_PATH");
	char text[65536], tmp[4096], *at;
	size_t n;
	FILE *f = path ? fopen(path, "r") : NULL;

	if (!f)
		return -1;
	n = fread(text, 1, sizeof(text) - sizeof(pcm), f);
	fclose(f);
	text[n] = '\0';
	if (add)
		strcat(text, pcm);
	else if ((at = strstr(text, pcm)))
		memmove(at, at + strlen(pcm), strlen(at + strlen(pcm)) + 1);
	snprintf(tmp, sizeof(tmp), "%s.new", path);
	f = fopen(tmp, "w");
	if (!f)
		return -1;
	fputs(text, f);
	fclose(f);
	return rename(tmp, path);
}

static void test_device_changes(sdc_client *c)
{
	sdc_device_info info, *devs;
	unsigned g = sdc_devices_generation(c);
	size_t n;
	int changed = -1;

	CHECK(g >= 1, "replies told the list's generation (%u)", g);
	CHECK(sdc_query_device(c, SDC_DEVICE_QUERY("alsa:t_out2"), SDC_KIND_OUTPUT, &info) == 0 &&
		      strcmp(info.name, "t_out2") == 0 && strcmp(info.stable_id, "alsa:t_out2") == 0 &&
		      info.present,
	      "a stable id selects its device, which is present");
	sdc_device_info_clear(&info);
	CHECK(sdc_rescan_devices(c, &changed) == 0 && changed == 0 && seen.calls == 0,
	      "a rescan that finds nothing new");
	CHECK(sdc_set_devices_changed_callback(c, on_devices_changed, NULL) == 0,
	      "subscribing to devices_changed");
	CHECK(edit_alsa_config(1) == 0, "a PCM added to the ALSA configuration");
	CHECK(sdc_rescan_devices(c, &changed) == 0 && changed == 1, "the rescan finds it");
	CHECK(seen.calls == 1 && strcmp(seen.added, "t_lib") == 0 &&
		      strcmp(seen.added_id, "alsa:t_lib") == 0 && seen.generation == g + 1,
	      "the callback heard of it before the rescan returned (%d calls, '%s', %u)",
	      seen.calls, seen.added, seen.generation);
	CHECK(sdc_devices_generation(c) == g + 1, "the client knows the new generation");

	sdc_set_request_generation(c, g);
	CHECK(sdc_query_devices(c, &devs, &n) == -ESTALE &&
		      strcmp(sdc_last_error()->code, "stale_generation") == 0,
	      "a request pinned to the old generation is -ESTALE");
	sdc_set_request_generation(c, g + 1);
	devs = NULL;
	n = 0;
	CHECK(sdc_query_devices(c, &devs, &n) == 0, "pinned to the current one it works: %s",
	      sdc_last_error()->message);
	sdc_device_list_free(devs, n);
	sdc_set_request_generation(c, 0);

	CHECK(edit_alsa_config(0) == 0 && sdc_rescan_devices(c, &changed) == 0 && changed == 1 &&
		      seen.calls == 2 && strcmp(seen.removed_id, "alsa:t_lib") == 0,
	      "its removal is heard too");
	g = sdc_devices_generation(c);
	CHECK(sdc_set_devices_changed_callback(c, NULL, NULL) == 0 && edit_alsa_config(1) == 0 &&
		      sdc_rescan_devices(c, &changed) == 0 && sdc_devices_generation(c) > g &&
		      seen.calls == 2,
	      "after unsubscribing, no more calls (%d)", seen.calls);
	edit_alsa_config(0);
	sdc_rescan_devices(c, NULL);
}

int main(void)
{
	sdc_client *c;

	test_connect_errors();
	test_wait_stop_before_play();
	if (sdc_connect(NULL, &c) < 0) {
		CHECK(0, "connect: %s", sdc_last_error()->message);
		return tap_done();
	}
	test_queries(c);
	test_defaults(c);
	test_play_float64(c);
	test_play_large_nonblocking(c);
	test_rec_exact(c);
	test_stop_and_errors(c);
	test_stream_handles(c);
	test_volume(c);
	test_device_changes(c);
	sdc_close(c);
	return tap_done();
}
