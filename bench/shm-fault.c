/*
 * sdd-bench-fault: what a page fault on a stream's shared memory costs
 * after a client punched a hole in it (fallocate(FALLOC_FL_PUNCH_HOLE)),
 * against touching a page that is there.  A memfd sealed as the daemon
 * seals a stream's (it keeps its size, not its pages) is mapped, filled,
 * punched out whole, and its pages read (or written) once each, as the
 * audio thread reads a ring (or writes one) after a hole-punching client:
 * every touch allocates and clears a page.
 *
 *   sdd-bench-fault [--pages N] [--runs N]
 *
 * Prints nanoseconds per page for a read fault, a write fault and a touch
 * of a resident page, as one JSON line.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common.h"

#define PAGE 4096

int main(int argc, char **argv)
{
	size_t pages = 256, size;
	int runs = 1000, fd;
	volatile unsigned char *mem;
	double t_read = 0, t_write = 0, t_resident = 0;
	unsigned sum = 0;

	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--pages"))
			pages = (size_t)bench_arg_num(argv[i], argv[i + 1]);
		else if (!strcmp(argv[i], "--runs"))
			runs = (int)bench_arg_num(argv[i], argv[i + 1]);
		else
			bench_die("usage: sdd-bench-fault [--pages N] [--runs N]");
	}
	if (argc % 2 == 0 || pages < 1 || runs < 1)
		bench_die("usage: sdd-bench-fault [--pages N] [--runs N]");
	size = pages * PAGE;
	fd = memfd_create("sdd-bench-fault", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0 || ftruncate(fd, (off_t)size) < 0 ||
	    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0)
		bench_die("memfd: %s", strerror(errno));
	mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (mem == MAP_FAILED)
		bench_die("mmap: %s", strerror(errno));
	memset((void *)mem, 1, size);
	for (int r = 0; r < runs; r++) {
		double t0, t1;

		if (fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, (off_t)size) < 0)
			bench_die("fallocate: %s", strerror(errno));
		t0 = bench_now();
		for (size_t i = 0; i < pages; i++)
			sum += mem[i * PAGE];
		t1 = bench_now();
		t_read += t1 - t0;
		fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, (off_t)size);
		t0 = bench_now();
		for (size_t i = 0; i < pages; i++)
			mem[i * PAGE] = 2;
		t1 = bench_now();
		t_write += t1 - t0;
		t0 = bench_now();
		for (size_t i = 0; i < pages; i++)
			sum += mem[i * PAGE];
		t1 = bench_now();
		t_resident += t1 - t0;
	}
	bench_json_begin();
	bench_json_int("pages", (long long)pages);
	bench_json_int("runs", runs);
	bench_json_num("read_fault_ns_per_page", 1e9 * t_read / runs / (double)pages);
	bench_json_num("write_fault_ns_per_page", 1e9 * t_write / runs / (double)pages);
	bench_json_num("resident_touch_ns_per_page", 1e9 * t_resident / runs / (double)pages);
	bench_json_int("checksum", sum);
	bench_json_end();
	return 0;
}
