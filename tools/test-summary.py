#!/usr/bin/env python3
"""Prints the test results of one or more meson builds as "N passed, N failed".

Usage: test-summary.py [--reports DIR]... TESTLOG.json [TESTLOG.json ...]

Test programs report in TAP, so every check they make counts; a test that
crashed or timed out before reporting counts as one failure.  A log that is
missing (its build failed before any test ran) counts as one failure too,
and so does each file in each DIR, where the sanitizers (log_path) and
valgrind write their reports of errors: it is printed.  The totals are the
last line printed.
"""

import json
import os
import re
import sys


def count(path, failures):
    """Returns (passed, failed) for one testlog.json; appends a line for each
    test that failed, with the checks that failed, to failures."""
    passed = failed = 0
    with open(path) as f:
        for line in f:
            test = json.loads(line)
            out = test.get("stdout") or ""
            oks = len(re.findall(r"^ok \d+", out, re.M))
            not_oks = re.findall(r"^not ok \d+.*$", out, re.M)
            result = test.get("result")
            if result == "SKIP":
                continue
            if result not in ("OK", "EXPECTEDFAIL") or not_oks:
                failures.append("%s: %s %s (%s)" % (
                    path, test.get("name"), result,
                    "; ".join(c[:160] for c in not_oks[:5]) or "no check failed"))
            not_oks = len(not_oks)
            if oks or not_oks:
                passed += oks
                failed += not_oks
                if result not in ("OK", "EXPECTEDFAIL") and not_oks == 0:
                    failed += 1  # reported success case by case, then died
            elif result in ("OK", "EXPECTEDFAIL"):
                passed += 1
            else:
                failed += 1
    return passed, failed


def show_reports(folder):
    """Prints the error reports in folder; returns how many there are."""
    names = sorted(os.listdir(folder)) if os.path.isdir(folder) else []
    for name in names:
        path = os.path.join(folder, name)
        print("error report %s (counted as one failure):" % path)
        with open(path, errors="replace") as f:
            lines = f.read().splitlines()
        for line in lines[:80]:
            print("    " + line)
        if len(lines) > 80:
            print("    ... %d more lines" % (len(lines) - 80))
    return len(names)


def main(args):
    reports = []
    while args[:1] == ["--reports"] and len(args) >= 2:
        reports.append(args[1])
        args = args[2:]
    paths = args
    if not paths:
        print("usage: test-summary.py [--reports DIR]... TESTLOG.json [TESTLOG.json ...]",
              file=sys.stderr)
        return 2
    passed = failed = 0
    failures = []
    for folder in reports:
        failed += show_reports(folder)
    for path in paths:
        try:
            p, f = count(path, failures)
        except (OSError, ValueError) as e:
            print("%s: no test results (%s); counted as one failure" % (path, e))
            p, f = 0, 1
        else:
            if len(paths) > 1:
                # Worded unlike the last line, which is the one that counts.
                print("%s: %d ok, %d not ok" % (path, p, f))
        passed += p
        failed += f
    # The failed tests come last but one, where a log cut to its end shows them.
    for line in failures:
        print("failed: " + line)
    print("%d passed, %d failed" % (passed, failed))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
