/*
 * sdctl's options: one catalogue of every option (name, argument, general
 * help), each command taking the ones its table entry lists; parsing them
 * into struct sdctl_opts with the command's own checks; the help of a
 * command; "did you mean"; and the helpers that turn the audio options
 * into libsdc's stream options.  Main thread.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audiofile.h"
#include "sdctl.h"

/* An option as the catalogue knows it. */
struct catalogue_entry {
	int key;	  /* the short letter, or an SDCTL_OPT_* key */
	const char *name; /* the long name */
	const char *arg;  /* the argument's name in help, NULL for a flag */
	const char *help;
};

/* The options every command takes, after its own. */
static const struct sdctl_cmd_option common_options[] = {
	{ 'j', NULL }, { 'q', NULL }, { 's', NULL }, { 'h', NULL }, { 0, NULL },
};

static const struct catalogue_entry catalogue[] = {
	{ 'd', "device", "DEVICE", "the device: an id or a query string (see 'sdctl devices')" },
	{ SDCTL_OPT_INPUT_DEVICE, "input-device", "DEVICE", "the input device" },
	{ SDCTL_OPT_OUTPUT_DEVICE, "output-device", "DEVICE", "the output device" },
	{ 'r', "rate", "RATE", "sample rate in Hz" },
	{ 'c', "channels", "N", "channel count" },
	{ 'f', "format", "FORMAT",
	  "sample format: float32, float64, int32, int24, int16, int8 or uint8" },
	{ 'm', "mapping", "MAP", "channel numbers from 1, comma-separated (1,2)" },
	{ SDCTL_OPT_INPUT_MAPPING, "input-mapping", "MAP", "the input channels to record (1,2)" },
	{ SDCTL_OPT_LATENCY, "latency", "L", "suggested latency: low, high or seconds" },
	{ SDCTL_OPT_BLOCKSIZE, "blocksize", "N", "frames per period" },
	{ SDCTL_OPT_EXCLUSIVE, "exclusive", NULL,
	  "a device stream of its own: bit-exact, not shared meanwhile" },
	{ 't', "time", "SECONDS", "stop after this many seconds of frames" },
	{ SDCTL_OPT_RAW, "raw", NULL, "headerless samples (needs -r, -c and -f to read)" },
	{ 'T', "type", "TYPE",
	  "the file type where the name has none: wav, flac, ogg, au, raw, ..." },
	{ SDCTL_OPT_LOOP, "loop", NULL, "play the sound again and again until Ctrl-C" },
	{ SDCTL_OPT_DETACH, "detach", NULL, "hand the sound over and return at once" },
	{ SDCTL_OPT_KIND, "kind", "input|output", "only a device with channels of this kind" },
	{ SDCTL_OPT_INPUT, "input", NULL, "check input settings" },
	{ SDCTL_OPT_OUTPUT, "output", NULL, "check output settings (the default)" },
	{ SDCTL_OPT_INTERVAL, "interval", "SECONDS", "time between refreshes" },
	{ SDCTL_OPT_ONCE, "once", NULL, "print one view and exit" },
	{ SDCTL_OPT_MUTE, "mute", NULL, "mute (the volume is kept for --unmute)" },
	{ SDCTL_OPT_UNMUTE, "unmute", NULL, "unmute" },
	{ SDCTL_OPT_WATCH, "watch", NULL, "then print each change as devices come and go" },
	{ 'v', "verbose", NULL, "say what is set for the program" },
	{ 'L', "library-dir", "DIR", "where sddaemon's libportaudio.so.2 is" },
	{ 'j', "json", NULL, "print the results as JSON (see sdctl(1))" },
	{ 'q', "quiet", NULL, "no live status line and no notes" },
	{ 's', "socket", "PATH", "the daemon's socket" },
	{ 'h', "help", NULL, "show this help" },
};

#define CATALOGUE_SIZE (sizeof(catalogue) / sizeof(catalogue[0]))

static const struct catalogue_entry *entry_of(int key)
{
	for (size_t i = 0; i < CATALOGUE_SIZE; i++)
		if (catalogue[i].key == key)
			return &catalogue[i];
	return NULL;
}

/* The options of cmd, its own then the common ones, in out (at most max); returns the count. */
static size_t command_options(const struct sdctl_command *cmd, const struct sdctl_cmd_option **out,
			      size_t max)
{
	size_t n = 0;

	for (const struct sdctl_cmd_option *o = cmd->options; o && o->key && n < max; o++)
		out[n++] = o;
	for (const struct sdctl_cmd_option *o = common_options; o->key && n < max; o++)
		out[n++] = o;
	return n;
}

/* "-d, --device DEVICE" or "    --exclusive" into buf. */
static void option_label(const struct catalogue_entry *e, char *buf, size_t size)
{
	char shortname[8] = "    ";

	if (e->key < 256)
		snprintf(shortname, sizeof(shortname), "-%c, ", e->key);
	snprintf(buf, size, "%s--%s%s%s", shortname, e->name, e->arg ? " " : "",
		 e->arg ? e->arg : "");
}

/* Prints "  LABEL  help" with the help wrapped at 79 columns under its first line. */
static void print_wrapped(FILE *f, const char *label, const char *help)
{
	enum { INDENT = 31, WIDTH = 79 };
	const char *p = help;
	int col = fprintf(f, "  %-28s", label);
	bool first = true;

	while (*p) {
		int word = (int)strcspn(p, " ");

		if (!first && col + 1 + word > WIDTH) {
			fprintf(f, "\n%*s", INDENT - 1, "");
			col = INDENT - 1;
		}
		col += fprintf(f, " %.*s", word, p);
		first = false;
		p += word;
		while (*p == ' ')
			p++;
	}
	fputc('\n', f);
}

void sdctl_command_help(const struct sdctl_command *cmd, FILE *f)
{
	const struct sdctl_cmd_option *opts[64];
	size_t n = command_options(cmd, opts, 64);

	fprintf(f, "Usage: sdctl %s %s\n%s\n\nOptions:\n", cmd->name, cmd->operands, cmd->help);
	for (size_t i = 0; i < n; i++) {
		const struct catalogue_entry *e = entry_of(opts[i]->key);
		char label[64];

		if (!e)
			continue;
		option_label(e, label, sizeof(label));
		print_wrapped(f, label, opts[i]->help ? opts[i]->help : e->help);
	}
}

int sdctl_parse_int(const char *text, int min, int max, int *ret)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(text, &end, 10);
	if (errno || end == text || *end || v < min || v > max)
		return -EINVAL;
	*ret = (int)v;
	return 0;
}

int sdctl_parse_double(const char *text, double min, double max, double *ret)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(text, &end);
	if (errno || end == text || *end || !isfinite(v) || v < min || v > max)
		return -EINVAL;
	*ret = v;
	return 0;
}

/* The edit distance between a and b (insertions, deletions, substitutions, transpositions). */
static size_t distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), d[33][33];

	if (la > 32 || lb > 32)
		return 99;
	for (size_t i = 0; i <= la; i++)
		d[i][0] = i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = j;
	for (size_t i = 1; i <= la; i++)
		for (size_t j = 1; j <= lb; j++) {
			size_t cost = a[i - 1] != b[j - 1], best = d[i - 1][j - 1] + cost;

			if (d[i - 1][j] + 1 < best)
				best = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < best)
				best = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    d[i - 2][j - 2] + 1 < best)
				best = d[i - 2][j - 2] + 1;
			d[i][j] = best;
		}
	return d[la][lb];
}

const char *sdctl_closest(const char *word, const char *const *names, size_t count)
{
	const char *best = NULL;
	size_t best_d = 99, len = strlen(word);

	for (size_t i = 0; i < count; i++) {
		size_t d = distance(word, names[i]);

		/* A prefix of a name is as good as one edit. */
		if (len >= 2 && strncmp(word, names[i], len) == 0)
			d = 1;
		if (d < best_d) {
			best_d = d;
			best = names[i];
		}
	}
	/* Up to two edits, and fewer than half the word. */
	return best && best_d <= 2 && best_d * 2 <= (len > 2 ? len : 2) ? best : NULL;
}

/* Parses "1,2,5" into map; returns the count or -EINVAL. */
static int parse_mapping(const char *arg, int *map)
{
	const char *p = arg;
	int n = 0;

	while (*p) {
		char *end;
		long v;

		errno = 0;
		v = strtol(p, &end, 10);
		if (errno || end == p || v < 1 || v > 1024 || n >= 64 || (*end && *end != ','))
			return -EINVAL;
		map[n++] = (int)v;
		p = *end ? end + 1 : end;
		if (*end && !*p)
			return -EINVAL;
	}
	return n ? n : -EINVAL;
}

/* Stores the value of one option; returns 0 or exit status 2 after a message. */
static int take_option(struct sdctl *ctl, int key, const char *arg)
{
	struct sdctl_opts *o = &ctl->o;
	int n;

	switch (key) {
	case 'd':
		o->device = arg;
		return 0;
	case SDCTL_OPT_INPUT_DEVICE:
		o->input_device = arg;
		return 0;
	case SDCTL_OPT_OUTPUT_DEVICE:
		o->output_device = arg;
		return 0;
	case 'r':
		if (sdctl_parse_double(arg, 1, 10000000, &o->rate) < 0)
			return sdctl_usage_error(ctl, "invalid rate '%s' (Hz)", arg);
		return 0;
	case 'c':
		if (sdctl_parse_int(arg, 1, 1024, &o->channels) < 0)
			return sdctl_usage_error(ctl, "invalid channel count '%s'", arg);
		return 0;
	case 'f':
		o->dtype = sdc_dtype_from_name(arg);
		if (o->dtype == SDC_DTYPE_DEFAULT)
			return sdctl_usage_error(ctl,
						 "unknown format '%s' (float32, float64, int32, "
						 "int24, int16, int8 or uint8)",
						 arg);
		return 0;
	case 'm':
	case SDCTL_OPT_INPUT_MAPPING:
		n = parse_mapping(arg, key == 'm' ? o->mapping : o->input_mapping);
		if (n < 0)
			return sdctl_usage_error(
				ctl, "invalid mapping '%s' (channel numbers from 1, e.g. 1,2)",
				arg);
		*(key == 'm' ? &o->mapping_count : &o->input_mapping_count) = n;
		return 0;
	case SDCTL_OPT_LATENCY:
		if (strcmp(arg, "low") == 0)
			o->latency = SDC_LATENCY_LOW;
		else if (strcmp(arg, "high") == 0)
			o->latency = SDC_LATENCY_HIGH;
		else if (sdctl_parse_double(arg, 0.0001, 10, &o->latency) < 0)
			return sdctl_usage_error(
				ctl, "--latency takes low, high or seconds, not '%s'", arg);
		return 0;
	case SDCTL_OPT_BLOCKSIZE:
		if (sdctl_parse_int(arg, 1, 65536, &o->blocksize) < 0)
			return sdctl_usage_error(ctl, "invalid blocksize '%s'", arg);
		return 0;
	case SDCTL_OPT_EXCLUSIVE:
		o->exclusive = true;
		return 0;
	case 't':
		if (sdctl_parse_double(arg, 0.001, 1e7, &o->seconds) < 0)
			return sdctl_usage_error(ctl, "invalid time '%s' (seconds)", arg);
		return 0;
	case SDCTL_OPT_RAW:
		o->raw = true;
		return 0;
	case 'T':
		o->type = arg;
		return 0;
	case SDCTL_OPT_LOOP:
		o->loop = true;
		return 0;
	case SDCTL_OPT_DETACH:
		o->detach = true;
		return 0;
	case SDCTL_OPT_KIND:
		if (strcmp(arg, "input") == 0)
			o->kind = SDC_KIND_INPUT;
		else if (strcmp(arg, "output") == 0)
			o->kind = SDC_KIND_OUTPUT;
		else
			return sdctl_usage_error(ctl, "--kind must be input or output, not '%s'",
						 arg);
		return 0;
	case SDCTL_OPT_INPUT:
	case SDCTL_OPT_OUTPUT:
		o->input = key == SDCTL_OPT_INPUT;
		return 0;
	case SDCTL_OPT_INTERVAL:
		if (sdctl_parse_double(arg, 0.001, 3600, &o->interval) < 0)
			return sdctl_usage_error(ctl, "invalid interval '%s' (seconds)", arg);
		return 0;
	case SDCTL_OPT_ONCE:
		o->once = true;
		return 0;
	case SDCTL_OPT_MUTE:
	case SDCTL_OPT_UNMUTE:
		o->mute = key == SDCTL_OPT_MUTE ? SDC_YES : SDC_NO;
		return 0;
	case SDCTL_OPT_WATCH:
		o->watch = true;
		return 0;
	case 'v':
		o->verbose = true;
		return 0;
	case 'L':
		o->library_dir = arg;
		return 0;
	case 'j':
		ctl->json = true;
		return 0;
	case 'q':
		ctl->quiet = true;
		return 0;
	case 's':
		ctl->socket_path = arg;
		return 0;
	default:
		return sdctl_usage_error(ctl, "internal error: option %d has no handler", key);
	}
}

/* The commands other than cmd that take the option with key, as "rec, wire and meter". */
static void takers(const struct sdctl_command *cmd, int key, char *buf, size_t size)
{
	const char *names[32];
	size_t n = 0, used = 0;

	buf[0] = '\0';
	for (const struct sdctl_command *c = sdctl_commands; c->name && n < 32; c++)
		for (const struct sdctl_cmd_option *o = c->options; c != cmd && o && o->key; o++)
			if (o->key == key) {
				names[n++] = c->name;
				break;
			}
	for (size_t i = 0; i < n && used < size; i++)
		used += (size_t)snprintf(buf + used, size - used, "%s%s",
					 i == 0	      ? ""
					 : i + 1 == n ? " and "
						      : ", ",
					 names[i]);
}

/* Reports an option cmd does not take: a misspelling, or another command's option. */
static int unknown_option(struct sdctl *ctl, const char *arg, int short_key)
{
	const struct sdctl_cmd_option *opts[64];
	size_t n = command_options(ctl->cmd, opts, 64), count = 0;
	const char *names[64], *near;
	char label[64], who[256];
	const struct catalogue_entry *e = NULL;

	/* What the user typed: "--name[=value]" or the short letter. */
	if (short_key) {
		snprintf(label, sizeof(label), "-%c", short_key);
		e = entry_of(short_key);
	} else {
		snprintf(label, sizeof(label), "%.*s", (int)strcspn(arg, "="), arg);
		for (size_t i = 0; i < CATALOGUE_SIZE && strncmp(label, "--", 2) == 0; i++)
			if (strcmp(catalogue[i].name, label + 2) == 0)
				e = &catalogue[i];
	}
	if (e) {
		takers(ctl->cmd, e->key, who, sizeof(who));
		if (who[0])
			return sdctl_usage_error(ctl, "%s is not an option of %s (%s take%s it)",
						 label, ctl->cmd->name, who,
						 strchr(who, ' ') ? "" : "s");
	}
	if (!short_key && strncmp(label, "--", 2) == 0) {
		for (size_t i = 0; i < n; i++)
			if (entry_of(opts[i]->key))
				names[count++] = entry_of(opts[i]->key)->name;
		near = sdctl_closest(label + 2, names, count);
		if (near)
			return sdctl_usage_error(ctl, "unknown option '%s'; did you mean '--%s'?",
						 label, near);
	}
	return sdctl_usage_error(ctl, "unknown option '%s'", label);
}

int sdctl_parse_options(struct sdctl *ctl, int argc, char **argv)
{
	const struct sdctl_cmd_option *opts[64];
	size_t n = command_options(ctl->cmd, opts, 64), ns = 0, nl = 0;
	struct option longopts[65];
	char shortopts[160];
	int key;

	/* '+': options end at the first operand; ':': a missing argument is told apart. */
	if (ctl->cmd->options_first)
		shortopts[ns++] = '+';
	shortopts[ns++] = ':';
	for (size_t i = 0; i < n; i++) {
		const struct catalogue_entry *e = entry_of(opts[i]->key);

		if (!e)
			continue;
		longopts[nl++] = (struct option){ e->name, e->arg ? required_argument : no_argument,
						  NULL, e->key };
		if (e->key < 256) {
			shortopts[ns++] = (char)e->key;
			if (e->arg)
				shortopts[ns++] = ':';
		}
	}
	shortopts[ns] = '\0';
	longopts[nl] = (struct option){ 0 };
	opterr = 0;
	optind = 0;
	while ((key = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		int r;

		if (key == 'h') {
			sdctl_command_help(ctl->cmd, stdout);
			return -1;
		}
		if (key == '?')
			return unknown_option(ctl, argv[optind - 1], optopt), -2;
		if (key == ':') {
			const struct catalogue_entry *e = entry_of(optopt);

			if (e)
				sdctl_usage_error(ctl, "--%s needs a value (%s)", e->name, e->arg);
			else
				sdctl_usage_error(ctl, "%s needs a value", argv[optind - 1]);
			return -2;
		}
		r = take_option(ctl, key, optarg);
		if (r)
			return -2;
	}
	return optind;
}

sdc_device sdctl_audio_device(const struct sdctl_opts *o, sdc_kind kind, char *buf, size_t size)
{
	const char *explicit_dev = kind == SDC_KIND_INPUT ? o->input_device : o->output_device;
	const char *comma;

	if (explicit_dev)
		return sdc_device_parse(explicit_dev);
	if (!o->device)
		return SDC_DEVICE_DEFAULT;
	/* "IN,OUT" names a pair; a name with a comma needs --input-device/--output-device. */
	comma = strchr(o->device, ',');
	if (!comma || comma == o->device || !comma[1])
		return sdc_device_parse(o->device);
	if (kind == SDC_KIND_INPUT)
		snprintf(buf, size, "%.*s", (int)(comma - o->device), o->device);
	else
		snprintf(buf, size, "%s", comma + 1);
	return sdc_device_parse(buf);
}

void sdctl_stream_options(const struct sdctl_opts *o, sdc_stream_options *so, char *in_buf,
			  char *out_buf, size_t size)
{
	memset(so, 0, sizeof(*so));
	so->input_device = sdctl_audio_device(o, SDC_KIND_INPUT, in_buf, size);
	so->output_device = sdctl_audio_device(o, SDC_KIND_OUTPUT, out_buf, size);
	so->samplerate = o->rate;
	so->input_latency = so->output_latency = o->latency;
	so->blocksize = o->blocksize;
	so->exclusive = o->exclusive ? SDC_YES : 0;
}

volatile int sdctl_interrupted;

static void on_signal(int sig)
{
	(void)sig;
	sdctl_interrupted = 1;
}

void sdctl_catch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	/* No SA_RESTART: a wait in progress returns EINTR and sdctl stops at once. */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

int sdctl_check_file_rate(struct sdctl *ctl, const struct sdctl_opts *o, const char *path,
			  const struct audiofile_spec *spec, int file_rate)
{
	if (!o->rate || audiofile_is_raw(path, spec) || o->rate == file_rate)
		return 0;
	return sdctl_usage_error(ctl,
				 "-r %g disagrees with %s, which is %d Hz: leave -r out (shared streams are resampled to the device's rate)",
				 o->rate, path, file_rate);
}
