/*
 * spectrogram: a text-mode spectrogram of the live input, as sounddevice's
 * spectrogram.py (after code by Mauris Van Hauwe): one line per block of
 * --block-duration milliseconds, one coloured character per frequency of
 * the range, brighter for louder, with ANSI colours.
 *
 * The stream's callback, on libsdc's callback thread, only queues a copy
 * of each block; the main thread computes the magnitudes (a plain DFT of
 * the few bins that are shown, as np.fft.rfft(block, n=fftsize) would give
 * them: the block is cut or zero-padded to fftsize) and prints.  A block
 * of silence prints "no input".  On a terminal, Return (or q) quits and
 * +/- change the gain, as in the original.  Ctrl-C or -t SECONDS ends it.
 */
#include <getopt.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "blockqueue.h"
#include "interrupt.h"
#include "sdc.h"

static const char usage_line[] = " press <enter> to quit, +<enter> or -<enter> to change scaling ";

/* The gradient: colour pairs and characters from dark to bright, 35 steps. */
#define GRADIENT_MAX 64
static char gradient[GRADIENT_MAX][32];
static int gradient_len;

static void gradient_init(void)
{
	static const int colors[] = { 30, 34, 35, 91, 93, 97 };
	static const char chars[] = " :%#\t#%:";

	for (size_t i = 0; i + 1 < sizeof(colors) / sizeof(colors[0]); i++) {
		int bg = colors[i], fg = colors[i + 1];

		for (const char *ch = chars; *ch; ch++) {
			if (*ch == '\t') {
				int t = bg;

				bg = fg;
				fg = t;
			} else {
				snprintf(gradient[gradient_len++], sizeof(gradient[0]), "\x1b[%d;%dm%c", fg,
					 bg + 10, *ch);
			}
		}
	}
}

/* What the main thread and the callback share. */
struct spectro {
	struct blockqueue queue; /* of float32 blocks */
	unsigned long long limit; /* frames to show; 0: no limit */
	unsigned long long done;  /* frames queued (callback thread only) */
	atomic_uint cumulated_status;
	atomic_int finished;
};

/* Callback thread: queues a copy of the block. */
static int callback(const void *input, void *output, unsigned long frames,
		    const sdc_time_info *time, unsigned status, void *userdata)
{
	struct spectro *sp = userdata;
	unsigned long long n = frames;
	unsigned char *block;

	(void)output;
	(void)time;
	atomic_fetch_or(&sp->cumulated_status, status);
	if (sp->limit && sp->done + n > sp->limit)
		n = sp->limit - sp->done;
	block = blockqueue_reserve(&sp->queue, 0);
	if (block) {
		memcpy(block, input, (size_t)n * sizeof(float));
		blockqueue_commit(&sp->queue, (size_t)n * sizeof(float));
	}
	sp->done += n;
	return sp->limit && sp->done >= sp->limit ? SDC_COMPLETE : SDC_CONTINUE;
}

static void finished(void *userdata)
{
	struct spectro *sp = userdata;

	atomic_store(&sp->finished, 1);
}

/* The DFT of the shown bins. */
struct dft {
	int fftsize;
	int low_bin;
	int bins;	/* shown bins: columns, fewer when the range runs past fftsize / 2 */
	double *cosine; /* cos(2 pi i / fftsize) */
	double *sine;
};

static int dft_init(struct dft *d, int fftsize, int low_bin, int columns)
{
	d->fftsize = fftsize;
	d->low_bin = low_bin;
	d->bins = low_bin + columns <= fftsize / 2 + 1 ? columns : fftsize / 2 + 1 - low_bin;
	if (d->bins < 0)
		d->bins = 0;
	d->cosine = malloc(sizeof(double) * (size_t)fftsize);
	d->sine = malloc(sizeof(double) * (size_t)fftsize);
	if (!d->cosine || !d->sine)
		return -1;
	for (int i = 0; i < fftsize; i++) {
		d->cosine[i] = cos(2 * M_PI * i / fftsize);
		d->sine[i] = sin(2 * M_PI * i / fftsize);
	}
	return 0;
}

/* Prints one line: the magnitude of each shown bin, scaled by gain / fftsize, as a colour. */
static void show(const struct dft *d, const float *x, size_t n, double gain)
{
	int any = 0;

	for (size_t i = 0; i < n && !any; i++)
		any = x[i] != 0;
	if (!any) {
		printf("no input\n");
		fflush(stdout);
		return;
	}
	if (n > (size_t)d->fftsize)
		n = (size_t)d->fftsize;
	for (int b = 0; b < d->bins; b++) {
		unsigned long long k = (unsigned long long)(d->low_bin + b);
		double re = 0, im = 0, mag;
		int level;

		for (size_t i = 0; i < n; i++) {
			size_t at = (size_t)((k * i) % (unsigned long long)d->fftsize);

			re += x[i] * d->cosine[at];
			im -= x[i] * d->sine[at];
		}
		mag = sqrt(re * re + im * im) * gain / d->fftsize;
		level = (int)((mag < 0 ? 0 : mag > 1 ? 1 : mag) * (gradient_len - 1));
		fputs(gradient[level], stdout);
	}
	fputs("\x1b[0m\n", stdout);
	fflush(stdout);
}

static int terminal_columns(void)
{
	struct winsize ws;
	const char *env = getenv("COLUMNS");

	if (ioctl(1, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	if (env && atoi(env) > 0)
		return atoi(env);
	return 80;
}

/* Lists the devices, as python3 -m sounddevice does. */
static int list_devices(sdc_client *client)
{
	sdc_device_info *devs;
	int in = -1, out = -1;
	size_t n;

	if (sdc_query_devices(client, &devs, &n) < 0)
		return report_failure("spectrogram");
	if (sdc_default_device(client, &in, &out) < 0) {
		sdc_device_list_free(devs, n);
		return report_failure("spectrogram");
	}
	for (size_t i = 0; i < n; i++) {
		sdc_hostapi_info api = { 0 };
		int mark = (devs[i].index == in) | (devs[i].index == out) << 1;

		sdc_query_hostapi(client, devs[i].hostapi, &api);
		printf("%c %d %s, %s (%d in, %d out)\n", " ><*"[mark], devs[i].index, devs[i].name,
		       api.name ? api.name : "?", devs[i].max_input_channels,
		       devs[i].max_output_channels);
		sdc_hostapi_info_clear(&api);
	}
	sdc_device_list_free(devs, n);
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f, "Usage: spectrogram [OPTIONS]\n"
		   "Show a text-mode spectrogram using live input of sddaemon.\n\n"
		   "  -l, --list-devices             list audio devices and exit\n"
		   "  -b, --block-duration MS        block size (default: 50 milliseconds)\n"
		   "  -c, --columns N                width of spectrogram (default: the terminal's)\n"
		   "  -d, --device DEVICE            input device (numeric ID or substrings)\n"
		   "  -g, --gain FACTOR              initial gain factor (default: 10)\n"
		   "  -r, --range LOW HIGH           frequency range (default: 100 2000 Hz)\n"
		   "  -t, --duration SECONDS         stop after this much\n"
		   "  -h, --help                     show this help\n");
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "list-devices", no_argument, NULL, 'l' },
		{ "block-duration", required_argument, NULL, 'b' },
		{ "columns", required_argument, NULL, 'c' },
		{ "device", required_argument, NULL, 'd' },
		{ "gain", required_argument, NULL, 'g' },
		{ "range", required_argument, NULL, 'r' },
		{ "duration", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *device = NULL;
	double block_duration = 50, gain = 10, low = 100, high = 2000, duration = 0, samplerate;
	double delta_f;
	int columns = terminal_columns(), list = 0, opt, tty = isatty(0), blocksize;
	struct spectro sp = { 0 };
	sdc_stream_params p = { 0 };
	sdc_device_info info;
	struct dft dft = { 0 };
	sdc_client *client;
	sdc_stream *stream;
	unsigned flags;

	/* "+": no reordering, so that -r can take the argument after its own. */
	while ((opt = getopt_long(argc, argv, "+lb:c:d:g:r:t:h", options, NULL)) != -1) {
		switch (opt) {
		case 'l':
			list = 1;
			break;
		case 'b':
			block_duration = atof(optarg);
			break;
		case 'c':
			columns = atoi(optarg);
			break;
		case 'd':
			device = optarg;
			break;
		case 'g':
			gain = atof(optarg);
			break;
		case 'r':
			/* Two arguments, as argparse's nargs=2. */
			if (optind >= argc) {
				usage(stderr);
				return 2;
			}
			low = atof(optarg);
			high = atof(argv[optind++]);
			break;
		case 't':
			duration = atof(optarg);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc || block_duration <= 0 || columns < 2 || duration < 0) {
		usage(stderr);
		return 2;
	}
	if (high <= low) {
		fprintf(stderr, "spectrogram: HIGH must be greater than LOW\n");
		return 2;
	}
	catch_interrupts();
	if (sdc_connect(NULL, &client) < 0)
		return report_failure("spectrogram");
	if (list) {
		int r = list_devices(client);

		sdc_close(client);
		return r;
	}
	gradient_init();
	p.device[0] = sdc_device_parse(device);
	if (sdc_query_device(client, p.device[0], SDC_KIND_INPUT, &info) < 0) {
		sdc_close(client);
		return report_failure("spectrogram");
	}
	samplerate = info.default_samplerate;
	sdc_device_info_clear(&info);

	delta_f = (high - low) / (columns - 1);
	blocksize = (int)(samplerate * block_duration / 1000);
	if (blocksize < 1 || blocksize > 65536 ||
	    dft_init(&dft, (int)ceil(samplerate / delta_f), (int)floor(low / delta_f), columns) < 0 ||
	    blockqueue_init(&sp.queue, 64, (size_t)blocksize * sizeof(float)) < 0) {
		fprintf(stderr, "spectrogram: cannot make blocks of %d frames\n", blocksize);
		sdc_close(client);
		return 1;
	}
	sp.limit = (unsigned long long)(duration * samplerate + 0.5);
	p.kind = SDC_STREAM_INPUT;
	p.samplerate = samplerate;
	p.blocksize = blocksize;
	p.channels[0] = 1;
	p.dtype[0] = SDC_FLOAT32;
	p.callback = callback;
	p.finished_callback = finished;
	p.userdata = &sp;
	if (sdc_stream_open(client, &p, &stream) < 0) {
		int status = report_failure("spectrogram");

		sdc_close(client);
		return status;
	}
	if (sdc_stream_start(stream) < 0) {
		int status = report_failure("spectrogram");

		sdc_stream_close(stream);
		sdc_close(client);
		return status;
	}
	for (;;) {
		/*
		 * The last blocks are queued before the stream is over: look at "over"
		 * first.  Ctrl-C ends at once: the device keeps queueing blocks, and
		 * showing them all could take longer than they take to arrive.
		 */
		int over = atomic_load(&sp.finished);
		struct pollfd pfd = { .fd = 0, .events = POLLIN };
		const float *block;
		size_t len;

		if (interrupted)
			break;
		block = (const float *)(const void *)blockqueue_peek(&sp.queue, &len, over ? 0 : 50);
		if (block) {
			show(&dft, block, len / sizeof(float), gain);
			blockqueue_release(&sp.queue);
		} else if (over) {
			break;
		}
		if (tty && poll(&pfd, 1, 0) == 1) {
			char line[256] = "";
			int quit = !fgets(line, sizeof(line), stdin);

			line[strcspn(line, "\n")] = '\0';
			if (quit || !line[0] || strcmp(line, "q") == 0 || strcmp(line, "Q") == 0) {
				interrupted = 1;
				continue;
			}
			for (const char *ch = line; *ch; ch++) {
				if (*ch == '+') {
					gain *= 2;
				} else if (*ch == '-') {
					gain /= 2;
				} else {
					int pad = columns - (int)strlen(usage_line), left = pad / 2;

					printf("\x1b[31;40m");
					for (int i = 0; i < left; i++)
						putchar('#');
					printf("%s", usage_line);
					for (int i = left; i < pad; i++)
						putchar('#');
					printf("\x1b[0m\n");
					break;
				}
			}
		}
	}
	sdc_stream_stop(stream);
	sdc_stream_close(stream);
	sdc_close(client);
	blockqueue_destroy(&sp.queue);
	free(dft.cosine);
	free(dft.sine);
	flags = atomic_load(&sp.cumulated_status);
	if (flags) {
		char text[128];

		fprintf(stderr, "spectrogram: %s\n", sdc_flags_text(flags, text, sizeof(text)));
	}
	return 0;
}
