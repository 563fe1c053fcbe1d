"""The sample daemon/sddaemon.conf that meson installs: every key the
daemon has, in the order of --check-config, commented out at its default,
so the file cannot drift from the daemon.  Uncommenting its keys changes
nothing, and the file is installed where the daemon looks for it."""

import json
import os
import subprocess
import sys
import tempfile

import harness
from harness import check, check_eq, run_tests

SOURCE_ROOT = os.environ.get("SDD_SOURCE_ROOT", os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD_ROOT = os.environ.get("SDD_BUILD_ROOT", "")
SAMPLE = os.path.join(SOURCE_ROOT, "daemon", "sddaemon.conf")


def check_config(path):
    p = subprocess.run([harness.SDDAEMON, "--config", path, "--check-config"], capture_output=True,
                       text=True, timeout=30)
    check_eq(p.returncode, 0, "sddaemon --check-config %s (%s)" % (path, p.stderr))
    return p.stdout


def sample_settings():
    """The sample's setting lines (commented out), in order."""
    with open(SAMPLE) as f:
        return [l.rstrip("\n") for l in f if l.startswith("#") and " = " in l]


def test_every_key_at_its_default():
    defaults = check_config("/dev/null").splitlines()
    check(len(defaults) >= 9, "--check-config prints every key: %r" % defaults)
    settings = sample_settings()
    # --check-config comments out the lists that are unset; the sample comments out all.
    check_eq(settings, ["#" + l.lstrip("#") for l in defaults],
             "the sample's keys, order and defaults are --check-config's")


def test_the_sample_is_a_valid_file_of_defaults():
    check_eq(check_config(SAMPLE), check_config("/dev/null"), "the sample as installed")
    # Uncommented (but for the lists that are unset by default), it still gives the defaults.
    unset = {l.split(" =")[0] for l in check_config("/dev/null").splitlines() if l.startswith("#")}
    with open(SAMPLE) as f:
        lines = [l[1:] if l.startswith("#") and " = " in l and l.split(" =")[0] not in unset else l
                 for l in f]
    with tempfile.NamedTemporaryFile("w", suffix=".conf", delete=False) as f:
        f.writelines(lines)
    try:
        check_eq(check_config(f.name), check_config("/dev/null"), "the sample uncommented")
    finally:
        os.unlink(f.name)


def test_installed_where_the_daemon_reads_it():
    with open(os.path.join(BUILD_ROOT, "meson-info", "intro-installed.json")) as f:
        installed = json.load(f)
    target = installed.get(os.path.abspath(SAMPLE)) or installed.get(SAMPLE)
    help_text = subprocess.run([harness.SDDAEMON, "--help"], capture_output=True, text=True).stdout
    check(target and target.endswith("/sddaemon/sddaemon.conf"), "installed: %r" % target)
    check(target in " ".join(help_text.split()), "--help names %s as the system file" % target)


if __name__ == "__main__":
    sys.exit(run_tests([test_every_key_at_its_default, test_the_sample_is_a_valid_file_of_defaults,
                        test_installed_where_the_daemon_reads_it]))
