#!/bin/sh
# Builds the fuzz targets (fuzz/) with clang, AddressSanitizer and
# UndefinedBehaviorSanitizer in their own build directory, runs each for
# SECONDS (default 20), and prints the executions per target.
#
#   tools/fuzz.sh          a short run, as ./quickstart test does
#   tools/fuzz.sh 600      ten minutes per target
#
# Targets run two at a time.  What they find is kept in
# $FUZZ_BUILD/fuzz/NAME/found/ for the next run; a crash fails the run and
# its input is left in $FUZZ_BUILD/fuzz/NAME/crashes/ (see fuzz/README.md).
set -eu

cd "$(dirname "$0")/.."
seconds=${1:-20}
FUZZ_BUILD=${FUZZ_BUILD:-build-fuzz}

case $seconds in
'' | *[!0-9]*)
	echo "usage: tools/fuzz.sh [SECONDS]" >&2
	exit 2
	;;
esac

if [ ! -f "$FUZZ_BUILD/build.ninja" ]; then
	CC=${CC:-clang-14} meson setup "$FUZZ_BUILD" -Dfuzz=true -Dwerror=true \
		-Db_sanitize=address,undefined -Db_lundef=false
fi

status=0
SDDAEMON_FUZZ_SECONDS=$seconds meson test -C "$FUZZ_BUILD" --suite fuzz --num-processes 2 \
	--print-errorlogs || status=$?

echo
printf '%-16s %12s %8s %10s\n' target executions seconds per-second
for stats in "$FUZZ_BUILD"/fuzz/*/stats; do
	[ -f "$stats" ] || continue
	name=$(basename "$(dirname "$stats")")
	read -r execs secs <"$stats"
	printf '%-16s %12s %8s %10s\n' "fuzz-$name" "$execs" "$secs" $((execs / (secs > 0 ? secs : 1)))
done
exit $status
