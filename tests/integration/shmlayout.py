"""The shared-memory layout of protocol/shm.h, for the tests that map a
stream's memory (harness.py, faults_harness.py and the tests built on them).

The one Python copy of it: test_shm_layout.py checks every struct, member,
offset, size, type and constant here against what the C compiler makes of
shm.h (tests/helpers/shm-layout.c), and against the tables of
protocol/PROTOCOL.md.  Offsets are in bytes from the start of their struct;
the memory is little-endian (shm.h assumes it).

Python standard library only.
"""

from collections import namedtuple

Field = namedtuple("Field", "name offset size type")


class Struct:
    """One struct of shm.h: its size and its members (padding included), in order."""

    def __init__(self, name, size, fields):
        self.name = name
        self.size = size
        self.fields = [Field(*f) for f in fields]
        self.by_name = {f.name: f for f in self.fields}

    def offset(self, member):
        return self.by_name[member].offset


MAGIC = 0x53444453  # "SDDS" in little-endian memory
VERSION = 1
CACHELINE = 64
DATA_ALIGN = 4096  # ring data starts at a multiple of this

HEADER = Struct("shm_header", 768, [
    ("magic", 0, 4, "u32"),
    ("version", 4, 4, "u32"),
    ("header_bytes", 8, 4, "u32"),
    ("total_bytes", 12, 4, "u32"),
    ("handle", 16, 4, "u32"),
    ("samplerate", 20, 4, "u32"),
    ("pad0", 24, 40, "u8[40]"),
    ("state", 64, 4, "atomic u32"),
    ("flags", 68, 4, "atomic u32"),
    ("xrun_count", 72, 4, "atomic u32"),
    ("block_flags", 76, 4, "atomic u32"),
    ("frames_out", 80, 8, "atomic u64"),
    ("frames_in", 88, 8, "atomic u64"),
    ("dropped_in", 96, 8, "atomic u64"),
    ("silence_out", 104, 8, "atomic u64"),
    ("pending_flags", 112, 4, "atomic u32"),
    ("pad1", 116, 12, "u8[12]"),
    ("out", 128, 320, "struct shm_ring"),
    ("in", 448, 320, "struct shm_ring"),
])

RING = Struct("shm_ring", 320, [
    ("offset", 0, 4, "u32"),
    ("capacity", 4, 4, "u32"),
    ("frame_bytes", 8, 4, "u32"),
    ("channels", 12, 4, "u32"),
    ("dtype", 16, 4, "u32"),
    ("pad0", 20, 44, "u8[44]"),
    ("write_index", 64, 4, "atomic u32"),
    ("eof", 68, 4, "atomic u32"),
    ("pad1", 72, 56, "u8[56]"),
    ("read_index", 128, 4, "atomic u32"),
    ("pad2", 132, 60, "u8[60]"),
    ("waiting", 192, 4, "atomic u32"),
    ("wake_frames", 196, 4, "atomic u32"),
    ("abort", 200, 4, "atomic u32"),
    ("pad3", 204, 52, "u8[52]"),
    ("clock", 256, 64, "struct shm_clock"),
])

CLOCK = Struct("shm_clock", 64, [
    ("seq", 0, 4, "atomic u32"),
    ("reserved", 4, 4, "u32"),
    ("frame", 8, 8, "atomic u64"),
    ("time_bits", 16, 8, "atomic u64"),
    ("now_bits", 24, 8, "atomic u64"),
    ("rate_bits", 32, 8, "atomic u64"),
    ("pad", 40, 24, "u8[24]"),
])

STRUCTS = (HEADER, RING, CLOCK)

# enum shm_state, by value: shm_header.state.
STATES = ["prefill", "running", "draining", "finished", "failed"]

# sounddevice's CallbackFlags (PortAudio's values): shm_header.flags and friends.
FLAGS = {
    "input_underflow": 0x01,
    "input_overflow": 0x02,
    "output_underflow": 0x04,
    "output_overflow": 0x08,
    "priming_output": 0x10,
}

# enum sample_format, by value: shm_ring.dtype.
DTYPES = ["float32", "int32", "int24", "int16", "int8", "uint8"]
DTYPE_SIZE = {"float32": 4, "int32": 4, "int24": 3, "int16": 2, "int8": 1, "uint8": 1}

# Where the tests read and write, in bytes: the header's status line and
# rings from the start of the memory, a ring's members from the start of
# that ring.
HDR_STATE = HEADER.offset("state")
HDR_STATUS = ("state", "flags", "xrun_count", "block_flags", "frames_out", "frames_in",
              "dropped_in", "silence_out")
RING_OUT = HEADER.offset("out")
RING_IN = HEADER.offset("in")
R_WRITE = RING.offset("write_index")
R_EOF = RING.offset("eof")
R_READ = RING.offset("read_index")
R_WAITING = RING.offset("waiting")
R_WAKE = RING.offset("wake_frames")
R_ABORT = RING.offset("abort")


def read_field(words, dwords, base, field):
    """Reads a u32 or u64 member at base + field.offset through memoryviews of
    the memory as native 32- and 64-bit words (whole aligned loads)."""
    at = base + field.offset
    if field.size == 4:
        return words[at // 4]
    if field.size == 8:
        return dwords[at // 8]
    raise ValueError("%s is not a word" % field.name)


def read_status(words, dwords):
    """The header's status line: HDR_STATUS's members by name."""
    return {name: read_field(words, dwords, 0, HEADER.by_name[name]) for name in HDR_STATUS}
