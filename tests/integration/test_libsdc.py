"""Runs the C test programs of libsdc (tests/clients/) against a daemon with
virtual devices, passing their TAP through."""

import os
import subprocess
import sys

from harness import Daemon, command, scaled


def main():
    program = os.environ["SDD_TEST_PROGRAM"]
    with Daemon(name="libsdc", input_seconds=2) as d:
        env = dict(d.env)
        env["SDDAEMON_SOCKET"] = d.socket
        env["SDD_TEST_INPUT"] = os.path.join(d.dir, "in.raw")
        env["SDD_TEST_TAP"] = os.path.join(d.dir, "out.raw")
        p = subprocess.run(command(program), env=env, timeout=scaled(240))
        alive = d.alive()
        status = d.stop() if alive else None
        if not alive or status != 0:
            print("not ok - sddaemon survived and stopped cleanly (status %r)" % status)
            print("# " + d.read_log().replace("\n", "\n# "))
            return 1
        return p.returncode


if __name__ == "__main__":
    sys.exit(main())
