/*
 * libsdc's client object: connecting to the daemon, closing (which first
 * ends the client's transfer threads) and what the greeting told.  Any
 * thread.
 */
#include <errno.h>
#include <stdlib.h>

#include "sdc-private.h"

int sdc_connect(const char *socket_path, sdc_client **ret_client)
{
	sdc_client *c;
	int r;

	if (!ret_client)
		return sdc__error_set(-EINVAL, "invalid arguments");
	c = calloc(1, sizeof(*c));
	if (!c)
		return sdc__error_set(-ENOMEM, "out of memory");
	c->fd = -1;
	pthread_mutex_init(&c->lock, NULL);
	pthread_mutex_init(&c->xfer_lock, NULL);
	sdc__defaults_reset(c);
	r = sdc__conn_open(c, socket_path);
	if (r < 0) {
		sdc_close(c);
		return r;
	}
	*ret_client = c;
	return 0;
}

void sdc_close(sdc_client *c)
{
	if (!c)
		return;
	/*
	 * Hanging up makes the daemon end this client's streams; transfer
	 * threads see that (or the hang-up itself) and stop, so they can be
	 * joined before the descriptor is closed.
	 */
	sdc__conn_hangup(c);
	sdc__oneshot_shutdown(c);
	sdc__defaults_reset(c);
	pthread_mutex_destroy(&c->xfer_lock);
	sdc__conn_close(c);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

const char *sdc_socket_path(const sdc_client *c)
{
	return c ? c->path : NULL;
}

const char *sdc_daemon_version(const sdc_client *c)
{
	return c ? c->daemon_version : NULL;
}

int sdc_protocol_version(const sdc_client *c)
{
	return c ? c->protocol : 0;
}

int sdc_fd(const sdc_client *c)
{
	return c ? c->fd : -EINVAL;
}
