/*
 * PortAudio's host-API extensions (pa_linux_alsa.h, pa_jack.h,
 * pa_unix_oss.h), for the programs that call them.  The daemon owns the
 * devices, so what they tune (ALSA periods, realtime scheduling, the JACK
 * client name) is the daemon's business: they are harmless no-ops here,
 * and what they report is answered from the stream's device.  The host-API
 * initialisers PortAudio's library also exports are refused.  Any thread.
 */
#include <stdlib.h>
#include <string.h>

#include "pa-private.h"

/* Host APIs are the daemon's: none is initialised in this process. */
PaError PaAlsa_Initialize(void *hostapi, PaHostApiIndex index)
{
	return paInternalError;
}

PaError PaJack_Initialize(void *hostapi, PaHostApiIndex index)
{
	return paInternalError;
}

PaError PaOSS_Initialize(void *hostapi, PaHostApiIndex index)
{
	return paInternalError;
}

void PaAlsa_InitializeStreamInfo(PaAlsaStreamInfo *info)
{
	if (!info)
		return;
	info->size = sizeof(*info);
	info->hostApiType = paALSA;
	info->version = 1;
	info->deviceString = NULL;
}

void PaAlsa_EnableRealtimeScheduling(PaStream *s, int enable)
{
}

/*
 * The ALSA card of a stream's device: PortAudio names hardware devices
 * "… (hw:CARD,DEVICE)"; other PCMs (plugins) have no card (-1).
 */
static PaError stream_card(PaStream *s, int which, int *card)
{
	struct pa_stream *ps;
	const char *hw;
	PaError e;

	if (!(ps = pa_stream_get(s, &e)))
		return e;
	if (ps->hostapi_type != paALSA)
		return paIncompatibleStreamHostApi;
	if (ps->device[which] == paNoDevice)
		return paBadIODeviceCombination;
	if (!card)
		return paNoError;
	hw = strstr(Pa_GetDeviceInfo(ps->device[which])->name, "(hw:");
	*card = hw ? atoi(hw + 4) : -1;
	return paNoError;
}

PaError PaAlsa_GetStreamInputCard(PaStream *s, int *card)
{
	return stream_card(s, 0, card);
}

PaError PaAlsa_GetStreamOutputCard(PaStream *s, int *card)
{
	return stream_card(s, 1, card);
}

PaError PaAlsa_SetNumPeriods(int periods)
{
	return paNoError;
}

PaError PaAlsa_SetRetriesBusy(int retries)
{
	return paNoError;
}

void PaAlsa_SetLibraryPathName(const char *path)
{
}

/* The name is kept and reported back; the daemon's JACK client is its own. */
static char jack_client_name[64] = "PortAudio";

PaError PaJack_SetClientName(const char *name)
{
	if (!name || strlen(name) >= sizeof(jack_client_name))
		return paInvalidFlag;
	strcpy(jack_client_name, name);
	return paNoError;
}

PaError PaJack_GetClientName(const char **name)
{
	if (!pa_initialized())
		return paNotInitialized;
	if (name)
		*name = jack_client_name;
	return paNoError;
}

/* No stream is on OSS here: PortAudio answers NULL for those that are not. */
const char *PaOSS_GetStreamInputDevice(PaStream *s)
{
	return NULL;
}

const char *PaOSS_GetStreamOutputDevice(PaStream *s)
{
	return NULL;
}
