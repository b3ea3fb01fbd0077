# Sessions (runs): when one starts, pauses and ends (SessionControl), and what
# it records (SessionKeeper): times, steps, distance, alerts per level,
# closest approach, minimum TTC, stumbles, falls, blind and too-fast time,
# valid-range share, battery, and a bounded event log, checkpointed to flash
# every 30 s and written as a session file when the run ends; and the run's
# track, one 4-byte sample a second (speed, cadence, nearest range, alert level,
# too fast, blind, paused; docs/formats.md), appended to its own file at each
# checkpoint. Also the one home of the wall clock (the RTC as the host set it).
#
#     keeper = SessionKeeper(store, profile, board.NAME, hw.battery, events)
#     control = SessionControl(profile, keeper, arbiter)
#     keeper.update(now_ms, body, obstacle)          # every tick: counters only
#     control.update(now_ms, button_press, body)     # every tick: start / pause / stop
#
# Button (drivers/button.py debounces it):
#   short press: start a session (one blip); during the fall alarm it means
#       "I am fine" and silences it; inside a session it answers with one
#       blip, so the runner can check that a run is being recorded.
#   long press (held 1.5 s): end the session (two blips, felt while still
#       holding). A knock while running cannot end a run.
# Automatically (times from the athlete profile):
#   running for session_start_ms (4 s) starts a session (one blip);
#   standing still for session_pause_ms (10 s) pauses it (no steps, no
#       moving time), moving again resumes it;
#   standing still for session_end_ms (2 min) ends it (two blips).
# After a long press ends a run, running does not start a new one until the
# runner has stood still once: stopping by hand while still jogging must stick.
import time
from time import ticks_add, ticks_diff

from micropython import const

from rearguard import VERSION, events, haptics, sessionfile
from rearguard.drivers.button import LONG, SHORT
from rearguard.profile import PROFILE_VERSION

_CHECKPOINT_MS = const(30000)
_FIRST_CHECKPOINT_MS = const(2000)  # so even a short interrupted run is recovered
# time.time() counts from 2000-01-01 on the ESP32; below 2020 the clock was never set.
_EPOCH_2000 = const(946684800)
_CLOCK_VALID_S = const(631152000)  # 2020-01-01 in the 2000 epoch
_NOT_YET = const(0x3FFFFFFF)  # the largest small int: "no closest approach yet"
_NO_BATTERY = const(-1)
_TRACK_MS = const(1000)  # one track sample a second
_TRACK_CAP = const(32)  # samples held between two flushes (a checkpoint every 30 s)
_TRACK_NO_RANGE = const(255)
_TRACK_TOO_FAST = const(4)  # sample flags; bits 0-1 are the highest alert level
_TRACK_BLIND = const(8)
_TRACK_PAUSED = const(16)


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


def set_wall_clock(rtc, unix_s):
    """Set the RTC from UTC seconds since 1970 (the host's TIME request)."""
    if unix_s < _EPOCH_2000:
        raise ValueError("time before 2000")
    t = time.gmtime(unix_s - _EPOCH_2000)  # (y, mo, d, h, mi, s, wd, yd)
    rtc.datetime((t[0], t[1], t[2], t[6], t[3], t[4], t[5], 0))


class SessionKeeper:
    def __init__(self, store, profile, board_name, battery, events_):
        self.store = store
        self.profile = profile
        self.board_name = board_name
        self.battery = battery  # drivers/board_io.Battery: read at start and stop
        self.events = events_
        self.active = False
        self.session_id = 0
        self.low_storage = False  # flash full: recording goes on in RAM
        cap = sessionfile.MAX_EVENTS
        self.ev_t = [0] * cap
        self.ev_kind = bytearray(cap)
        self.ev_level = bytearray(cap)
        self.alerts = [0, 0, 0, 0]  # entries per obstacle level, [0] unused
        self.track = bytearray(4 * _TRACK_CAP)
        self._reset(0)
        events_.sinks.append(self.on_event)  # bound once: emit() must not allocate

    def _reset(self, now_ms):
        self.start_ms = now_ms
        self.last_ms = now_ms
        self.last_ckp_ms = now_ms
        self.stride_at_start = self.profile.stride_mm
        self.start_steps = -1
        self.steps = 0
        self.moving_ms = 0
        self.distance_mm = 0
        self.distance_um = 0  # remainder below 1 mm, keeps ints small
        for level in range(4):  # in place: start() allocates nothing
            self.alerts[level] = 0
        self.last_level = events.NONE
        self.closest_mm = _NOT_YET
        self.min_ttc_ms = _NOT_YET
        self.stumbles = 0  # near-falls in this session (sensing/balance.py counts them)
        self.falls = 0
        self._near_falls_at_start = -1  # balance's counts when the session began
        self._falls_at_start = 0
        self.blind_ms = self.too_fast_ms = self.valid_ms = 0
        self.battery_start_mv = _NO_BATTERY
        self.battery_end_mv = 0
        self.ev_count = self.ev_dropped = 0
        self.paused = False
        self.paused_ms = 0  # standing still long enough to pause: not part of the run
        self.track_n = 0  # samples in self.track, not yet in flash
        self.track_due = ticks_add(now_ms, _TRACK_MS)
        self.track_mm = 0  # distance at the last sample
        self.track_near = _NOT_YET  # this second's nearest range and flags
        self.track_flags = 0
        self.track_bytes = 0  # in the track file, and their CRC-32
        self.track_crc = 0

    # --- start, pause, stop (from SessionControl, between counters) ----------
    def start(self, now_ms):
        if self.active:
            return
        self._reset(now_ms)
        self.active = True
        self.session_id = self.store.new_session_id() if self.store is not None else 0
        self.battery_start_mv = self.battery.read_mv()
        # The first checkpoint comes early, then one every _CHECKPOINT_MS.
        self.last_ckp_ms = ticks_add(now_ms, _FIRST_CHECKPOINT_MS - _CHECKPOINT_MS)
        self.events.emit(now_ms, events.SESSION_START)  # logged through on_event

    def pause(self, now_ms):
        if self.active and not self.paused:
            self._close_interval(now_ms)
            self.paused = True

    def resume(self, now_ms):
        if self.active and self.paused:
            self._close_interval(now_ms)
            self.paused = False

    def stop(self, now_ms):
        if not self.active:
            return
        self._close_interval(now_ms)
        self.battery_end_mv = self.battery.read_mv()
        self.events.emit(now_ms, events.SESSION_END)  # the summary is complete when this is seen
        self.active = False
        if self.store is not None:
            self._flush_track()
            self.store.save(self.session_id, self.encode(now_ms, 0))
            self.low_storage = self.store.low_storage
            if self.profile.stride_mm != self.stride_at_start:
                self.store.save_profile(self.profile)  # the stride learned on this run (sensing/pace.py)

    def _close_interval(self, now_ms):
        # Between ticks: the time since the last tick's counters belongs to
        # the state the session was in (moving time is counted per tick).
        if self.paused:
            self.paused_ms += ticks_diff(now_ms, self.last_ms)
        self.last_ms = now_ms

    # --- every tick: counters only, nothing allocated ------------------------
    def update(self, now_ms, body, obstacle):
        if not self.active:
            return
        dt = ticks_diff(now_ms, self.last_ms)
        self.last_ms = now_ms
        if self.paused:
            self.paused_ms += dt
        elif dt > 0:
            self._count_body(dt, body)
            self._count_obstacle(dt, obstacle)
        self._count_balance(body.balance)
        if ticks_diff(now_ms, self.track_due) >= 0:
            self.track_due = ticks_add(self.track_due, _TRACK_MS)
            self._sample(body.cadence_spm)
        if self.store is not None and ticks_diff(now_ms, self.last_ckp_ms) >= _CHECKPOINT_MS:
            self.last_ckp_ms = now_ms
            self.checkpoint(now_ms)

    def _count_body(self, dt, body):
        if body.moving:
            self.moving_ms += dt
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

    def _count_balance(self, balance):
        # Near-falls and falls are counted once, by the balance judge; the
        # session's are what its counts grew by since the session began.
        near = balance.near_falls + balance.near_fall_pending
        if self._near_falls_at_start < 0:
            self._near_falls_at_start = near
            self._falls_at_start = balance.falls
        self.stumbles = max(0, near - self._near_falls_at_start)
        self.falls = balance.falls - self._falls_at_start

    def _count_obstacle(self, dt, obstacle):
        level = obstacle.level
        if level != self.last_level:
            if level > self.last_level:
                self.alerts[level] += 1
            self.last_level = level
        flags = self.track_flags
        if level > flags & 3:
            flags = flags & ~3 | level
        d = obstacle.distance_mm
        if 0 <= d < self.closest_mm:
            self.closest_mm = d
        if 0 <= d < self.track_near:
            self.track_near = d
        t = obstacle.ttc_ms
        if 0 <= t < self.min_ttc_ms:
            self.min_ttc_ms = t
        if obstacle.blind:
            self.blind_ms += dt
            flags |= _TRACK_BLIND
        if obstacle.too_fast:
            self.too_fast_ms += dt
            flags |= _TRACK_TOO_FAST
        self.track_flags = flags
        if obstacle.range_valid:
            self.valid_ms += dt

    def _sample(self, cadence_spm):
        # The second just ended, as 4 bytes into the preallocated buffer (a full
        # buffer, with no flash to flush it to, drops the sample).
        n = self.track_n
        if n < _TRACK_CAP:
            buf = self.track
            i = 4 * n
            buf[i] = min((self.distance_mm - self.track_mm) // 25, 255)  # 25 mm/s
            buf[i + 1] = min(cadence_spm, 255)
            near = self.track_near
            buf[i + 2] = _TRACK_NO_RANGE if near == _NOT_YET else min(near // 20, 254)  # 20 mm
            buf[i + 3] = self.track_flags | (_TRACK_PAUSED if self.paused else 0)
            self.track_n = n + 1
        self.track_mm = self.distance_mm
        self.track_near = _NOT_YET
        self.track_flags = 0

    def _flush_track(self):
        # Appended before the summary that counts it is written: after a power
        # cut the track file holds at least what the recovered summary says.
        n = 4 * self.track_n
        if n:
            data = memoryview(self.track)[:n]
            if self.store.append_track(self.session_id, data):
                self.track_crc = sessionfile.crc32(data, self.track_crc)
                self.track_bytes += n
            else:
                self.low_storage = True  # flash full: this part of the track is lost
            self.track_n = 0

    # --- events (rare) ------------------------------------------------------
    def on_event(self, t_ms, kind, level):
        if self.active:
            self._log(t_ms, kind, level)

    def _log(self, t_ms, kind, level):
        i = self.ev_count
        if i >= sessionfile.MAX_EVENTS:
            self.ev_dropped += 1
            return
        self.ev_t[i] = ticks_diff(t_ms, self.start_ms)
        self.ev_kind[i] = kind
        self.ev_level[i] = level
        self.ev_count = i + 1

    # --- flash ----------------------------------------------------------------
    def checkpoint(self, now_ms):
        self._flush_track()
        if not self.store.checkpoint(self.encode(now_ms, sessionfile.FLAG_CHECKPOINT)):
            self.low_storage = True

    def duration_ms(self, now_ms):
        """Time in the session so far, pauses left out."""
        duration = ticks_diff(now_ms, self.start_ms) - self.paused_ms
        if self.paused:
            duration -= ticks_diff(now_ms, self.last_ms)
        return duration

    def summary(self, now_ms):
        """Summary values in sessionfile.SUMMARY_LAYOUT order."""
        duration = self.duration_ms(now_ms)
        moving = self.moving_ms
        cadence = self.steps * 60000 // moving if moving > 0 else 0
        valid_pm = self.valid_ms * 1000 // duration if duration > 0 else 0
        # The clock is read here, not at start(): start() runs inside a tick and
        # time.time() may allocate on some ports. Same answer to the second.
        rtc_s = rtc_seconds()
        elapsed_s = ticks_diff(now_ms, self.start_ms) // 1000
        start_unix_s = rtc_s - elapsed_s + _EPOCH_2000 if rtc_s else 0
        flags = sessionfile.FLAG_CLOCK_KNOWN if start_unix_s else 0
        if self.low_storage:
            flags |= sessionfile.FLAG_LOW_STORAGE
        return [
            self.session_id, flags, self.store.boot & 0xFFFF if self.store is not None else 0,
            start_unix_s, self.start_ms, duration, moving, self.steps, min(cadence, 0xFFFF),
            self.distance_mm, self.alerts[events.CAUTION], self.alerts[events.WARNING],
            self.alerts[events.STOP], _none_if_not_yet(self.closest_mm),
            _none_if_not_yet(self.min_ttc_ms), self.stumbles, self.falls, self.blind_ms,
            self.too_fast_ms, min(valid_pm, 1000), max(0, self.battery_start_mv),
            self.battery_end_mv, PROFILE_VERSION, self.profile.version & 0xFFFF,
            min(self.ev_dropped, 0xFFFF), self.track_bytes, self.track_crc,
        ]

    def encode(self, now_ms, extra_flags):
        values = self.summary(now_ms)
        values[1] |= extra_flags
        evs = [(self.ev_t[i], self.ev_kind[i], self.ev_level[i]) for i in range(self.ev_count)]
        return sessionfile.encode(values, evs, VERSION, self.board_name)


def _none_if_not_yet(value):
    return -1 if value == _NOT_YET else value


class SessionControl:
    def __init__(self, profile, keeper, arbiter):
        self.profile = profile
        self.keeper = keeper
        self.arbiter = arbiter
        self.paused = False
        self.forced = False  # keep_active(): no automatic pause or end
        self._running_since = 0
        self._was_running = False
        self._still_since = 0
        self._was_moving = True  # stillness is timed from the first tick
        self._auto_blocked = False
        self._started = False

    def keep_active(self, now_ms):
        """A session from now on, without automatic pause or end (replay --active)."""
        self.forced = True
        self.keeper.start(now_ms)

    def update(self, now_ms, press, body):
        """`press`: the button's report this tick (drivers/button.py)."""
        keeper = self.keeper
        if not self._started:
            self._started = True
            self._still_since = now_ms
        if press == SHORT:
            if body.fallen:
                body.acknowledge()
            elif not keeper.active:
                self._start(now_ms)
            else:
                self.arbiter.request_blip(haptics.BLIP_START)
        elif press == LONG and keeper.active:
            self._stop(now_ms)
            self._auto_blocked = True
        self._follow_gait(now_ms, body)
        body.session_active = keeper.active

    def _still_ms(self, now_ms, body):
        # How long the runner has stood still (0 while moving).
        if body.moving:
            self._was_moving = True
            return 0
        if self._was_moving:
            self._was_moving = False
            self._still_since = now_ms
        return ticks_diff(now_ms, self._still_since)

    def _follow_gait(self, now_ms, body):
        if body.running and not self._was_running:
            self._running_since = now_ms
        self._was_running = body.running
        if body.moving and self.paused:
            self._resume(now_ms)
        still_ms = self._still_ms(now_ms, body)
        profile = self.profile
        if still_ms >= profile.session_pause_ms:
            self._auto_blocked = False
        if not self.keeper.active:
            if (body.running and not self._auto_blocked
                    and ticks_diff(now_ms, self._running_since) >= profile.session_start_ms):
                self._start(now_ms)
        elif self.forced or body.fallen:
            pass  # a runner lying after a fall is not "done running"
        elif still_ms >= profile.session_end_ms:
            self._stop(now_ms)
        elif still_ms >= profile.session_pause_ms and not self.paused:
            self.paused = True
            self.keeper.pause(now_ms)

    def _resume(self, now_ms):
        self.paused = False
        self.keeper.resume(now_ms)

    def _start(self, now_ms):
        self.paused = False
        self.keeper.start(now_ms)
        self.arbiter.request_blip(haptics.BLIP_START)

    def _stop(self, now_ms):
        self.paused = False
        self.forced = False
        self.keeper.stop(now_ms)
        self.arbiter.request_blip(haptics.BLIP_STOP)
