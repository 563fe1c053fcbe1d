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
# BUILD_DIR/NAME/crashes/ and the TAP comments say how to keep it as a
# regression.  The fuzzer's output is in BUILD_DIR/NAME/replay.log and fuzz.log.
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

# Prints the report in log $1 as TAP comments: from just before the first
# error on, or the last lines when there is none.
show_log() {
	first=$(grep -n -m 1 -E '^==[0-9]+==ERROR|check failed|runtime error|ERROR: libFuzzer' "$1" |
		cut -d: -f1)
	if [ -n "$first" ]; then
		sed -n "$((first > 5 ? first - 5 : 1)),$((first + 80))p" "$1"
	else
		tail -n 60 "$1"
	fi | sed 's/^/# /'
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
elif timeout -k 10 300 "$fuzzer" -timeout=10 -rss_limit_mb=2048 "$@" >"$work/replay.log" 2>&1; then
	echo "ok 1 - fuzz-$name: replayed $# inputs"
else
	echo "not ok 1 - fuzz-$name: replaying the corpus and regressions failed"
	show_log "$work/replay.log"
	failed=1
fi

# 2. Fuzz.  The first directory receives new inputs; the others are only read.
set -- "$work/found"
[ -d "$corpus" ] && set -- "$@" "$corpus"
[ -d "$regressions" ] && set -- "$@" "$regressions"
dict=
[ -f "$src/fuzz-$name.dict" ] && dict=-dict=$src/fuzz-$name.dict
if timeout -k 10 $((seconds + 300)) "$fuzzer" -max_total_time="$seconds" -timeout=10 \
	-rss_limit_mb=2048 -max_len=4096 -print_final_stats=1 \
	-artifact_prefix="$work/crashes/" ${dict:+"$dict"} "$@" >"$work/fuzz.log" 2>&1; then
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/fuzz.log" | tail -n 1)
	echo "${execs:-0} $seconds" >"$work/stats"
	echo "ok 2 - fuzz-$name: ${execs:-0} executions in ${seconds}s"
else
	status=$?
	echo "not ok 2 - fuzz-$name: fuzzing failed (exit status $status)"
	show_log "$work/fuzz.log"
	failed=1
	for f in "$work"/crashes/*; do
		[ -f "$f" ] || continue
		echo "# input kept in $f; once fixed, add it as a regression:"
		echo "#   cp '$f' fuzz/regressions/$name/"
	done
fi
exit $failed
