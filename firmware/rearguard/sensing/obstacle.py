# Obstacle alerting: from ToF samples, trunk pitch and speed to an alert level
# (CAUTION / WARNING / STOP), "blind" and "too fast for visibility".
#
#     monitor = ObstacleMonitor(profile, events)
#     monitor.update(now_ms, tof, new_sample, body)      # every tick
#     monitor.level, monitor.ttc_ms, monitor.distance_mm  # level: events.NONE..STOP
#     monitor.blind, monitor.too_fast, monitor.effective_range_mm, monitor.range_valid
#
# Chain per sample: plausibility (ranging.classify) -> ground band (ground.py)
# -> target tracks with least-squares closing speed and TTC (ranging.py) ->
# levels with confirmation, hysteresis and minimum hold. Per tick: blind,
# too fast, and the distance mode the light calls for (visibility.py).
# docs/obstacle.md explains the thresholds and the decisions behind them.
from time import ticks_diff

from micropython import const

from rearguard import events
from rearguard.drivers.tof import FOV_16X16_CDEG
from rearguard.sensing import ranging
from rearguard.sensing.ground import GroundModel
from rearguard.sensing.visibility import Visibility

_CONFIRM_SAMPLES = const(3)  # a new target must agree over this many samples
_STOP_CONFIRM_SAMPLES = const(2)  # ... but two that agree on STOP are enough
# A signal above the floor and not falling (dips to 75% allowed: gait sway) for
# this many samples up to a first range counts as one agreeing sample.
_RISING_SAMPLES = const(3)
_RISING_FLOOR_KCPS = const(200)  # above the stray signal of distant ground
_YOUNG_SAMPLES = const(3)  # until then the runner's speed is a floor on closing speed
_LEVEL_HOLD_MS = const(800)  # a level holds at least this long before it may drop
_FRESH_MS = const(150)  # ... and drops only while samples keep coming
_HYST_MM = const(200)  # a distance threshold clears only this far beyond it
_HYST_TTC_PCT = const(125)  # a TTC threshold clears only at this multiple of it
_COVERED_SAMPLES = const(3)  # near-zero readings in a row: something on the window
_CLEAR_BLIND_SAMPLES = const(2)  # good samples in a row that end "blind"
_GROUND_CLOSING_MM_S = const(350)  # ground does not close (pitch-compensated: 99% within +-200)
_GROUND_CONFIRM_SAMPLES = const(6)  # samples before a target in the ground band may alert
_STATIC_MIN_MM_S = const(500)  # closing speeds that can stand in for the runner's speed
_STATIC_MAX_MM_S = const(6000)
_OFF_PATH_CDEG = const(4000)  # trunk pitch beyond +-40 deg: not looking along the path


class ObstacleMonitor:
    def __init__(self, profile, events_):
        self.profile = profile
        self.events = events_
        self.track = ranging.RangeTrack()  # the target the alerts follow
        self.candidate = ranging.RangeTrack()  # readings that do not fit it
        self.ground = GroundModel(profile.mount_height_mm, FOV_16X16_CDEG)  # the ROI's, per sample
        self.visibility = Visibility(profile)
        self.level = events.NONE
        self.level_since_ms = 0
        self.ttc_ms = -1
        self.distance_mm = -1
        self.closing_mm_s = 0
        self.on_ground = False  # the followed target is the track surface
        self.blind = False
        self.covered = False
        self.too_fast = False
        self.effective_range_mm = self.visibility.effective_range_mm
        self.speed_mm_s = 0  # the runner's speed used for too-fast
        self.kind = ranging.UNUSABLE  # what the last sample was
        self._wanted = events.NONE  # the level the followed target calls for ...
        self._hold = events.NONE  # ... and the one it still holds (hysteresis)
        self.range_valid = False  # the sensor answers and its last sample was a valid range
        self._started = False
        self._seen_ms = 0  # last measurement (target, clear view, or too faint to range)
        self._near_zero_run = 0
        self._good_run = 0
        self._rising = 0  # samples in a row with a signal above the floor, not falling
        self._last_signal_kcps = 0

    def update(self, now_ms, tof, new_sample, body):
        if not self._started:
            self._started = True
            self._seen_ms = now_ms
            self.level_since_ms = now_ms
        if new_sample:
            self._sample(now_ms, tof, body)
        self.range_valid = tof.ok and tof.status == 0
        self._update_level(now_ms, body)
        self._update_blind(now_ms, tof, body)
        self._update_too_fast(now_ms, body)
        vis = self.visibility
        if tof.ok and (tof.mode != vis.mode or tof.budget_ms != vis.budget_ms):
            tof.configure(vis.mode, vis.budget_ms)

    # --- one ToF sample ---------------------------------------------------------
    def _sample(self, now_ms, tof, body):
        kind = ranging.classify(tof.status, tof.range_mm, tof.signal_kcps, tof.mode)
        signal = tof.signal_kcps
        if signal >= _RISING_FLOOR_KCPS and signal * 4 >= self._last_signal_kcps * 3:
            self._rising += 1
        else:
            self._rising = 1 if signal >= _RISING_FLOOR_KCPS else 0
        self._last_signal_kcps = signal
        self.kind = kind
        if kind == ranging.NEAR_ZERO:
            self._near_zero_run += 1
            self._good_run = 0
            if self._near_zero_run >= _COVERED_SAMPLES:
                self.covered = True
            return
        self._near_zero_run = 0
        self.covered = False
        vis = self.visibility
        vis.sample(now_ms, tof.ambient_kcps, tof.spads, tof.mode, tof.budget_ms)
        self.effective_range_mm = vis.effective_range_mm
        if kind != ranging.UNUSABLE:
            # The sensor measured: a target, a clear view, or something too
            # faint or too far. Only no measurement at all is blindness.
            self._seen_ms = now_ms
            self._good_run += 1
        if kind != ranging.TARGET and kind != ranging.WEAK:
            return
        # Sigma-fail samples are real returns, too spread to trust alone: they
        # extend and confirm a track, but only a track with a valid sample alerts.
        ground = self.ground
        ground.height_mm = self.profile.mount_height_mm  # the profile may change over sync
        ground.half_fov_cdeg = tof.fov_cdeg // 2
        ground.update(body.pitch_cdeg)
        self._follow(now_ms, tof.range_mm, body.speed_mm_s, kind == ranging.TARGET)

    def _follow(self, now_ms, range_mm, prior_mm_s, valid):
        # One sensor, one range: readings that fit the followed target extend
        # it; readings that agree among themselves but not with it become a
        # candidate, which takes over once it has two samples (it is then
        # confirmed like any new target, see _update_level).
        ground_mm = self.ground.return_mm
        ground_like = self.ground.contains(range_mm)
        track = self.track
        candidate = self.candidate
        if track.fits(now_ms, range_mm, prior_mm_s, ground_mm):
            track.add(now_ms, range_mm, ground_mm, valid, ground_like)
            candidate.reset()
            return
        if candidate.fits(now_ms, range_mm, prior_mm_s, ground_mm):
            candidate.add(now_ms, range_mm, ground_mm, valid, ground_like)
        else:
            candidate.start(now_ms, range_mm, ground_mm, valid, ground_like)
            if self._rising >= _RISING_SAMPLES:
                # The samples before this first range (too faint to range)
                # saw a return growing stronger: they agree on an approach.
                candidate.support = 1
        if candidate.evidence() >= _STOP_CONFIRM_SAMPLES or not track.active(now_ms):
            self.track = candidate
            self.candidate = track
            track.reset()

    # --- levels ---------------------------------------------------------------
    def _update_level(self, now_ms, body):
        self.distance_mm = -1
        self.ttc_ms = -1
        self.closing_mm_s = 0
        self.on_ground = False
        self._wanted = events.NONE
        self._hold = events.NONE
        pitch = body.pitch_cdeg
        if body.fallen or pitch > _OFF_PATH_CDEG or pitch < -_OFF_PATH_CDEG:
            # Falling, lying, or bent far over: the beam is not looking along
            # the path (the ground rushing up in a fall is not an obstacle).
            pass
        elif self.track.active(now_ms) and self.track.evidence() >= _STOP_CONFIRM_SAMPLES:
            self._judge_track(now_ms, body)
        wanted = self._wanted
        if wanted > self.level:
            self.level = wanted
            self.level_since_ms = now_ms
            self.events.emit(now_ms, events.OBSTACLE, wanted)
        elif (self._hold < self.level and ticks_diff(now_ms, self.level_since_ms) >= _LEVEL_HOLD_MS
              and ticks_diff(now_ms, self._seen_ms) <= _FRESH_MS):
            # Levels fall only on fresh evidence: a sensor gap (a reset, a
            # glitch) holds the last level rather than clearing it.
            self.level = self._hold
            self.level_since_ms = now_ms

    def _judge_track(self, now_ms, body):
        # The level the followed target calls for (_wanted) and the level it
        # still holds with hysteresis (_hold).
        track = self.track
        if track.ground_like and (track.samples < _GROUND_CONFIRM_SAMPLES or
                                  track.ground_closing_mm_s < _GROUND_CLOSING_MM_S):
            # Where the ground can be, only a target that closes faster than
            # the (pitch-compensated) ground is an obstacle.
            self.on_ground = True
            return
        d = track.predicted_mm(now_ms)
        closing = track.closing_mm_s
        if track.samples < _YOUNG_SAMPLES and closing < body.speed_mm_s:
            # Few samples make a noisy slope; a static obstacle closes at
            # least at the runner's speed.
            closing = body.speed_mm_s
        ttc = ranging.ttc_ms(d, closing)
        self.distance_mm = d
        self.ttc_ms = ttc
        self.closing_mm_s = closing
        self._wanted = self._level_for(d, ttc, 0, 100)
        self._hold = self._level_for(d, ttc, _HYST_MM, _HYST_TTC_PCT)
        if track.valid == 0 or (track.evidence() < _CONFIRM_SAMPLES and self._wanted != events.STOP):
            # Not yet confirmed: only a STOP the samples already agree on may
            # alert now; anything less waits one more sample.
            self._wanted = events.NONE
            self._hold = self.level

    def _level_for(self, d, ttc, margin_mm, ttc_pct):
        p = self.profile
        if d <= p.stop_distance_mm + margin_mm or 0 <= ttc * 100 <= p.ttc_stop_ms * ttc_pct:
            return events.STOP
        if d <= p.warning_distance_mm + margin_mm or 0 <= ttc * 100 <= p.ttc_warning_ms * ttc_pct:
            return events.WARNING
        if d <= p.caution_distance_mm + margin_mm or 0 <= ttc * 100 <= p.ttc_caution_ms * ttc_pct:
            return events.CAUTION
        return events.NONE

    # --- blind ----------------------------------------------------------------
    def _update_blind(self, now_ms, tof, body):
        quiet = ticks_diff(now_ms, self._seen_ms) > self.profile.blind_ms
        if self.blind:
            if tof.ok and not self.covered and self._good_run >= _CLEAR_BLIND_SAMPLES and not quiet:
                self.blind = False
            return
        moving = body.moving or body.running
        if quiet and (moving or not tof.ok or self.covered):
            self.blind = True
            self._good_run = 0
            self.events.emit(now_ms, events.BLIND)

    # --- too fast for visibility ------------------------------------------------
    def _update_too_fast(self, now_ms, body):
        # The runner's speed: the gait's estimate; without one, a target's
        # closing speed (taken as standing still), else the athlete's usual
        # running speed while the gait says running.
        speed = body.speed_mm_s
        if speed <= 0:
            closing = self.closing_mm_s
            if _STATIC_MIN_MM_S <= closing <= _STATIC_MAX_MM_S:
                speed = closing
            elif body.running:
                speed = self.profile.run_speed_mm_s
        self.speed_mm_s = speed
        if self.visibility.update_speed(now_ms, speed):
            self.events.emit(now_ms, events.TOO_FAST)
        self.too_fast = self.visibility.too_fast
