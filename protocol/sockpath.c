/* Socket path resolution shared by sddaemon, libsdc and sdctl. */
#include "sockpath.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/un.h>

int sockpath_resolve(const char *explicit_path, char *buf, size_t size)
{
	const char *env;
	int n;

	if (explicit_path && *explicit_path)
		n = snprintf(buf, size, "%s", explicit_path);
	else if ((env = getenv("SDDAEMON_SOCKET")) && *env)
		n = snprintf(buf, size, "%s", env);
	else if ((env = getenv("XDG_RUNTIME_DIR")) && *env)
		n = snprintf(buf, size, "%s/sddaemon/socket", env);
	else
		n = snprintf(buf, size, "%s", SOCKPATH_SYSTEM);
	if (n < 0 || (size_t)n >= size || (size_t)n >= sizeof(((struct sockaddr_un *)0)->sun_path))
		return -ENAMETOOLONG;
	return 0;
}
