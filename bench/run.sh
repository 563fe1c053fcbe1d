#!/bin/sh
# Builds sddaemon with its benchmark programs in build-bench/ and runs every
# benchmark (bench/run.py); arguments go to run.py (--quick, --only, --json …).
set -e
root=$(cd "$(dirname "$0")/.." && pwd)
build="$root/build-bench"
if [ ! -f "$build/build.ninja" ]; then
	meson setup "$build" "$root" -Dbench=true -Dtests=false -Dman=disabled -Dsystemd=disabled >/dev/null
fi
meson configure "$build" -Dbench=true >/dev/null
ninja -C "$build" >/dev/null
exec python3 "$root/bench/run.py" --build "$build" "$@"
