/* Channel routes and ring sizes of client streams; see routes.h.  Loop thread. */
#include "routes.h"

#include "sample.h"
#include "stream.h"

int routes_output(struct stream_dir *d, const int *map, int nmap, int max_out, bool shared,
		  struct proto_error *err)
{
	int implicit[STREAM_MAX_CHANNELS];
	bool explicit_map = nmap > 0;
	int top = 0;

	if (!explicit_map) {
		for (int i = 0; i < d->channels; i++)
			implicit[i] = i + 1;
		map = implicit;
		nmap = d->channels;
	}
	if (d->channels != 1 && d->channels != nmap)
		return proto_error_set(err, PROTO_E_INVALID_PARAM,
				       "number of output channels (%d) != size of output mapping (%d)",
				       d->channels, nmap);
	d->nroutes = 0;
	for (int j = 0; j < nmap; j++) {
		d->routes[d->nroutes++] = (struct stream_route){
			.src = (uint16_t)(d->channels == 1 ? 0 : j),
			.dst = (uint16_t)(map[j] - 1),
		};
		if (map[j] > top)
			top = map[j];
	}
	d->stream_channels = top;
	/* Some host APIs duplicate mono to two channels; mapping=[1] asks for silence on the second. */
	if (explicit_map && nmap == 1 && map[0] == 1 && max_out >= 2)
		d->stream_channels = 2;
	/* Shared streams do that duplication themselves, as ALSA's plug device would. */
	if (shared && !explicit_map && d->channels == 1 && max_out >= 2)
		d->routes[d->nroutes++] = (struct stream_route){ .src = 0, .dst = 1 };
	return 0;
}

void routes_input(struct stream_dir *d, const int *map, int nmap)
{
	int top = 0;

	if (nmap > 0)
		d->channels = nmap;
	d->nroutes = 0;
	for (int j = 0; j < d->channels; j++) {
		int ch = nmap > 0 ? map[j] : j + 1;

		d->routes[d->nroutes++] = (struct stream_route){ .src = (uint16_t)(ch - 1),
								 .dst = (uint16_t)j };
		if (ch > top)
			top = ch;
	}
	d->stream_channels = top;
}

/* Rounds x up to a power of two within the ring limits. */
static uint32_t ring_frames(uint64_t x)
{
	uint32_t p = ROUTES_RING_MIN_FRAMES;

	while (p < x && p < ROUTES_RING_MAX_FRAMES)
		p <<= 1;
	return p;
}

void routes_size_ring(struct stream_dir *d, int64_t buffer_frames, int64_t frames, double rate,
		      bool whole)
{
	uint64_t want;

	d->frame_bytes = (uint32_t)(sample_format_size(d->dtype) * (size_t)d->channels);
	if (buffer_frames > 0)
		want = (uint64_t)buffer_frames;
	else if (whole && frames > 0 && (uint64_t)frames * d->frame_bytes <= ROUTES_WHOLE_MAX_BYTES)
		want = (uint64_t)frames;
	else
		want = (uint64_t)(rate * ROUTES_RING_DEFAULT_SECONDS);
	d->capacity = ring_frames(want);
	d->limit = -1;
}
