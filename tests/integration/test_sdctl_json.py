"""sdctl --json: every command's output against the schema sdctl(1)
documents in its JSON OUTPUT section (parsed from man/sdctl.1.scd, so the
page and the program cannot drift apart).  integer and number are told
apart as JSON writes them (48000 is not 48000.0), members are all there
unless optional, and none is there that the page does not name."""

import json
import os
import re
import signal
import subprocess
import sys
import time
import wave

from harness import SDCTL, Daemon, Failure, check, check_eq, command, run_tests

D = None
SCHEMA = {}


# ---- the schema's notation ---------------------------------------------------------------

TOKEN = re.compile(r'\s*(?:(\{|\}|\[|\]|\||,|:|\?)|("[^"]*")|([a-z_]+))')


def tokens(text):
    pos, out = 0, []
    text = text.strip()
    while pos < len(text):
        m = TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise Failure("sdctl(1): cannot read the schema at %r" % text[pos:pos + 30])
        out.append(m.group(1) or m.group(2) or m.group(3))
        pos = m.end()
    return out


def parse_type(toks, i):
    """type := primary ('|' primary)*; returns (type, next index)."""
    alts = []
    while True:
        t, i = parse_primary(toks, i)
        alts.append(t)
        if i < len(toks) and toks[i] == "|":
            i += 1
            continue
        return (alts[0] if len(alts) == 1 else ("alt", alts)), i


def parse_primary(toks, i):
    tok = toks[i]
    if tok == "[":
        t, i = parse_type(toks, i + 1)
        check_eq(toks[i], "]", "sdctl(1) schema: a list ends with ]")
        return ("list", t), i + 1
    if tok == "{":
        members, i = {}, i + 1
        while toks[i] != "}":
            name = toks[i]
            check(name.startswith('"'), "sdctl(1) schema: a member name is quoted: %r" % name)
            i += 1
            optional = toks[i] == "?"
            i += optional
            check_eq(toks[i], ":", "sdctl(1) schema: ':' after %s" % name)
            t, i = parse_type(toks, i + 1)
            members[name.strip('"')] = (t, optional)
            if toks[i] == ",":
                i += 1
        return ("object", members), i + 1
    return ("name", tok), i + 1


def load_schema():
    root = os.environ.get("SDD_SOURCE_ROOT", os.path.join(os.path.dirname(__file__), "..", ".."))
    with open(os.path.join(root, "man", "sdctl.1.scd")) as f:
        page = f.read()
    section = page.split("# JSON OUTPUT", 1)[1].split("\n# ", 1)[0]
    block = section.split("```", 2)[1]
    # A definition starts at the line's start; continuation lines are indented.
    for definition in re.split(r"\n(?=[a-z_]+ = )", block.strip()):
        name, body = definition.split(" = ", 1)
        toks = tokens(body)
        t, i = parse_type(toks, 0)
        check_eq(i, len(toks), "sdctl(1) schema: all of %s's definition is read" % name)
        SCHEMA[name.strip()] = t


def validate(value, t, where):
    kind = t[0]
    if kind == "alt":
        errors = []
        for alt in t[1]:
            try:
                validate(value, alt, where)
                return
            except Failure as e:
                errors.append(str(e))
        raise Failure("%s: none of the alternatives fits: %s" % (where, "; ".join(errors)))
    if kind == "list":
        check(isinstance(value, list), "%s: a list, not %r" % (where, value))
        for n, v in enumerate(value):
            validate(v, t[1], "%s[%d]" % (where, n))
        return
    if kind == "object":
        check(isinstance(value, dict), "%s: an object, not %r" % (where, value))
        for name, (mt, optional) in t[1].items():
            if name in value:
                validate(value[name], mt, "%s.%s" % (where, name))
            else:
                check(optional, "%s: member %r is missing from %r" % (where, name, value))
        extra = set(value) - set(t[1])
        check(not extra, "%s: members the page does not name: %r" % (where, sorted(extra)))
        return
    name = t[1]
    if name == "string":
        check(isinstance(value, str), "%s: a string, not %r" % (where, value))
    elif name == "integer":
        check(isinstance(value, int) and not isinstance(value, bool),
              "%s: an integer, not %r" % (where, value))
    elif name == "number":
        check(isinstance(value, float), "%s: a number written with a fraction, not %r" % (where, value))
    elif name == "boolean":
        check(isinstance(value, bool), "%s: a boolean, not %r" % (where, value))
    else:
        check(name in SCHEMA, "%s: the page defines no type %r" % (where, name))
        validate(value, SCHEMA[name], where)


def check_output(out, typename, lines=None):
    """Every line of out is one JSON value of typename; returns them."""
    values = []
    for line in out.splitlines():
        try:
            values.append(json.loads(line))
        except ValueError:
            raise Failure("%s: not one JSON value per line: %r" % (typename, line))
    check(values, "%s: some output" % typename)
    if lines is not None:
        check_eq(len(values), lines, "%s: lines" % typename)
    for v in values:
        validate(v, SCHEMA[typename], typename)
    return values


def sdctl_json(*args, status=0):
    st, out, err = D.sdctl("--json", *args)
    check_eq(st, status, "sdctl --json %s exit status (stderr %r)" % (" ".join(args), err))
    return out


def write_wav(path, frames=4800, channels=2):
    with wave.open(path, "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(48000)
        w.writeframes(bytes(range(1, 201)) * (frames * channels * 2 // 200))


# ---- the tests ----------------------------------------------------------------------------


def test_every_command_has_a_schema():
    _, out, _ = D.sdctl("--help", check_status=0)
    names = re.findall(r"^  ([a-z]+) ", out.split("Commands:")[1].split("Options")[0], re.M)
    for name in names:
        # help prints text, run becomes another program: neither has JSON of its own.
        check(name in ("help", "run") or name in SCHEMA, "sdctl(1) documents %s's JSON" % name)
    for name in ("flags", "error", "stream_error"):
        check(name in SCHEMA, "sdctl(1) defines %s" % name)


def test_queries():
    check_output(sdctl_json("devices"), "devices", 1)
    check_output(sdctl_json("devices", "t_out"), "devices", 1)
    check_output(sdctl_json("devices", "--kind", "input"), "devices", 1)
    check_output(sdctl_json("hostapis"), "hostapis", 1)
    check_output(sdctl_json("hostapis", "0"), "hostapis", 1)
    check_output(sdctl_json("check", "-d", "t_out", "-c", "2", "-r", "48000"), "check", 1)
    check_output(sdctl_json("check", "--input", "-d", "t_in"), "check", 1)
    v = check_output(sdctl_json("version"), "version", 1)[0]
    check(isinstance(v["portaudio"]["version"], int), "the PortAudio version is an object")


def test_audio_commands():
    path = D.path("j.wav")
    write_wav(path)
    vals = check_output(sdctl_json("play", "-d", "t_out", "--exclusive", path, path), "play", 2)
    check_eq([v["frames_played"] for v in vals], [4800, 4800], "one line per file")
    check_output(sdctl_json("play", "--detach", "-d", "t_null", path), "play", 1)
    check_output(sdctl_json("rec", "-d", "t_in", "-r", "48000", "-t", "0.1", D.path("r.wav")),
                 "rec", 1)
    check_output(sdctl_json("playrec", "-d", "t_duplex", path, D.path("pr.wav")), "playrec", 1)
    check_output(sdctl_json("wire", "-d", "t_duplex", "-t", "0.1"), "wire", 1)
    vals = check_output(sdctl_json("meter", "-d", "t_in", "-r", "48000", "-t", "0.2"), "meter", 3)
    check_eq([v["final"] for v in vals], [False, False, True], "the last meter line is final")
    check_output(sdctl_json("volume", "all"), "volume", 1)
    check_output(sdctl_json("stop"), "stop", 1)


def test_status_and_top_while_a_stream_runs():
    path = D.path("loop.wav")
    write_wav(path)
    env = dict(D.env, SDDAEMON_SOCKET=D.socket)
    p = subprocess.Popen(command(SDCTL, "--json", "play", "--loop", "-d", "t_null", path), env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        conn = D.connect()
        deadline = time.time() + 20
        while conn.call("daemon_status")["streams"] == 0:
            check(time.time() < deadline, "the looping play runs")
            time.sleep(0.02)
        conn.close()
        st = check_output(sdctl_json("status"), "status", 1)[0]
        check(st["device_streams"], "a device stream is open: %r" % st)
        check_output(sdctl_json("top", "--once"), "top", 1)
    finally:
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=20)
    check_eq(p.returncode, 130, "the interrupted loop (stderr %r)" % err)
    check_output(out.decode(), "play", 1)


def test_errors_are_objects():
    for args, status, code in [
        (("paly",), 2, "usage"),
        (("play", "-t", "1", "x.wav"), 2, "usage"),
        (("play", "-d", "no such device", D.path("j.wav")), 1, "device_not_found"),
        (("play", D.path("missing.wav")), 1, "file_error"),
        (("rec", "-t", "0.1", D.path("x.mp3")), 1, "file_error"),
        (("check", "-d", "t_out", "-r", "3"), 1, "not_supported"),
        (("check", "-f", "float64"), 1, "invalid_param"),
        (("stop", "999999"), 1, "no_such_stream"),
        (("hostapis", "99"), 1, "invalid_param"),
        (("--socket", D.path("nowhere"), "status"), 1, "cannot_connect"),
    ]:
        e = check_output(sdctl_json(*args, status=status), "error", 1)[0]
        check_eq(e["error"]["code"], code, "sdctl --json %s" % " ".join(args))


if __name__ == "__main__":
    D = Daemon(args=["--device-idle-time", "0"], name="sdctl-json", input_seconds=30)
    try:
        load_schema()
        D.start()
        status = run_tests([test_every_command_has_a_schema, test_queries, test_audio_commands,
                            test_status_and_top_while_a_stream_runs, test_errors_are_objects], D)
    finally:
        D.cleanup()
    sys.exit(status)
