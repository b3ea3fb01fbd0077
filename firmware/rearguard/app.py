# The clip's application: one tick = drivers -> sensing -> session -> arbiter
# -> haptics, then the host link between ticks. Everything is injected
# (board config, machine, time, filesystem), so the same code runs on the
# ESP32 (main.py) and on the virtual boards (sim/).
#
#     app = boot(board, machine, time, os)     # hardware, store, profile, App
#     app.tick(time.ticks_ms())                # the hot path: allocates nothing
#     serve(app, machine, time)                # the tick loop, until Ctrl-C
#
# Between ticks the CPU rests (light sleep on battery), and a clip left alone
# goes to deep sleep (rearguard/power.py, docs/power.md).
# docs/architecture.md draws the tick and says which module owns which fact.
from micropython import const

from rearguard import VERSION, console, events, haptics, store
from rearguard.alerts import Arbiter
from rearguard.hw import Hardware
from rearguard.power import PowerWatch
from rearguard.profile import Profile
from rearguard.sensing.body import BodyMonitor
from rearguard.sensing.obstacle import ObstacleMonitor
from rearguard.session import SessionControl, SessionKeeper

_TICK_MS = const(10)  # 100 Hz: the IMU rate; the ToF is polled every tick
_WDT_TIMEOUT_MS = const(2000)
_SENSOR_START_MS = const(500)  # the range sensor's first ranging takes ~100 ms


class App:
    def __init__(self, hw, profile, sessions=None):
        """`sessions`: the store (store.open_store), None where flash is unusable."""
        self.hw = hw
        self.profile = profile
        self.events = events.Events()
        self.player = haptics.PatternPlayer(hw.motor, profile.haptic_strength_pct)
        self.arbiter = Arbiter(self.player)
        self.body = BodyMonitor(profile, self.events)
        self.obstacle = ObstacleMonitor(profile, self.events)
        self.session = SessionKeeper(sessions, profile, hw.board_name, hw.battery, self.events)
        self.session_control = SessionControl(profile, self.session, self.arbiter)
        self.power = PowerWatch(hw, self.events, self.arbiter)
        self.host = None  # type: console.HostWatch | None  # where there is a console and a store
        self.ticks = 0

    def tick(self, now_ms):
        hw = self.hw
        body = self.body
        obstacle = self.obstacle
        session = self.session
        if hw.imu.read(now_ms):
            body.update(now_ms, hw.imu)
        obstacle.update(now_ms, hw.tof, hw.tof.poll(now_ms), body)
        session.update(now_ms, body, obstacle)  # counts up to now ...
        self.session_control.update(now_ms, hw.button.update(now_ms), body)  # ... then decides
        self.arbiter.decide(now_ms, obstacle, body)
        self.power.update(now_ms, session, body, obstacle)
        self.ticks += 1

    def serve_host(self, now_ms):
        # Between ticks: a bounded slice of sync work.
        if self.host is not None:
            self.host.poll(now_ms)

    def serving(self):
        """True once a host has started the sync server (it stays loaded)."""
        return self.host is not None and self.host.server is not None

    def deep_sleep(self, now_ms):
        # Loaded only now: a clip that never sleeps never holds this code.
        from rearguard import sleep

        if not sleep.enter(self, now_ms):
            self.power.can_sleep = False  # no wake source on this board: stay up

    def shutdown(self, now_ms):
        # Motor off first: whatever happens below, the runner is not left buzzing.
        self.player.stop()
        self.session.stop(now_ms)


def boot(board, machine, time, fs):
    """Board config -> drivers -> store and profile -> App. `fs`: the flash
    filesystem (the `os` module on a board; see store.Flash)."""
    print("rearguard %s on %s" % (VERSION, board.NAME))
    hw = Hardware(board, machine, time.ticks_ms())
    _await_range_sensor(hw.tof, time)
    for part in (hw.tof, hw.imu):
        if not part.ok:
            print("rearguard: " + part.problem)
    sessions = store.open_store(fs)  # None: no usable flash, the clip still protects
    profile = Profile()
    if sessions is not None:
        sessions.load_profile(profile)
    app = App(hw, profile, sessions)
    link = console.open_link() if sessions is not None else None
    if link is not None:
        app.host = console.HostWatch(link, _sync_starter(link, app, sessions))
    return app


def _await_range_sensor(tof, time):
    # The range sensor's start (its first ranging calibrates it) finishes here
    # rather than over the first ticks, so its set-up code is dropped before
    # the run (drivers/tof_setup.py). An absent sensor is not waited for.
    for _ in range(_SENSOR_START_MS // _TICK_MS):
        if not tof.starting():
            return
        time.sleep_ms(_TICK_MS)
        tof.poll(time.ticks_ms())


def _sync_starter(link, app, sessions):
    def start_server():
        from rearguard.sync import SyncServer  # loaded only once a host talks

        server = SyncServer(link, app.hw, sessions, app.session, app.profile)
        server.power = app.power  # the handshake's battery percent and USB power
        return server

    return start_server


def run(app, wdt, time):
    """The tick loop; returns only through an exception (Ctrl-C, reset)."""
    ticks_ms = time.ticks_ms
    ticks_us = time.ticks_us
    ticks_diff = time.ticks_diff
    ticks_add = time.ticks_add
    power = app.power
    next_ms = ticks_ms()
    while True:
        start_us = ticks_us()
        now = ticks_ms()
        app.tick(now)
        wdt.feed()
        app.serve_host(now)
        power.worked(now, ticks_diff(ticks_us(), start_us), app.serving())
        if power.sleep_due:
            app.deep_sleep(now)  # returns only where the board cannot sleep
        next_ms = ticks_add(next_ms, _TICK_MS)
        wait = ticks_diff(next_ms, ticks_ms())
        if wait > 0:
            power.rest(wait)  # light sleep on battery, else idle
        else:
            next_ms = ticks_ms()  # overran: start afresh rather than race to catch up


def serve(app, machine, time):
    """Run the ticks under the watchdog. Ctrl-C stops cleanly (motor off,
    session closed) and returns to the REPL."""
    wdt = machine.WDT(timeout=_WDT_TIMEOUT_MS)
    try:
        run(app, wdt, time)
    except KeyboardInterrupt:
        app.shutdown(time.ticks_ms())
        keep_fed_in_repl(machine, wdt)
        print("rearguard: stopped (Ctrl-C); motor off, session closed")
    return app


def main(board, machine, time, fs):
    """What main.py runs on a board: boot, then serve until Ctrl-C."""
    return serve(boot(board, machine, time, fs), machine, time)


def keep_fed_in_repl(machine, wdt):
    # The ESP32's watchdog cannot be stopped once started. After Ctrl-C the
    # developer's REPL (and mpremote) must not be reset under them, so a
    # hardware timer takes over feeding it; a hung tick loop still trips it.
    machine.Timer(0).init(period=_WDT_TIMEOUT_MS // 4, callback=lambda _t: wdt.feed())
