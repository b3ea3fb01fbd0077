# The sync server: answers the desktop tool over the USB serial console while
# the firmware runs, a bounded slice of work per poll (docs/protocol.md).
# Imported only once a host's first frame arrives (console.HostWatch).
#
#     server = SyncServer(link, hw, store, keeper, profile)
#     server.poll(now_ms)        # between ticks
#
# Per poll: at most _READ_PER_POLL bytes read, one request handled, one frame
# written.
import binascii
from time import ticks_add, ticks_diff

from micropython import const

from rearguard import VERSION, sessionfile
from rearguard.profile import FIELDS
from rearguard.protocol import (
    ACK_MAX_IDS,
    CHUNK,
    E_ARGUMENT,
    E_COMMAND,
    E_FRAME,
    E_NO_SESSION,
    E_STORAGE,
    E_VALUE,
    E_VERSION,
    GET_MAX_IDS,
    LIST_PER_FRAME,
    MAX_LINE,
    PROTOCOL_VERSION,
    SMALL_CHUNK,
    ProtocolError,
    encode_frame,
    parse_frame,
    parse_uint,
)
from rearguard.session import set_wall_clock, wall_clock_unix

_READ_PER_POLL = const(128)
_NEWLINE = const(10)
_RETURN = const(13)
_FRAME_START = const(64)  # '@'


def _nargs(args, lo, hi):
    if not lo <= len(args) <= hi:
        raise ProtocolError("wrong number of arguments", E_ARGUMENT)


class SyncServer:
    def __init__(self, link, hw, store, keeper, profile):
        """`hw`: the clip's identity and parts (board_name, uid, battery, rtc);
        `keeper`: the session recorder (is a run on?). The App sets `power`
        (its PowerWatch: battery percent, USB, tick time)."""
        self.link = link
        self.hw = hw
        self.power = None
        self.store = store
        self.keeper = keeper
        self.profile = profile
        self.baud = 115200  # paces the stream (the USB bridge's UART)
        self.line = bytearray(MAX_LINE)
        self.n = 0
        self.overflow = False
        self.busy_until = 0  # when the last frame has left the wire (ticks_ms)
        self.requests = 0  # frames answered (tests, diagnostics)
        self._stop_stream()

    def _stop_stream(self):
        self.stream_blob = None
        self.stream_size = 0  # the session file and its track, sent back to back
        self.stream_queue = None  # more session ids to stream after this one
        self.stream_id = 0
        self.stream_seq = 0
        self.stream_off = 0

    def begin_frame(self):
        """The watch has already read the '@' that starts the first frame."""
        self.line[0] = _FRAME_START
        self.n = 1

    # --- between ticks ------------------------------------------------------
    def poll(self, now_ms):
        link = self.link
        for _ in range(_READ_PER_POLL):
            b = link.read_byte()
            if b < 0:
                break
            if b == _NEWLINE:  # one request per poll at most
                if self.n and not self.overflow:
                    self._request(bytes(self.line[: self.n]), now_ms)
                self.n = 0
                self.overflow = False
                break
            if b == _RETURN:
                continue
            if self.n < len(self.line):
                self.line[self.n] = b
                self.n += 1
            else:
                self.overflow = True  # too long for a frame: drop the whole line
        if self.stream_blob is not None and ticks_diff(now_ms, self.busy_until) >= 0:
            self._send_chunk(now_ms)

    def _send(self, seq, text, now_ms):
        frame = encode_frame(seq, text)
        self.link.write(frame)
        # 10 bits a byte on the UART: pace the stream so a write finds the FIFO empty.
        self.busy_until = ticks_add(now_ms, len(frame) * 10000 // self.baud)

    # --- requests -------------------------------------------------------------
    def _request(self, line, now_ms):
        if line[0] != _FRAME_START:  # console noise, ignored
            return
        self._stop_stream()  # any new request ends a running transfer
        try:
            seq, words = parse_frame(line)
        except ProtocolError as e:
            self._send(0, "ERR %d %s" % (E_FRAME, e.args[0]), now_ms)
            return
        self.requests += 1
        try:
            reply = self._dispatch(seq, words[0], words[1:], now_ms)
        except ProtocolError as e:
            reply = "ERR %d %s" % (e.code, e.args[0])
        except OSError:
            reply = "ERR %d flash error" % E_STORAGE
        if reply is not None:
            self._send(seq, reply, now_ms)

    def _dispatch(self, seq, cmd, args, now_ms):
        if cmd == "HELLO":
            return self._hello(args, now_ms)
        if cmd == "TIME":
            return self._time(args)
        if cmd == "LIST":
            return self._list(args)
        if cmd == "GET":
            return self._get(seq, args, now_ms)
        if cmd == "ACK":
            return self._ack(args)
        if cmd == "PGET":
            return "OK " + " ".join("%s=%d" % (f[0], getattr(self.profile, f[0])) for f in FIELDS)
        if cmd == "PSET":
            return self._pset(args)
        if cmd == "PRESET":
            self.profile.reset()
            self.store.save_profile(self.profile)
            return self._dispatch(seq, "PGET", args, now_ms)
        raise ProtocolError("unknown command", E_COMMAND)

    def _hello(self, args, now_ms):
        _nargs(args, 0, 1)
        if args and parse_uint(args[0]) != PROTOCOL_VERSION:
            raise ProtocolError("device speaks protocol %d" % PROTOCOL_VERSION, E_VERSION)
        hw = self.hw
        store = self.store
        power = self.power
        # usb: 1 on USB power, 0 on battery, -1 where the board cannot tell
        usb = -1 if power is None or hw.vbus is None else 0 if power.on_battery else 1
        return "OK proto=%d fw=%s board=%s uid=%s bat_mv=%d free=%d clock=%d sessions=%d " \
               "unsynced=%d running=%d low=%d bad=%d boot=%d up=%d bat_pct=%d usb=%d tick_us=%d" % (
                   PROTOCOL_VERSION, VERSION, hw.board_name, hw.uid, hw.battery.read_mv(),
                   store.free_bytes(), wall_clock_unix(), len(store.sessions),
                   store.unsynced_count(), 1 if self.keeper.active else 0,
                   1 if store.low_storage else 0, len(store.problems), store.boot & 0xFFFF, now_ms,
                   power.battery_pct if power else -1, usb,
                   power.tick_us if power else 0)

    def _time(self, args):
        _nargs(args, 1, 1)
        unix_s = parse_uint(args[0])
        try:
            set_wall_clock(self.hw.rtc, unix_s)
        except ValueError as e:  # before 2000
            raise ProtocolError(e.args[0], E_ARGUMENT) from None
        return "OK %d" % wall_clock_unix()

    def _list(self, args):
        _nargs(args, 1, 2)
        start = parse_uint(args[0])
        entries = self.store.listing()
        if len(args) == 2:
            if args[1] != "u":
                raise ProtocolError("filter must be u", E_ARGUMENT)
            entries = [e for e in entries if not e[3]]  # (id, size, crc, synced): unsynced only
        page = entries[start : start + LIST_PER_FRAME]
        nxt = start + len(page)
        words = ["OK", str(len(entries)), str(nxt) if nxt < len(entries) else "end"]
        for sid, size, crc, synced in page:
            words.append("%d:%d:%08x:%s" % (sid, size, crc, "s" if synced else "u"))
        return " ".join(words)

    def _get(self, seq, args, now_ms):
        # GET <id> <offset> [<more ids>...]: the sessions back to back, the first
        # from <offset> (resuming), the others from 0; each ends with END.
        _nargs(args, 2, GET_MAX_IDS + 1)
        session_id = parse_uint(args[0])
        offset = parse_uint(args[1])
        queue = [parse_uint(w) for w in args[2:]]
        for sid in queue:
            if sid not in self.store.sessions:
                raise ProtocolError("no session %d" % sid, E_NO_SESSION)
        blob = self.store.read(session_id)
        if blob is None:
            raise ProtocolError("no session %d" % session_id, E_NO_SESSION)
        self._stream(blob, queue, session_id, seq, offset)
        if offset > self.stream_size:
            self._stop_stream()
            raise ProtocolError("offset beyond the end", E_ARGUMENT)
        self._send_chunk(now_ms)
        return None  # the data frames and END are the reply

    def _stream(self, blob, queue, session_id, seq, offset):
        self.stream_blob = blob
        self.stream_size = len(blob) + sessionfile.track_size(blob)
        self.stream_queue = queue
        self.stream_id = session_id
        self.stream_seq = seq
        self.stream_off = offset

    def _send_chunk(self, now_ms):
        # One frame: "D id off data", or for the last piece "L id off data size crc"
        # (data and the end in one frame), or "END id size crc" when resuming at the end.
        # The session file's bytes come first, then its track's, from flash.
        blob = self.stream_blob
        if blob is None:
            return
        off = self.stream_off
        seq = self.stream_seq
        sid = self.stream_id
        size = self.stream_size
        if off >= size:
            crc = sessionfile.check(blob)[1]
            self._send(seq, "END %d %d %08x" % (sid, size, crc), now_ms)
            self._next_in_queue(seq, now_ms)
            return
        n = SMALL_CHUNK if self.keeper.active else CHUNK
        if off < len(blob):
            data = blob[off : off + n]
        else:
            try:
                data = self.store.read_track(sid, off - len(blob), min(n, size - off))
            except OSError:
                data = b""
            if not data:  # unreadable, or shorter than its summary says
                self._send(seq, "ERR %d track of session %d unreadable" % (E_STORAGE, sid), now_ms)
                self._stop_stream()
                return
        b64 = binascii.b2a_base64(data)[:-1].decode()
        if off + len(data) >= size:
            crc = sessionfile.check(blob)[1]
            self._send(seq, "L %d %d %s %d %08x" % (sid, off, b64, size, crc), now_ms)
            self._next_in_queue(seq, now_ms)
            return
        self._send(seq, "D %d %d %s" % (sid, off, b64), now_ms)
        self.stream_off = off + len(data)

    def _next_in_queue(self, seq, now_ms):
        queue = self.stream_queue
        self._stop_stream()
        while queue:
            session_id = queue.pop(0)
            blob = self.store.read(session_id)
            if blob is None:  # set aside since the request (corrupt): say so, go on
                self._send(seq, "ERR %d no session %d" % (E_NO_SESSION, session_id), now_ms)
                continue
            self._stream(blob, queue, session_id, seq, 0)
            return

    def _ack(self, args):
        _nargs(args, 1, ACK_MAX_IDS)
        marked = 0
        for word in args:
            if self.store.mark_synced(parse_uint(word)):
                marked += 1
        return "OK %d" % marked

    def _pset(self, args):
        _nargs(args, 2, 2)
        name = args[0]
        value = args[1]
        if not value.lstrip("-").isdigit() or len(value) > 9:
            raise ProtocolError("value must be an integer", E_VALUE)
        try:
            self.profile.set(name, int(value))
        except KeyError:
            raise ProtocolError("no profile field %s" % name[:32], E_VALUE) from None
        except ValueError as e:
            raise ProtocolError(e.args[0], E_VALUE) from None
        self.store.save_profile(self.profile)
        return "OK %s=%d" % (name, getattr(self.profile, name))
