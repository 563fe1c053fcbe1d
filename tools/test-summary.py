#!/usr/bin/env python3
"""Prints the test results of a meson build as "N passed, N failed".

Test programs report in TAP, so every check they make counts; a test that
crashed or timed out before reporting counts as one failure.
"""

import json
import re
import sys

passed = failed = 0
with open(sys.argv[1]) as f:
    for line in f:
        test = json.loads(line)
        out = test.get("stdout") or ""
        oks = len(re.findall(r"^ok \d+", out, re.M))
        not_oks = len(re.findall(r"^not ok \d+", out, re.M))
        result = test.get("result")
        if result == "SKIP":
            continue
        if oks or not_oks:
            passed += oks
            failed += not_oks
            if result not in ("OK", "EXPECTEDFAIL") and not_oks == 0:
                failed += 1  # reported success case by case, then died
        elif result in ("OK", "EXPECTEDFAIL"):
            passed += 1
        else:
            failed += 1
print("%d passed, %d failed" % (passed, failed))
