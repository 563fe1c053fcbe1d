/*
 * The table of configuration keys: the one place that says which settings
 * sddaemon has.  conf.h makes a field of struct conf of each row, named
 * after the key, and conf.c the key's parser, its default, its line of
 * --check-config output, its command-line option and its line of --help;
 * the code that needs a value reads it from the daemon's settings by the
 * key's name (d->settings.max_clients).  sddaemon.conf(5) and sddaemon(8)
 * describe every key in prose; a test checks them against this table.
 *
 * Adding a key is adding a row here and using the value.
 *
 * Each row is X(name, type, default, min, max, value name, help):
 *   name        the key in the file; the option is --name with dashes
 *   type        QUERY, SECONDS, RATE, COUNT, SIZE, LOG_LEVEL, USERS or
 *               GROUPS (see enum conf_type in conf.h, which also gives the
 *               field's C type)
 *   default     the value as the file would give it, parsed at start; NULL
 *               leaves a list unset, which differs from an empty list
 *   min, max    the bounds of numeric types (ignored by the others)
 *   value name  what --help shows after the option ("--max-clients N")
 *   help        one line for --help, lowercase, without a final stop
 *
 * The rows' order is the order of --check-config and --help.
 */
#pragma once

/* clang-format off */
#define CONF_KEYS(X)									\
	X(default_input_device, QUERY, "", 0, 0, "QUERY",				\
	  "the input device for clients that name none (empty: PortAudio's default)")	\
	X(default_output_device, QUERY, "", 0, 0, "QUERY",				\
	  "the output device for clients that name none (empty: PortAudio's default)")	\
	X(device_idle_time, SECONDS, "5", 0, 86400, "SECONDS",				\
	  "how long an unused device stream stays open")				\
	X(device_start_timeout, SECONDS, "5", 0.1, 3600, "SECONDS",			\
	  "how long starting a device stream may take before its device is taken for lost") \
	X(default_samplerate, RATE, "48000", 0, 768000, "HZ",				\
	  "the rate shared device streams open at where the device takes it (0: the device's default)") \
	X(resample_quality, COUNT, "7", 0, 10, "N",					\
	  "the resampler's quality for streams at another rate than their device stream's")	\
	X(max_resamplers_per_device, COUNT, "16", 1, 4096, "N",			\
	  "the most resamplers one shared device stream runs (one per other rate in each direction)") \
	X(max_clients, COUNT, "4096", 1, 1000000, "N",					\
	  "the most connections held at once")						\
	X(max_clients_per_user, COUNT, "256", 1, 1000000, "N",				\
	  "the most connections one user may hold at once")				\
	X(idle_timeout, SECONDS, "60", 0, 86400, "SECONDS",				\
	  "how long a connection must be idle before it may give its place to a new one (0: never)") \
	X(line_timeout, SECONDS, "10", 0, 3600, "SECONDS",				\
	  "how long a client may leave a line half-sent (0: no limit)")			\
	X(max_requests_per_second, RATE, "100000", 0, 10000000, "N",			\
	  "the most requests one client may make per second (0: no limit)")		\
	X(max_streams_per_client, COUNT, "16", 1, 4096, "N",				\
	  "the most streams one client may have running")				\
	X(max_streams_per_user, COUNT, "64", 1, 65536, "N",				\
	  "the most streams one user may have running")					\
	X(max_streams_per_device, COUNT, "256", 1, 65536, "N",				\
	  "the most client streams one shared device stream mixes or feeds")		\
	X(max_shm_per_client, SIZE, "64M", 64.0 * 1024, 64.0 * 1024 * 1024 * 1024, "SIZE",	\
	  "the most shared memory one client may hold")					\
	X(max_shm_per_user, SIZE, "256M", 64.0 * 1024, 1024.0 * 1024 * 1024 * 1024, "SIZE",	\
	  "the most shared memory one user may hold")					\
	X(max_shm_total, SIZE, "1G", 64.0 * 1024, 1024.0 * 1024 * 1024 * 1024, "SIZE",	\
	  "the most shared memory all clients together may hold")			\
	X(max_output_queue, SIZE, "4M", 256.0 * 1024, 1024.0 * 1024 * 1024, "SIZE",	\
	  "the most replies and events queued to a client that does not read before it is dropped") \
	X(log_level, LOG_LEVEL, "notice", 0, 0, "LEVEL",				\
	  "the most detailed messages logged: error, warning, notice, info or debug")	\
	X(allow_users, USERS, NULL, 0, 0, "LIST",					\
	  "the users who may connect (unset: anyone who may open the socket)")		\
	X(allow_groups, GROUPS, NULL, 0, 0, "LIST",					\
	  "the groups whose members may connect")
/* clang-format on */
