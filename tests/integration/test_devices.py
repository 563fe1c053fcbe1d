"""sdctl devices / hostapis / version / check against a daemon with virtual ALSA devices,
cross-checked with raw protocol queries."""

import json
import os
import sys

from harness import Daemon, check, check_eq, run_tests

D = None


def expected_listing(conn):
    """sounddevice's DeviceList text, computed from raw protocol replies."""
    devices = conn.call("query_devices")
    hostapis = conn.call("query_hostapis")
    idev, odev = conn.call("default_device")
    digits = len(str(len(devices) - 1))
    lines = []
    for idx, info in enumerate(devices):
        mark = (" ", ">", "<", "*")[(idx == idev) + 2 * (idx == odev)]
        lines.append("{mark} {idx:{dig}} {name}, {ha} ({ins} in, {outs} out)".format(
            mark=mark, idx=idx, dig=digits, name=info["name"],
            ha=hostapis[info["hostapi"]]["name"], ins=info["max_input_channels"],
            outs=info["max_output_channels"]))
    return "\n".join(lines) + "\n"


def test_list_text_matches_sounddevice_form():
    conn = D.connect()
    _, out, _ = D.sdctl("devices", check_status=0)
    check_eq(out, expected_listing(conn), "sdctl devices text")
    check("t_out, ALSA (" in out, "virtual devices are listed")
    conn.close()


def test_list_json_equals_protocol():
    conn = D.connect()
    _, out, _ = D.sdctl("devices", "--json", check_status=0)
    check_eq(json.loads(out), conn.call("query_devices"), "sdctl devices --json")
    _, out2, _ = D.sdctl("--json", "devices", check_status=0)
    check_eq(out2, out, "--json before the command")
    conn.close()


def test_device_dict_keys():
    conn = D.connect()
    devices = conn.call("query_devices")
    # sounddevice's keys, and the daemon's stable id and presence (test_hotplug.py).
    keys = {"index", "name", "hostapi", "max_input_channels", "max_output_channels",
            "default_low_input_latency", "default_low_output_latency",
            "default_high_input_latency", "default_high_output_latency", "default_samplerate",
            "stable_id", "present"}
    check(len(devices) >= 5, "at least the five virtual devices")
    for i, dev in enumerate(devices):
        check_eq(set(dev), keys, "keys of device %d" % i)
        check_eq(dev["index"], i, "index")
    apis = conn.call("query_hostapis")
    for api in apis:
        check_eq(set(api), {"name", "devices", "default_input_device", "default_output_device"},
                 "host API keys")
    check_eq(conn.call("query_hostapis", index=0), apis[0], "one host API")
    err = conn.error("query_hostapis", index=99)
    check_eq(err["code"], "invalid_param", "host API out of range")
    conn.close()


def index_of(conn, name):
    return [d["name"] for d in conn.call("query_devices")].index(name)


def test_query_by_id_and_string():
    conn = D.connect()
    i = index_of(conn, "t_out2")
    check_eq(conn.call("query_devices", device=i)["name"], "t_out2", "by id")
    check_eq(conn.call("query_devices", device="T_OUT2")["index"], i, "by exact name, any case")
    check_eq(conn.call("query_devices", device="out2 alsa")["index"], i, "substrings in order")
    # "t_out" is a substring of t_out and t_out2, but an exact name wins.
    check_eq(conn.call("query_devices", device="t_out")["name"], "t_out", "exact name wins")
    err = conn.error("query_devices", device="alsa out2")
    check_eq(err["code"], "device_not_found", "substrings out of order")
    err = conn.error("query_devices", device="t_")
    check_eq(err["code"], "device_ambiguous", "ambiguous query")
    check("[%d] t_out2, ALSA" % i in err["message"], "candidates listed as [id] name, hostapi")
    check(i in err["candidates"], "candidate ids in the error")
    err = conn.error("query_devices", device=9999)
    check_eq(err["code"], "device_not_found", "id out of range")
    err = conn.error("query_devices", device=-1)
    check_eq(err["code"], "invalid_param", "negative id")
    err = conn.error("query_devices", device=1.5)
    check_eq(err["code"], "invalid_param", "non-integer id")
    err = conn.error("query_devices", kind="sideways")
    check_eq(err["code"], "invalid_param", "bad kind")

    _, out, _ = D.sdctl("devices", str(i), check_status=0)
    check("name: t_out2\n" in out and "index: %d\n" % i in out, "sdctl devices ID")
    _, out, _ = D.sdctl("devices", "out2", check_status=0)
    check("name: t_out2\n" in out, "sdctl devices QUERY")
    status, _, err_text = D.sdctl("devices", "t_")
    check_eq(status, 1, "ambiguous exit status")
    check("Multiple input/output devices found for 't_'" in err_text, "ambiguous message")
    status, _, err_text = D.sdctl("devices", "no-such-thing")
    check_eq(status, 1, "no match exit status")
    check("No input/output device matching 'no-such-thing'" in err_text, err_text)
    conn.close()


def test_kind_filter_and_defaults():
    conn = D.connect()
    idev, odev = conn.call("default_device")
    check_eq(conn.call("query_devices", kind="input")["index"], idev, "default input")
    check_eq(conn.call("query_devices", kind="output")["index"], odev, "default output")
    # t_in has input channels only because its infile exists; kind filters candidates.
    i = index_of(conn, "t_in")
    check_eq(conn.call("query_devices", device="t_in", kind="input")["index"], i, "kind input")
    _, out, _ = D.sdctl("devices", "--kind", "input", "--json", check_status=0)
    check_eq(json.loads(out)["index"], idev, "sdctl --kind input")
    # A pair [input, output]: the half of the kind asked for; without a kind it
    # must name one device, as sounddevice's "Input and output device are different".
    o = index_of(conn, "t_out")
    check_eq(conn.call("query_devices", device=["t_in", "t_out"], kind="output")["index"], o,
             "the output half of a pair")
    check_eq(conn.call("query_devices", device=["t_in", "t_out"], kind="input")["index"], i,
             "the input half of a pair")
    check_eq(conn.call("query_devices", device=["t_out", "t_out"])["index"], o,
             "a pair of one device without a kind")
    err = conn.error("query_devices", device=["t_in", "t_out"])
    check_eq((err["code"], err["message"]),
             ("invalid_param", 'Input and output device are different: ["t_in","t_out"]'),
             "a pair of two devices without a kind")
    conn.close()


def test_check_settings():
    conn = D.connect()
    o = index_of(conn, "t_out")
    res = conn.call("check_output_settings", device="t_out", channels=2, dtype="int16",
                    samplerate=48000)
    check_eq(res, {"device": o, "channels": 2, "dtype": "int16", "samplerate": 48000.0}, "resolved")
    res = conn.call("check_input_settings", device="t_in", channels=1, samplerate=44100)
    check_eq(res["dtype"], "float32", "default dtype")
    err = conn.error("check_output_settings", device="t_out", samplerate=3)
    check_eq(err["code"], "not_supported", "bad rate")
    check_eq(err["pa_error"], -9997, "PortAudio's paInvalidSampleRate")
    check_eq(err["pa_error_text"], "Invalid sample rate", "PortAudio's text")
    check("3 Hz" in err["message"], "message names the rate")
    err = conn.error("check_output_settings", device="t_out", channels=1000)
    check_eq(err["code"], "not_supported", "too many channels")
    check_eq(err["pa_error"], -9998, "paInvalidChannelCount")
    err = conn.error("check_output_settings", device="t_out", dtype="float64")
    check_eq(err["code"], "invalid_param", "float64 not on the wire")
    err = conn.error("check_output_settings", device="t_out", dtype="complex")
    check_eq(err["code"], "invalid_param", "unknown dtype")
    err = conn.error("check_output_settings", device="t_out", channels=0)
    check_eq(err["code"], "invalid_param", "zero channels")
    err = conn.error("check_output_settings", device="t_out", rate=48000)
    check_eq(err["code"], "invalid_param", "unknown parameter name")

    _, out, _ = D.sdctl("check", "-d", "t_out", "-c", "2", "-r", "48000", "-f", "int24",
                        check_status=0)
    check_eq(out, "supported: output device %d, 2 channels, int24, 48000 Hz\n" % o, "sdctl check")
    status, out, err_text = D.sdctl("check", "-d", "t_out", "-r", "3", "--json")
    check_eq(status, 1, "unsupported exit status")
    check_eq(json.loads(out)["error"]["code"], "not_supported", "JSON error")
    check("Invalid sample rate" in err_text, "sdctl prints PortAudio's reason")
    status, _, _ = D.sdctl("check", "-c", "zero")
    check_eq(status, 2, "usage error exit status")
    conn.close()


def test_version():
    conn = D.connect()
    version = conn.call("get_portaudio_version")
    check(isinstance(version[0], int) and version[0] >= 1246720, "PortAudio version number")
    check(version[1].startswith("PortAudio V19"), "PortAudio version text")
    hello = conn.call("hello", protocol=1, client="test")
    check_eq(hello["protocol"], 1, "protocol")
    check_eq(hello["portaudio"], version, "hello carries the PortAudio version")
    check_eq(hello["max_line"], 65536, "hello tells the line limit")
    _, out, _ = D.sdctl("version", check_status=0)
    check(("sddaemon %s (protocol 1)" % hello["version"]) in out, out)
    check(version[1] in out, "PortAudio text in sdctl version")
    _, out, _ = D.sdctl("version", "--json", check_status=0)
    check_eq(json.loads(out)["portaudio"], {"version": version[0], "text": version[1]},
             "sdctl version --json")
    conn.close()


def hostapi_line(index, api):
    """sdctl hostapis' line for one host API, computed from the protocol's object."""
    devices = " (%s)" % " ".join(str(d) for d in api["devices"]) if api["devices"] else ""
    return "%2d %s: %d device%s%s, default input %d, default output %d\n" % (
        index, api["name"], len(api["devices"]), "" if len(api["devices"]) == 1 else "s",
        devices, api["default_input_device"], api["default_output_device"])


def test_hostapis():
    conn = D.connect()
    apis = conn.call("query_hostapis")
    devices = conn.call("query_devices")
    # Every device is in the list of its host API, and in no other.
    for i, api in enumerate(apis):
        check_eq(api["devices"], [d["index"] for d in devices if d["hostapi"] == i],
                 "the devices of host API %d (%s)" % (i, api["name"]))
        for kind in ("default_input_device", "default_output_device"):
            check(api[kind] == -1 or api[kind] in api["devices"],
                  "%s's %s is one of its devices" % (api["name"], kind))
    alsa = [api for api in apis if api["name"] == "ALSA"]
    check_eq(len(alsa), 1, "one ALSA host API")
    names = {d["name"] for d in devices if d["index"] in alsa[0]["devices"]}
    check(names >= {"t_null", "t_out", "t_out2", "t_in", "t_duplex"}, "ALSA has the virtual devices")

    _, out, _ = D.sdctl("hostapis", check_status=0)
    check_eq(out, "".join(hostapi_line(i, api) for i, api in enumerate(apis)), "sdctl hostapis")
    _, out, _ = D.sdctl("hostapis", "--json", check_status=0)
    check_eq(json.loads(out), apis, "sdctl hostapis --json")
    last = len(apis) - 1
    _, out, _ = D.sdctl("hostapis", str(last), check_status=0)
    check_eq(out, hostapi_line(last, apis[last]), "sdctl hostapis INDEX")
    _, out, _ = D.sdctl("hostapis", str(last), "--json", check_status=0)
    check_eq(json.loads(out), conn.call("query_hostapis", index=last), "sdctl hostapis INDEX --json")
    status, out, err = D.sdctl("hostapis", str(len(apis)))
    check_eq((status, out), (1, ""), "sdctl hostapis with an index out of range")
    check("No host API with index %d" % len(apis) in err, err)
    conn.close()


def test_no_daemon_error():
    path = os.path.join(D.dir, "nothing-here")
    status, out, err = D.sdctl("--socket", path, "devices")
    check_eq(status, 1, "exit status without a daemon")
    lines = err.splitlines()
    check_eq(lines[0], "sdctl: cannot connect to sddaemon at %s: No such file or directory; "
             "is it running?" % path, "message")
    check(len(lines) == 2 and "sddaemon &" in lines[1] and "systemctl --user" in lines[1],
          "a hint how to start it: %r" % err)
    check_eq(out, "", "nothing on stdout")
    status, out, err = D.sdctl("--socket", path, "--json", "devices")
    check_eq(status, 1, "exit status without a daemon, --json")
    check_eq(json.loads(out)["error"]["code"], "cannot_connect", "--json: the error object")


if __name__ == "__main__":
    with Daemon(name="devices") as D:
        status = run_tests([test_list_text_matches_sounddevice_form, test_list_json_equals_protocol,
                            test_device_dict_keys, test_query_by_id_and_string,
                            test_kind_filter_and_defaults, test_check_settings, test_version,
                            test_hostapis, test_no_daemon_error], D)
    sys.exit(status)
