/*
 * The PortAudio backend's callbacks, on PortAudio's audio thread: they
 * translate PortAudio's arguments into the backend interface's and call
 * the device stream's callbacks.  Realtime rules apply (see stream-rt.c):
 * nothing here allocates, locks, logs or makes a system call.
 */
#include "backend-pa.h"

#include "pa-defined.h"
#include "shm.h"

/* PortAudio's callback flags are sounddevice's CallbackFlags, as shm.h defines them. */
static_assert(paInputUnderflow == SHM_INPUT_UNDERFLOW && paInputOverflow == SHM_INPUT_OVERFLOW &&
		      paOutputUnderflow == SHM_OUTPUT_UNDERFLOW &&
		      paOutputOverflow == SHM_OUTPUT_OVERFLOW && paPrimingOutput == SHM_PRIMING_OUTPUT,
	      "PortAudio's callback flags");

#define STATUS_FLAGS                                                                               \
	(SHM_INPUT_UNDERFLOW | SHM_INPUT_OVERFLOW | SHM_OUTPUT_UNDERFLOW | SHM_OUTPUT_OVERFLOW |   \
	 SHM_PRIMING_OUTPUT)

int backend_pa_process(const void *input, void *output, unsigned long frames,
		       const PaStreamCallbackTimeInfo *ti, PaStreamCallbackFlags status,
		       void *userdata)
{
	struct pa_stream *s = userdata;
	struct backend_times times;

	/*
	 * The frame count, the timestamps and the captured samples, which
	 * alsa-lib's virtual devices leave partly unset, are PortAudio's to
	 * answer for (see pa-defined.h).
	 */
	pa_defined(&frames, sizeof(frames));
	pa_defined(ti, sizeof(*ti));
	if (input)
		pa_defined(input, frames * s->input_frame_bytes);
	times = (struct backend_times){
		.input_adc = ti->inputBufferAdcTime,
		.output_dac = ti->outputBufferDacTime,
		.now = ti->currentTime,
	};
	return s->cb.process(s->cb.data, input, output, frames, &times,
			     (uint32_t)status & STATUS_FLAGS) == BACKEND_COMPLETE
		       ? paComplete
		       : paContinue;
}

void backend_pa_finished(void *userdata)
{
	struct pa_stream *s = userdata;

	s->cb.finished(s->cb.data);
}

