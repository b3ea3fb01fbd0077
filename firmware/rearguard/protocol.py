# The sync link's frame codec and the session file format, shared by the clip
# (MicroPython) and the desktop tool (CPython imports `rearguard.protocol`).
# docs/protocol.md and docs/formats.md are the specs; this is their one code home.
#
#     line = encode_frame(7, "GET 12 0")          # b"@7 GET 12 0*1c291ca3\n"
#     seq, words = parse_frame(line)              # 7, ["GET", "12", "0"]
#     blob = encode_session(summary, events, "0.1.0", "esp32_devkitc")
#     summary, fw, board, events = decode_session(blob)
import binascii
import struct

PROTOCOL_VERSION = 1

# Longest frame line either side sends, '@' to '\n'. The device reads into a
# buffer of this size; the host drops longer lines as noise.
MAX_LINE = 512
# Session bytes per data frame: 240 bytes -> 320 base64 chars, well inside MAX_LINE.
CHUNK = 240

# Error codes in "ERR <code> <text>" replies (docs/protocol.md).
E_FRAME = 1  # bad CRC or malformed frame: resend
E_COMMAND = 2  # unknown command
E_ARGUMENT = 3  # wrong number or form of arguments
E_NO_SESSION = 4  # no such session id
E_VALUE = 5  # profile value out of bounds / unknown field
E_STORAGE = 6  # flash error while serving the request
E_VERSION = 7  # host speaks a protocol version the device does not
ERROR_NAMES = {1: "bad frame", 2: "unknown command", 3: "bad argument", 4: "no such session",
               5: "bad value", 6: "storage error", 7: "protocol version"}


class ProtocolError(ValueError):
    """A frame or session file that must not be trusted; .code is an E_* value."""

    def __init__(self, message, code=E_FRAME):
        ValueError.__init__(self, message)
        self.code = code


def _crc32_table():
    table = []
    for n in range(256):
        c = n
        for _ in range(8):
            c = (c >> 1) ^ 0xEDB88320 if c & 1 else c >> 1
        table.append(c)
    return table


_TABLE = None


def crc32(data, crc=0):
    """CRC-32 (zlib's). binascii.crc32 where the port has it, else a table."""
    global _TABLE
    try:
        return binascii.crc32(data, crc) & 0xFFFFFFFF
    except AttributeError:
        pass
    if _TABLE is None:
        _TABLE = _crc32_table()
    crc ^= 0xFFFFFFFF
    for b in data:
        crc = _TABLE[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


# --- frames ---------------------------------------------------------------
# A frame is one printable-ASCII line: "@" body "*" crc32-of-body (8 lowercase
# hex) "\n". The body is "<seq> <WORD> <args...>" separated by single spaces.
# Ctrl-C (0x03) and every other control byte can never occur inside a frame.


def encode_frame(seq, text):
    body = ("%d %s" % (seq, text)).encode()
    return b"@" + body + b"*" + ("%08x" % crc32(body)).encode() + b"\n"


def parse_frame(line):
    """(seq, words) from one line (bytes, with or without the newline).

    Raises ProtocolError for anything that is not an intact frame. Lines that do
    not start with '@' are not frames at all; callers skip them before this."""
    end = len(line)
    while end and line[end - 1] in (10, 13):
        end -= 1
    if end > MAX_LINE or end < 12 or line[0] != 64:  # '@'
        raise ProtocolError("not a frame")
    if line[end - 9] != 42:  # '*'
        raise ProtocolError("frame has no checksum")
    body = bytes(line[1 : end - 9])
    for b in body:
        if b < 32 or b > 126:
            raise ProtocolError("frame has non-printable bytes")
    crc_text = bytes(line[end - 8 : end])
    for b in crc_text:
        if not (48 <= b <= 57 or 97 <= b <= 102):  # 0-9 a-f
            raise ProtocolError("frame checksum is not hex")
    if int(crc_text, 16) != crc32(body):
        raise ProtocolError("frame checksum mismatch")
    words = body.decode().split(" ")
    if len(words) < 2 or not words[0].isdigit() or not words[1]:
        raise ProtocolError("frame has no sequence number or command")
    return int(words[0]), words[1:]


def parse_uint(text, limit=0xFFFFFFFF):
    """A decimal non-negative int no larger than `limit`, else ProtocolError(E_ARGUMENT)."""
    if not text or len(text) > 10 or not text.isdigit():
        raise ProtocolError("expected a number, got %r" % text[:16], E_ARGUMENT)
    value = int(text)
    if value > limit:
        raise ProtocolError("number out of range", E_ARGUMENT)
    return value


# --- session files --------------------------------------------------------
# One finished session = one file: header, summary fields, two short strings,
# the event log, CRC-32 of everything before it. Little-endian. Version 1.

SESSION_MAGIC = b"RGS"
SESSION_FORMAT = 1

FLAG_RECOVERED = 1  # rebuilt at boot from the last checkpoint after a power cut/reset
FLAG_CLOCK_KNOWN = 2  # start_unix_s is real time (the host had set the clock)
FLAG_LOW_STORAGE = 4  # flash was full at some point during the session
FLAG_CHECKPOINT = 8  # a running session's checkpoint, not a finished session

NONE_I32 = -1  # closest_mm / min_ttc_ms when nothing was ever in range

# name, struct code, unit, meaning. Order is the file order; append only.
SUMMARY_FIELDS = (
    ("session_id", "I", "", "unique across reboots"),
    ("flags", "B", "", "FLAG_* bits"),
    ("boot", "H", "", "boot counter when the session started"),
    ("start_unix_s", "I", "s", "UTC start if the clock was set, else 0"),
    ("start_uptime_ms", "I", "ms", "ticks_ms at start (wraps after 12.4 days)"),
    ("duration_ms", "I", "ms", "start to stop"),
    ("moving_ms", "I", "ms", "time the body monitor reported moving"),
    ("steps", "I", "", "steps counted"),
    ("cadence_spm", "H", "steps/min", "steps per moving minute"),
    ("distance_mm", "I", "mm", "speed estimate integrated over time"),
    ("alerts_caution", "H", "", "entries into CAUTION"),
    ("alerts_warning", "H", "", "entries into WARNING"),
    ("alerts_stop", "H", "", "entries into STOP"),
    ("closest_mm", "i", "mm", "closest approach, -1 if none"),
    ("min_ttc_ms", "i", "ms", "minimum time to collision, -1 if none"),
    ("stumbles", "H", "", "near-falls"),
    ("falls", "H", "", "falls"),
    ("blind_ms", "I", "ms", "time the sensor was blind"),
    ("too_fast_ms", "I", "ms", "time too fast for the visibility"),
    ("valid_range_pm", "H", "1/1000", "share of time with a valid range"),
    ("battery_start_mv", "H", "mV", "battery at start"),
    ("battery_end_mv", "H", "mV", "battery at end"),
    ("profile_version", "H", "", "athlete profile format (PROFILE_VERSION)"),
    ("profile_edits", "H", "", "profile edits since defaults"),
    ("events_dropped", "H", "", "events beyond the log's capacity"),
)
SUMMARY_NAMES = tuple(f[0] for f in SUMMARY_FIELDS)
_HEAD = "<3sB"
_SUMMARY = "<" + "".join(f[1] for f in SUMMARY_FIELDS)
_EVENT = "<IBB"  # t_ms since session start, kind, level
HEAD_SIZE = struct.calcsize(_HEAD)
SUMMARY_SIZE = struct.calcsize(_SUMMARY)
EVENT_SIZE = struct.calcsize(_EVENT)
MAX_EVENTS = 128  # what the device keeps; the decoder accepts up to this


def _put_text(out, text):
    raw = text.encode()[:40]
    out.append(len(raw))
    out.extend(raw)


def encode_session(summary, events, firmware, board):
    """Bytes of a session file. `summary`: values in SUMMARY_FIELDS order;
    `events`: (t_ms, kind, level) triples."""
    out = bytearray(struct.pack(_HEAD, SESSION_MAGIC, SESSION_FORMAT))
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
        raise ProtocolError("session file truncated")
    n = blob[at]
    text = bytes(blob[at + 1 : at + 1 + n])
    if len(text) != n:
        raise ProtocolError("session file truncated")
    for b in text:
        if b < 32 or b > 126:
            raise ProtocolError("session file has a non-printable name")
    return text.decode(), at + 1 + n


def decode_session(blob):
    """(summary dict, firmware, board, [(t_ms, kind, level)]) or ProtocolError."""
    size = len(blob)
    if size < HEAD_SIZE + SUMMARY_SIZE + 8:
        raise ProtocolError("session file too short (%d bytes)" % size)
    magic, version = struct.unpack_from(_HEAD, blob, 0)
    if magic != SESSION_MAGIC:
        raise ProtocolError("not a session file")
    if version != SESSION_FORMAT:
        raise ProtocolError("session format v%d is not v%d: update the tool" % (version, SESSION_FORMAT))
    (stored,) = struct.unpack_from("<I", blob, size - 4)
    if stored != crc32(bytes(blob[: size - 4])):
        raise ProtocolError("session file checksum mismatch")
    values = struct.unpack_from(_SUMMARY, blob, HEAD_SIZE)
    summary = dict(zip(SUMMARY_NAMES, values))
    at = HEAD_SIZE + SUMMARY_SIZE
    firmware, at = _get_text(blob, at)
    board, at = _get_text(blob, at)
    if at + 2 > size - 4:
        raise ProtocolError("session file truncated")
    (n,) = struct.unpack_from("<H", blob, at)
    at += 2
    if n > MAX_EVENTS or at + n * EVENT_SIZE != size - 4:
        raise ProtocolError("session file event log is inconsistent")
    events = []
    for _ in range(n):
        events.append(struct.unpack_from(_EVENT, blob, at))
        at += EVENT_SIZE
    return summary, firmware, board, events


FLAGS_OFFSET = HEAD_SIZE + 4  # the flags byte follows the u32 session_id


def restamp(blob, set_flags, clear_flags=0):
    """A copy of a session file with flag bits changed and the CRC redone
    (a checkpoint becomes a recovered session without decoding it)."""
    out = bytearray(blob)
    out[FLAGS_OFFSET] = (out[FLAGS_OFFSET] | set_flags) & ~clear_flags & 0xFF
    struct.pack_into("<I", out, len(out) - 4, crc32(bytes(out[: len(out) - 4])))
    return out


def check_session(blob):
    """(session_id, crc) of an intact session file, else ProtocolError. Cheap:
    magic, version and CRC only (the store's boot scan and sync reads)."""
    size = len(blob)
    if size < HEAD_SIZE + SUMMARY_SIZE + 8 or bytes(blob[:3]) != SESSION_MAGIC:
        raise ProtocolError("not a session file")
    (stored,) = struct.unpack_from("<I", blob, size - 4)
    if stored != crc32(bytes(blob[: size - 4])):
        raise ProtocolError("session file checksum mismatch")
    (session_id,) = struct.unpack_from("<I", blob, HEAD_SIZE)
    return session_id, stored
