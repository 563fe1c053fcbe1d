"""Runs the C test programs of libsdc (tests/clients/) against a daemon with
virtual devices, passing their TAP through."""

import os
import sys

from harness import Daemon, run_client_program


def main():
    program = os.environ["SDD_TEST_PROGRAM"]
    with Daemon(name="libsdc", input_seconds=2) as d:
        env = dict(d.env)
        env["SDDAEMON_SOCKET"] = d.socket
        env["SDD_TEST_INPUT"] = os.path.join(d.dir, "in.raw")
        env["SDD_TEST_TAP"] = os.path.join(d.dir, "out.raw")
        return run_client_program(d, program, env)


if __name__ == "__main__":
    sys.exit(main())
