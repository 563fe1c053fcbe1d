/*
 * Unit tests of daemon/notify.c's decisions: when the daemon counts as
 * healthy for systemd's watchdog, and the STATUS= line.  The engine's
 * audio check is replaced by a stub whose answer the test sets, so that
 * each half of the health check is tested on its own.
 */
#include <string.h>

#include "daemon.h"
#include "engine.h"
#include "notify.h"
#include "tap.h"

static bool audio_healthy = true;
static int audio_checks;

/* Stands in for the engine: says whether every device stream's callback ran. */
bool engine_audio_healthy(struct engine *e)
{
	audio_checks++;
	return audio_healthy;
}

static void test_healthy(void)
{
	struct daemon d = { 0 };
	const uint64_t second = 1000000;

	d.notify.watchdog_usec = 10 * second;
	d.notify.loop_turned_usec = 100 * second;

	CHECK(notify_healthy(&d, 100 * second + 1) && !d.notify.unhealthy_reason,
	      "healthy: the loop just turned and the audio runs");
	CHECK(notify_healthy(&d, 110 * second), "healthy: exactly one interval since the loop turned");
	CHECK(!notify_healthy(&d, 110 * second + 1) && d.notify.unhealthy_reason &&
		      strstr(d.notify.unhealthy_reason, "loop"),
	      "unhealthy: the loop has not turned for longer than the interval");
	CHECK(notify_healthy(&d, 99 * second), "a stamp after now (clock read earlier) is fresh");

	audio_healthy = false;
	audio_checks = 0;
	CHECK(!notify_healthy(&d, 100 * second + 1) && d.notify.unhealthy_reason &&
		      strstr(d.notify.unhealthy_reason, "audio"),
	      "unhealthy: a device stream's callback stopped");
	CHECK(audio_checks == 1, "the engine is asked once per check");
	audio_healthy = true;
	CHECK(notify_healthy(&d, 100 * second + 2) && !d.notify.unhealthy_reason,
	      "healthy again when both recover");
}

static void test_status(void)
{
	struct daemon d = { 0 };
	char buf[256];

	notify_format_status(&d, buf, sizeof(buf));
	CHECK_STR(buf, "0 clients, 0 streams, 0 devices", "status: an empty daemon");
	d.client_count = 1;
	d.engine.active_count = 1;
	d.devices.count = 1;
	notify_format_status(&d, buf, sizeof(buf));
	CHECK_STR(buf, "1 client, 1 stream, 1 device", "status: singular");
	d.client_count = 3;
	d.engine.active_count = 2;
	d.devices.count = 7;
	d.devices.reinit_pending = true;
	notify_format_status(&d, buf, sizeof(buf));
	CHECK_STR(buf, "3 clients, 2 streams, 7 devices; new devices wait for device streams to close",
		  "status: counts and a deferred rescan");
	d.devices.reinit_pending = false;
	d.notify.started = true;
	d.notify.healthy = false;
	d.notify.unhealthy_reason = "the event loop has stopped turning";
	notify_format_status(&d, buf, sizeof(buf));
	CHECK_STR(buf, "3 clients, 2 streams, 7 devices; unhealthy: the event loop has stopped turning",
		  "status: says why the daemon is unhealthy");
	notify_format_status(&d, buf, 10);
	CHECK(strlen(buf) == 9, "status: a short buffer truncates safely");
}

int main(void)
{
	test_healthy();
	test_status();
	return tap_done();
}
