/*
 * Where the daemon's socket lives.  Daemon and clients use the same order:
 * an explicit path, else $SDDAEMON_SOCKET, else
 * $XDG_RUNTIME_DIR/sddaemon/socket, else /run/sddaemon/socket.
 */
#pragma once

#include <stddef.h>

#define SOCKPATH_SYSTEM "/run/sddaemon/socket"

/*
 * Stores the socket path into buf (size bytes).  explicit_path may be NULL.
 * Returns 0, or -ENAMETOOLONG when the path does not fit a sockaddr_un.
 */
int sockpath_resolve(const char *explicit_path, char *buf, size_t size);
