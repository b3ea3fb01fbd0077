"""The host side of the sync link: requests to the clip and its replies, over
pyserial, with retries, and a device that cannot hang or crash it.

    with DeviceLink.open("/dev/ttyUSB0") as dev:
        info = dev.hello()                  # {'fw': '0.1.0', 'board': ..., ...}
        blob = dev.fetch(12, size, crc)     # verified bytes of session 12

Frames come from the shared codec (rearguard.protocol). Every wait has a
deadline on the host's clock, lines are capped, replies with a stale sequence
number are dropped, and everything the device says is validated before use.
"""

import binascii
import re
import time

import serial

from host_tools import track
from rearguard import protocol

MAX_HOST_LINE = 4096  # longer lines are noise (the device never sends them)
# A session file is about 1 KB, its track 14.4 KB per hour: a day's run is
# under 400 KB; more is hostile.
MAX_SESSION_BYTES = 1024 * 1024
MAX_SESSIONS = 100_000
MAX_LIST_PAGES = MAX_SESSIONS // protocol.LIST_PER_FRAME + 2
_ENTRY = re.compile(r"^(\d{1,10}):(\d{1,10}):([0-9a-f]{8}):([su])$")
_TOKEN = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")

# What pyserial raises once the cable is gone (an unplugged port). A port that
# is already closed is checked for (is_open) before it is used, not caught.
_PORT_ERRORS = (serial.SerialException, OSError)


class LinkError(Exception):
    """The link failed in a way the user can act on (message says how)."""


class AtPrompt(LinkError):
    """The clip answers as the MicroPython REPL: the firmware is not running."""


# What the port shows when MicroPython's REPL, not the firmware, is listening.
_PROMPTS = (b">>> ", b"raw REPL; CTRL-B to exit\r\n>")
AT_PROMPT = ("the clip is at the MicroPython prompt (REPL), not running its firmware: "
             "reset it (`mpremote connect PORT reset`, or unplug it and plug it in), then retry")


class DeviceError(LinkError):
    """The device answered ERR <code> <text>."""

    def __init__(self, code, text):
        name = protocol.ERROR_NAMES.get(code, "error")
        super().__init__("device error %d (%s): %s" % (code, name, text))
        self.code = code


class _Garbled(Exception):
    """A reply arrived damaged (bad checksum): worth asking again."""


class Entry:
    """One line of the device's session list."""

    def __init__(self, session_id, size, crc, synced):
        self.session_id, self.size, self.crc, self.synced = session_id, size, crc, synced

    def __repr__(self):
        return "Entry(%d, %d, %08x, %s)" % (self.session_id, self.size, self.crc, self.synced)


class DeviceLink:
    def __init__(self, port, timeout_s=2.0, retries=4):
        """`port`: an open pyserial-like object (read, write, in_waiting, close)."""
        self.port = port
        self.timeout_s = timeout_s
        self.retries = retries
        self.seq = int(time.time()) % 9000 + 1
        self._buf = bytearray()
        self._dropping = False
        self.bytes_in = 0
        self.bytes_out = 0
        self.retried = 0
        self.partial = None  # (entry, bytes so far) of a fetch cut short, for resuming
        self._sent = b""  # the last request: echoed back, it means a REPL is listening

    @classmethod
    def open(cls, path, baud=115200, **kw):
        # Exclusive, as mpremote opens it: two programs on one port garble each other.
        try:
            port = serial.serial_for_url(path, baudrate=baud, timeout=0.05, write_timeout=2,
                                         exclusive=True)
        except (serial.SerialException, OSError, ValueError) as e:
            raise LinkError(_open_problem(path, e)) from e
        port.reset_input_buffer()
        return cls(port, **kw)

    def close(self):
        try:
            self.port.close()
        except _PORT_ERRORS:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    # --- lines and frames -------------------------------------------------
    def _send(self, text):
        self.seq = self.seq % 9999 + 1
        frame = protocol.encode_frame(self.seq, text)
        try:
            self.port.write(frame)
            self.port.flush()
        except _PORT_ERRORS as e:
            raise LinkError("the device went away while sending (%s): plug it in and pull again" % e) from e
        self.bytes_out += len(frame)
        self._sent = frame[:-1]
        return self.seq

    def _read_line(self, deadline):
        """The next line (without newline), or None at the deadline."""
        while True:
            nl = self._buf.find(b"\n")
            if nl >= 0:
                line = bytes(self._buf[:nl])
                del self._buf[: nl + 1]
                if self._dropping:
                    self._dropping = False
                    continue
                return line.rstrip(b"\r")
            if self._buf.endswith(_PROMPTS) or (self._sent and self._sent in self._buf):
                self._buf.clear()
                raise AtPrompt(AT_PROMPT)
            if len(self._buf) > MAX_HOST_LINE:
                self._buf.clear()  # endless output without a newline: noise
                self._dropping = True
            if time.monotonic() > deadline:
                return None
            if not getattr(self.port, "is_open", True):
                raise LinkError("the port was closed: plug the clip in and pull again")
            try:
                data = self.port.read(max(1, min(self.port.in_waiting, 65536)))
            except _PORT_ERRORS as e:
                raise LinkError("the device went away (%s): plug it in and pull again" % e) from e
            self.bytes_in += len(data)
            self._buf.extend(data)

    def _reply(self, seq, deadline):
        """Words of the next frame for `seq`; None at the deadline; _Garbled if damaged."""
        while True:
            line = self._read_line(deadline)
            if line is None:
                return None
            if line == self._sent:
                raise AtPrompt(AT_PROMPT)  # our own request echoed: a REPL, not the firmware
            if not line.startswith(b"@"):
                continue  # console noise, prints, the REPL banner
            try:
                got, words = protocol.parse_frame(line)
            except protocol.ProtocolError:
                raise _Garbled() from None
            if got == 0 and words[0] == "ERR" and len(words) > 1 and words[1] == str(protocol.E_FRAME):
                raise _Garbled()  # the device got our request damaged
            if got == seq:
                return words
            # another request's reply (an earlier, retried one): stale, skip

    def call(self, text):
        """Send one request; its reply words ("OK", ...). Retries on silence or damage."""
        for attempt in range(self.retries):
            if attempt:
                self.retried += 1
            seq = self._send(text)
            try:
                words = self._reply(seq, time.monotonic() + self.timeout_s)
            except _Garbled:
                time.sleep(0.02)
                continue
            if words is None:
                continue
            if words[0] == "ERR":
                raise DeviceError(_int(words[1] if len(words) > 1 else "0", 0), " ".join(words[2:])[:200])
            if words[0] != "OK":
                continue
            return words
        raise LinkError("no valid answer from the device after %d tries: is it a RearGuard clip "
                        "running its firmware?" % self.retries)

    # --- the commands -----------------------------------------------------
    def hello(self):
        words = self.call("HELLO %d" % protocol.PROTOCOL_VERSION)
        info = {}
        for word in words[1:]:
            key, _, value = word.partition("=")
            if _TOKEN.match(key) and (value == "" or _TOKEN.match(value)):
                info[key] = value
        if info.get("proto") != str(protocol.PROTOCOL_VERSION):
            raise LinkError("device speaks sync protocol %r, this tool %d: update the tool or the firmware"
                            % (info.get("proto"), protocol.PROTOCOL_VERSION))
        for key in ("fw", "board", "uid"):
            if key not in info:
                raise LinkError("device handshake lacks %s: not a RearGuard clip?" % key)
        return info

    def set_time(self, unix_s):
        return self.call("TIME %d" % unix_s)

    def list_sessions(self, unsynced_only=False):
        entries = []
        start = 0
        for _ in range(MAX_LIST_PAGES):
            words = self.call("LIST %d%s" % (start, " u" if unsynced_only else ""))
            if len(words) < 3:
                raise LinkError("malformed session list from the device")
            for word in words[3:]:
                m = _ENTRY.match(word)
                if not m:
                    raise LinkError("malformed session list entry %r" % word[:40])
                sid, size = int(m.group(1)), int(m.group(2))
                if sid > 0xFFFFFFFF or size > MAX_SESSION_BYTES:
                    raise LinkError("device lists an impossible session (%d, %d bytes)" % (sid, size))
                entries.append(Entry(sid, size, int(m.group(3), 16), m.group(4) == "s"))
            if words[2] == "end":
                return entries
            nxt = _int(words[2], -1)
            if nxt <= start or nxt > MAX_SESSIONS:
                raise LinkError("malformed session list paging from the device")
            start = nxt
        raise LinkError("the device's session list never ends")

    def fetch(self, entry, have=b"", progress=None):
        """One session's bytes, resuming after `have` (see fetch_many)."""
        return self.fetch_many([entry], {entry.session_id: have}, progress)[entry.session_id]

    def fetch_many(self, entries, haves=None, progress=None, on_session=None):
        """{id: bytes} of the sessions, streamed back to back (up to protocol.GET_MAX_IDS a
        request), each verified against the size and CRC the device listed and
        announced. A damaged or lost frame costs a re-request from the last
        good byte, not a restart; `on_session(entry, bytes)` sees each as it lands."""
        haves = haves or {}
        todo = list(entries)
        done = {}
        failures = 0
        while todo:
            entry = todo[0]
            data = bytearray(haves.get(entry.session_id, b""))
            self.partial = (entry, data)
            batch = todo[:protocol.GET_MAX_IDS]
            before = len(data)
            seq = self._send("GET %d %d%s" % (entry.session_id, before,
                                              "".join(" %d" % e.session_id for e in batch[1:])))
            for i, current in enumerate(batch):
                if i:
                    data = bytearray()
                    self.partial = (current, data)
                    before = 0
                try:
                    ok = self._stream(seq, current, data, progress)
                except _Garbled:
                    ok = False
                if not ok:
                    haves[current.session_id] = bytes(data)
                    failures = 0 if len(data) > before else failures + 1  # progress: keep going
                    self.retried += 1
                    break
                done[current.session_id] = bytes(data)
                if on_session:
                    on_session(current, done[current.session_id])
                todo.pop(0)
                failures = 0
            if failures >= self.retries:
                raise LinkError("session %d could not be read intact after %d tries (noisy cable?); "
                                "pull again to resume" % (todo[0].session_id, self.retries))
        self.partial = None
        return done

    def _stream(self, seq, entry, data, progress):
        """Read one session's D frames and its END into `data`; False if the
        stream broke (silence, damage, out of step) and should be re-requested."""
        while True:
            words = self._reply(seq, time.monotonic() + self.timeout_s)
            if words is None:
                return False
            if words[0] == "ERR":
                raise DeviceError(_int(words[1] if len(words) > 1 else "0", 0), " ".join(words[2:])[:200])
            last = words[0] == "L" and len(words) == 6  # the last piece and the end in one frame
            if (words[0] == "D" and len(words) == 4) or last:
                if _int(words[1], -1) != entry.session_id or _int(words[2], -1) != len(data):
                    return False  # out of step: ask again from what we have
                try:
                    chunk = binascii.a2b_base64(words[3].encode(), strict_mode=True)
                except (binascii.Error, ValueError):
                    return False
                if len(data) + len(chunk) > entry.size:
                    raise LinkError("device sent more bytes than session %d has" % entry.session_id)
                data.extend(chunk)
                if progress:
                    progress(len(chunk))
                if last:
                    return self._end(entry, data, words[4], words[5])
            elif words[0] == "END" and len(words) == 4:
                return self._end(entry, data, words[2], words[3])
            else:
                return False

    def _end(self, entry, data, size_text, crc_text):
        size, crc = _int(size_text, -1), _int(crc_text, -1, 16)
        if size != entry.size or crc != entry.crc or len(data) != size:
            raise LinkError("session %d changed size or checksum while it was read" % entry.session_id)
        if track.intact_crc(data) != crc:
            data.clear()  # damaged beyond the frame checksums: start over
            return False
        return True

    def ack(self, session_ids):
        done = 0
        step = protocol.ACK_MAX_IDS
        for i in range(0, len(session_ids), step):
            batch = session_ids[i : i + step]
            words = self.call("ACK " + " ".join(str(s) for s in batch))
            done += _int(words[1] if len(words) > 1 else "0", 0)
        return done

    def profile_get(self):
        return _profile(self.call("PGET"))

    def profile_reset(self):
        """Every field back to its default on the clip; the new values."""
        return _profile(self.call("PRESET"))

    def profile_set(self, name, value):
        return self.call("PSET %s %d" % (name, value))


def _profile(words):
    values = {}
    for word in words[1:]:
        key, _, value = word.partition("=")
        if _TOKEN.match(key):
            values[key] = _int(value, None, signed=True)
    return values


def _open_problem(path, e):
    text = str(e)
    if "exclusively lock" in text or "Access is denied" in text or getattr(e, "errno", None) == 16:
        return ("%s is held by another program (an open `mpremote repl`, a serial monitor?): "
                "close it, then retry" % path)
    if "No such file" in text:
        return "no serial port %s: is the clip plugged in? `rearguard devices` lists the ports" % path
    return "cannot open %s: %s (check `rearguard devices`)" % (path, e)


def _int(text, default, base=10, signed=False):
    body = text[1:] if signed and text.startswith("-") else text
    if not body or len(body) > 12:
        return default
    digits = "0123456789abcdef"[:base]
    if any(c not in digits for c in body):
        return default
    value = int(body, base)
    return -value if body is not text else value
