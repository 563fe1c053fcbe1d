/* Device query matching, as sounddevice documents it. */
#include "devmatch.h"
#include "tap.h"

static const struct devmatch_entry devices[] = {
	{ "HDA Intel: ALC662 rev1 Analog (hw:0,0)", "ALSA", 2, 2, false },
	{ "HDA Intel: ALC662 rev1 Digital (hw:0,1)", "ALSA", 0, 2, false },
	{ "HDA Intel: HDMI 0 (hw:0,3)", "ALSA", 0, 8, false },
	{ "sysdefault", "ALSA", 128, 128, false },
	{ "front", "ALSA", 0, 2, false },
	{ "default", "ALSA", 128, 128, false },
	{ "dmix", "ALSA", 0, 2, false },
	{ "/dev/dsp", "OSS", 16, 16, false },
	{ "USB Mic", "ALSA", 1, 0, false },
	{ "default", "JACK Audio Connection Kit", 2, 2, false },
};
#define N (sizeof(devices) / sizeof(devices[0]))

static enum devmatch_status find(const char *q, enum devmatch_kind kind, int *index, size_t *count)
{
	int cand[16];

	*index = -1;
	return devmatch_find(devices, N, q, kind, index, cand, 16, count);
}

int main(void)
{
	size_t count;
	int i;

	CHECK(find("hdmi", DEVMATCH_ANY, &i, &count) == DEVMATCH_FOUND && i == 2,
	      "a unique substring finds its device");
	CHECK(find("HDA DIGITAL", DEVMATCH_ANY, &i, &count) == DEVMATCH_FOUND && i == 1,
	      "matching ignores case");
	CHECK(find("alc662 analog", DEVMATCH_ANY, &i, &count) == DEVMATCH_FOUND && i == 0,
	      "several substrings in order");
	CHECK(find("analog alc662", DEVMATCH_ANY, &i, &count) == DEVMATCH_NONE,
	      "substrings out of order do not match");
	CHECK(find("dsp oss", DEVMATCH_ANY, &i, &count) == DEVMATCH_FOUND && i == 7,
	      "the host-API name is part of the string");
	CHECK(find("dsp, oss", DEVMATCH_ANY, &i, &count) == DEVMATCH_FOUND && i == 7,
	      "the joint \", \" can be matched");
	CHECK(find("hda", DEVMATCH_ANY, &i, &count) == DEVMATCH_AMBIGUOUS && count == 3,
	      "an ambiguous query reports all candidates");
	CHECK(find("hda", DEVMATCH_INPUT, &i, &count) == DEVMATCH_FOUND && i == 0,
	      "the kind filters candidates");
	CHECK(find("front", DEVMATCH_INPUT, &i, &count) == DEVMATCH_NONE,
	      "an output-only device is no input match");
	CHECK(find("nothing like it", DEVMATCH_ANY, &i, &count) == DEVMATCH_NONE && count == 0,
	      "no match");
	CHECK(find("sysdefault", DEVMATCH_ANY, &i, &count) == DEVMATCH_FOUND && i == 3,
	      "a single substring match");
	CHECK(find("DMIX", DEVMATCH_ANY, &i, &count) == DEVMATCH_FOUND && i == 6,
	      "a unique exact name");
	CHECK(find("default", DEVMATCH_ANY, &i, &count) == DEVMATCH_AMBIGUOUS && count == 3,
	      "two exact name matches are still ambiguous");
	CHECK(find("default alsa", DEVMATCH_ANY, &i, &count) == DEVMATCH_AMBIGUOUS && count == 2,
	      "sysdefault and default both contain 'default … alsa'");
	CHECK(find("default jack", DEVMATCH_ANY, &i, &count) == DEVMATCH_FOUND && i == 9,
	      "the host API separates equal names");
	CHECK(find("usb", DEVMATCH_OUTPUT, &i, &count) == DEVMATCH_NONE, "kind output skips inputs");
	CHECK(find("", DEVMATCH_ANY, &i, &count) == DEVMATCH_AMBIGUOUS && count == N,
	      "an empty query matches everything");
	CHECK(find("  hdmi  ", DEVMATCH_ANY, &i, &count) == DEVMATCH_FOUND && i == 2,
	      "surrounding blanks are ignored");
	{
		/* The exact name wins over substring matches: "front" vs "front speakers". */
		static const struct devmatch_entry more[] = {
			{ "front speakers", "ALSA", 0, 2, false },
			{ "front", "ALSA", 0, 2, false },
		};
		int cand[4];

		CHECK(devmatch_find(more, 2, "Front", DEVMATCH_OUTPUT, &i, cand, 4, &count) ==
				      DEVMATCH_FOUND &&
			      i == 1,
		      "an exact device-name match wins among several");
	}
	{
		/* A device that went away keeps its index but matches nothing. */
		static const struct devmatch_entry gone[] = {
			{ "USB Audio", "ALSA", 0, 0, true },
			{ "USB Audio Dock", "ALSA", 0, 2, false },
		};

		CHECK(devmatch_find(gone, 2, "usb audio", DEVMATCH_ANY, &i, NULL, 0, &count) ==
				      DEVMATCH_FOUND &&
			      i == 1 && count == 1,
		      "an absent device matches no query, not even its exact name");
	}
	return tap_done();
}
