# The sync link's frames, limits and error codes, shared by the clip's sync
# server (loaded only when a host talks to it) and the desktop tool (CPython
# imports `rearguard.protocol`). docs/protocol.md is the spec; this is its one
# code home.
#
#     line = encode_frame(7, "GET 12 0")          # b"@7 GET 12 0*1c291ca3\n"
#     seq, words = parse_frame(line)              # 7, ["GET", "12", "0"]
#
# A frame is one printable-ASCII line: "@" body "*" crc32-of-body (8 lowercase
# hex) "\n". The body is "<seq> <WORD> <args...>" separated by single spaces.
# Ctrl-C (0x03) and every other control byte can never occur inside a frame.
from rearguard.sessionfile import crc32

PROTOCOL_VERSION = 1

# Longest frame line either side sends, '@' to '\n'. The device reads into a
# buffer of this size; the host drops longer lines as noise.
MAX_LINE = 512
# Session bytes per data frame: 240 bytes -> 320 base64 chars, well inside MAX_LINE.
CHUNK = 240
# ... and while a run is on: a frame then fits the UART FIFO, the tick never blocks.
SMALL_CHUNK = 72
LIST_PER_FRAME = 8  # sessions per LIST reply
GET_MAX_IDS = 16  # sessions one GET may ask for
ACK_MAX_IDS = 32  # sessions one ACK may confirm

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
    """A frame that must not be trusted, or a request that cannot be served;
    .code is an E_* value."""

    def __init__(self, message, code=E_FRAME):
        ValueError.__init__(self, message)
        self.code = code


def encode_frame(seq, text):
    body = ("%d %s" % (seq, text)).encode()
    return b"@" + body + b"*" + ("%08x" % crc32(body)).encode() + b"\n"


def _check_printable(body):
    for b in body:
        if b < 32 or b > 126:
            raise ProtocolError("frame has non-printable bytes")


def _checksum(line, end):
    if line[end - 9] != 42:  # '*'
        raise ProtocolError("frame has no checksum")
    text = bytes(line[end - 8 : end])
    for b in text:
        if not (48 <= b <= 57 or 97 <= b <= 102):  # 0-9 a-f
            raise ProtocolError("frame checksum is not hex")
    return int(text, 16)


def parse_frame(line):
    """(seq, words) from one line (bytes, with or without the newline).

    Raises ProtocolError for anything that is not an intact frame. Lines that do
    not start with '@' are not frames at all; callers skip them before this."""
    end = len(line)
    while end and line[end - 1] in (10, 13):
        end -= 1
    if end > MAX_LINE or end < 12 or line[0] != 64:  # '@'
        raise ProtocolError("not a frame")
    crc = _checksum(line, end)
    body = bytes(line[1 : end - 9])
    _check_printable(body)
    if crc != crc32(body):
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
