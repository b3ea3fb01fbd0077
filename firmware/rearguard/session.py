# The session recorder: while a run is on, it accumulates the summary (times,
# steps, distance, alerts per level, closest approach, minimum TTC, stumbles,
# falls, blind / too-fast time, valid-range share, battery) and a bounded event
# log, checkpoints it to flash every 30 s and writes the finished session.
# Whether a run is on is decided elsewhere (button, running/stillness: issue 5).
#
#     keeper = SessionKeeper(store, profile, "esp32_devkitc", app.log)
#     keeper.start(now_ms); app.tick(now_ms) -> keeper.update(now_ms, app)
#     keeper.stop(now_ms)               # -> store.save(...)
import time
from time import ticks_add, ticks_diff

from micropython import const

from rearguard import VERSION, events, protocol
from rearguard.profile import PROFILE_VERSION
from rearguard.sensing.body import NEAR_FALL_WINDOW_MS

CHECKPOINT_MS = const(30000)
FIRST_CHECKPOINT_MS = const(2000)  # so even a short interrupted run is recovered
# time.time() counts from 2000-01-01 on the ESP32; below 2020 the clock was never set.
_EPOCH_2000 = const(946684800)
_CLOCK_VALID_S = const(631152000)  # 2020-01-01 in the 2000 epoch
_MAX_I32 = const(0x3FFFFFFF)  # small-int ceiling on MicroPython: "none yet"


def rtc_seconds():
    """Seconds since 2000-01-01 if the host has set the clock, else 0. Kept in
    the 2000 epoch on the device: it stays a small int (no allocation)."""
    try:
        now = time.time()
    except (OSError, RuntimeError):
        return 0
    return int(now) if now >= _CLOCK_VALID_S else 0  # a float on some ports


def wall_clock_unix():
    """UTC seconds since 1970 if the host has set the clock, else 0."""
    now = rtc_seconds()
    return now + _EPOCH_2000 if now else 0


class SessionKeeper:
    def __init__(self, store, profile, board_name, log):
        self.store = store
        self.profile = profile
        self.board_name = board_name
        self.log = log
        self.active = False
        self.session_id = 0
        self.low_storage = False  # flash full: recording goes on in RAM
        self.app = None  # picked up at the first update (the constructor cannot have it)
        self.battery = None  # app.hw.battery
        cap = protocol.MAX_EVENTS
        self.ev_t = [0] * cap
        self.ev_kind = bytearray(cap)
        self.ev_level = bytearray(cap)
        self.alerts = [0, 0, 0, 0]
        self._reset(0)
        self._sink = self.on_event  # bound once: emit() must not allocate
        log.sinks.append(self._sink)

    def _reset(self, now_ms):
        self.start_ms = now_ms
        self.last_ms = now_ms
        self.last_ckp_ms = now_ms
        self.start_steps = -1
        self.steps = 0
        self.moving_ms = 0
        self.distance_mm = 0
        self.distance_um = 0  # remainder below 1 mm, keeps ints small
        alerts = self.alerts  # by level, [0] unused; reset in place: start() allocates nothing
        for level in range(4):
            alerts[level] = 0
        self.last_level = events.NONE
        self.closest_mm = _MAX_I32
        self.min_ttc_ms = _MAX_I32
        self.stumbles = 0
        self.stumble_ms = 0
        self.falls = 0
        self.blind_ms = 0
        self.too_fast_ms = 0
        self.valid_ms = 0
        self.battery_start_mv = -1  # read at the first tick with a battery
        self.battery_end_mv = 0
        self.ev_count = 0
        self.ev_dropped = 0
        self.recovered = False
        self.paused = False
        self.paused_ms = 0  # standing still long enough to pause: not part of the run

    # --- decisions from the balance work (issue 5) -------------------------
    def start(self, now_ms):
        if self.active:
            return
        self._reset(now_ms)
        self.active = True
        self.session_id = self.store.new_session_id() if self.store is not None else 0
        # The first checkpoint comes early, then one every CHECKPOINT_MS.
        self.last_ckp_ms = ticks_add(now_ms, FIRST_CHECKPOINT_MS - CHECKPOINT_MS)
        self.log.emit(now_ms, events.SESSION_START)  # logged through on_event

    def pause(self, now_ms):
        # The activity control (issue 5) pauses a run while the runner stands still.
        if self.active and not self.paused:
            self.update(now_ms, None)
            self.paused = True

    def resume(self, now_ms):
        if self.active and self.paused:
            self.update(now_ms, None)
            self.paused = False

    def stop(self, now_ms):
        if not self.active:
            return
        self.update(now_ms, None)
        if self.battery is not None:
            self.battery_end_mv = self.battery.read_mv()
        self.log.emit(now_ms, events.SESSION_END)  # the summary is complete when this is seen
        self.active = False
        if self.store is not None:
            blob = self.encode(now_ms, 0)
            self.store.save(self.session_id, blob)
            self.low_storage = self.store.low_storage

    def shutdown(self, now_ms):
        # Ctrl-C, low battery: the run ends as a finished session.
        self.stop(now_ms)

    # --- every tick: counters only, nothing allocated ------------------------
    def update(self, now_ms, app):
        if app is None:
            app = self.app  # pause/resume/stop between ticks: count up to now with the last one
        elif self.app is None:
            self.app = app
            self.battery = app.hw.battery
        if not self.active:
            return
        dt = ticks_diff(now_ms, self.last_ms)
        self.last_ms = now_ms
        if self.paused:
            self.paused_ms += dt
        elif app is not None and dt > 0:
            self._count(dt, app)
        if self.store is not None and ticks_diff(now_ms, self.last_ckp_ms) >= CHECKPOINT_MS:
            self.last_ckp_ms = now_ms
            self.checkpoint(now_ms)

    def _count(self, dt, app):
        body = app.body
        obstacle = app.obstacle
        if body.moving:
            self.moving_ms += dt
        if self.battery_start_mv < 0 and self.battery is not None:
            self.battery_start_mv = self.battery.read_mv()
        if self.start_steps < 0:
            self.start_steps = body.steps
        self.steps = body.steps - self.start_steps
        # speed (mm/s) x dt (ms) = micrometres; carried so it never grows large
        um = self.distance_um + body.speed_mm_s * dt
        if um >= 1000:
            mm = um // 1000
            self.distance_mm += mm
            um -= mm * 1000
        self.distance_um = um
        level = obstacle.level
        if level != self.last_level:
            if level > self.last_level:
                self.alerts[level] += 1
            self.last_level = level
        d = obstacle.distance_mm
        if 0 <= d < self.closest_mm:
            self.closest_mm = d
        t = obstacle.ttc_ms
        if 0 <= t < self.min_ttc_ms:
            self.min_ttc_ms = t
        if obstacle.blind:
            self.blind_ms += dt
        if obstacle.too_fast:
            self.too_fast_ms += dt
        if app.hw.tof.ok and app.hw.tof.status == 0:
            self.valid_ms += dt

    # --- events (rare) ------------------------------------------------------
    def on_event(self, t_ms, kind, level):
        if not self.active:
            return
        if kind == events.STUMBLE:
            self.stumbles += 1
            self.stumble_ms = t_ms
        elif kind == events.FALL:
            self.falls += 1
            # A fall announces itself with a stumble (the pre-impact buzz); the
            # summary's stumbles are near-falls, so that one is not counted twice.
            if self.stumbles and ticks_diff(t_ms, self.stumble_ms) <= NEAR_FALL_WINDOW_MS:
                self.stumbles -= 1
        self.log_event(t_ms, kind, level)

    def log_event(self, t_ms, kind, level):
        i = self.ev_count
        if i >= protocol.MAX_EVENTS:
            self.ev_dropped += 1
            return
        self.ev_t[i] = ticks_diff(t_ms, self.start_ms)
        self.ev_kind[i] = kind
        self.ev_level[i] = level
        self.ev_count = i + 1

    # --- flash ----------------------------------------------------------------
    def checkpoint(self, now_ms):
        ok = self.store.checkpoint(self.encode(now_ms, protocol.FLAG_CHECKPOINT))
        if not ok:
            self.low_storage = True

    def summary(self, now_ms):
        """Summary values in protocol.SUMMARY_FIELDS order."""
        elapsed = ticks_diff(now_ms, self.start_ms)
        duration = elapsed - self.paused_ms
        if self.paused:
            duration -= ticks_diff(now_ms, self.last_ms)
        moving = self.moving_ms
        cadence = self.steps * 60000 // moving if moving > 0 else 0
        valid_pm = self.valid_ms * 1000 // duration if duration > 0 else 0
        flags = 0
        # The clock is read here, not at start(): start() runs inside a tick and
        # time.time() may allocate on some ports. Same answer to the second.
        rtc_s = rtc_seconds()
        start_unix_s = rtc_s - elapsed // 1000 + _EPOCH_2000 if rtc_s else 0
        if start_unix_s:
            flags |= protocol.FLAG_CLOCK_KNOWN
        if self.low_storage:
            flags |= protocol.FLAG_LOW_STORAGE
        return [
            self.session_id, flags, self.store.boot & 0xFFFF if self.store is not None else 0,
            start_unix_s, self.start_ms, duration, moving, self.steps, min(cadence, 0xFFFF),
            self.distance_mm, self.alerts[1], self.alerts[2], self.alerts[3],
            -1 if self.closest_mm == _MAX_I32 else self.closest_mm,
            -1 if self.min_ttc_ms == _MAX_I32 else self.min_ttc_ms,
            self.stumbles, self.falls, self.blind_ms, self.too_fast_ms, min(valid_pm, 1000),
            max(0, self.battery_start_mv), self.battery_end_mv, PROFILE_VERSION,
            self.profile.version & 0xFFFF, min(self.ev_dropped, 0xFFFF),
        ]

    def encode(self, now_ms, extra_flags):
        values = self.summary(now_ms)
        values[1] |= extra_flags
        evs = [(self.ev_t[i], self.ev_kind[i], self.ev_level[i]) for i in range(self.ev_count)]
        return protocol.encode_session(values, evs, VERSION, self.board_name)
