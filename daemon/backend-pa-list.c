/*
 * PortAudio's devices and host APIs as the backend lists them, with their
 * stable ids and the names to open them by: in the daemon (its running
 * PortAudio) and in the probe process (a fresh one), so both name every
 * device alike.  Loop thread (or the probe's only thread).
 *
 * Stable ids: "alsa:hw:CARD,DEV" for an ALSA hardware device, CARD being
 * the card's id (/proc/asound/cardN/id, such as "PCH" or "Device"), which
 * a card keeps when it is plugged in again under another number, while
 * PortAudio's name says "(hw:N,DEV)"; "alsa:PCM" for an ALSA plugin PCM
 * (PortAudio names those by their PCM name); "jack:CLIENT" for a JACK
 * client; "API:NAME" (the host API's name, lowercase) otherwise.
 */
#include "backend-pa.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pa-defined.h"
#include "utf8.h"

/* Reads card's id from /proc/asound/cardN/id into buf; returns 0 or -ENOENT. */
static int card_id(int card, char *buf, size_t size)
{
	char path[64];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/asound/card%d/id", card);
	f = fopen(path, "re");
	if (!f)
		return -ENOENT;
	n = fread(buf, 1, size - 1, f);
	fclose(f);
	while (n > 0 && isspace((unsigned char)buf[n - 1]))
		n--;
	buf[n] = '\0';
	return n > 0 ? 0 : -ENOENT;
}

/*
 * Finds PortAudio's "(hw:N,M)" (or "(plughw:N,M)") at the end of an ALSA
 * hardware device's name; stores card, device and the text inside the
 * brackets.  Returns whether the name ends so.
 */
static bool alsa_hw_suffix(const char *name, int *card, int *device, char *pcm, size_t size)
{
	const char *open = strrchr(name, '(');
	int n = 0;

	if (!open || (strncmp(open, "(hw:", 4) != 0 && strncmp(open, "(plughw:", 8) != 0))
		return false;
	if (sscanf(strchr(open, ':') + 1, "%d,%d)%n", card, device, &n) != 2 || n == 0 ||
	    strchr(open, ':')[1 + n] != '\0')
		return false;
	snprintf(pcm, size, "%.*s", (int)(strlen(open) - 2), open + 1);
	return true;
}

/* Fills d's uid and locator from its name and host API; returns 0 or -ENOMEM. */
static int name_device(struct device_info *d, PaHostApiTypeId type, const char *api_name)
{
	char buf[512], pcm[64], id[64];
	int card, device;

	if (type == paALSA && alsa_hw_suffix(d->name, &card, &device, pcm, sizeof(pcm))) {
		if (card_id(card, id, sizeof(id)) < 0)
			snprintf(id, sizeof(id), "%d", card);
		snprintf(buf, sizeof(buf), "alsa:hw:%s,%d", id, device);
		d->locator = strdup(pcm);
	} else if (type == paALSA) {
		snprintf(buf, sizeof(buf), "alsa:%s", d->name);
		d->locator = strdup(d->name);
	} else if (type == paJACK) {
		snprintf(buf, sizeof(buf), "jack:%s", d->name);
	} else {
		size_t n = (size_t)snprintf(buf, sizeof(buf), "%s", api_name);

		for (size_t i = 0; i < n && i < sizeof(buf); i++)
			buf[i] = (char)tolower((unsigned char)buf[i]);
		snprintf(buf + (n < sizeof(buf) ? n : sizeof(buf) - 1),
			 sizeof(buf) - (n < sizeof(buf) ? n : sizeof(buf) - 1), ":%s", d->name);
	}
	d->uid = utf8_sanitize(buf);
	return d->uid && (d->locator || type != paALSA) ? 0 : -ENOMEM;
}

/*
 * Returns whether a JACK device is a client of sddaemon itself: the
 * daemon's ("sddaemon", or "sddaemon-01" beside another daemon), a probe's
 * ("sddaemon-probe"), or one that ALSA's jack plugin opened in either
 * ("sddaemon.P.PID.N", for an ALSA PCM over JACK).  They come and go with
 * the daemon's own streams and probes, and are nobody's device.
 */
static bool own_jack_client(const char *name)
{
	size_t n = strlen(BACKEND_PA_JACK_NAME);

	return strncmp(name, BACKEND_PA_JACK_NAME, n) == 0 &&
	       (name[n] == '\0' || name[n] == '-' || name[n] == '.');
}

/* Fills the api_count host APIs of l, without their devices. */
static int list_apis(struct backend_devlist *l, int api_count)
{
	for (int i = 0; i < api_count; i++) {
		const PaHostApiInfo *info = Pa_GetHostApiInfo(i);
		struct hostapi_info *a = &l->api[i];

		l->api_count = i + 1;
		a->name = utf8_sanitize(info ? info->name : "?");
		if (!a->name)
			return -ENOMEM;
		a->type = info ? (int)info->type : -1;
		a->default_input_device = -1;
		a->default_output_device = -1;
		/* list_devices() fills the devices in our numbering. */
		a->devices = calloc((size_t)(info ? info->deviceCount : 0) + 1, sizeof(int));
		if (!a->devices)
			return -ENOMEM;
	}
	return 0;
}

/* Returns our index of PortAudio's device pa in pa_index (count entries), or -1. */
static int ours(const int *pa_index, int count, int pa)
{
	for (int i = 0; i < count; i++)
		if (pa_index[i] == pa)
			return i;
	return -1;
}

int backend_pa_list(struct backend_devlist *l, int **ret_pa_index)
{
	int count = Pa_GetDeviceCount(), api_count = Pa_GetHostApiCount();
	int *pa_index = NULL;

	*l = (struct backend_devlist){ .default_input = -1, .default_output = -1 };
	if (count < 0 || api_count < 0)
		return -EIO;
	l->dev = calloc((size_t)count + 1, sizeof(*l->dev));
	l->api = calloc((size_t)api_count + 1, sizeof(*l->api));
	pa_index = calloc((size_t)count + 1, sizeof(int));
	if (!l->dev || !l->api || !pa_index || list_apis(l, api_count) < 0)
		goto oom;
	for (int i = 0; i < count; i++) {
		const PaDeviceInfo *info = Pa_GetDeviceInfo(i);
		const PaHostApiInfo *api;
		struct device_info *d = &l->dev[l->count];

		if (!info) {
			backend_devlist_free(l);
			free(pa_index);
			return -EIO;
		}
		/* PortAudio's probe leaves the latencies undefined to valgrind (see pa-defined.h). */
		pa_defined(info, sizeof(*info));
		api = Pa_GetHostApiInfo(info->hostApi);
		if (api && api->type == paJACK && own_jack_client(info->name))
			continue;
		pa_index[l->count] = i;
		l->count++;
		d->name = utf8_sanitize(info->name);
		if (!d->name || name_device(d, api ? api->type : paInDevelopment,
					    l->api[info->hostApi].name) < 0)
			goto oom;
		d->hostapi = info->hostApi;
		d->max_input_channels = info->maxInputChannels;
		d->max_output_channels = info->maxOutputChannels;
		d->default_low_input_latency = info->defaultLowInputLatency;
		d->default_low_output_latency = info->defaultLowOutputLatency;
		d->default_high_input_latency = info->defaultHighInputLatency;
		d->default_high_output_latency = info->defaultHighOutputLatency;
		d->default_samplerate = info->defaultSampleRate;
		if (d->hostapi >= 0 && d->hostapi < l->api_count) {
			struct hostapi_info *a = &l->api[d->hostapi];

			a->devices[a->device_count++] = l->count - 1;
		}
	}
	for (int i = 0; i < l->api_count; i++) {
		const PaHostApiInfo *info = Pa_GetHostApiInfo(i);

		if (!info)
			continue;
		l->api[i].default_input_device = ours(pa_index, l->count, info->defaultInputDevice);
		l->api[i].default_output_device = ours(pa_index, l->count, info->defaultOutputDevice);
	}
	l->default_input = ours(pa_index, l->count, Pa_GetDefaultInputDevice());
	l->default_output = ours(pa_index, l->count, Pa_GetDefaultOutputDevice());
	if (backend_devlist_unique_uids(l) < 0)
		goto oom;
	*ret_pa_index = pa_index;
	return 0;
oom:
	backend_devlist_free(l);
	free(pa_index);
	return -ENOMEM;
}
