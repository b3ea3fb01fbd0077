# The clip's application: one tick = drivers -> sensing -> arbiter -> haptics
# -> session, then the sync server between ticks. Everything is injected, so
# the same code runs on the ESP32 (main.py) and on the virtual board (sim/).
#
#     app = App(hw, Profile(), "esp32_devkitc", time.ticks_ms())
#     app.tick(time.ticks_ms())          # the hot path: allocates nothing
#     run(app, machine.WDT(timeout=2000), time)
from micropython import const

from rearguard import VERSION, events, flash, haptics, store, sync
from rearguard import hw as hardware
from rearguard.alerts import Arbiter
from rearguard.power import PowerWatch
from rearguard.profile import Profile
from rearguard.sensing.activity import SessionControl
from rearguard.sensing.body import BodyMonitor
from rearguard.sensing.obstacle import ObstacleMonitor
from rearguard.session import SessionKeeper

TICK_MS = const(10)  # 100 Hz: the IMU rate; the ToF is polled every tick
WDT_TIMEOUT_MS = const(2000)

# Set by the simulator to watch the firmware (events, state); never on a board.
on_boot = None


class App:
    def __init__(self, hw, profile, board_name, now_ms, store=None):
        self.hw = hw
        self.profile = profile
        self.board_name = board_name
        self.log = events.EventLog()
        self.player = haptics.PatternPlayer(hw.motor, profile.haptic_strength_pct)
        self.arbiter = Arbiter(self.player)
        self.body = BodyMonitor(profile, self.log)
        self.obstacle = ObstacleMonitor(profile, self.log)
        self.session = SessionKeeper(store, profile, board_name, self.log)
        self.activity = SessionControl(profile, hw.button)  # button and gait start/stop runs
        self.power = PowerWatch(hw.battery, hw.led)
        self.sync = None  # rearguard.sync.SyncServer, attached by main() where a link exists
        self.ticks = 0

    def tick(self, now_ms):
        hw = self.hw
        if hw.imu.read(now_ms):
            self.body.update(now_ms, hw.imu)
        self.activity.update(now_ms, self)
        new_range = hw.tof.poll(now_ms)
        self.obstacle.update(now_ms, hw.tof, new_range, self.body)
        self.arbiter.decide(now_ms, self.obstacle, self.body)
        self.session.update(now_ms, self)
        self.power.update(now_ms, self)
        self.ticks += 1

    def serve(self, now_ms):
        # Between ticks: a bounded slice of sync work.
        if self.sync is not None:
            self.sync.poll(now_ms)

    def shutdown(self, now_ms):
        # Motor off first: whatever happens below, the runner is not left buzzing.
        self.player.stop()
        self.session.shutdown(now_ms)


def report_problems(hw):
    for part in (hw.tof, hw.imu):
        if not part.ok:
            print("rearguard: " + part.problem)


def run(app, wdt, time):
    """The tick loop; returns only through an exception (Ctrl-C, reset)."""
    ticks_ms = time.ticks_ms
    ticks_diff = time.ticks_diff
    ticks_add = time.ticks_add
    next_ms = ticks_ms()
    while True:
        now = ticks_ms()
        app.tick(now)
        wdt.feed()
        app.serve(now)
        next_ms = ticks_add(next_ms, TICK_MS)
        wait = ticks_diff(next_ms, ticks_ms())
        if wait > 0:
            time.sleep_ms(wait)
        else:
            next_ms = ticks_ms()  # overran: start afresh rather than race to catch up


def main(board, machine, time):
    """Boot: board config -> drivers -> App -> loop. Ctrl-C returns to the REPL."""
    print("rearguard %s on %s" % (VERSION, board.NAME))
    now = time.ticks_ms()
    hw = hardware.build(board, machine, now)
    report_problems(hw)
    sessions = store.open_store(flash)  # None: no usable flash, the clip still protects
    profile = Profile()
    if sessions is not None:
        sessions.load_profile(profile)
    app = App(hw, profile, board.NAME, now, sessions)
    sync.attach(app, sessions, machine)  # USB serial sync between ticks, if a console exists
    if on_boot is not None:
        on_boot(app)
    wdt = machine.WDT(timeout=WDT_TIMEOUT_MS)
    try:
        run(app, wdt, time)
    except KeyboardInterrupt:
        app.shutdown(time.ticks_ms())
        keep_fed_in_repl(machine, wdt)
        print("rearguard: stopped (Ctrl-C); motor off, session closed")
    return app


def keep_fed_in_repl(machine, wdt):
    # The ESP32's watchdog cannot be stopped once started. After Ctrl-C the
    # developer's REPL (and mpremote) must not be reset under them, so a
    # hardware timer takes over feeding it; a hung tick loop still trips it.
    machine.Timer(0).init(period=WDT_TIMEOUT_MS // 4, callback=lambda _t: wdt.feed())
