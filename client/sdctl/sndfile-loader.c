/* Loads libsndfile on first use; see sndfile-loader.h.  Main thread. */
#include "sndfile-loader.h"

#include <dlfcn.h>
#include <stdio.h>

/* The soname sdctl was built against (libsndfile 1.x). */
#define SNDFILE_SONAME "libsndfile.so.1"

static struct sndfile_api api;
static int state; /* 0: not tried, 1: loaded, -1: failed */
static char load_error[512];

const char *sndfile_api_error(void)
{
	return load_error;
}

/* Looks one symbol up; returns 0, or -1 after noting which one is missing. */
static int sym(void *lib, const char *name, void *ret)
{
	void *p = dlsym(lib, name);

	if (!p) {
		snprintf(load_error, sizeof(load_error), "%s lacks %s", SNDFILE_SONAME, name);
		return -1;
	}
	/* POSIX guarantees that a data pointer from dlsym converts to a function pointer. */
	*(void **)ret = p;
	return 0;
}

const struct sndfile_api *sndfile_api(void)
{
	void *lib;

	if (state)
		return state > 0 ? &api : NULL;
	state = -1;
	lib = dlopen(SNDFILE_SONAME, RTLD_NOW | RTLD_LOCAL);
	if (!lib) {
		snprintf(load_error, sizeof(load_error),
			 "cannot load %s, which sound files need: %s", SNDFILE_SONAME, dlerror());
		return NULL;
	}
	if (sym(lib, "sf_open_fd", &api.open_fd) < 0 ||
	    sym(lib, "sf_open_virtual", &api.open_virtual) < 0 ||
	    sym(lib, "sf_strerror", &api.strerror) < 0 || sym(lib, "sf_error", &api.error) < 0 ||
	    sym(lib, "sf_format_check", &api.format_check) < 0 ||
	    sym(lib, "sf_command", &api.command) < 0 ||
	    sym(lib, "sf_readf_float", &api.readf_float) < 0 ||
	    sym(lib, "sf_readf_double", &api.readf_double) < 0 ||
	    sym(lib, "sf_readf_int", &api.readf_int) < 0 ||
	    sym(lib, "sf_readf_short", &api.readf_short) < 0 ||
	    sym(lib, "sf_writef_float", &api.writef_float) < 0 ||
	    sym(lib, "sf_writef_double", &api.writef_double) < 0 ||
	    sym(lib, "sf_writef_int", &api.writef_int) < 0 ||
	    sym(lib, "sf_writef_short", &api.writef_short) < 0 ||
	    sym(lib, "sf_close", &api.close) < 0) {
		dlclose(lib);
		return NULL;
	}
	state = 1;
	return &api;
}
