"""The shared-memory layout has one definition, protocol/shm.h, and two
copies that must not drift from it: the tests' shmlayout.py and the
byte-offset tables of protocol/PROTOCOL.md.  Both are checked here, member
by member, against what the C compiler makes of shm.h (the output of
tests/helpers/shm-layout.c, named by $SDD_SHM_LAYOUT)."""

import os
import re
import subprocess
import sys

import shmlayout
from harness import Failure, check, check_eq, run_tests

PROTOCOL_MD = os.environ.get("SDD_PROTOCOL_MD", os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..", "protocol", "PROTOCOL.md"))
SECTION = "### The shared memory, byte by byte"


class CLayout:
    """The output of shm-layout: structs with their members, constants, dtypes."""

    def __init__(self, text):
        self.sizes = {}      # struct name -> bytes
        self.fields = {}     # struct name -> [(member, offset, size, type)] in order
        self.consts = {}     # C name -> value
        self.dtypes = []     # (name, value, sample bytes) by value
        for line in text.splitlines():
            rec = line.split("\t")
            if rec[0] == "struct":
                self.sizes[rec[1]] = int(rec[2])
                self.fields[rec[1]] = []
            elif rec[0] == "field":
                self.fields[rec[1]].append((rec[2], int(rec[3]), int(rec[4]), rec[5]))
            elif rec[0] == "const":
                self.consts[rec[1]] = int(rec[2])
            elif rec[0] == "dtype":
                self.dtypes.append((rec[1], int(rec[2]), int(rec[3])))
            else:
                raise ValueError("unexpected line from shm-layout: %r" % line)


def c_layout():
    p = subprocess.run([os.environ["SDD_SHM_LAYOUT"]], capture_output=True, check=True,
                       timeout=30)
    return CLayout(p.stdout.decode())


C = None


def test_c_members_tile_each_struct():
    # shm-layout lists members by hand: a member of shm.h it leaves out shows
    # as a gap (or an overlap), so the listing is known to be complete.
    check_eq(sorted(C.sizes), ["shm_clock", "shm_header", "shm_ring"], "structs")
    for name, fields in C.fields.items():
        at = 0
        for member, offset, size, _ in fields:
            check_eq(offset, at, "%s.%s starts where the member before it ends" % (name, member))
            at = offset + size
        check_eq(at, C.sizes[name], "the members of %s fill it to its size" % name)
    check_eq(C.sizes["shm_header"], 12 * C.consts["SHM_CACHELINE"], "header size")


def test_python_module_matches_c():
    for struct in shmlayout.STRUCTS:
        check(struct.name in C.sizes, "%s is a struct of shm.h" % struct.name)
        check_eq(struct.size, C.sizes[struct.name], "sizeof(struct %s)" % struct.name)
        check_eq([tuple(f) for f in struct.fields], C.fields[struct.name],
                 "members of struct %s (name, offset, size, type)" % struct.name)
    check_eq(sorted(s.name for s in shmlayout.STRUCTS), sorted(C.sizes), "every struct is there")
    check_eq(shmlayout.MAGIC, C.consts["SHM_MAGIC"], "magic")
    check_eq(shmlayout.VERSION, C.consts["SHM_VERSION"], "version")
    check_eq(shmlayout.CACHELINE, C.consts["SHM_CACHELINE"], "cache line")
    check_eq(shmlayout.DATA_ALIGN, C.consts["SHM_DATA_ALIGN"], "data alignment")
    states = {k: v for k, v in C.consts.items() if k.startswith("SHM_STATE_")}
    check_eq({"SHM_STATE_" + name.upper(): value for value, name in enumerate(shmlayout.STATES)},
             states, "states")
    flags = {k: v for k, v in C.consts.items()
             if k.startswith("SHM_") and k.endswith(("FLOW", "OUTPUT"))}
    check_eq({"SHM_" + name.upper(): value for name, value in shmlayout.FLAGS.items()}, flags,
             "callback flags")
    check_eq([(name, value, shmlayout.DTYPE_SIZE[name]) for value, name in
              enumerate(shmlayout.DTYPES)], C.dtypes, "sample formats (dtype, value, bytes)")
    check_eq(sorted(shmlayout.DTYPE_SIZE), sorted(shmlayout.DTYPES), "a size for every dtype")


def test_python_offsets_the_harness_uses():
    # The names the stream clients of harness.py and faults_harness.py use.
    header = dict((m, (o, s)) for m, o, s, _ in C.fields["shm_header"])
    ring = dict((m, (o, s)) for m, o, s, _ in C.fields["shm_ring"])
    for name, member, table in (("HDR_STATE", "state", header), ("RING_OUT", "out", header),
                                ("RING_IN", "in", header), ("R_WRITE", "write_index", ring),
                                ("R_EOF", "eof", ring), ("R_READ", "read_index", ring),
                                ("R_WAITING", "waiting", ring), ("R_WAKE", "wake_frames", ring),
                                ("R_ABORT", "abort", ring)):
        check_eq(getattr(shmlayout, name), table[member][0], "shmlayout.%s" % name)
    for member in shmlayout.HDR_STATUS:
        check(header[member][1] in (4, 8), "status member %s is a word" % member)


def markdown_tables(text):
    """The tables of a Markdown text: [(heading above it, header cells, rows of
    cells)], cells stripped of spaces and backticks, the rule row left out."""
    tables, heading, header, rows = [], None, None, None
    for line in text.splitlines() + [""]:
        if line.startswith("|"):
            cells = [c.strip().strip("`") for c in line.strip().strip("|").split("|")]
            if header is None:
                header, rows = cells, []
            elif not all(re.fullmatch(r":?-+:?", c) for c in cells):
                rows.append(cells)
            continue
        if header is not None:
            tables.append((heading, header, rows))
            header = rows = None
        if line.startswith("#"):
            heading = line
    return tables


def protocol_section():
    with open(PROTOCOL_MD, encoding="utf-8") as f:
        text = f.read()
    check(SECTION in text, "PROTOCOL.md has the section %r" % SECTION)
    start = text.index(SECTION)
    end = text.find("\n### ", start + len(SECTION))
    return text[start:end if end >= 0 else len(text)]


def check_tables(section):
    """Checks the tables of PROTOCOL.md's layout section against C's layout."""
    structs, consts, dtypes = {}, None, None
    for heading, header, rows in markdown_tables(section):
        m = re.match(r"#### `struct (\w+)` \((\d+) bytes", heading or "")
        if m and header == ["offset", "size", "type", "field", "written by", "meaning"]:
            structs[m.group(1)] = (int(m.group(2)), rows)
        elif header == ["name", "value", "meaning"]:
            consts = rows
        elif header == ["value", "dtype", "bytes per sample"]:
            dtypes = rows
    check_eq(sorted(structs), sorted(C.sizes), "the structs PROTOCOL.md has a table of")
    for name, (size, rows) in structs.items():
        check_eq(size, C.sizes[name], "PROTOCOL.md: sizeof(struct %s)" % name)
        check_eq([(r[3], int(r[0]), int(r[1]), r[2]) for r in rows], C.fields[name],
                 "PROTOCOL.md's rows of struct %s (field, offset, size, type)" % name)
        check(all(len(r) == 6 and r[4] for r in rows),
              "every row of struct %s says who writes it" % name)
    check(consts is not None, "PROTOCOL.md has a table of constants")
    check_eq({r[0]: int(r[1], 0) for r in consts}, C.consts, "PROTOCOL.md's constants")
    check(dtypes is not None, "PROTOCOL.md has a table of dtype values")
    check_eq([(r[1], int(r[0]), int(r[2])) for r in dtypes], C.dtypes,
             "PROTOCOL.md's dtype values (dtype, value, bytes)")


def test_protocol_md_tables_match_c():
    check_tables(protocol_section())


def test_a_wrong_row_in_protocol_md_is_seen():
    # The check must read the tables it claims to check: a moved member, a
    # changed constant or a missing row each fail it.
    section = protocol_section()
    for old, new in (("| 196 | 4 | atomic u32 | `wake_frames` |",
                      "| 198 | 4 | atomic u32 | `wake_frames` |"),
                     ("| `SHM_VERSION` | 1 |", "| `SHM_VERSION` | 2 |"),
                     ("| 2 | `int24` | 3 |\n", "")):
        wrong = section.replace(old, new)
        check(wrong != section, "%r is in PROTOCOL.md" % old)
        try:
            check_tables(wrong)
        except Failure:
            continue
        raise Failure("the check passed PROTOCOL.md with %r instead of %r" % (new, old))


if __name__ == "__main__":
    C = c_layout()
    sys.exit(run_tests([test_c_members_tile_each_struct, test_python_module_matches_c,
                        test_python_offsets_the_harness_uses, test_protocol_md_tables_match_c,
                        test_a_wrong_row_in_protocol_md_is_seen]))
