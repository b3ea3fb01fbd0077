# The USB serial console as the sync link, and the watch that starts the sync
# server only when a host talks to the clip: until the first frame of a host
# begins ('@'), a poll on stdin is all that runs between ticks, and the sync
# server and its protocol (about 13 KB of heap) are not loaded.
#
#     link = open_link()                               # None: no console to serve on
#     watch = HostWatch(link, start_server)            # start_server() -> SyncServer
#     watch.poll(now_ms)                               # between ticks
#
# Frames are printable ASCII lines, so Ctrl-C still reaches the REPL
# (MicroPython intercepts 0x03 before stdin) and anything else on the console
# (prints, the REPL banner) is simply not a frame to the host.
from micropython import const

_READ_PER_POLL = const(128)
_FRAME_START = const(64)  # '@'


class ConsoleLink:
    """Non-blocking reads of stdin through select.poll, writes to stdout.
    `sys` and `select` are whatever the import gives: the board's, or the
    simulator's pseudo-terminal stand-ins."""

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


def open_link():
    """The console link, or None where there is none to serve on (CPython's
    own stdin in a simulator run without a pseudo-terminal has no ipoll)."""
    try:
        link = ConsoleLink()
    except (OSError, ValueError, AttributeError):
        return None
    return link if hasattr(link.poller, "ipoll") else None


class HostWatch:
    def __init__(self, link, start_server):
        self.link = link
        self.start_server = start_server
        self.server = None

    def poll(self, now_ms):
        if self.server is not None:
            self.server.poll(now_ms)
            return
        for _ in range(_READ_PER_POLL):
            b = self.link.read_byte()
            if b < 0:
                return
            if b == _FRAME_START:  # a host: bytes before it were console noise
                self.server = self.start_server()
                self.server.begin_frame()
                self.server.poll(now_ms)
                return
