"""Runs tests/clients/test-reconnect.c against a daemon that it stops and
starts again on the same socket whenever the program asks ("# daemon: stop",
"# daemon: kill", "# daemon: start" on its output; it waits for a line on
its input meanwhile), passing the program's TAP through."""

import os
import signal
import subprocess
import sys

from harness import Daemon


def main():
    program = os.environ["SDD_TEST_PROGRAM"]
    d = Daemon(args=["--device-idle-time", "0"], name="reconnect")
    try:
        d.start()
        env = dict(d.env)
        env["SDDAEMON_SOCKET"] = d.socket
        p = subprocess.Popen([program], env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        try:
            for raw in p.stdout:
                line = raw.decode(errors="replace")
                sys.stdout.write(line)
                sys.stdout.flush()
                if not line.startswith("# daemon: "):
                    continue
                what = line.split(":", 1)[1].strip()
                if what == "stop":
                    status = d.stop(signal.SIGTERM)
                    if status != 0:
                        print("Bail out! sddaemon exited with %r on SIGTERM" % status)
                        return 1
                elif what == "kill":
                    d.proc.kill()
                    d.proc.wait()
                    d.log.close()
                elif what == "start":
                    d.start()  # on the same socket (a killed daemon's stale one is replaced)
                p.stdin.write(b"done\n")
                p.stdin.flush()
            p.wait(timeout=120)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        if not d.alive() or d.stop() != 0:
            print("Bail out! sddaemon did not survive or stop cleanly:\n# "
                  + d.read_log().replace("\n", "\n# "))
            return 1
        return p.returncode
    finally:
        d.cleanup()


if __name__ == "__main__":
    sys.exit(main())
