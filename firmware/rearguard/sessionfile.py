# The session file format, shared by the clip (MicroPython: the recorder writes
# it, the store checks it at boot) and the desktop tool (CPython imports
# `rearguard.sessionfile`). docs/formats.md is the spec; this is its one code home.
#
#     blob = encode(summary_values, [(t_ms, kind, level)], "0.1.0", "esp32_devkitc")
#     summary, firmware, board, events = decode(blob)     # or SessionFileError
#     session_id, crc = check(blob)                        # cheap: magic and CRC only
#     track_size(blob)                                     # bytes of its track file
#
# One finished session = one file: header, summary fields, two short strings,
# the event log, CRC-32 of everything before it. Little-endian. Version 2.
# The run's track (1 Hz samples) is a file of its own, appended while the run
# goes on; the summary holds its length and CRC-32, and the host receives it
# right after the session file (docs/formats.md).
import binascii
import struct

MAGIC = b"RGS"
FORMAT = 2  # 2: the track fields (the host reads 1 too: host_tools/track.py)

FLAG_RECOVERED = 1  # rebuilt at boot from the last checkpoint after a power cut/reset
FLAG_CLOCK_KNOWN = 2  # start_unix_s is real time (the host had set the clock)
FLAG_LOW_STORAGE = 4  # flash was full at some point during the session
FLAG_CHECKPOINT = 8  # a running session's checkpoint, not a finished session

# The summary's fields: name and struct code, in file order; append only.
# docs/formats.md says what each one means and in which unit (on the clip
# every string costs RAM: this is one).
SUMMARY_LAYOUT = """
session_id I
flags B
boot H
start_unix_s I
start_uptime_ms I
duration_ms I
moving_ms I
steps I
cadence_spm H
distance_mm I
alerts_caution H
alerts_warning H
alerts_stop H
closest_mm i
min_ttc_ms i
stumbles H
falls H
blind_ms I
too_fast_ms I
valid_range_pm H
battery_start_mv H
battery_end_mv H
profile_version H
profile_edits H
events_dropped H
track_bytes I
track_crc I
"""


def summary_fields():
    """[(name, struct code)] in file order (the host's view of SUMMARY_LAYOUT)."""
    return [tuple(line.split()) for line in SUMMARY_LAYOUT.split("\n") if line]


def summary_names():
    return tuple(field[0] for field in summary_fields())


_HEAD = "<3sB"
_SUMMARY = "<" + "".join(line[-1] for line in SUMMARY_LAYOUT.split("\n") if line)
_EVENT = "<IBB"  # t_ms since session start, kind, level
_HEAD_SIZE = struct.calcsize(_HEAD)
_SUMMARY_SIZE = struct.calcsize(_SUMMARY)
_EVENT_SIZE = struct.calcsize(_EVENT)
_FLAGS_OFFSET = _HEAD_SIZE + 4  # the flags byte follows the u32 session_id
_TRACK_OFFSET = _HEAD_SIZE + _SUMMARY_SIZE - 8  # track_bytes: the last fields but one
_NAME_MAX = 40
MAX_EVENTS = 128  # what the device keeps; the decoder accepts up to this


class SessionFileError(ValueError):
    """A session file that must not be trusted (truncated, corrupt, foreign)."""


def crc32(data, crc=0):
    """CRC-32 as zlib computes it (the ESP32 port has binascii.crc32)."""
    return binascii.crc32(data, crc) & 0xFFFFFFFF


def _put_text(out, text):
    raw = text.encode()[:_NAME_MAX]
    out.append(len(raw))
    out.extend(raw)


def encode(summary, events, firmware, board):
    """Bytes of a session file. `summary`: values in SUMMARY_LAYOUT order;
    `events`: (t_ms, kind, level) triples."""
    out = bytearray(struct.pack(_HEAD, MAGIC, FORMAT))
    out.extend(struct.pack(_SUMMARY, *summary))
    _put_text(out, firmware)
    _put_text(out, board)
    n = min(len(events), MAX_EVENTS)
    out.extend(struct.pack("<H", n))
    for i in range(n):
        t_ms, kind, level = events[i]
        out.extend(struct.pack(_EVENT, t_ms, kind, level))
    out.extend(struct.pack("<I", crc32(out)))
    return out


def _get_text(blob, at):
    if at >= len(blob):
        raise SessionFileError("session file truncated")
    n = blob[at]
    text = bytes(blob[at + 1 : at + 1 + n])
    if len(text) != n:
        raise SessionFileError("session file truncated")
    for b in text:
        if b < 32 or b > 126:
            raise SessionFileError("session file has a non-printable name")
    return text.decode(), at + 1 + n


def check(blob):
    """(session_id, crc) of an intact session file, else SessionFileError.
    Cheap: magic and CRC only (the store's boot scan, sync reads)."""
    size = len(blob)
    if size < _HEAD_SIZE + _SUMMARY_SIZE + 8 or bytes(blob[:3]) != MAGIC:
        raise SessionFileError("not a session file")
    (stored,) = struct.unpack_from("<I", blob, size - 4)
    if stored != crc32(bytes(blob[: size - 4])):
        raise SessionFileError("session file checksum mismatch")
    (session_id,) = struct.unpack_from("<I", blob, _HEAD_SIZE)
    return session_id, stored


def track_size(blob):
    """track_bytes of a session file (0 before format 2: no track)."""
    return struct.unpack_from("<I", blob, _TRACK_OFFSET)[0] if blob[3] == FORMAT else 0


def decode(blob):
    """(summary dict, firmware, board, [(t_ms, kind, level)]) or SessionFileError."""
    check(blob)
    size = len(blob)
    version = blob[3]
    if version != FORMAT:
        raise SessionFileError("session format v%d is not v%d: update the tool" % (version, FORMAT))
    summary = dict(zip(summary_names(), struct.unpack_from(_SUMMARY, blob, _HEAD_SIZE)))
    at = _HEAD_SIZE + _SUMMARY_SIZE
    firmware, at = _get_text(blob, at)
    board, at = _get_text(blob, at)
    if at + 2 > size - 4:
        raise SessionFileError("session file truncated")
    (n,) = struct.unpack_from("<H", blob, at)
    at += 2
    if n > MAX_EVENTS or at + n * _EVENT_SIZE != size - 4:
        raise SessionFileError("session file event log is inconsistent")
    events = []
    for _ in range(n):
        events.append(struct.unpack_from(_EVENT, blob, at))
        at += _EVENT_SIZE
    return summary, firmware, board, events


def restamp(blob, set_flags, clear_flags=0):
    """A copy of a session file with flag bits changed and the CRC redone
    (a checkpoint becomes a recovered session without decoding it)."""
    out = bytearray(blob)
    out[_FLAGS_OFFSET] = (out[_FLAGS_OFFSET] | set_flags) & ~clear_flags & 0xFF
    struct.pack_into("<I", out, len(out) - 4, crc32(bytes(out[: len(out) - 4])))
    return out
