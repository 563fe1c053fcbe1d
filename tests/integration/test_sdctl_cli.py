"""sdctl as a user meets it: per-command help (sdctl CMD --help, sdctl help
CMD), "did you mean", options checked per command, the live status line of
play, rec and playrec (present on a terminal and fitted to it, absent on a
pipe and with -q), the handles --detach and stop print, and messages with
hints (a missing daemon, a socket the user may not open, an unknown
device)."""

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import wave

from harness import SDCTL, Daemon, check, check_eq, run_tests
from terminal import check_fits, redraws, run_on_pty

D = None


def sdctl(*args, status=0):
    st, out, err = D.sdctl(*args)
    check_eq(st, status, "sdctl %s exit status (stderr %r)" % (" ".join(args), err))
    return out, err


def commands():
    """The commands sdctl --help lists."""
    out, _ = sdctl("--help")
    names = re.findall(r"^  ([a-z]+) ", out.split("Commands:")[1].split("Options")[0], re.M)
    check(len(names) >= 12, "sdctl --help lists the commands: %r" % names)
    return names


def write_wav(path, seconds=0.5, channels=2):
    with wave.open(path, "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(48000)
        w.writeframes(bytes(range(256)) * int(48000 * seconds * channels * 2 // 256))


# ---- help ------------------------------------------------------------------------------


def test_every_command_has_help():
    """sdctl CMD --help and sdctl help CMD print the same help, exit 0, with a
    usage line, a description and the options the command takes."""
    for name in commands():
        out, err = sdctl(name, "--help")
        check(out.startswith("Usage: sdctl %s " % name), "%s --help's usage line: %r" % (name, out))
        check("\nOptions:\n" in out and "--help" in out and "--json" in out,
              "%s --help lists its options" % name)
        check_eq(err, "", "nothing on stderr")
        out2, _ = sdctl("help", name)
        check_eq(out2, out, "sdctl help %s" % name)
        out3, _ = sdctl(name, "-h")
        check_eq(out3, out, "sdctl %s -h" % name)
        for line in out.splitlines():
            check(len(line) <= 79 and not line.endswith(" "),
                  "%s --help fits 80 columns: %r" % (name, line))
    out, _ = sdctl("help")
    check(out.startswith("Usage: sdctl "), "sdctl help is sdctl --help")


def test_options_are_checked_per_command():
    """An option another command takes is refused by name; rec's -t is not
    play's (play used to accept it and play on)."""
    _, err = sdctl("play", "-t", "1", "x.wav", status=2)
    check("-t is not an option of play" in err and "rec" in err, err)
    _, err = sdctl("devices", "--exclusive", status=2)
    check("--exclusive is not an option of devices" in err, err)
    _, err = sdctl("meter", "--detach", status=2)
    check("--detach is not an option of meter" in err and "play" in err, err)
    _, err = sdctl("rec", "--loop", "x.wav", status=2)
    check("--loop is not an option of rec" in err, err)
    out, err = sdctl("play", "--frobnicate", status=2)
    check("unknown option '--frobnicate'" in err and "Try 'sdctl play --help'" in err, err)
    check_eq(out, "", "nothing on stdout")
    _, err = sdctl("play", "-d", status=2)
    check("--device needs a value" in err, err)


def test_did_you_mean():
    _, err = sdctl("paly", "x.wav", status=2)
    check("unknown command 'paly'; did you mean 'play'?" in err, err)
    check(len(err.splitlines()) == 2, "two lines, not the whole help: %r" % err)
    _, err = sdctl("stauts", status=2)
    check("did you mean 'status'" in err, err)
    _, err = sdctl("device", status=2)
    check("did you mean 'devices'" in err, err)
    _, err = sdctl("play", "--lop", "x.wav", status=2)
    check("did you mean '--loop'?" in err, err)
    _, err = sdctl("rec", "--exlusive", "x.wav", status=2)
    check("did you mean '--exclusive'?" in err, err)
    _, err = sdctl("xyzzy", status=2)
    check("unknown command 'xyzzy'" in err and "did you mean" not in err, err)
    _, err = sdctl("help", "recc", status=2)
    check("did you mean 'rec'" in err, err)
    out, err = sdctl("--json", "paly", status=2)
    check_eq(json.loads(out)["error"]["code"], "usage", "a usage error with --json is an object too")


def test_man_page_examples_are_lines():
    """sdctl(1)'s EXAMPLES are one command a line (no-fill), not a run-on
    paragraph, and every command there parses (sdctl CMD --help accepts it)."""
    page = os.path.join(os.environ.get("SDD_BUILD_ROOT", ""), "man", "sdctl.1")
    if not os.path.exists(page):
        return  # scdoc is not installed: no page is built
    with open(page) as f:
        text = f.read()
    section = text.split(".SH EXAMPLES", 1)[1].split(".SH", 1)[0]
    check(".nf" in section, "EXAMPLES is preformatted: %r" % section[:200])
    lines = [l for l in section.splitlines() if l.startswith("sdctl ")]
    check(len(lines) >= 10, "one example a line: %r" % lines)
    names = commands()
    for line in lines:
        check(line.split()[1] in names or line.split()[1].startswith("-"),
              "an example of a real command: %r" % line)


# ---- the status line --------------------------------------------------------------------


def test_status_line_on_a_terminal_only():
    """play, rec and playrec draw the status line on a terminal (stderr),
    fitted to its width; on a pipe and with -q they draw nothing."""
    env = dict(D.env, SDDAEMON_SOCKET=D.socket)
    path = D.path("line.wav")
    write_wav(path)
    runs = {
        "play": [SDCTL, "play", "-d", "t_out", path],
        "rec": [SDCTL, "rec", "-d", "t_in", "-r", "48000", "-t", "0.5", D.path("line-rec.wav")],
        "playrec": [SDCTL, "playrec", "-d", "t_duplex", path, D.path("line-pr.wav")],
    }
    labels = {"play": "PLAY", "rec": "REC", "playrec": "PLAYREC"}
    for name, argv in runs.items():
        for cols in (40, 80, 120):
            status, text, out = run_on_pty(argv, env, cols=cols, on=("stderr",))
            check_eq(status, 0, "%s exit status (%r)" % (name, text))
            lines = redraws(text)
            check_fits(lines, cols, "%s at %d columns" % (name, cols))
            check(all(line.startswith(labels[name] + " ") for line in lines),
                  "%s's line starts with its label: %r" % (name, lines))
            check(re.search(r"\d:\d\d\.\d", lines[-1]), "%s shows the time: %r" % (name, lines[-1]))
            if cols >= 80:
                check(re.search(r"xruns \d+", lines[-1]), "%s shows the xruns: %r" % (name, lines[-1]))
            check(text.endswith("\r\n") or text.endswith("\n"), "the line is ended at exit")
            check_eq(out, b"", "nothing on stdout")
        # The last line of a sound of known length says 100 %.
        if name != "rec":
            status, text, _ = run_on_pty(argv, env, cols=100, on=("stderr",))
            check(re.search(r" / 0:00\.5 100%", redraws(text)[-1]), "%s ends at 100 %%: %r"
                  % (name, redraws(text)[-1]))
        status, text, _ = run_on_pty(argv[:2] + ["-q"] + argv[2:], env, cols=80, on=("stderr",))
        check_eq((status, text), (0, ""), "%s -q: nothing on the terminal" % name)
        p = subprocess.run(argv, env=env, capture_output=True, timeout=60)
        check_eq((p.returncode, p.stderr), (0, b""), "%s on a pipe: nothing on stderr" % name)


def test_rec_line_shows_levels():
    """rec's line carries a level bar per channel: the capture source is noise,
    so its peaks are high."""
    env = dict(D.env, SDDAEMON_SOCKET=D.socket)
    status, text, _ = run_on_pty([SDCTL, "rec", "-d", "t_in", "-r", "48000", "-c", "2", "-t",
                                  "0.5", D.path("levels.wav")], env, cols=100, on=("stderr",))
    check_eq(status, 0, "exit status")
    line = redraws(text)[-1]
    check(re.search(r"  1 \[#+\.*!?\] +(-?\d+\.\d| -inf)( CLIP)?  2 \[#+\.*!?\] +(-?\d+\.\d| -inf)",
                    line),
          "two channels with bars and peaks: %r" % line)


# ---- messages -----------------------------------------------------------------------------


def test_messages_with_hints():
    write_wav(D.path("hint.wav"))
    _, err = sdctl("play", "-d", "no such device", D.path("hint.wav"), status=1)
    lines = err.splitlines()
    check_eq(lines[0], "sdctl: No output device matching 'no such device'",
             "the device error without the file name in front")
    check("sdctl devices" in lines[1], "a hint to list the devices: %r" % err)
    _, err = sdctl("play", D.path("nothing.wav"), status=1)
    check_eq(err, "sdctl: cannot open '%s': No such file or directory\n" % D.path("nothing.wav"),
             "a missing file, in our words (not libsndfile's)")
    path = D.path("noise.wav")
    with open(path, "wb") as f:
        f.write(b"this is not a sound file at all" * 10)
    _, err = sdctl("play", path, status=1)
    check("is not a sound file" in err and "--raw" in err, err)


def test_socket_permission_hint():
    """A socket the user may not open: the hint is about its owner and group,
    not "is it running?".  (Run as root the test makes the socket unreadable to
    a user who is not in its group by dropping to nobody.)"""
    if os.geteuid() != 0:
        # Without root the test cannot make a socket another user owns.
        sock = D.path("locked")
        s = socket.socket(socket.AF_UNIX)
        s.bind(sock)
        s.listen(1)
        os.chmod(sock, 0)
        status, _, err = D.sdctl("--socket", sock, "devices")
        s.close()
        check_eq(status, 1, "exit status")
        check("Permission denied" in err and "group" in err, err)
        return
    # A folder everyone may enter (the daemon's own is private to root).
    folder = tempfile.mkdtemp(prefix="sdctl-cli-sock-")
    os.chmod(folder, 0o755)
    sock = os.path.join(folder, "socket")
    s = socket.socket(socket.AF_UNIX)
    s.bind(sock)
    s.listen(1)
    os.chmod(sock, 0o660)
    # sdctl and libsdc copied where nobody may run them (the tree may be under /root).
    libdir = os.path.join(os.path.dirname(os.path.abspath(SDCTL)), "..", "libsdc")
    for name in ["sdctl"] + [n for n in os.listdir(libdir) if n.startswith("libsdc.so")]:
        src = os.path.join(os.path.dirname(os.path.abspath(SDCTL)) if name == "sdctl" else libdir,
                           name)
        if os.path.isfile(src):
            shutil.copy(src, os.path.join(folder, name))
            os.chmod(os.path.join(folder, name), 0o755)
    env = dict(D.env, LD_LIBRARY_PATH=folder)
    env.pop("SDDAEMON_SOCKET", None)
    # A sanitizer build's options name files under the tree: nobody gets copies it may read,
    # and its reports on stderr (a log_path it could not write would stop it).
    for var in ("ASAN_OPTIONS", "LSAN_OPTIONS", "UBSAN_OPTIONS", "TSAN_OPTIONS"):
        if var in env:
            opts = []
            for opt in env[var].split(":"):
                key, _, value = opt.partition("=")
                if key == "suppressions" and os.path.isfile(value):
                    copy = os.path.join(folder, var + ".supp")
                    shutil.copy(value, copy)
                    os.chmod(copy, 0o644)
                    opt = "suppressions=" + copy
                if key != "log_path":
                    opts.append(opt)
            env[var] = ":".join(opts)
    p = subprocess.run([os.path.join(folder, "sdctl"), "--socket", sock, "devices"], env=env,
                       capture_output=True, cwd="/",
                       preexec_fn=lambda: (os.setgroups([]), os.setgid(65534), os.setuid(65534)),
                       timeout=30)
    s.close()
    shutil.rmtree(folder, ignore_errors=True)
    err = p.stderr.decode()
    check_eq(p.returncode, 1, "exit status")
    check("Permission denied" in err and "is it running" not in err, err)
    check("members of group 'root'" in err and "you are not in 'root'" in err,
          "the hint names the socket's group: %r" % err)


if __name__ == "__main__":
    D = Daemon(args=["--device-idle-time", "0"], name="sdctl-cli", input_seconds=30)
    try:
        D.start()
        status = run_tests([test_every_command_has_help, test_options_are_checked_per_command,
                            test_man_page_examples_are_lines,
                            test_did_you_mean, test_status_line_on_a_terminal_only,
                            test_rec_line_shows_levels,
                            test_messages_with_hints, test_socket_permission_hint], D)
    finally:
        D.cleanup()
    sys.exit(status)
