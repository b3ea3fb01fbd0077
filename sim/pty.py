"""The virtual board's USB serial console on a pseudo-terminal, so the desktop
tool talks to the real firmware sync code through pyserial.

    python -m sim.pty [--scenario FILE] [--baud 115200] [--board NAME] [--uid HEX]
    (also `python -m sim board --pty ...`, which calls main())

It first plays the scenario (or, with none, the default run) free-running, so
there is a session in the virtual flash; then it boots the firmware again with
its console on a pseudo-terminal, prints `device: /dev/pts/N`, and runs with
virtual time paced to real time until killed (SIGTERM/SIGINT). With --baud,
every write the firmware makes takes the time it would take on a UART at that
rate (10 bits a byte), in virtual and therefore in real time.

It answers the desktop tool (`rearguard`) only: the firmware runs in CPython
here, so there is no MicroPython REPL behind the port. After a Ctrl-C it
behaves as a clip left at the prompt (it echoes what it is sent), and it
tells mpremote, which asks for the raw REPL, to use `python -m sim mpboard`.
Each start is a new clip (a fresh flash and, unless --uid, a random uid).

The firmware reaches the terminal through its ordinary `sys.stdin`/`sys.stdout`
and `select.poll` (rearguard.console.ConsoleLink): this module provides
stand-ins for `sys` and `select` through VirtualBoard.overrides.
"""

import argparse
import contextlib
import errno
import os
import select as _select
import subprocess
import sys as _sys
import termios
import time
import tty
import types

from sim.board import VirtualBoard
from sim.flash import VirtualFlash

DEFAULT_RUN_MS = 45_000
START_LIMIT_S = 60  # board_process: until the child names its terminal
BATTERY_MV = 4050
NO_REPL = (b"this virtual board (python -m sim board --pty) runs the firmware in CPython and has "
           b"no MicroPython REPL: for mpremote use `python -m sim mpboard`")


class PtyConsole:
    """The master side of a pseudo-terminal, as the board's UART sees it."""

    def __init__(self, baud=None):
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave, termios.TCSANOW)
        os.set_blocking(self.master, False)
        self.path = os.ttyname(self.slave)
        self.baud = baud
        self.clock = None  # the board's clock, for the wire time of writes
        self._pending = bytearray()
        self.bytes_written = 0

    def close(self):
        for fd in (self.master, self.slave):
            try:
                os.close(fd)
            except OSError:
                pass

    # what the firmware's stdin/stdout and select.poll end up calling
    def readable(self):
        if self._pending:
            return True
        r, _, _ = _select.select([self.master], [], [], 0)
        if r:
            try:
                self._pending.extend(os.read(self.master, 4096))
            except (BlockingIOError, OSError):
                return False
        return bool(self._pending)

    def readinto(self, buf):
        if not self.readable():
            return None
        if 3 in self._pending:
            # Ctrl-C: MicroPython's console turns it into KeyboardInterrupt before
            # stdin sees it; so does the simulated one (the firmware stops cleanly).
            del self._pending[: self._pending.index(3) + 1]
            raise KeyboardInterrupt
        n = min(len(buf), len(self._pending))
        buf[:n] = self._pending[:n]
        del self._pending[:n]
        return n

    def write(self, data):
        data = bytes(data)
        view = memoryview(data)
        while view:
            try:
                n = os.write(self.master, view)
            except BlockingIOError:
                break  # nobody reading: a USB console drops output too
            except OSError as e:
                if e.errno in (errno.EIO, errno.EAGAIN):
                    break
                raise
            view = view[n:]
        self.bytes_written += len(data)
        if self.baud and self.clock is not None:
            self.clock.sleep_us(len(data) * 10_000_000 // self.baud)
        return len(data)

    def modules(self):
        """`sys` and `select` as the firmware should see them."""
        console = self

        class _In:
            def __init__(self):
                self.buffer = self

            def readinto(self, buf):
                return console.readinto(buf)

            def read(self, n=1):
                buf = bytearray(n)
                got = console.readinto(buf) or 0
                return bytes(buf[:got])

        class _Out:
            def __init__(self):
                self.buffer = self

            def write(self, data):
                if isinstance(data, str):
                    data = data.encode()
                return console.write(data)

        class _Poll:
            def __init__(self):
                self.objs = []

            def register(self, obj, mask=1):
                self.objs.append(obj)

            def poll(self, timeout=-1):
                return [(o, 1) for o in self.objs] if console.readable() else []

            def ipoll(self, timeout=-1, flags=0):
                return iter(self.poll(timeout))

        fake_sys = types.ModuleType("sys")
        fake_sys.__dict__.update({k: getattr(_sys, k) for k in ("implementation", "version", "maxsize",
                                                                 "byteorder", "modules", "path", "argv")})
        fake_sys.platform = "esp32-sim"
        fake_sys.stdin = _In()
        fake_sys.stdout = _Out()
        fake_sys.stderr = fake_sys.stdout
        fake_sys.print_exception = lambda exc, file=None: None
        fake_select = types.ModuleType("select")
        fake_select.POLLIN = 1
        fake_select.POLLOUT = 4
        fake_select.poll = _Poll
        return {"sys": fake_sys, "select": fake_select}


class _Echo:
    """print() output of the firmware goes to the same terminal, as on a board."""

    def __init__(self, console):
        self.console = console

    def write(self, text):
        self.console.write(text.replace("\n", "\r\n").encode())

    def flush(self):
        pass


def pace_to_real_time(clock):
    """Clock listener: virtual time never runs ahead of the wall clock."""
    t0_real = time.monotonic()
    t0_virtual = clock.us

    def pace(now_us):
        ahead = (now_us - t0_virtual) / 1e6 - (time.monotonic() - t0_real)
        if ahead > 0.002:
            time.sleep(ahead)

    clock.add_listener(pace)
    return pace


DEFAULT_SCENARIO = os.path.join(os.path.dirname(os.path.abspath(__file__)), "scenarios",
                                "default_run.json")


def play_scenario(path, flash):
    """Run a scenario (sim.scenario) with `flash` as the board's flash, so the
    session the firmware records there is waiting when the terminal opens."""
    from sim import scenario

    return scenario.run(scenario.load(path), flash=flash)


def play_default_run(board_name, flash, scenario=None):
    """Fill the flash with the scenario's (or the default run's) session. A board
    without the scenario engine still gets a session: a standing run with
    missing sensors, started at boot."""
    path = scenario or DEFAULT_SCENARIO
    if os.path.exists(path) or scenario is not None:
        return play_scenario(path, flash)
    vb = VirtualBoard(board_name, flash=flash)
    return vb.run(until_ms=DEFAULT_RUN_MS, on_boot=lambda app: app.session.start(vb.clock.ticks_ms()))


def serve(board_name="esp32_devkitc", scenario=None, baud=None, flash=None, default_run=True,
          announce=None, until_ms=None, unique_id=None):
    """Run the firmware with its console on a new pseudo-terminal until killed
    (or board time `until_ms`). `announce(path)` is told the device path;
    `unique_id` (bytes) is the clip's, random if None."""
    flash = flash if flash is not None else VirtualFlash()
    if default_run or scenario is not None:
        play_default_run(board_name, flash, scenario)
    console = PtyConsole(baud)
    try:
        vb = VirtualBoard(board_name, start_ms=0, flash=flash, unique_id=unique_id or os.urandom(6))
        vb.overrides.update(console.modules())
        plug_usb_after_boot(vb)
        bat = vb.config.BATTERY  # a charged cell on the desk, for the handshake's battery figure
        num, den = bat["divider"]
        vb.adc_sources[bat["pin"]] = lambda _t_ms: BATTERY_MV * 1000 * den // num
        console.clock = vb.clock
        pace_to_real_time(vb.clock)
        (announce or _print_path)(console.path)
        result = vb.run(until_ms=until_ms or 10 * 365 * 86_400_000, echo=_Echo(console))
        if until_ms is None:
            at_the_prompt(console)
        return result
    finally:
        console.close()


def plug_usb_after_boot(vb, after_ms=1000):
    """The clip boots on its battery (it reads its charge) and its USB cable
    goes in a second later: from then on it neither light- nor deep-sleeps."""

    def plug(now_us):
        if now_us >= after_ms * 1000:
            vb.usb_powered = True

    vb.clock.add_listener(plug)


def at_the_prompt(console):
    """After Ctrl-C: a board would now sit at the REPL prompt, echoing what it
    is sent (so `rearguard pull` sees a REPL, not a clip). Nothing runs here:
    a line typed gets NO_REPL, and so does mpremote, through just enough of the
    raw REPL protocol for it to print NO_REPL as the error of its request
    instead of waiting forever."""
    console.write(b">>> ")
    repl = StandInRepl()
    while True:
        time.sleep(0.02)
        if console.readable():
            got = bytes(console._pending)
            console._pending.clear()
            console.write(repl.feed(got))


class StandInRepl:
    """The replies of a prompt that runs nothing (see at_the_prompt)."""

    RAW = b"raw REPL; CTRL-B to exit\r\n>"

    def __init__(self):
        self.raw = False
        self.code = bytearray()

    def feed(self, data):
        out = bytearray()
        for i in range(len(data)):
            out += self._raw(data[i : i + 1]) if self.raw else self._friendly(data[i : i + 1])
        return bytes(out)

    def _friendly(self, b):
        if b == b"\x01":  # Ctrl-A: raw REPL
            self.raw = True
            self.code.clear()
            return self.RAW
        if b in (b"\r", b"\x04"):
            return b"\r\n" + NO_REPL + b"\r\n>>> "
        return b"\r\n>>> " if b == b"\x03" else b if b >= b" " else b""

    def _raw(self, b):
        if b == b"\x02":  # Ctrl-B: back to the friendly prompt
            self.raw = False
            return b"\r\n>>> "
        if b == b"\x04" and not self.code:  # a soft reset: the raw REPL again
            return b"soft reboot\r\n" + self.RAW
        if b == b"\x04":  # the end of a program: "run" it, its error is NO_REPL
            self.code.clear()
            return b"OK\x04" + NO_REPL + b"\r\n\x04>"
        self.code += b
        if self.code == b"\x05A\x01":  # raw paste: not offered
            self.code.clear()
            return b"R\x00"
        return b""


class LoopbackDevice:
    """The firmware's sync server on a virtual board in this process, behind a
    pyserial-like port: each read by the host runs a few firmware ticks. For
    tests of the host and the protocol that need no terminal and no thread.

        dev = LoopbackDevice(flash)
        link = host_tools.link.DeviceLink(dev.port)
    """

    def __init__(self, flash=None, board_name="esp32_devkitc", ticks_per_read=4,
                 unique_id=b"\x24\x0a\xc4\x5a\x10\x01"):
        from sim import loader, machine

        self.flash = flash if flash is not None else VirtualFlash()
        self.vb = VirtualBoard(board_name, flash=self.flash, unique_id=unique_id)
        self.ticks_per_read = ticks_per_read
        self.to_device = bytearray()
        self.from_device = bytearray()
        self._loader = loader.firmware_modules(self.vb.config, self.vb.overrides)
        self._active = self.vb.active()
        self._active.__enter__()
        load = self._loader.__enter__()
        self.modules = {name: load("rearguard." + name) for name in
                        ("app", "store", "sync", "hw", "profile", "protocol", "sessionfile",
                         "events")}
        m = self.modules
        self.store = m["store"].open_store(self.flash)
        profile = m["profile"].Profile()
        self.store.load_profile(profile)
        hw = m["hw"].Hardware(self.vb.config, machine, self.vb.clock.ticks_ms())
        self.app = m["app"].App(hw, profile, self.store)
        # The server at once (the clip starts it at the host's first frame).
        self.server = m["sync"].SyncServer(self, hw, self.store, self.app.session, profile)
        self.server.power = self.app.power
        self.app.host = self.server
        self.port = _LoopbackPort(self)

    def close(self):
        self._loader.__exit__(None, None, None)
        self._active.__exit__(None, None, None)

    # the link the firmware's SyncServer sees
    def read_byte(self):
        if not self.to_device:
            return -1
        b = self.to_device[0]
        del self.to_device[0]
        return b

    def write(self, data):
        self.from_device.extend(data)

    def step(self, ticks=1):
        for _ in range(ticks):
            now = self.vb.clock.ticks_ms()
            self.app.tick(now)
            self.app.serve_host(now)
            self.vb.clock.sleep_ms(10)


class _LoopbackPort:
    """What host_tools.link.DeviceLink needs of a pyserial port."""

    def __init__(self, device):
        self.device = device
        self.is_open = True
        self.tamper = None  # fn(bytes) -> bytes: noise on the way to the host

    @property
    def in_waiting(self):
        return len(self.device.from_device)

    def write(self, data):
        if not self.is_open:
            raise OSError(errno.EIO, "port closed")
        self.device.to_device.extend(data)
        return len(data)

    def flush(self):
        pass

    def read(self, n=1):
        if not self.is_open:
            raise OSError(errno.EIO, "port closed")
        dev = self.device
        if not dev.from_device:
            dev.step(dev.ticks_per_read)
        data = bytes(dev.from_device[:n])
        del dev.from_device[:n]
        return self.tamper(data) if self.tamper else data

    def reset_input_buffer(self):
        self.device.from_device.clear()

    def close(self):
        self.is_open = False


def record_sessions(flash, count, seed=0, board_name="esp32_devkitc"):
    """Record `count` sessions of typical size (10-60 events) into `flash` with
    the firmware's own recorder and store (tests, the sync bench)."""
    import random

    rng = random.Random(seed)
    dev = LoopbackDevice(flash, board_name)
    try:
        keeper, events = dev.app.session, dev.app.events
        for _ in range(count):
            # no runner here: no automatic pause or end
            dev.app.session_control.keep_active(dev.vb.clock.ticks_ms())
            for _ in range(rng.randrange(10, 60)):
                dev.step(rng.randrange(1, 20))
                events.emit(dev.vb.clock.ticks_ms(), rng.randrange(1, 6), rng.randrange(0, 4))
            keeper.stop(dev.vb.clock.ticks_ms())
    finally:
        dev.close()


@contextlib.contextmanager
def board_process(args=()):
    """`python -m sim.pty ARGS` in a child process; yields its device path and
    ends the process whatever happens (tests, the bench, the demo)."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    child = subprocess.Popen([_sys.executable, "-m", "sim.pty", *args], cwd=root,
                             stdout=subprocess.PIPE, text=True)
    try:
        # it plays its run first (about a second); the limit is for a loaded machine
        ready = _select.select([child.stdout], [], [], START_LIMIT_S)[0]
        line = child.stdout.readline() if ready else ""
        if not line.startswith("device: "):
            raise RuntimeError("the virtual board did not start within %d s: %r" % (START_LIMIT_S, line))
        yield line.split()[1]
    finally:
        child.terminate()
        try:
            child.wait(timeout=5)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
        child.stdout.close()


DEMO_UID = "240ac45a1001"


def demo_pull(out_dir, scenario=None):
    """The end of `make demo`: the default run's session pulled from the firmware
    on a pseudo-terminal into out_dir/sessions.db, the table shown, a plot
    written to out_dir/session.png. Returns the exit status."""
    from host_tools import cli

    os.makedirs(out_dir, exist_ok=True)
    db = os.path.join(out_dir, "sessions.db")
    # One clip for every demo: a second `make demo` finds its run already pulled.
    with board_process(["--uid", DEMO_UID] + (["--scenario", scenario] if scenario else [])) as path:
        for argv in (["pull", "--port", path], ["sessions"],
                     ["plot", "1", "-o", os.path.join(out_dir, "session.png")]):
            status = cli.main(["--db", db] + argv)
            if status:
                return status
    return 0


def _uid(text):
    try:
        uid = bytes.fromhex(text)
    except ValueError:
        uid = b""
    if not 1 <= len(uid) <= 16:
        raise argparse.ArgumentTypeError("%r: a uid is 2 to 32 hex digits" % text)
    return uid


def _print_path(path):
    print("device: %s" % path, flush=True)


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m sim.pty", description=__doc__.split("\n\n")[0])
    p.add_argument("--board", default="esp32_devkitc")
    p.add_argument("--scenario", help="scenario JSON to play first (default: the default run)")
    p.add_argument("--baud", type=int, default=None, help="throttle the console to this rate")
    p.add_argument("--no-default-run", action="store_true", help="start with an empty flash")
    p.add_argument("--sessions", type=int, default=0, help="also pre-record N typical sessions")
    p.add_argument("--uid", type=_uid, help="the clip's unique id in hex (default: random)")
    args = p.parse_args(argv)
    from sim.loader import known_boards

    if args.board not in known_boards():
        print("error: unknown board %r (known: %s)" % (args.board, ", ".join(known_boards())), file=_sys.stderr)
        return 2
    flash = VirtualFlash()
    if args.sessions:
        record_sessions(flash, args.sessions, board_name=args.board)
    try:
        serve(args.board, args.scenario, args.baud, flash=flash, default_run=not args.no_default_run,
              unique_id=args.uid)
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    _sys.exit(main())
