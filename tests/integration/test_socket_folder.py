"""The folder that holds the daemon's socket: the daemon uses it only when
no one else could replace what is in it, and removes at exit only the socket
it made.  Each test starts a daemon of its own on a path inside a temporary
folder; those that need another user run as root (chown to nobody) and are
skipped otherwise."""

import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile

from harness import SDDAEMON, Daemon, check, check_eq, command, run_tests, scaled

NOBODY = pwd.getpwnam("nobody").pw_uid


def refused(daemon, path, *words):
    """Starts sddaemon on path and checks that it refuses to serve: a non-zero
    exit, an error naming the folder and holding words, and no socket made.
    Returns the daemon's standard error."""
    p = subprocess.run(command(SDDAEMON, "--socket", path), env=daemon.env, capture_output=True,
                       timeout=scaled(30))
    err = p.stderr.decode(errors="replace")
    check(p.returncode != 0, "sddaemon served on %s; its log:\n%s" % (path, err))
    folder = os.path.dirname(path)
    check("Refusing the socket folder '%s'" % folder in err,
          "the error names the folder %s:\n%s" % (folder, err))
    for word in words:
        check(word in err, "the error says %r:\n%s" % (word, err))
    check(not os.path.lexists(path), "no socket was made at %s" % path)
    return err


def test_folder_of_another_user_is_refused():
    if os.geteuid() != 0:
        print("# skipped: needs root to give a folder to nobody")
        return
    d = Daemon(name="folder-owner")
    try:
        folder = os.path.join(d.dir, "sddaemon")
        os.mkdir(folder, 0o755)
        os.chown(folder, NOBODY, -1)
        refused(d, os.path.join(folder, "socket"), "belongs to uid %d" % NOBODY)
        check_eq(os.stat(folder).st_uid, NOBODY, "the folder is left as it was")
    finally:
        d.cleanup()


def test_symlinked_folder_is_refused():
    d = Daemon(name="folder-link")
    try:
        real = os.path.join(d.dir, "real")
        os.mkdir(real, 0o755)
        os.symlink(real, os.path.join(d.dir, "sddaemon"))
        refused(d, os.path.join(d.dir, "sddaemon", "socket"), "symbolic link")
        check_eq(os.listdir(real), [], "nothing was made behind the link")
    finally:
        d.cleanup()


def test_writable_folders_are_refused():
    d = Daemon(name="folder-mode")
    try:
        for mode in (0o777, 0o775, 0o1777):
            folder = os.path.join(d.dir, "f%o" % mode)
            os.mkdir(folder)
            os.chmod(folder, mode)
            refused(d, os.path.join(folder, "socket"), "mode %04o" % mode)
        # A folder above that others may write (and not sticky) could be swapped.
        public = os.path.join(d.dir, "public")
        os.mkdir(public)
        os.chmod(public, 0o777)
        path = os.path.join(public, "sddaemon", "socket")
        p = subprocess.run(command(SDDAEMON, "--socket", path), env=d.env, capture_output=True,
                           timeout=scaled(30))
        err = p.stderr.decode(errors="replace")
        check(p.returncode != 0 and "the folder above it" in err,
              "a folder under a world-writable one is refused:\n" + err)
        check(not os.path.lexists(path), "no socket there")
    finally:
        d.cleanup()


def test_own_folder_is_made_and_used():
    d = Daemon(name="folder-ok")
    try:
        # Under a sticky world-writable folder, as in /tmp, the folder is made.
        sticky = os.path.join(d.dir, "tmp")
        os.mkdir(sticky)
        os.chmod(sticky, 0o1777)
        d.socket = os.path.join(sticky, "sddaemon", "socket")
        d.start()
        st = os.stat(os.path.dirname(d.socket))
        check_eq(st.st_mode & 0o022, 0, "the folder is writable by its owner alone")
        check_eq(st.st_uid, os.geteuid(), "the folder's owner")
        check_eq(os.stat(d.socket).st_mode & 0o777, 0o660, "the socket's mode")
        check_eq(d.connect().call("ping"), {}, "it serves")
        check_eq(d.stop(), 0, "exit status")
        check(not os.path.lexists(d.socket), "its socket is removed at exit")
    finally:
        d.cleanup()


def test_only_its_own_socket_is_removed():
    """A socket put in place of the daemon's (here by root, who alone still
    can) is not the daemon's to remove at exit."""
    d = Daemon(name="folder-swap")
    try:
        d.socket = os.path.join(d.dir, "run", "socket")
        d.start()
        os.unlink(d.socket)
        other = socket.socket(socket.AF_UNIX)
        other.bind(d.socket)
        other.listen()
        check_eq(d.stop(), 0, "exit status")
        check(os.path.lexists(d.socket), "the other socket is left in place")
        check("no longer the socket sddaemon made" in d.read_log(),
              "the daemon says why it left it:\n" + d.read_log()[-2000:])
        other.close()
    finally:
        d.cleanup()


if __name__ == "__main__":
    sys.exit(run_tests([test_folder_of_another_user_is_refused, test_symlinked_folder_is_refused,
                        test_writable_folders_are_refused, test_own_folder_is_made_and_used,
                        test_only_its_own_socket_is_removed]))
