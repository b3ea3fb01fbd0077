# The sync server: answers the desktop tool over the USB serial console while
# the firmware runs, a bounded slice of work per tick (docs/protocol.md).
#
#     server = SyncServer(ConsoleLink(), app, store, machine.RTC(), "240ac45a1001")
#     app.sync = server        # app.serve(now) -> server.poll(now) between ticks
#
# Per poll: at most READ_PER_POLL bytes read, one request handled, one frame
# written. Frames are printable ASCII lines, so Ctrl-C still reaches the REPL
# (MicroPython intercepts 0x03 before stdin) and anything else on the console
# (prints, the REPL banner) is simply not a frame to the host.
import binascii
import time
from time import ticks_add, ticks_diff

from micropython import const

from rearguard import VERSION, protocol
from rearguard.profile import FIELDS
from rearguard.session import wall_clock_unix

READ_PER_POLL = const(128)
LIST_PER_FRAME = const(8)
ACK_MAX_IDS = const(32)
GET_MAX_IDS = const(16)
SMALL_CHUNK = const(72)  # during a run: a frame fits the UART FIFO, the tick never blocks
_EPOCH_2000 = const(946684800)


class ConsoleLink:
    """The board's USB serial console: non-blocking reads of stdin through
    select.poll, writes to stdout. `sys` and `select` are whatever the import
    gives: the board's, or the simulator's pseudo-terminal stand-ins."""

    def __init__(self):
        import select
        import sys

        self.stdin = sys.stdin.buffer  # bytes, no decoding: a frame is checked byte by byte
        self.stdout = sys.stdout.buffer
        self.poller = select.poll()
        self.poller.register(sys.stdin, select.POLLIN)
        self.one = bytearray(1)

    def read_byte(self):
        # ipoll() reuses its result tuple: an idle poll allocates nothing.
        for _ready in self.poller.ipoll(0):
            if self.stdin.readinto(self.one) == 1:
                return self.one[0]
        return -1

    def write(self, data):
        self.stdout.write(data)


class SyncServer:
    def __init__(self, link, app, store, rtc, device_id, baud=115200):
        self.link = link
        self.app = app
        self.store = store
        self.rtc = rtc
        self.device_id = device_id
        self.baud = baud
        self.line = bytearray(protocol.MAX_LINE)
        self.n = 0
        self.overflow = False
        self.busy_until = 0  # when the last frame has left the wire (ticks_ms)
        self.requests = 0  # frames answered (tests, diagnostics)
        self._stop_stream()

    def _stop_stream(self):
        self.stream_blob = None
        self.stream_queue = None  # more session ids to stream after this one
        self.stream_id = 0
        self.stream_seq = 0
        self.stream_off = 0

    # --- between ticks ------------------------------------------------------
    def poll(self, now_ms):
        link = self.link
        for _ in range(READ_PER_POLL):
            b = link.read_byte()
            if b < 0:
                break
            if b == 10:  # '\n': one request per poll at most
                if self.n and not self.overflow:
                    self._request(bytes(self.line[: self.n]), now_ms)
                self.n = 0
                self.overflow = False
                break
            if b == 13:
                continue
            if self.n < len(self.line):
                self.line[self.n] = b
                self.n += 1
            else:
                self.overflow = True  # too long for a frame: drop the whole line
        if self.stream_blob is not None and ticks_diff(now_ms, self.busy_until) >= 0:
            self._send_chunk(now_ms)

    def _send(self, seq, text, now_ms):
        frame = protocol.encode_frame(seq, text)
        self.link.write(frame)
        # 10 bits a byte on the UART: pace the stream so a write finds the FIFO empty.
        self.busy_until = ticks_add(now_ms, len(frame) * 10000 // self.baud)

    # --- requests -------------------------------------------------------------
    def _request(self, line, now_ms):
        if line[0] != 64:  # not '@': console noise, ignored
            return
        self._stop_stream()  # any new request ends a running transfer
        try:
            seq, words = protocol.parse_frame(line)
        except protocol.ProtocolError as e:
            self._send(0, "ERR %d %s" % (protocol.E_FRAME, e.args[0]), now_ms)
            return
        self.requests += 1
        try:
            reply = self._dispatch(seq, words[0], words[1:], now_ms)
        except protocol.ProtocolError as e:
            reply = "ERR %d %s" % (e.code, e.args[0])
        except OSError:
            reply = "ERR %d flash error" % protocol.E_STORAGE
        if reply is not None:
            self._send(seq, reply, now_ms)

    def _dispatch(self, seq, cmd, args, now_ms):
        if cmd == "HELLO":
            return self._hello(args)
        if cmd == "TIME":
            return self._time(args)
        if cmd == "LIST":
            return self._list(args)
        if cmd == "GET":
            return self._get(seq, args, now_ms)
        if cmd == "ACK":
            return self._ack(args)
        if cmd == "PGET":
            return "OK " + " ".join("%s=%d" % (f[0], getattr(self.app.profile, f[0])) for f in FIELDS)
        if cmd == "PSET":
            return self._pset(args)
        raise protocol.ProtocolError("unknown command", protocol.E_COMMAND)

    def _nargs(self, args, lo, hi):
        if not lo <= len(args) <= hi:
            raise protocol.ProtocolError("wrong number of arguments", protocol.E_ARGUMENT)

    def _hello(self, args):
        self._nargs(args, 0, 1)
        if args and protocol.parse_uint(args[0]) != protocol.PROTOCOL_VERSION:
            raise protocol.ProtocolError("device speaks protocol %d" % protocol.PROTOCOL_VERSION,
                                         protocol.E_VERSION)
        app = self.app
        battery = app.hw.battery.read_mv() if app.hw.battery is not None else 0
        store = self.store
        return "OK proto=%d fw=%s board=%s uid=%s bat_mv=%d free=%d clock=%d sessions=%d " \
               "unsynced=%d running=%d low=%d bad=%d" % (
                   protocol.PROTOCOL_VERSION, VERSION, app.board_name, self.device_id, battery,
                   store.free_bytes(), wall_clock_unix(), len(store.sessions), store.unsynced_count(),
                   1 if app.session.active else 0, 1 if store.low_storage else 0,
                   len(store.problems))

    def _time(self, args):
        self._nargs(args, 1, 1)
        unix_s = protocol.parse_uint(args[0])
        if unix_s < _EPOCH_2000:
            raise protocol.ProtocolError("time before 2000", protocol.E_ARGUMENT)
        t = time.gmtime(unix_s - _EPOCH_2000)  # (y, mo, d, h, mi, s, wd, yd)
        self.rtc.datetime((t[0], t[1], t[2], t[6], t[3], t[4], t[5], 0))
        return "OK %d" % wall_clock_unix()

    def _list(self, args):
        self._nargs(args, 1, 2)
        start = protocol.parse_uint(args[0])
        entries = self.store.listing()
        if len(args) == 2:
            if args[1] != "u":
                raise protocol.ProtocolError("filter must be u", protocol.E_ARGUMENT)
            entries = [e for e in entries if not e[3]]  # only those not yet synced
        page = entries[start : start + LIST_PER_FRAME]
        nxt = start + len(page)
        words = ["OK", str(len(entries)), str(nxt) if nxt < len(entries) else "end"]
        for sid, size, crc, synced in page:
            words.append("%d:%d:%08x:%s" % (sid, size, crc, "s" if synced else "u"))
        return " ".join(words)

    def _get(self, seq, args, now_ms):
        # GET <id> <offset> [<more ids>...]: the sessions back to back, the first
        # from <offset> (resuming), the others from 0; each ends with END.
        self._nargs(args, 2, GET_MAX_IDS + 1)
        session_id = protocol.parse_uint(args[0])
        offset = protocol.parse_uint(args[1])
        queue = [protocol.parse_uint(w) for w in args[2:]]
        for sid in queue:
            if sid not in self.store.sessions:
                raise protocol.ProtocolError("no session %d" % sid, protocol.E_NO_SESSION)
        blob = self.store.read(session_id)
        if blob is None:
            raise protocol.ProtocolError("no session %d" % session_id, protocol.E_NO_SESSION)
        if offset > len(blob):
            raise protocol.ProtocolError("offset beyond the end", protocol.E_ARGUMENT)
        self.stream_blob = blob
        self.stream_queue = queue
        self.stream_id = session_id
        self.stream_seq = seq
        self.stream_off = offset
        self._send_chunk(now_ms)
        return None  # the data frames and END are the reply

    def _send_chunk(self, now_ms):
        # One frame: "D id off data", or for the last piece "L id off data size crc"
        # (data and the end in one frame), or "END id size crc" when resuming at the end.
        blob = self.stream_blob
        if blob is None:
            return
        off = self.stream_off
        seq = self.stream_seq
        sid = self.stream_id
        crc = protocol.check_session(blob)[1] if off + protocol.CHUNK >= len(blob) else 0
        if off >= len(blob):
            self._send(seq, "END %d %d %08x" % (sid, len(blob), crc), now_ms)
            self._next_in_queue(seq, now_ms)
            return
        chunk = SMALL_CHUNK if self.app.session.active else protocol.CHUNK
        data = blob[off : off + chunk]
        b64 = binascii.b2a_base64(data)[:-1].decode()
        if off + len(data) >= len(blob):
            self._send(seq, "L %d %d %s %d %08x" % (sid, off, b64, len(blob), crc), now_ms)
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
                self._send(seq, "ERR %d no session %d" % (protocol.E_NO_SESSION, session_id), now_ms)
                continue
            self.stream_blob = blob
            self.stream_queue = queue
            self.stream_id = session_id
            self.stream_seq = seq
            self.stream_off = 0
            return

    def _ack(self, args):
        self._nargs(args, 1, ACK_MAX_IDS)
        marked = 0
        for word in args:
            if self.store.mark_synced(protocol.parse_uint(word)):
                marked += 1
        return "OK %d" % marked

    def _pset(self, args):
        self._nargs(args, 2, 2)
        name = args[0]
        value = args[1]
        if not value.lstrip("-").isdigit() or len(value) > 9:
            raise protocol.ProtocolError("value must be an integer", protocol.E_VALUE)
        try:
            self.app.profile.set(name, int(value))
        except KeyError:
            raise protocol.ProtocolError("no profile field %s" % name[:32], protocol.E_VALUE) from None
        except ValueError as e:
            raise protocol.ProtocolError(e.args[0], protocol.E_VALUE) from None
        self.store.save_profile(self.app.profile)
        return "OK %s=%d" % (name, getattr(self.app.profile, name))


def attach(app, store, machine):
    """Serve sync on the console if there is one to serve on (main() calls this).
    CPython's own stdin (a simulator run without a pseudo-terminal) has no
    ipoll(): the clip then simply runs without sync."""
    if store is None:
        return None
    try:
        link = ConsoleLink()
    except (OSError, ValueError, AttributeError):
        return None
    if not hasattr(link.poller, "ipoll"):
        return None
    uid = binascii.hexlify(machine.unique_id()).decode()
    app.sync = SyncServer(link, app, store, machine.RTC(), uid)
    return app.sync
