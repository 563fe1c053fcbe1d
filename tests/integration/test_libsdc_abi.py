"""libsdc's ABI: the symbols the built library exports (nm -D) are exactly
those of client/libsdc/libsdc.symbols, with their version and type, so that
no symbol appears, disappears or changes version by accident.  A deliberate
change updates the list (and, for a removal or a changed meaning, the
version node in libsdc.map and the soname)."""

import os
import subprocess
import sys

from harness import check, run_tests

LIBRARY = os.environ.get("SDD_LIBSDC", "")
LIST = os.path.join(os.environ.get("SDD_SOURCE_ROOT", ""), "client", "libsdc", "libsdc.symbols")


def exported():
    p = subprocess.run(["nm", "-D", "--defined-only", LIBRARY], capture_output=True, text=True,
                       timeout=60)
    check(p.returncode == 0, "nm -D %s: %s" % (LIBRARY, p.stderr))
    return {" ".join(line.split()[1:3]) for line in p.stdout.splitlines() if line.strip()}


def test_exported_symbols_match_the_list():
    with open(LIST) as f:
        listed = {l.strip() for l in f if l.strip() and not l.startswith("#")}
    got = exported()
    new, gone = sorted(got - listed), sorted(listed - got)
    check(not new and not gone,
          "libsdc's ABI changed: exported but not in libsdc.symbols: %r; listed but not "
          "exported: %r" % (new, gone))
    check(all(s.split()[1].startswith("sdc_") or s.split()[0] == "A" for s in got),
          "only sdc_ names (and the version node) are exported")


if __name__ == "__main__":
    sys.exit(run_tests([test_exported_symbols_match_the_list]))
