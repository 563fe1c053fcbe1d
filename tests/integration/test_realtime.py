"""The realtime rules, checked mechanically: the objects the audio thread
runs (daemon/meson.build's realtime_sources and protocol/sample.c, archived
by tests/meson.build as $SDD_REALTIME_OBJECTS) may call no allocator,
stdio, lock, logging or JSON function and make no system call other than
write (the eventfd wake-up).  The resampler library's functions they call
are listed in LIBRARY; the allocation count of test_shared_jack.py covers
their code.

Every function they take from outside themselves (nm's undefined symbols,
less what the archive defines) must be known to be safe: a pure function
of the C library listed in ALLOWED, the sanitizers' instrumentation, a
variable of the daemon (reading one is no call), or one of the daemon's
functions in ELSEWHERE, whose own machine code is checked the same way.  A canary object that breaks every rule
($SDD_REALTIME_CANARY, tests/helpers/rt-canary.c) must fail the check,
call by call.
"""

import os
import re
import subprocess
import sys

from harness import Failure, check, check_eq, run_tests

NM = os.environ.get("NM", "nm")
OBJDUMP = os.environ.get("OBJDUMP", "objdump")

# Functions of the C library and libm that neither allocate, lock nor enter
# the kernel.  Add one here only when that is true of it.
ALLOWED = {
    "memcpy", "memmove", "memset", "memcmp", "strcmp", "strlen",
    "__memcpy_chk", "__memmove_chk", "__memset_chk",
    "lrint", "lrintf", "rint", "rintf", "nearbyint", "nearbyintf",
    "floor", "floorf", "ceil", "ceilf", "fabs", "fabsf", "sqrt", "sqrtf",
    "fmin", "fminf", "fmax", "fmaxf",
    # The one system call the audio thread makes: the eventfd write.
    "write",
    # Stack protector's report of a smashed stack, and the linker's table.
    "__stack_chk_fail", "_GLOBAL_OFFSET_TABLE_",
}

# Functions of the resampler library (speexdsp) that the audio thread calls
# (daemon/rategroup-rt.c).  Their machine code is the library's, outside
# this check: speexdsp's processing computes on the state that
# speex_resampler_init() made (it allocates only there and when a rate or
# the quality changes, which the daemon never does to a running group).
# The test shared_jack counts every allocation on the audio thread while
# mixed-rate streams start, run and stop, and wants none.
LIBRARY = {"speex_resampler_process_interleaved_float"}

# The instrumentation of sanitizer and fuzzing builds (./quickstart test's
# ASan, UBSan and TSan stages, clang's coverage).
INSTRUMENTATION = re.compile(r"^__(asan|ubsan|tsan|msan|lsan|sanitizer)_")

# The daemon's functions that realtime code calls in files that are not
# realtime: each must itself call only what ALLOWED and INSTRUMENTATION
# allow.  stream.c's stream_wake_client is the eventfd write that wakes a
# client; moved into a realtime file, it would leave this set empty.
ELSEWHERE = {"stream_wake_client"}

# What a forbidden call is, for the failure message.
KINDS = [
    ("allocator", r"^(malloc|calloc|realloc|reallocarray|free|aligned_alloc|posix_memalign|"
                  r"memalign|valloc|pvalloc|strn?dup|v?asprintf|mmap|munmap|mremap|brk|sbrk|"
                  r"__libc_(malloc|calloc|realloc|free))$"),
    ("stdio", r"^(__)?v?(f|s|sn|d|as)?printf(_chk)?$|^(f?puts|f?putc|putchar|fwrite|fread|"
              r"fopen|fdopen|fclose|fflush|perror|getline|v?f?scanf|setvbuf)(_unlocked)?$|"
              r"^(stdin|stdout|stderr)$"),
    ("lock", r"^(pthread_|sem_|mtx_|cnd_|uv_(mutex|rwlock|cond|sem|barrier|once)_|flock$|"
             r"lockf$|__pthread)"),
    ("logging", r"^(log_|v?syslog$|openlog$|closelog$|sd_journal|v?errx?$|v?warnx?$)"),
    ("JSON", r"^json_"),
    ("libuv", r"^uv_"),
    ("system call", r"^(read|pread|readv|writev|pwrite|open|openat|close|ioctl|poll|ppoll|"
                    r"select|epoll_\w+|eventfd\w*|nanosleep|usleep|sleep|clock_nanosleep|"
                    r"clock_gettime|gettimeofday|futex|syscall|sched_yield|send\w*|recv\w*|"
                    r"kill|raise|getpid|gettid|fcntl|mprotect|madvise)$"),
]


def kind_of(symbol):
    for kind, pattern in KINDS:
        if re.search(pattern, symbol):
            return kind
    return "not known to be realtime-safe"


def allowed(symbol):
    return symbol in ALLOWED or symbol in LIBRARY or INSTRUMENTATION.match(symbol) is not None


def archive_symbols(path):
    """nm's view of an archive: {member: (defined symbols, undefined symbols)}."""
    out = subprocess.run([NM, "-P", path], capture_output=True, check=True,
                         timeout=60).stdout.decode()
    members, member = {}, None
    for line in out.splitlines():
        m = re.match(r"^\S*\[(.+)\]:$", line)
        if m:
            member = os.path.basename(m.group(1))  # meson's archives are thin: paths
            members[member] = (set(), set())
            continue
        fields = line.split()
        if member is None or len(fields) < 2:
            continue
        name, kind = fields[0], fields[1]
        members[member][1 if kind in ("U", "w", "v") else 0].add(name)
    return members


def external_uses(members):
    """The symbols the members use that none of them defines: {symbol: [members]}."""
    defined = set().union(*(d for d, _ in members.values()))
    uses = {}
    for member, (_, undefined) in sorted(members.items()):
        for name in sorted(undefined - defined):
            uses.setdefault(name, []).append(member)
    return uses


def function_calls(binary, function):
    """The symbols function's machine code in binary calls, jumps to or loads
    (objdump's names of their starts), its split-off parts (function.cold,
    .part.N and other clones gcc makes) included."""
    names, todo, done = set(), [function], set()
    while todo:
        part = todo.pop()
        done.add(part)
        out = subprocess.run([OBJDUMP, "-d", "--no-show-raw-insn", "--disassemble=" + part,
                              binary], capture_output=True, check=True, timeout=60).stdout.decode()
        check(re.search(r"<%s>:" % re.escape(part), out), "%s is in %s" % (part, binary))
        for ref in re.findall(r"<([^<>]+)>", out):
            # symbol+0x10 is an address inside something (a branch within the
            # function, a string in .rodata named after the symbol before it).
            if "+" in ref:
                continue
            name = ref.split("@")[0]
            if name == part:
                continue
            if name.startswith(function + ".") and name not in done:
                todo.append(name)
            elif not name.startswith(function + "."):
                names.add(name)
    return names


def daemon_data(binary):
    """The variables the daemon defines (nm's data, bss and read-only types)."""
    out = subprocess.run([NM, "-P", binary], capture_output=True, check=True,
                         timeout=60).stdout.decode()
    return {f[0] for f in (line.split() for line in out.splitlines())
            if len(f) >= 2 and f[1] in "BbDdRrGgSs" and "@" not in f[0]}


def violations(uses, binary=None):
    """The uses that break the rules: [(symbol, kind, where)].  With the
    daemon's binary, ELSEWHERE's functions are checked in it, and the
    daemon's own variables (reading one is no call) pass."""
    found = []
    data = daemon_data(binary) if binary else set()
    for name, where in sorted(uses.items()):
        if allowed(name) or (name in data and kind_of(name) == "not known to be realtime-safe"):
            continue
        if name in ELSEWHERE and binary:
            for callee in sorted(function_calls(binary, name)):
                if not allowed(callee):
                    found.append((callee, kind_of(callee), "%s, called by %s"
                                  % (name, ", ".join(where))))
            continue
        found.append((name, kind_of(name), ", ".join(where)))
    return found


def report(found):
    return "\n".join("%s (%s) in %s" % f for f in found)


def test_canary_breaks_every_rule():
    # A check that sees nothing passes everything: the canary must fail it
    # with each kind of forbidden call, and its allowed calls must pass.
    found = violations(external_uses(archive_symbols(os.environ["SDD_REALTIME_CANARY"])))
    kinds = {}
    for name, kind, _ in found:
        kinds.setdefault(kind, set()).add(name)
    for kind in ("allocator", "stdio", "lock", "logging", "JSON", "system call"):
        check(kind in kinds, "the canary's %s call is reported:\n%s" % (kind, report(found)))
    names = set().union(*kinds.values())
    for name in ("malloc", "free", "pthread_mutex_lock", "sem_wait", "syslog", "log_error",
                 "sd_journal_print", "json_object_new_int", "read", "nanosleep"):
        check(name in names, "the canary's %s is reported:\n%s" % (name, report(found)))
    check(any(re.search(r"printf", n) for n in kinds["stdio"]), "printf is reported")
    check("write" not in names and "memcpy" not in names,
          "write and memcpy are allowed:\n%s" % report(found))


def test_realtime_objects_follow_the_rules():
    members = archive_symbols(os.environ["SDD_REALTIME_OBJECTS"])
    check(any(m.startswith("stream-rt.c") for m in members), "stream-rt.c's object is checked")
    check(any(m.startswith("sample.c") for m in members), "sample.c's object is checked")
    for member, (defined, _) in members.items():
        check(defined, "%s defines something" % member)
    uses = external_uses(members)
    binary = os.environ["SDDAEMON"]
    print("# the realtime objects (%s) use: %s" % (", ".join(sorted(members)),
                                                   ", ".join(sorted(uses))))
    for name in sorted(ELSEWHERE & set(uses)):
        print("# %s (%s) uses: %s" % (name, binary, ", ".join(sorted(function_calls(binary,
                                                                                     name)))))
    found = violations(uses, binary)
    if found:
        raise Failure("the audio thread's code breaks the realtime rules:\n" + report(found))
    check_eq(sorted(ELSEWHERE - set(uses)), [],
             "ELSEWHERE names functions the realtime objects no longer call")


if __name__ == "__main__":
    sys.exit(run_tests([test_canary_breaks_every_rule, test_realtime_objects_follow_the_rules]))
