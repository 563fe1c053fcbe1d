#!/bin/sh
# Runs one libFuzzer target as a meson test and reports in TAP:
#
#   1. replays every input in fuzz/corpus/NAME/ and fuzz/regressions/NAME/;
#   2. fuzzes for $SDDAEMON_FUZZ_SECONDS seconds (default 20), starting from
#      those inputs and from what earlier runs found (kept in the build
#      directory, never in the source tree).
#
# Usage: run-fuzzer.sh FUZZER NAME SOURCE_DIR BUILD_DIR
# A crash fails the test; the input that caused it is saved under
# BUILD_DIR/NAME/ and the TAP comments say how to keep it as a regression.
# The executions of the run are also written to BUILD_DIR/NAME/stats for
# tools/fuzz.sh.
set -u

fuzzer=$1
name=$2
src=$3
work=$4/$2
seconds=${SDDAEMON_FUZZ_SECONDS:-20}
corpus=$src/corpus/$name
regressions=$src/regressions/$name

# Clang's sanitizers print function names only through llvm-symbolizer.
if [ -z "${ASAN_SYMBOLIZER_PATH:-}" ] && ! command -v llvm-symbolizer >/dev/null &&
	[ -x /usr/bin/llvm-symbolizer-14 ]; then
	export ASAN_SYMBOLIZER_PATH=/usr/bin/llvm-symbolizer-14
fi
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}halt_on_error=1:print_stacktrace=1"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}halt_on_error=1:print_stacktrace=1"

rm -rf "$work/crashes" "$work/stats"
mkdir -p "$work/found" "$work/crashes"
failed=0
log=$work/log

# Prints the last lines of the log as TAP comments.
show_log() {
	tail -n 60 "$log" | sed 's/^/# /'
}

echo "1..2"

# 1. Replay: each file given by name runs once.
set --
for dir in "$corpus" "$regressions"; do
	[ -d "$dir" ] || continue
	for f in "$dir"/*; do
		[ -f "$f" ] && set -- "$@" "$f"
	done
done
if [ $# -eq 0 ]; then
	echo "ok 1 - fuzz-$name: replay # SKIP no corpus"
elif timeout -k 10 300 "$fuzzer" -timeout=10 -rss_limit_mb=2048 "$@" >"$log" 2>&1; then
	echo "ok 1 - fuzz-$name: replayed $# inputs"
else
	echo "not ok 1 - fuzz-$name: replaying the corpus and regressions failed"
	show_log
	failed=1
fi

# 2. Fuzz.  The first directory receives new inputs; the others are only read.
set -- "$work/found" "$corpus"
[ -d "$regressions" ] && set -- "$@" "$regressions"
dict=
[ -f "$src/fuzz-$name.dict" ] && dict=-dict=$src/fuzz-$name.dict
if timeout -k 10 $((seconds + 300)) "$fuzzer" -max_total_time="$seconds" -timeout=10 \
	-rss_limit_mb=2048 -max_len=4096 -print_final_stats=1 \
	-artifact_prefix="$work/crashes/" ${dict:+"$dict"} "$@" >"$log" 2>&1; then
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	echo "${execs:-0} $seconds" >"$work/stats"
	echo "ok 2 - fuzz-$name: ${execs:-0} executions in ${seconds}s"
else
	status=$?
	echo "not ok 2 - fuzz-$name: fuzzing failed (exit status $status)"
	show_log
	failed=1
	for f in "$work"/crashes/*; do
		[ -f "$f" ] || continue
		echo "# input kept in $f; once fixed, add it as a regression:"
		echo "#   cp '$f' fuzz/regressions/$name/"
	done
fi
exit $failed
