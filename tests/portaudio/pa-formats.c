/*
 * pa-formats [--quick] DEVICE...: Pa_IsFormatSupported() over a matrix —
 * for the devices named on the command line, each direction, every sample
 * format (and paNonInterleaved, and a custom format), channel counts and
 * rates — one result a line.  Also the errors of bad parameters, which
 * PortAudio's front end finds before asking any host API.  --quick checks
 * three formats, two channel counts and two rates (for sanitizer builds,
 * where each check takes a second).
 */
#include "pa-test.h"

static void check(const char *what, const PaStreamParameters *in, const PaStreamParameters *out,
		  double rate)
{
	PaError e = Pa_IsFormatSupported(in, out, rate);

	printf("%s: %d (%s)\n", what, e, Pa_GetErrorText(e));
}

int main(int argc, char **argv)
{
	static const PaSampleFormat formats[] = { paFloat32, paInt32, paInt24, paInt16, paInt8,
						  paUInt8, paInt16 | paNonInterleaved,
						  paCustomFormat, 0x40 };
	static const int channels[] = { 1, 2, 3, 128, 129 };
	static const double rates[] = { 8000, 44100, 48000, 96000, 192000, 999, 384001 };
	static const PaSampleFormat quick_formats[] = { paFloat32, paInt16 | paNonInterleaved,
							paCustomFormat };
	static const int quick_channels[] = { 2, 129 };
	static const double quick_rates[] = { 48000, 999 };
	const PaSampleFormat *fs = formats;
	const int *cs = channels;
	const double *rs = rates;
	size_t nf = sizeof(formats) / sizeof(formats[0]), nc = sizeof(channels) / sizeof(channels[0]);
	size_t nr = sizeof(rates) / sizeof(rates[0]);
	char what[256];
	int first = 1;

	if (argc > 1 && strcmp(argv[1], "--quick") == 0) {
		fs = quick_formats;
		cs = quick_channels;
		rs = quick_rates;
		nf = nc = nr = 2;
		nf = 3;
		first = 2;
	}
	PA_CHECK(Pa_Initialize());
	for (int a = first; a < argc; a++) {
		PaDeviceIndex dev = pt_device(argv[a]);

		for (int dir = 0; dir < 2; dir++) {
			const PaDeviceInfo *d = Pa_GetDeviceInfo(dev);
			int max = dir ? d->maxOutputChannels : d->maxInputChannels;

			for (size_t f = 0; f < nf; f++)
				for (size_t c = 0; c < nc; c++)
					for (size_t r = 0; r < nr; r++) {
						PaStreamParameters p = { dev, cs[c], fs[f], 0, NULL };

						/* 128 is these devices' maximum; 129 one more. */
						if (cs[c] > 3 && cs[c] != max && cs[c] != max + 1)
							continue;
						snprintf(what, sizeof(what),
							 "%s %s format %#lx, %d channels, %g Hz",
							 argv[a], dir ? "out" : "in", fs[f], cs[c],
							 rs[r]);
						check(what, dir ? NULL : &p, dir ? &p : NULL, rs[r]);
					}
		}
		{
			PaStreamParameters in = { dev, 2, paInt16, 0, NULL }, out = in;

			snprintf(what, sizeof(what), "%s duplex int16 stereo 48000", argv[a]);
			check(what, &in, &out, 48000);
		}
	}
	{
		PaStreamParameters p = { 0, 2, paFloat32, 0, NULL };

		check("no parameters", NULL, NULL, 48000);
		p.device = Pa_GetDeviceCount();
		check("device out of range", NULL, &p, 48000);
		p.device = paNoDevice;
		check("paNoDevice", NULL, &p, 48000);
		p.device = paUseHostApiSpecificDeviceSpecification;
		check("host-API-specific device without its info", NULL, &p, 48000);
		p.device = 0;
		p.channelCount = 0;
		check("no channels", NULL, &p, 48000);
		p.channelCount = -1;
		check("negative channels", &p, NULL, 48000);
	}
	PA_CHECK(Pa_Terminate());
	check("after terminate", NULL, NULL, 48000);
	return 0;
}
