/*
 * pa-list: prints what PortAudio says of the machine — host APIs, devices,
 * the defaults and how host-API device indices map — one fact a line, so
 * that two runs can be compared line by line.  The version is left out:
 * it is the one thing that differs by design.
 */
#include "pa-test.h"

int main(void)
{
	PA_CHECK(Pa_Initialize());
	printf("host APIs %d, default %d\n", Pa_GetHostApiCount(), Pa_GetDefaultHostApi());
	for (PaHostApiIndex i = 0; i < Pa_GetHostApiCount(); i++) {
		const PaHostApiInfo *h = Pa_GetHostApiInfo(i);

		printf("host API %d: version %d, type %d, '%s', %d devices, default input %d, "
		       "default output %d, by type %d\n",
		       i, h->structVersion, h->type, h->name, h->deviceCount, h->defaultInputDevice,
		       h->defaultOutputDevice, Pa_HostApiTypeIdToHostApiIndex(h->type));
		for (int j = 0; j < h->deviceCount; j++)
			printf("  device %d of it is %d\n", j, Pa_HostApiDeviceIndexToDeviceIndex(i, j));
		printf("  device %d of it: %d\n", h->deviceCount,
		       Pa_HostApiDeviceIndexToDeviceIndex(i, h->deviceCount));
	}
	printf("host API %d: %s\n", Pa_GetHostApiCount(),
	       Pa_GetHostApiInfo(Pa_GetHostApiCount()) ? "exists" : "none");
	printf("type 13 (WASAPI) is %d\n", Pa_HostApiTypeIdToHostApiIndex(paWASAPI));
	printf("devices %d, default input %d, default output %d\n", Pa_GetDeviceCount(),
	       Pa_GetDefaultInputDevice(), Pa_GetDefaultOutputDevice());
	for (PaDeviceIndex i = 0; i < Pa_GetDeviceCount(); i++) {
		const PaDeviceInfo *d = Pa_GetDeviceInfo(i);

		printf("device %d: version %d, '%s', host API %d, %d in, %d out, latency %.9g %.9g "
		       "%.9g %.9g, %.9g Hz\n",
		       i, d->structVersion, d->name, d->hostApi, d->maxInputChannels,
		       d->maxOutputChannels, d->defaultLowInputLatency, d->defaultLowOutputLatency,
		       d->defaultHighInputLatency, d->defaultHighOutputLatency, d->defaultSampleRate);
	}
	printf("device %d: %s\n", Pa_GetDeviceCount(),
	       Pa_GetDeviceInfo(Pa_GetDeviceCount()) ? "exists" : "none");
	printf("sample sizes %d %d %d %d %d %d %d %d\n", Pa_GetSampleSize(paFloat32),
	       Pa_GetSampleSize(paInt32), Pa_GetSampleSize(paInt24), Pa_GetSampleSize(paInt16),
	       Pa_GetSampleSize(paInt8), Pa_GetSampleSize(paUInt8),
	       Pa_GetSampleSize(paInt16 | paNonInterleaved), Pa_GetSampleSize(paCustomFormat));
	for (PaError e = paNotInitialized - 1; e <= paBadBufferPtr + 1; e++)
		printf("error %d: %s\n", e, Pa_GetErrorText(e));
	printf("error 0: %s; error 1: %s\n", Pa_GetErrorText(0), Pa_GetErrorText(1));
	PA_CHECK(Pa_Initialize());
	PA_CHECK(Pa_Terminate());
	printf("still initialised after a nested terminate: %d devices\n", Pa_GetDeviceCount());
	PA_CHECK(Pa_Terminate());
	printf("after the last terminate: %d devices, %d host APIs, terminate again %d\n",
	       Pa_GetDeviceCount(), Pa_GetHostApiCount(), Pa_Terminate());
	return 0;
}
