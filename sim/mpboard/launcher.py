"""Starts the virtual board in real MicroPython on a serial port (a pseudo-terminal).

The board is a Node.js process (board.mjs) running the WebAssembly MicroPython;
this module owns the pseudo-terminal and relays bytes between it and the board,
at the wire rate of the chosen baud rate. Holding the terminal's device side
open keeps the port alive between mpremote invocations, as a USB serial port is.

    python -m sim.mpboard --trace run.csv           # prints /dev/pts/N, runs until Ctrl-C
    make deploy BOARD=esp32_devkitc PORT=/dev/pts/N
    .venv/bin/rearguard pull --port /dev/pts/N

From Python (tests): `with VirtualSerialBoard(trace=...) as vb: vb.device`.
"""

import argparse
import contextlib
import errno
import hashlib
import json
import os
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import tty

from rearguard.drivers.axes import parse_axes
from sim import loader

HERE = os.path.dirname(os.path.abspath(__file__))
GLUE = os.path.join(HERE, "board.mjs")
# What the board keeps for a port nobody reads: a UART drops the rest.
MAX_UNREAD = 64 * 1024


def _axes_map(axes):
    """The board's IMU mounting as the firmware's own parser reads it: [index, sign]."""
    index, sign = parse_axes(axes)
    return [list(index), list(sign)]


def board_description(board_name):
    """The parts of boards/<name>.py the virtual board's hardware needs."""
    cfg = loader.load_board_config(board_name)
    return {
        "NAME": cfg.NAME,
        "I2C_IDS": sorted(cfg.I2C),
        "TOF": {"bus": cfg.TOF["bus"], "addr": cfg.TOF["addr"], "xshut": cfg.TOF.get("xshut")},
        "IMU": {"bus": cfg.IMU["bus"], "addr": cfg.IMU["addr"], "chip": cfg.IMU["chip"],
                "map": _axes_map(cfg.IMU["axes"])},
        "BATTERY_DIVIDER": list(cfg.BATTERY["divider"]),
        "BUTTON": {"pin": cfg.BUTTON["pin"], "active_low": cfg.BUTTON["active_low"]},
        "VBUS": getattr(cfg, "VBUS", None),
    }


def default_uid(fs_dir):
    """A board's machine.unique_id() in hex: the same for the same --fs folder
    (the same flash is the same clip), else a new one for each board."""
    if fs_dir:
        return hashlib.sha256(os.path.abspath(fs_dir).encode()).hexdigest()[:12]
    return os.urandom(6).hex()


class _Pipe:
    """One direction of the serial line, paced at `baud` (8N1: 10 bits a byte)."""

    def __init__(self, baud):
        self.pending = bytearray()
        self.bytes_per_s = baud / 10 if baud else None
        self.budget = 0.0
        self.stamp = time.monotonic()

    def allowance(self):
        if self.bytes_per_s is None:
            return len(self.pending)
        now = time.monotonic()
        # at most ~10 ms of line time may accumulate while idle
        self.budget = min(self.budget + (now - self.stamp) * self.bytes_per_s, self.bytes_per_s / 100 + 64)
        self.stamp = now
        return min(len(self.pending), int(self.budget))

    def sent(self, n):
        del self.pending[:n]
        if self.bytes_per_s is not None:
            self.budget -= n


class VirtualSerialBoard:
    """The board process, its pseudo-terminal and the relay between them."""

    def __init__(self, trace=None, baud=115200, fs_dir=None, board="esp32_devkitc", speed=1,
                 log=None, link=None, battery_mv=3900, presses=(), heapsize=1024 * 1024, uid=None):
        node = shutil.which("node")
        if node is None:
            raise RuntimeError("the virtual board needs Node.js 20 (apt-get install nodejs), then `make setup`")
        self.config = {
            "board": board_description(board),
            "trace": os.path.abspath(trace) if trace else None,
            "fsDir": os.path.abspath(fs_dir) if fs_dir else None,
            "speed": int(speed),
            "heapsize": heapsize,
            "battery_mv": battery_mv,
            "presses": [list(p) for p in presses],
            "log": os.path.abspath(log) if log else None,
            "uid": uid or default_uid(fs_dir),
        }
        if fs_dir:
            os.makedirs(fs_dir, exist_ok=True)
        self.baud = baud
        self.link = link
        self._node = node
        self._stop = threading.Event()
        self._proc = None
        self._thread = None
        self.device = None

    # --- life cycle -------------------------------------------------------------
    def start(self):
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)
        os.set_blocking(self._master, False)
        self.device = os.ttyname(self._slave)
        if self.link:
            if os.path.islink(self.link):
                os.unlink(self.link)
            os.symlink(self.device, self.link)
            self.device = self.link
        fd, self._config_path = tempfile.mkstemp(prefix="mpboard-", suffix=".json")
        with os.fdopen(fd, "w") as f:
            json.dump(self.config, f)
        board_in, self._to_board = os.pipe()
        # The board reads its serial line without blocking (board.mjs polls it).
        os.set_blocking(board_in, False)
        self._proc = subprocess.Popen(
            [self._node, GLUE, self._config_path],
            stdin=board_in, stdout=subprocess.PIPE, cwd=os.path.dirname(HERE), close_fds=True,
        )
        os.close(board_in)
        self._from_board = self._proc.stdout.fileno()
        os.set_blocking(self._from_board, False)
        os.set_blocking(self._to_board, False)
        self._thread = threading.Thread(target=self._relay, name="mpboard-relay", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout=3.0):
        """Closing the board's input lets it save --fs DIR and exit; then it is killed."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        if self._proc is not None:
            try:
                self._proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
            self._proc.stdout.close()
            self._proc = None
        for fd in (self._master, self._slave):
            os.close(fd)
        if self.link and os.path.islink(self.link):
            os.unlink(self.link)
        os.unlink(self._config_path)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def alive(self):
        return self._proc is not None and self._proc.poll() is None

    # --- the relay --------------------------------------------------------------
    def _relay(self):
        to_board, to_port = _Pipe(self.baud), _Pipe(self.baud)
        sel = selectors.DefaultSelector()
        sel.register(self._master, selectors.EVENT_READ, "port")
        sel.register(self._from_board, selectors.EVENT_READ, "board")
        board_open = True
        try:
            while not self._stop.is_set() and board_open:
                for key, _ in sel.select(timeout=0.005):
                    if key.data == "port":
                        to_board.pending += _read(self._master)
                    else:
                        data = _read(self._from_board)
                        if data is None:
                            board_open = False  # the board process ended
                        to_port.pending += data or b""
                if len(to_port.pending) > MAX_UNREAD:
                    to_port.sent(len(to_port.pending) - MAX_UNREAD)
                _write(self._to_board, to_board)
                _write(self._master, to_port)
        finally:
            sel.close()
            os.close(self._to_board)  # end of input: the board saves and exits


def _read(fd):
    try:
        data = os.read(fd, 4096)
    except BlockingIOError:
        return b""
    except OSError as e:
        if e.errno == errno.EIO:
            return b""
        raise
    return data if data else None


def _write(fd, pipe):
    n = pipe.allowance()
    if n <= 0:
        return
    try:
        pipe.sent(os.write(fd, bytes(pipe.pending[:n])))
    except (BlockingIOError, InterruptedError):
        pass


# --- command line ------------------------------------------------------------------
def parse_args(argv=None):
    p = argparse.ArgumentParser(
        prog="python -m sim mpboard",
        description="A virtual ESP32 running real MicroPython on a serial port (pseudo-terminal).",
    )
    p.add_argument("--trace", help="sensor trace CSV to play from each boot (docs/design.md format)")
    p.add_argument("--baud", type=int, default=115200, help="wire rate of the port; 0 = unpaced")
    p.add_argument("--fs", dest="fs_dir", help="folder that holds the board's flash across restarts")
    p.add_argument("--board", default="esp32_devkitc", help="board config from boards/")
    p.add_argument("--speed", type=int, default=1, help="the board's clock runs N times wall time")
    p.add_argument("--log", help="append the board's hardware log (motor PWM, pins, resets) to this CSV")
    p.add_argument("--link", help="also make the port reachable at this path (a symlink)")
    p.add_argument("--battery-mv", type=int, default=3900, help="battery voltage the ADC reads")
    p.add_argument("--press", action="append", default=[], type=_press, metavar="T_MS[:HOLD_MS]",
                   help="press the button at this trace time (hold 200 ms, or HOLD_MS); repeatable")
    p.add_argument("--uid", help="the chip's unique id in hex (default: from --fs DIR, else random)")
    return p.parse_args(argv)


def problem(args):
    """What is wrong with the options, in one line; None if nothing."""
    if args.board not in loader.known_boards():
        return "unknown board %r (known: %s)" % (args.board, ", ".join(loader.known_boards()))
    if args.trace and not os.path.isfile(args.trace):
        return "no trace file %s (make one: python -m sim.mpboard.demo_trace %s)" % (args.trace, args.trace)
    if args.uid and (len(args.uid) % 2 or not 2 <= len(args.uid) <= 32
                     or any(c not in "0123456789abcdef" for c in args.uid.lower())):
        return "--uid %s: 2 to 32 hex digits" % args.uid
    return None


def _press(text):
    at, _, hold = text.partition(":")
    return (int(at), int(hold or 200))


def main(argv=None):
    args = parse_args(argv)
    if problem(args):
        print("mpboard: %s" % problem(args), file=sys.stderr)
        return 2
    board = VirtualSerialBoard(
        trace=args.trace, baud=args.baud, fs_dir=args.fs_dir, board=args.board, speed=args.speed,
        log=args.log, link=args.link, battery_mv=args.battery_mv, presses=args.press,
        uid=args.uid and args.uid.lower(),
    )
    stopping = threading.Event()

    def on_signal(signum, frame):
        stopping.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    board.start()
    print(board.device, flush=True)
    print(
        "mpboard: %s running real MicroPython on %s; try `mpremote connect %s repl`; Ctrl-C here ends it"
        % (args.board, board.device, board.device),
        file=sys.stderr, flush=True,
    )
    try:
        while not stopping.wait(0.2):
            if not board.alive():
                print("mpboard: the board process ended", file=sys.stderr)
                return 1
    finally:
        board.stop()
    return 0


# --- for tests and scripts: the board as a process group of its own --------------
class BoardProcess:
    """`python -m sim.mpboard ...` in a process group of its own; `device` is its port.
    Leaving the `with` ends the whole group (launcher and board) whatever happened.

        with BoardProcess("--trace", "run.csv") as board:
            subprocess.run(["mpremote", "connect", board.device, "exec", "print(1)"])
    """

    START_TIMEOUT_S = 20

    def __init__(self, *cli_args):
        self.cli_args = [str(a) for a in cli_args]
        self.proc = None
        self.device = None

    def __enter__(self):
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "sim.mpboard", *self.cli_args],
            cwd=os.path.dirname(os.path.dirname(HERE)), stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, start_new_session=True, text=True,
        )
        try:
            self.device = self._first_line()
        except BaseException:
            self.end()
            raise
        return self

    def _first_line(self):
        sel = selectors.DefaultSelector()
        sel.register(self.proc.stdout, selectors.EVENT_READ)
        ready = sel.select(self.START_TIMEOUT_S)
        sel.close()
        line = self.proc.stdout.readline().strip() if ready else ""
        if not line:
            raise RuntimeError("the virtual board did not start: " + self._stderr())
        return line

    def _stderr(self):
        if self.proc.poll() is None:
            return "(still starting)"
        return self.proc.stderr.read()

    def end(self):
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        except ProcessLookupError:
            pass
        finally:
            # a board child the launcher could not end (it never should outlive it)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.stdout.close()
            self.proc.stderr.close()
            self.proc = None

    def __exit__(self, *exc):
        self.end()
