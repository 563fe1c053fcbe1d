/*
 * sdd-bench-ctl: the control plane, measured over the raw protocol (JSON
 * lines on the Unix socket, no library in between).
 *
 *   sdd-bench-ctl rtt --socket PATH [--conns N] [--seconds S] [--cmd NAME]
 *       N connections (one thread each) send NAME requests (default
 *       query_devices) back to back, each waiting for its reply, for S
 *       seconds: prints requests per second over all connections and the
 *       round trip's p50/p99 in microseconds.
 *   sdd-bench-ctl flood --socket PATH [--conns N] [--seconds S] [--interval MS]
 *       N connections (one thread each) flood the daemon with pipelined
 *       pings (a window of FLOOD_WINDOW outstanding, replies read as they
 *       come) while one more, the bystander, sends a ping every MS
 *       milliseconds (default 1) and waits for its reply: prints the
 *       bystander's round trip (p50, p99, max in microseconds) and the
 *       flood's requests per second.
 *   sdd-bench-ctl idle --socket PATH --conns N
 *       opens N connections, pings on each, prints "ready" and holds them
 *       until its standard input closes.
 *   sdd-bench-ctl exec [--runs N] -- PROGRAM [ARG]...
 *       runs PROGRAM N times as a whole process (output discarded) and
 *       prints the wall time per run (p50, mean, min) in milliseconds.
 *
 * Each prints one JSON line on stdout.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common.h"

extern char **environ;

struct worker {
	pthread_t thread;
	const char *socket_path;
	const char *cmd;
	double seconds;
	pthread_barrier_t *barrier;
	struct bench_rtts rtts;
	int failed;
	char error[256];
};

/* Connects to the daemon's socket; returns the fd or -errno. */
static int connect_socket(const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path);
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		int e = -errno;

		close(fd);
		return e;
	}
	return fd;
}

/* Sends all of buf; returns 0 or -errno. */
static int send_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * Reads one reply line; the first bytes (up to keep-1) are stored in
 * first for checking.  Data past the newline would be a protocol error
 * here (one request is outstanding): it is not expected and counted as one.
 */
static int read_line(int fd, char *first, size_t keep)
{
	static __thread char buf[65536];
	size_t kept = 0;

	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		char *nl;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -ECONNRESET;
		if (kept + 1 < keep) {
			size_t c = (size_t)n < keep - 1 - kept ? (size_t)n : keep - 1 - kept;

			memcpy(first + kept, buf, c);
			kept += c;
			first[kept] = '\0';
		}
		nl = memchr(buf, '\n', (size_t)n);
		if (nl)
			return nl == buf + n - 1 ? 0 : -EPROTO;
	}
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	char req[256], head[128];
	int fd = connect_socket(w->socket_path);
	double deadline;
	long long id = 0;

	pthread_barrier_wait(w->barrier);
	if (fd < 0) {
		w->failed = 1;
		snprintf(w->error, sizeof(w->error), "connect: %s", strerror(-fd));
		return NULL;
	}
	deadline = bench_now() + w->seconds;
	while (bench_now() < deadline) {
		int len = snprintf(req, sizeof(req), "{\"id\":%lld,\"cmd\":\"%s\"}\n", ++id, w->cmd);
		double t0 = bench_now(), t1;
		int r = send_all(fd, req, (size_t)len);

		if (r == 0)
			r = read_line(fd, head, sizeof(head));
		t1 = bench_now();
		if (r < 0) {
			w->failed = 1;
			snprintf(w->error, sizeof(w->error), "request: %s", strerror(-r));
			break;
		}
		if (id == 1 && !strstr(head, "\"ok\":true") && !strstr(head, "\"ok\": true")) {
			w->failed = 1;
			snprintf(w->error, sizeof(w->error), "the daemon said: %.100s", head);
			break;
		}
		if (!bench_rtts_add(&w->rtts, t1 - t0))
			break;
	}
	close(fd);
	return NULL;
}

static int run_rtt(const char *socket_path, int conns, double seconds, const char *cmd)
{
	struct worker *w = calloc((size_t)conns, sizeof(*w));
	pthread_barrier_t barrier;
	struct bench_rtts all = { 0 };
	double t0, t1;
	int failed = 0;

	if (!w)
		bench_die("out of memory");
	pthread_barrier_init(&barrier, NULL, (unsigned)conns + 1);
	for (int i = 0; i < conns; i++) {
		w[i].socket_path = socket_path;
		w[i].cmd = cmd;
		w[i].seconds = seconds;
		w[i].barrier = &barrier;
		if (pthread_create(&w[i].thread, NULL, worker_main, &w[i]) != 0)
			bench_die("cannot create a thread");
	}
	pthread_barrier_wait(&barrier);
	t0 = bench_now();
	for (int i = 0; i < conns; i++) {
		pthread_join(w[i].thread, NULL);
		if (w[i].failed && !failed) {
			failed = 1;
			fprintf(stderr, "sdd-bench-ctl: connection %d: %s\n", i, w[i].error);
		}
	}
	t1 = bench_now();
	for (int i = 0; i < conns; i++) {
		for (size_t k = 0; k < w[i].rtts.count; k++)
			if (!bench_rtts_add(&all, w[i].rtts.us[k] / 1e6))
				bench_die("out of memory");
		free(w[i].rtts.us);
	}
	bench_rtts_print(cmd, conns, &all, t1 - t0, failed);
	free(all.us);
	free(w);
	pthread_barrier_destroy(&barrier);
	return failed;
}

/*
 * Pings a flooder keeps outstanding: their replies (33 bytes each) stay
 * well below the 256 KiB at which the daemon stops reading a client, so
 * the flood is one the daemon serves at full speed.
 */
#define FLOOD_WINDOW 2048

/* Pings sent per write. */
#define FLOOD_BATCH 256

struct flooder {
	pthread_t thread;
	const char *socket_path;
	const atomic_int *stop;
	long long replies;
	int failed;
	char error[256];
};

/* One flooding connection: keeps FLOOD_WINDOW pings outstanding until *stop. */
static void *flooder_main(void *arg)
{
	struct flooder *f = arg;
	static __thread char req[FLOOD_BATCH * 40], buf[65536];
	long long sent = 0, id = 0;
	int fd = connect_socket(f->socket_path);

	if (fd < 0) {
		f->failed = 1;
		snprintf(f->error, sizeof(f->error), "connect: %s", strerror(-fd));
		return NULL;
	}
	while (!atomic_load(f->stop)) {
		ssize_t n;
		int r;

		while (sent - f->replies < FLOOD_WINDOW - FLOOD_BATCH) {
			size_t len = 0;

			for (int i = 0; i < FLOOD_BATCH; i++)
				len += (size_t)snprintf(req + len, sizeof(req) - len,
							"{\"id\":%lld,\"cmd\":\"ping\"}\n", ++id);
			r = send_all(fd, req, len);
			if (r < 0) {
				f->failed = 1;
				snprintf(f->error, sizeof(f->error), "send: %s", strerror(-r));
				goto out;
			}
			sent += FLOOD_BATCH;
		}
		n = recv(fd, buf, sizeof(buf), 0);
		if (n <= 0) {
			if (n < 0 && errno == EINTR)
				continue;
			f->failed = 1;
			snprintf(f->error, sizeof(f->error), "recv: %s", n ? strerror(errno) : "closed");
			break;
		}
		for (ssize_t i = 0; i < n; i++)
			f->replies += buf[i] == '\n';
	}
out:
	close(fd);
	return NULL;
}

static int run_flood(const char *socket_path, int conns, double seconds, double interval_ms)
{
	struct flooder *f = calloc((size_t)conns, sizeof(*f));
	struct bench_rtts rtts = { 0 };
	atomic_int stop = 0;
	char req[64], head[128];
	long long replies = 0, id = 0;
	double t0, t1, deadline;
	int failed = 0, fd;

	if (!f)
		bench_die("out of memory");
	fd = connect_socket(socket_path);
	if (fd < 0)
		bench_die("bystander: connect: %s", strerror(-fd));
	for (int i = 0; i < conns; i++) {
		f[i].socket_path = socket_path;
		f[i].stop = &stop;
		if (pthread_create(&f[i].thread, NULL, flooder_main, &f[i]) != 0)
			bench_die("cannot create a thread");
	}
	/* Let the flood start before measuring. */
	usleep(200000);
	t0 = bench_now();
	deadline = t0 + seconds;
	while (bench_now() < deadline) {
		int len = snprintf(req, sizeof(req), "{\"id\":%lld,\"cmd\":\"ping\"}\n", ++id);
		double a = bench_now(), b;
		int r = send_all(fd, req, (size_t)len);

		if (r == 0)
			r = read_line(fd, head, sizeof(head));
		b = bench_now();
		if (r < 0 || !strstr(head, "\"ok\":true")) {
			fprintf(stderr, "sdd-bench-ctl: bystander: %s\n", r < 0 ? strerror(-r) : head);
			failed = 1;
			break;
		}
		if (!bench_rtts_add(&rtts, b - a))
			bench_die("out of memory");
		if (interval_ms > 0)
			usleep((useconds_t)(interval_ms * 1000));
	}
	t1 = bench_now();
	atomic_store(&stop, 1);
	/* The flooders block in recv() until replies come: closing the bystander wakes nobody. */
	for (int i = 0; i < conns; i++) {
		pthread_join(f[i].thread, NULL);
		replies += f[i].replies;
		if (f[i].failed && !failed) {
			failed = 1;
			fprintf(stderr, "sdd-bench-ctl: flooder %d: %s\n", i, f[i].error);
		}
	}
	close(fd);
	bench_json_begin();
	bench_json_int("flooders", conns);
	bench_json_num("wall", t1 - t0);
	bench_json_int("flood_replies", replies);
	bench_json_num("flood_requests_per_second", replies / (t1 - t0));
	bench_json_int("bystander_requests", (long long)rtts.count);
	bench_json_num("bystander_p50_us", bench_percentile(rtts.us, rtts.count, 50));
	bench_json_num("bystander_p99_us", bench_percentile(rtts.us, rtts.count, 99));
	bench_json_num("bystander_max_us", bench_percentile(rtts.us, rtts.count, 100));
	bench_json_int("failed", failed);
	bench_json_end();
	free(rtts.us);
	free(f);
	return failed;
}

static int run_idle(const char *socket_path, int conns)
{
	int *fds = calloc((size_t)conns, sizeof(int));
	char head[128], line[16];
	int opened = 0;

	if (!fds)
		bench_die("out of memory");
	for (int i = 0; i < conns; i++) {
		int fd = connect_socket(socket_path), r;

		if (fd < 0) {
			fprintf(stderr, "sdd-bench-ctl: connection %d: %s\n", i, strerror(-fd));
			break;
		}
		fds[opened++] = fd;
		r = send_all(fd, "{\"id\":1,\"cmd\":\"ping\"}\n", 22);
		if (r == 0)
			r = read_line(fd, head, sizeof(head));
		if (r < 0 || !strstr(head, "\"ok\":true")) {
			fprintf(stderr, "sdd-bench-ctl: connection %d refused: %.100s\n", i,
				r < 0 ? strerror(-r) : head);
			break;
		}
	}
	printf("ready %d\n", opened);
	fflush(stdout);
	/* Hold the connections until told to let go. */
	while (fgets(line, sizeof(line), stdin))
		;
	for (int i = 0; i < opened; i++)
		close(fds[i]);
	bench_json_begin();
	bench_json_int("conns", opened);
	bench_json_end();
	free(fds);
	return opened == conns ? 0 : 1;
}

static int run_exec(int runs, char **argv)
{
	double *t = calloc((size_t)runs, sizeof(double));
	posix_spawn_file_actions_t fa;
	int failed = 0;

	if (!t)
		bench_die("out of memory");
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	for (int i = 0; i < runs; i++) {
		double t0 = bench_now();
		pid_t pid;
		int status;

		if (posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ) != 0)
			bench_die("cannot run %s", argv[0]);
		waitpid(pid, &status, 0);
		t[i] = (bench_now() - t0) * 1e3;
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			failed++;
	}
	posix_spawn_file_actions_destroy(&fa);
	bench_json_begin();
	bench_json_str("program", argv[0]);
	bench_json_int("runs", runs);
	bench_json_num("mean_ms", bench_mean(t, (size_t)runs));
	bench_json_num("p50_ms", bench_percentile(t, (size_t)runs, 50));
	bench_json_num("min_ms", t[0]);
	bench_json_int("failed_runs", failed);
	bench_json_end();
	free(t);
	return failed ? 1 : 0;
}

static void usage(void)
{
	fputs("usage: sdd-bench-ctl rtt --socket PATH [--conns N] [--seconds S] [--cmd NAME]\n"
	      "       sdd-bench-ctl flood --socket PATH [--conns N] [--seconds S] [--interval MS]\n"
	      "       sdd-bench-ctl idle --socket PATH --conns N\n"
	      "       sdd-bench-ctl exec [--runs N] -- PROGRAM [ARG]...\n",
	      stderr);
	exit(2);
}

int main(int argc, char **argv)
{
	const char *socket_path = NULL, *cmd = "query_devices", *mode;
	double seconds = 2, interval_ms = 1;
	int conns = 1, runs = 20, i;
	struct rlimit rl;

	if (argc < 2)
		usage();
	mode = argv[1];
	/* Options come in pairs (name and value) until "--". */
	for (i = 2; i < argc; i += 2) {
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(argv[i], "--")) {
			i++;
			break;
		}
		if (!strcmp(argv[i], "--socket"))
			socket_path = v;
		else if (!strcmp(argv[i], "--conns"))
			conns = (int)bench_arg_num(argv[i], v);
		else if (!strcmp(argv[i], "--seconds"))
			seconds = bench_arg_num(argv[i], v);
		else if (!strcmp(argv[i], "--cmd"))
			cmd = v;
		else if (!strcmp(argv[i], "--interval"))
			interval_ms = bench_arg_num(argv[i], v);
		else if (!strcmp(argv[i], "--runs"))
			runs = (int)bench_arg_num(argv[i], v);
		else
			usage();
	}
	/* Many idle connections need many descriptors. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (!strcmp(mode, "exec")) {
		if (i >= argc || runs < 1)
			usage();
		return run_exec(runs, argv + i);
	}
	if (!socket_path || conns < 1 || !cmd || strlen(cmd) > 64)
		usage();
	if (!strcmp(mode, "rtt"))
		return run_rtt(socket_path, conns, seconds, cmd);
	if (!strcmp(mode, "idle"))
		return run_idle(socket_path, conns);
	if (!strcmp(mode, "flood"))
		return run_flood(socket_path, conns, seconds, interval_ms);
	usage();
}
