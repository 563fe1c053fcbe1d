/* Level metering for sdctl play, rec, playrec and meter; see meter.h.  Main thread. */
#include "meter.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

void meter_init(struct meter *m, int channels)
{
	memset(m, 0, sizeof(*m));
	m->channels = channels < METER_MAX_CHANNELS ? channels : METER_MAX_CHANNELS;
	for (int c = 0; c < METER_MAX_CHANNELS; c++)
		m->source[c] = c;
}

void meter_select(struct meter *m, const int *channels, int count)
{
	meter_init(m, count);
	for (int c = 0; c < m->channels; c++)
		m->source[c] = channels[c] - 1;
}

void meter_reset(struct meter *m)
{
	memset(m->peak, 0, sizeof(m->peak));
	memset(m->sumsq, 0, sizeof(m->sumsq));
	memset(m->clipped, 0, sizeof(m->clipped));
	m->count = 0;
}

/* Reads sample i of a buffer of dtype as a float in [-1, 1]. */
static double sample_at(const void *buf, size_t i, sdc_dtype dtype)
{
	const unsigned char *b = buf;

	switch (dtype) {
	case SDC_FLOAT32:
		return ((const float *)buf)[i];
	case SDC_FLOAT64:
		return ((const double *)buf)[i];
	case SDC_INT32:
		return ((const int32_t *)buf)[i] / 2147483648.0;
	case SDC_INT24:
		return (double)((int32_t)((uint32_t)b[3 * i] << 8 | (uint32_t)b[3 * i + 1] << 16 |
					  (uint32_t)b[3 * i + 2] << 24) >>
				8) /
		       8388608.0;
	case SDC_INT16:
		return ((const int16_t *)buf)[i] / 32768.0;
	case SDC_INT8:
		return ((const int8_t *)buf)[i] / 128.0;
	case SDC_UINT8:
		return ((int)b[i] - 128) / 128.0;
	default:
		return 0;
	}
}

void meter_add(struct meter *m, const void *frames, size_t count, sdc_dtype dtype, int channels)
{
	for (size_t f = 0; f < count; f++)
		for (int c = 0; c < m->channels; c++) {
			double v, a;

			if (m->source[c] < 0 || m->source[c] >= channels)
				continue;
			v = sample_at(frames, f * (size_t)channels + (size_t)m->source[c], dtype);
			a = fabs(v);
			if (a > m->peak[c])
				m->peak[c] = a;
			if (a >= 1.0 - 1e-9 ||
			    (dtype != SDC_FLOAT32 && dtype != SDC_FLOAT64 && (v <= -1.0 + 1e-9)))
				m->clipped[c] = 1;
			m->sumsq[c] += v * v;
		}
	m->count += count;
}

double meter_db(double linear)
{
	double db = linear > 0 ? 20.0 * log10(linear) : -INFINITY;

	return db < -120 ? -120 : db;
}

/* Rounds a level to 0.1 dB, so that printed values and tests agree; -0.0 becomes 0.0. */
static double round_db(double db)
{
	db = round(db * 10) / 10;
	return db == 0 ? 0 : db;
}

double meter_peak_db(const struct meter *m, int c)
{
	return round_db(meter_db(m->peak[c]));
}

double meter_rms_db(const struct meter *m, int c)
{
	return round_db(meter_db(m->count ? sqrt(m->sumsq[c] / (double)m->count) : 0));
}

void meter_print_plain(const struct meter *m, FILE *f, double time)
{
	fprintf(f, "time=%.3f", time);
	for (int c = 0; c < m->channels; c++) {
		int n = m->source[c] + 1;

		fprintf(f, " peak%d=%.1f rms%d=%.1f clip%d=%d", n, meter_peak_db(m, c), n,
			meter_rms_db(m, c), n, m->clipped[c]);
	}
	fputc('\n', f);
}

void meter_history_init(struct meter_history *h, int channels)
{
	h->count = 0;
	h->channels = channels < METER_MAX_CHANNELS ? channels : METER_MAX_CHANNELS;
}

void meter_history_add(struct meter_history *h, const struct meter *m, unsigned long long end)
{
	unsigned i = h->count % METER_HISTORY_BLOCKS;

	h->block[i].end = end;
	for (int c = 0; c < h->channels; c++) {
		h->block[i].peak[c] = (float)m->peak[c];
		h->block[i].meansq[c] = m->count ? (float)(m->sumsq[c] / (double)m->count) : 0;
		h->block[i].clipped[c] = (unsigned char)m->clipped[c];
	}
	h->count++;
}

int meter_history_get(const struct meter_history *h, unsigned long long from, unsigned long long to,
		      struct meter *m)
{
	unsigned first = h->count > METER_HISTORY_BLOCKS ? h->count - METER_HISTORY_BLOCKS : 0;
	int found = 0;

	meter_init(m, h->channels);
	for (unsigned n = first; n < h->count; n++) {
		unsigned i = n % METER_HISTORY_BLOCKS;

		if (h->block[i].end <= from || h->block[i].end > to)
			continue;
		for (int c = 0; c < h->channels; c++) {
			if (h->block[i].peak[c] > m->peak[c])
				m->peak[c] = h->block[i].peak[c];
			m->sumsq[c] += h->block[i].meansq[c];
			m->clipped[c] |= h->block[i].clipped[c];
		}
		found++;
	}
	/* Each block adds its mean square: the count is the number of blocks. */
	m->count = (unsigned long long)found;
	return found;
}
