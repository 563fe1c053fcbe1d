/*
 * PortAudio's front end on sddaemon: Pa_Initialize() connects to the daemon
 * and takes a snapshot of its host APIs and devices, which every query
 * answers from until the last Pa_Terminate(); versions, error texts, the
 * last host error, Pa_IsFormatSupported() (the daemon's PortAudio decides),
 * sample sizes and Pa_Sleep().  Any application thread.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "pa-private.h"

struct pa_lib pa_lib = { .lock = PTHREAD_MUTEX_INITIALIZER };

/* Written under pa_lib.lock, read without it (as PortAudio's own counter). */
static _Atomic int initialized;

static char host_error_text[1024];
static PaHostErrorInfo host_error = { paInDevelopment, 0, host_error_text };

static const PaVersionInfo version_info = {
	.versionMajor = 19,
	.versionMinor = 6,
	.versionSubMinor = 0,
	.versionControlRevision = "sddaemon " SDD_VERSION,
	.versionText = "PortAudio V19.6.0-devel, sddaemon " SDD_VERSION,
};

int pa_initialized(void)
{
	return atomic_load(&initialized);
}

void pa_set_host_error(PaHostApiTypeId type, long code, const char *text)
{
	host_error.hostApiType = type;
	host_error.errorCode = code;
	snprintf(host_error_text, sizeof(host_error_text), "%s", text ? text : "");
}

/* PortAudio's host API type of a host API, from the name its host API gives it. */
static PaHostApiTypeId type_of_name(const char *name)
{
	static const struct {
		const char *name;
		PaHostApiTypeId type;
	} names[] = {
		{ "ALSA", paALSA },
		{ "OSS", paOSS },
		{ "JACK Audio Connection Kit", paJACK },
		{ "ASIHPI", paAudioScienceHPI },
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (name && strcmp(name, names[i].name) == 0)
			return names[i].type;
	return paInDevelopment;
}

PaHostApiTypeId pa_device_hostapi_type(PaDeviceIndex device)
{
	if (device < 0 || device >= pa_lib.device_count)
		return paInDevelopment;
	return pa_lib.hostapis[pa_lib.devices[device].hostApi].type;
}

/* Picks the nearest PortAudio error for a daemon refusal that came without one. */
static PaError nearest_error(int r, const char *message)
{
	switch (r) {
	case -ENODEV:
	case -ENOTUNIQ:
		return paInvalidDevice;
	case -ENOMEM:
		return paInsufficientMemory;
	case -EBUSY:
	case -ECONNRESET:
	case -ECONNREFUSED:
	case -EPIPE:
	case -ESHUTDOWN:
		return paDeviceUnavailable;
	case -EINVAL:
	case -ENOTSUP:
		/* A rate the running shared stream lacks, channels it lacks, a format. */
		if (strstr(message, "Hz") || strstr(message, "samplerate"))
			return paInvalidSampleRate;
		if (strstr(message, "channel"))
			return paInvalidChannelCount;
		if (strstr(message, "dtype"))
			return paSampleFormatNotSupported;
		if (strstr(message, "blocksize"))
			return paBufferTooBig;
		break;
	default:
		break;
	}
	return paUnanticipatedHostError;
}

PaError pa_error_from_sdc(int r, PaHostApiTypeId type)
{
	const sdc_error *e = sdc_last_error();
	PaError pe;

	if (e->pa_error < 0 && e->pa_error >= paNotInitialized) {
		if (e->has_host_error)
			pa_set_host_error(e->host_api >= 0 && e->host_api < pa_lib.hostapi_count
						  ? pa_lib.hostapis[e->host_api].type
						  : type,
					  e->host_error, e->host_error_text);
		else if (e->pa_error == paUnanticipatedHostError)
			pa_set_host_error(type, 0, e->message);
		return e->pa_error;
	}
	pe = nearest_error(r, e->message);
	/* The daemon's words are the clearest explanation: keep them where programs look. */
	pa_set_host_error(type, r, e->message);
	return pe;
}

/* ---- Versions and errors ------------------------------------------------------ */

int Pa_GetVersion(void)
{
	return paMakeVersionNumber(version_info.versionMajor, version_info.versionMinor,
				   version_info.versionSubMinor);
}

const char *Pa_GetVersionText(void)
{
	return version_info.versionText;
}

const PaVersionInfo *Pa_GetVersionInfo(void)
{
	return &version_info;
}

const char *Pa_GetErrorText(PaError code)
{
	/* PortAudio's own texts: programs show them, and some compare them. */
	static const char *const texts[] = {
		"PortAudio not initialized",
		"Unanticipated host error",
		"Invalid number of channels",
		"Invalid sample rate",
		"Invalid device",
		"Invalid flag",
		"Sample format not supported",
		"Illegal combination of I/O devices",
		"Insufficient memory",
		"Buffer too big",
		"Buffer too small",
		"No callback routine specified",
		"Invalid stream pointer",
		"Wait timed out",
		"Internal PortAudio error",
		"Device unavailable",
		"Incompatible host API specific stream info",
		"Stream is stopped",
		"Stream is not stopped",
		"Input overflowed",
		"Output underflowed",
		"Host API not found",
		"Invalid host API",
		"Can't read from a callback stream",
		"Can't write to a callback stream",
		"Can't read from an output only stream",
		"Can't write to an input only stream",
		"Incompatible stream host API",
		"Bad buffer pointer",
	};

	if (code == paNoError)
		return "Success";
	if (code >= paNotInitialized && code <= paBadBufferPtr)
		return texts[code - paNotInitialized];
	return code > 0 ? "Invalid error code (value greater than zero)" : "Invalid error code";
}

const PaHostErrorInfo *Pa_GetLastHostErrorInfo(void)
{
	return &host_error;
}

/* ---- Initialisation -------------------------------------------------------------- */

/* Frees the snapshot (the lock is held, no stream is open). */
static void forget(void)
{
	for (int i = 0; i < pa_lib.device_count; i++)
		free((char *)pa_lib.devices[i].name);
	for (int i = 0; i < pa_lib.hostapi_count; i++) {
		free((char *)pa_lib.hostapis[i].name);
		free(pa_lib.hostapi_devices[i]);
	}
	free(pa_lib.devices);
	free(pa_lib.hostapis);
	free(pa_lib.hostapi_devices);
	pa_lib.devices = NULL;
	pa_lib.hostapis = NULL;
	pa_lib.hostapi_devices = NULL;
	pa_lib.device_count = pa_lib.hostapi_count = 0;
	sdc_close(pa_lib.client);
	pa_lib.client = NULL;
}

/* Copies the daemon's devices and host APIs into PortAudio's structures. */
static int take_snapshot(void)
{
	sdc_device_info *devs = NULL;
	sdc_hostapi_info *apis = NULL;
	size_t ndevs = 0, napis = 0;
	int r;

	if ((r = sdc_query_devices(pa_lib.client, &devs, &ndevs)) < 0 ||
	    (r = sdc_query_hostapis(pa_lib.client, &apis, &napis)) < 0 ||
	    (r = sdc_default_device(pa_lib.client, &pa_lib.default_device[0],
				    &pa_lib.default_device[1])) < 0)
		goto done;
	r = -ENOMEM;
	pa_lib.devices = calloc(ndevs ? ndevs : 1, sizeof(*pa_lib.devices));
	pa_lib.hostapis = calloc(napis ? napis : 1, sizeof(*pa_lib.hostapis));
	pa_lib.hostapi_devices = calloc(napis ? napis : 1, sizeof(*pa_lib.hostapi_devices));
	if (!pa_lib.devices || !pa_lib.hostapis || !pa_lib.hostapi_devices)
		goto done;
	for (size_t i = 0; i < napis; i++) {
		PaHostApiInfo *h = &pa_lib.hostapis[i];

		h->structVersion = 1;
		h->type = type_of_name(apis[i].name);
		h->name = strdup(apis[i].name ? apis[i].name : "");
		h->deviceCount = (int)apis[i].device_count;
		h->defaultInputDevice = apis[i].default_input_device;
		h->defaultOutputDevice = apis[i].default_output_device;
		pa_lib.hostapi_devices[i] = calloc(apis[i].device_count + 1, sizeof(int));
		pa_lib.hostapi_count++;
		if (!h->name || !pa_lib.hostapi_devices[i])
			goto done;
		memcpy(pa_lib.hostapi_devices[i], apis[i].devices, apis[i].device_count * sizeof(int));
	}
	for (size_t i = 0; i < ndevs; i++) {
		PaDeviceInfo *d = &pa_lib.devices[i];

		d->structVersion = 2;
		d->name = strdup(devs[i].name ? devs[i].name : "");
		d->hostApi = devs[i].hostapi >= 0 && (size_t)devs[i].hostapi < napis ? devs[i].hostapi : 0;
		d->maxInputChannels = devs[i].max_input_channels;
		d->maxOutputChannels = devs[i].max_output_channels;
		d->defaultLowInputLatency = devs[i].default_low_input_latency;
		d->defaultLowOutputLatency = devs[i].default_low_output_latency;
		d->defaultHighInputLatency = devs[i].default_high_input_latency;
		d->defaultHighOutputLatency = devs[i].default_high_output_latency;
		d->defaultSampleRate = devs[i].default_samplerate;
		pa_lib.device_count++;
		if (!d->name)
			goto done;
	}
	/* PortAudio's rule: the first host API with a default device, else the first. */
	pa_lib.default_hostapi = 0;
	for (int i = pa_lib.hostapi_count - 1; i >= 0; i--)
		if (pa_lib.hostapis[i].defaultInputDevice != paNoDevice ||
		    pa_lib.hostapis[i].defaultOutputDevice != paNoDevice)
			pa_lib.default_hostapi = i;
	for (int i = 0; i < 2; i++)
		if (pa_lib.default_device[i] < 0 || pa_lib.default_device[i] >= pa_lib.device_count)
			pa_lib.default_device[i] = paNoDevice;
	r = 0;
done:
	sdc_device_list_free(devs, ndevs);
	sdc_hostapi_list_free(apis, napis);
	return r;
}

PaError Pa_Initialize(void)
{
	const char *excl = getenv("SDDAEMON_PORTAUDIO_EXCLUSIVE");
	PaError result = paNoError;
	int r;

	pthread_mutex_lock(&pa_lib.lock);
	if (pa_lib.init_count > 0) {
		pa_lib.init_count++;
		goto out;
	}
	r = sdc_connect(NULL, &pa_lib.client);
	if (r == 0)
		r = take_snapshot();
	if (r < 0) {
		char text[sizeof(host_error_text)];

		if (r == -ENOMEM)
			snprintf(text, sizeof(text), "out of memory");
		else
			snprintf(text, sizeof(text), "%s", sdc_last_error()->message);
		forget();
		pa_set_host_error(paInDevelopment, r, text);
		/*
		 * PortAudio's text for the code says little; most programs print
		 * only that, so the reason goes to standard error too, once.
		 */
		fprintf(stderr, "PortAudio on sddaemon: %s\n", text);
		result = r == -ENOMEM ? paInsufficientMemory : paUnanticipatedHostError;
		goto out;
	}
	pa_lib.exclusive = excl && *excl && strcmp(excl, "0") != 0;
	pa_lib.init_count = 1;
	atomic_store(&initialized, 1);
out:
	pthread_mutex_unlock(&pa_lib.lock);
	return result;
}

/* Closes every stream still open (stream.c's Pa_CloseStream() takes the lock itself). */
static void close_open_streams(void)
{
	for (;;) {
		struct pa_stream *ps;

		pthread_mutex_lock(&pa_lib.lock);
		ps = pa_lib.streams;
		pthread_mutex_unlock(&pa_lib.lock);
		if (!ps)
			break;
		Pa_CloseStream(ps);
	}
}

PaError Pa_Terminate(void)
{
	pthread_mutex_lock(&pa_lib.lock);
	if (pa_lib.init_count == 0) {
		pthread_mutex_unlock(&pa_lib.lock);
		return paNotInitialized;
	}
	if (pa_lib.init_count > 1) {
		pa_lib.init_count--;
		pthread_mutex_unlock(&pa_lib.lock);
		return paNoError;
	}
	pthread_mutex_unlock(&pa_lib.lock);
	/* Still initialised while the streams close, as in PortAudio. */
	close_open_streams();
	pthread_mutex_lock(&pa_lib.lock);
	forget();
	pa_lib.init_count = 0;
	atomic_store(&initialized, 0);
	pthread_mutex_unlock(&pa_lib.lock);
	return paNoError;
}

/* ---- Host APIs and devices ------------------------------------------------------- */

PaHostApiIndex Pa_GetHostApiCount(void)
{
	return pa_initialized() ? pa_lib.hostapi_count : paNotInitialized;
}

PaHostApiIndex Pa_GetDefaultHostApi(void)
{
	if (!pa_initialized())
		return paNotInitialized;
	return pa_lib.default_hostapi < pa_lib.hostapi_count ? pa_lib.default_hostapi
							     : paInternalError;
}

const PaHostApiInfo *Pa_GetHostApiInfo(PaHostApiIndex hostapi)
{
	if (!pa_initialized() || hostapi < 0 || hostapi >= pa_lib.hostapi_count)
		return NULL;
	return &pa_lib.hostapis[hostapi];
}

PaHostApiIndex Pa_HostApiTypeIdToHostApiIndex(PaHostApiTypeId type)
{
	if (!pa_initialized())
		return paNotInitialized;
	for (int i = 0; i < pa_lib.hostapi_count; i++)
		if (pa_lib.hostapis[i].type == type)
			return i;
	return paHostApiNotFound;
}

PaDeviceIndex Pa_HostApiDeviceIndexToDeviceIndex(PaHostApiIndex hostapi, int index)
{
	if (!pa_initialized())
		return paNotInitialized;
	if (hostapi < 0 || hostapi >= pa_lib.hostapi_count)
		return paInvalidHostApi;
	if (index < 0 || index >= pa_lib.hostapis[hostapi].deviceCount)
		return paInvalidDevice;
	return pa_lib.hostapi_devices[hostapi][index];
}

PaDeviceIndex Pa_GetDeviceCount(void)
{
	return pa_initialized() ? pa_lib.device_count : paNotInitialized;
}

/*
 * The default devices are the daemon's: its configured defaults, else its
 * PortAudio's (which are those of the default host API, as here).
 */
PaDeviceIndex Pa_GetDefaultInputDevice(void)
{
	return pa_initialized() ? pa_lib.default_device[0] : paNoDevice;
}

PaDeviceIndex Pa_GetDefaultOutputDevice(void)
{
	return pa_initialized() ? pa_lib.default_device[1] : paNoDevice;
}

const PaDeviceInfo *Pa_GetDeviceInfo(PaDeviceIndex device)
{
	if (!pa_initialized() || device < 0 || device >= pa_lib.device_count)
		return NULL;
	return &pa_lib.devices[device];
}

/* ---- Formats --------------------------------------------------------------------- */

sdc_dtype pa_dtype(PaSampleFormat format)
{
	switch (format & ~paNonInterleaved) {
	case paFloat32:
		return SDC_FLOAT32;
	case paInt32:
		return SDC_INT32;
	case paInt24:
		return SDC_INT24;
	case paInt16:
		return SDC_INT16;
	case paInt8:
		return SDC_INT8;
	case paUInt8:
		return SDC_UINT8;
	default:
		return SDC_DTYPE_DEFAULT;
	}
}

PaError Pa_GetSampleSize(PaSampleFormat format)
{
	sdc_dtype dt = pa_dtype(format);

	return dt ? (PaError)sdc_dtype_size(dt) : paSampleFormatNotSupported;
}

/* Checks one direction's parameters as the front end does; *ret_api gets its host API. */
static PaError validate_one(const PaStreamParameters *p, int *ret_api)
{
	const PaDeviceInfo *d;

	if (p->device == paUseHostApiSpecificDeviceSpecification)
		/* A device named in host-API terms (an ALSA PCM name) is not the daemon's to open. */
		return paInvalidDevice;
	if (p->device < 0 || p->device >= pa_lib.device_count)
		return paInvalidDevice;
	d = &pa_lib.devices[p->device];
	*ret_api = d->hostApi;
	if (p->channelCount <= 0)
		return paInvalidChannelCount;
	switch (p->sampleFormat & ~paNonInterleaved) {
	case paFloat32:
	case paInt16:
	case paInt32:
	case paInt24:
	case paInt8:
	case paUInt8:
	case paCustomFormat:
		break;
	default:
		return paSampleFormatNotSupported;
	}
	if (p->hostApiSpecificStreamInfo) {
		/* Every host-API stream info starts with size, host API type and version. */
		const struct {
			unsigned long size;
			PaHostApiTypeId type;
			unsigned long version;
		} *h = p->hostApiSpecificStreamInfo;

		if (h->type != pa_lib.hostapis[d->hostApi].type)
			return paIncompatibleHostApiSpecificStreamInfo;
	}
	return paNoError;
}

PaError pa_validate_parameters(const PaStreamParameters *in, const PaStreamParameters *out,
			       double rate, unsigned long frames_per_buffer, PaStreamFlags flags,
			       PaStreamCallback *callback)
{
	int api_in = -1, api_out = -1;
	PaError r;

	if (!in && !out)
		return paInvalidDevice;
	if (in && (r = validate_one(in, &api_in)) != paNoError)
		return r;
	if (out && (r = validate_one(out, &api_out)) != paNoError)
		return r;
	if (in && out && api_in != api_out)
		return paBadIODeviceCombination;
	if (rate < 1000.0 || rate > 384000.0)
		return paInvalidSampleRate;
	if ((flags & ~paPlatformSpecificFlags) &
	    ~(paClipOff | paDitherOff | paNeverDropInput | paPrimeOutputBuffersUsingStreamCallback))
		return paInvalidFlag;
	if ((flags & paNeverDropInput) &&
	    (!callback || !in || !out || frames_per_buffer != paFramesPerBufferUnspecified))
		return paInvalidFlag;
	return paNoError;
}

PaError Pa_IsFormatSupported(const PaStreamParameters *in, const PaStreamParameters *out,
			     double rate)
{
	PaError e;

	if (!pa_initialized())
		return paNotInitialized;
	e = pa_validate_parameters(in, out, rate, paFramesPerBufferUnspecified, paNoFlag, NULL);
	if (e != paNoError)
		return e;
	for (int i = 0; i < 2; i++) {
		const PaStreamParameters *p = i ? out : in;
		sdc_settings st;
		int r;

		if (!p)
			continue;
		/*
		 * PortAudio's ALSA and JACK host APIs answer for paCustomFormat
		 * as for a format of their own choosing (opening then fails):
		 * so do we, with float32.
		 */
		st = (sdc_settings){ SDC_DEVICE_INDEX(p->device), p->channelCount,
				     pa_dtype(p->sampleFormat) ? pa_dtype(p->sampleFormat)
							       : SDC_FLOAT32,
				     rate };
		r = i ? sdc_check_output_settings(pa_lib.client, &st, NULL)
		      : sdc_check_input_settings(pa_lib.client, &st, NULL);
		if (r < 0)
			return pa_error_from_sdc(r, pa_device_hostapi_type(p->device));
	}
	return paFormatIsSupported;
}

/* ---- Sleeping -------------------------------------------------------------------- */

void Pa_Sleep(long msec)
{
	struct timespec ts;

	if (msec <= 0)
		return;
	ts.tv_sec = msec / 1000;
	ts.tv_nsec = (msec % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}
