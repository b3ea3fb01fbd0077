# Obstacle alerting: from ToF samples, trunk pitch and the runner's pace to an
# alert level (CAUTION / WARNING / STOP), "blind" and "too fast for visibility".
#
#     monitor = ObstacleMonitor(profile, events)
#     monitor.update(now_ms, tof, new_sample, body)      # every tick
#     monitor.level, monitor.ttc_ms, monitor.distance_mm  # level: events.NONE..STOP
#     monitor.blind, monitor.too_fast, monitor.too_fast_notices, monitor.range_valid
#     monitor.pace.speed_mm_s                             # the runner's speed
#
# Chain per sample: plausibility (ranging.classify) -> ground (ground.py, learned
# from the returns) -> target tracks with least-squares closing speed and TTC
# (ranging.py) -> levels by the evidence the track has, with hysteresis, minimum
# hold, and quiet for a target that keeps its distance. Per tick: the pace
# (pace.py), blind, too fast, and the distance mode the light calls for
# (visibility.py). docs/obstacle.md explains the thresholds and decisions.
from time import ticks_add, ticks_diff

from micropython import const

from rearguard import events
from rearguard.drivers.tof import FOV_16X16_CDEG
from rearguard.sensing import ranging
from rearguard.sensing.ground import GroundModel
from rearguard.sensing.pace import Pace
from rearguard.sensing.visibility import Visibility

_CONFIRM_SAMPLES = const(2)  # samples (with a rising signal before) a target needs at all
_MEASURED_SAMPLES = const(3)  # from here the track's own slope is its closing speed
_SLOW_CONFIRM_SAMPLES = const(5)  # ... and a target not closing like a static one waits this long
_SLOW_CLOSING_SAMPLES = const(8)  # ... and, closing slower than _MOVING_MM_S, a full fit (slope noise)
_MOVING_MM_S = const(500)  # a runner this fast approaches static things at their own speed
_RECEDING_MM_S = const(150)  # moving away faster than this never alerts
# A signal above the floor and not falling (dips to 75% allowed: gait sway) for
# this many samples up to a first range counts as one agreeing sample.
_RISING_SAMPLES = const(3)
_RISING_FLOOR_KCPS = const(200)  # above the stray signal of distant ground
_RISING_GROWTH_PCT = const(115)  # ... and grown this much (a steady return is no approach)
_LOST_SAMPLES = const(2)  # ... skipping up to this many lost measurements in a row
_LEVEL_HOLD_MS = const(800)  # a level holds at least this long before it may drop
_FRESH_MS = const(150)  # ... and drops only while samples keep coming
_HYST_MM = const(200)  # a distance threshold clears only this far beyond it
_HYST_TTC_PCT = const(125)  # a TTC threshold clears only at this multiple of it
_KEEPING_MM_S = const(200)  # a target closing slower than this keeps its distance ...
_REMIND_MS = const(2000)  # ... for this long: only a reminder (CAUTION) ...
_QUIET_MS = const(5000)  # ... and from here on, silence ...
_NEARER_MM = const(200)  # ... until it is this much nearer than when it settled
_STOOD_MS = const(500)  # the trunk still this long (IMU): the runner has stopped, the reminder is due
_COVERED_SAMPLES = const(3)  # near-zero readings in a row: something on the window
_WINDOW_MM = const(200)  # a target first seen this close is on the window (its echo, with noise)
# ... and one first seen this close with less signal than a dark (5%) target filling
# the view returns there: the window's echo blended with the view behind
_ECHO_MM = const(600)
_DARK_KCPS_AT_1M = const(680)  # (the chip model's scale: 88% white, 12 Mcps at 1 m)
_CLEAR_BLIND_SAMPLES = const(2)  # good samples in a row that end "blind"
_GROUND_CLOSING_MM_S = const(350)  # ground does not close (pitch-compensated: 99% within +-200)
_GROUND_CONFIRM_SAMPLES = const(5)  # samples before a target in the ground band may alert
_GROUND_STATIC_PCT = const(60)  # ... unless it closes at this share of the pace (and at most 140%)
_MISFIT_RATIO = const(8)  # ... and lies this much closer to a line than to the ground's curve
_MISFIT_MM2 = const(400)  # ... beyond ranging noise (20 mm squared)
_STILL_RATIO = const(4)  # ... or the pitch would have moved the ground this many times more
_STATIC_MIN_MM_S = const(500)  # closing speeds that can stand in for the runner's speed
_STATIC_MAX_MM_S = const(6000)
_LEARN_SAMPLES = const(8)  # a static target's closing speed over this many samples: the pace
_OFF_PATH_CDEG = const(4000)  # trunk pitch beyond +-40 deg: not looking along the path
_LURCH_MS = const(1500)  # after a loss of balance the beam sweeps: no new level this long


class ObstacleMonitor:
    def __init__(self, profile, events_):
        self.profile = profile
        self.events = events_
        self.track = ranging.RangeTrack()  # the target the alerts follow
        self.candidate = ranging.RangeTrack()  # readings that do not fit it
        self.ground = GroundModel(profile.mount_height_mm, FOV_16X16_CDEG)  # the ROI's, per sample
        self.visibility = Visibility(profile)
        self.pace = Pace(profile)
        self.level = events.NONE
        self.level_since_ms = 0
        self.ttc_ms = -1
        self.distance_mm = -1
        self.closing_mm_s = 0
        self.on_ground = False  # the followed target is the track surface
        self.blind = False
        self.covered = False
        self.too_fast = False
        self.too_fast_notices = 0  # one more each time the runner is to be told
        self.effective_range_mm = self.visibility.effective_range_mm
        self.speed_mm_s = 0  # the runner's speed used for too-fast
        self.kind = ranging.UNUSABLE  # what the last sample was
        self._wanted = events.NONE  # the level the followed target calls for ...
        self._hold = events.NONE  # ... and the one it still holds (hysteresis)
        self._kept_ms = 0  # since when the followed target keeps its distance ...
        self._kept_mm = -1  # ... and from where (-1: it does not)
        self._lurch_ms = 0  # the last loss of balance (body.stumble)
        self.range_valid = False  # the sensor answers and its last sample was a valid range
        self._started = False
        self._seen_ms = 0  # last measurement (target, clear view, or too faint to range)
        self._near_zero_run = 0
        self._good_run = 0
        self._rising = 0  # samples in a row with a signal above the floor, not falling
        self._last_signal_kcps = 0
        self._rising_from_kcps = 0  # the signal where the rising run began
        self._lost = 0  # samples in a row that looked like lost measurements (skipped)

    def update(self, now_ms, tof, new_sample, body):
        if not self._started:
            self._started = True
            self._seen_ms = now_ms
            self.level_since_ms = now_ms
            self._lurch_ms = ticks_add(now_ms, -_LURCH_MS)
        self.pace.update(body.cadence_spm, body.moving)
        if new_sample:
            self._sample(now_ms, tof, body)
        self._keep_target(now_ms, tof, new_sample, body)
        self.range_valid = tof.ok and tof.status == 0
        self._update_level(now_ms, body)
        self._update_blind(now_ms, tof, body)
        self._update_too_fast(now_ms, body)
        vis = self.visibility
        if tof.ok and (tof.mode != vis.mode or tof.budget_ms != vis.budget_ms):
            tof.configure(vis.mode, vis.budget_ms)

    # --- one ToF sample ---------------------------------------------------------
    def _sample(self, now_ms, tof, body):
        kind = self._classify(now_ms, tof, body)
        self._rise(kind, tof.signal_kcps)
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
        ground.half_fov_cdeg = tof.fov_cdeg // 2
        ground.update(body.pitch_cdeg, self.profile.mount_height_mm)
        if kind == ranging.TARGET:
            ground.learn(now_ms, tof.range_mm)
        self._follow(now_ms, tof.range_mm, self.pace.speed_mm_s, kind == ranging.TARGET)

    def _keep_target(self, now_ms, tof, new_sample, body):
        # A target the runner stands at (held, see _keep_quiet) is not lost to
        # lost measurements: a sample that ranges nothing while its return is
        # still strong, one the chip could not measure, or none at all (the
        # driver recovering) does not show it gone. A clear view whose return
        # fell does; the runner moving ends the hold (docs/obstacle.md, Tracking).
        track = self.track
        if not self._standing(now_ms, body):
            track.held = False
        elif not tof.ok or new_sample and (self.kind == ranging.UNUSABLE or (
                self.kind == ranging.CLEAR and tof.signal_kcps >= _RISING_FLOOR_KCPS)):
            track.hold(now_ms)

    def _rise(self, kind, signal):
        # Is the return growing (something coming out of the distance)? A
        # sample or two that range nothing and fall are lost measurements
        # (dropouts), not a return that faded: they neither count nor break the run.
        if signal >= _RISING_FLOOR_KCPS and signal * 4 >= self._last_signal_kcps * 3:
            self._rising += 1
            self._lost = 0
        elif kind == ranging.CLEAR and self._rising and self._lost < _LOST_SAMPLES:
            self._lost += 1
            return
        else:
            self._rising = 1 if signal >= _RISING_FLOOR_KCPS else 0
            self._rising_from_kcps = signal
            self._lost = 0
        self._last_signal_kcps = signal

    def _classify(self, now_ms, tof, body):
        kind = ranging.classify(tof.status, tof.range_mm, tof.signal_kcps, tof.mode)
        r = tof.range_mm
        if (kind == ranging.TARGET or kind == ranging.WEAK) and r <= _ECHO_MM and \
                not body.fallen and -_OFF_PATH_CDEG < body.pitch_cdeg < _OFF_PATH_CDEG and \
                not self.track.fits(now_ms, r, self.pace.speed_mm_s):
            # Close and never seen coming: a few cm away, or with less signal than
            # anything real there returns, it is mud or a smudge on the window
            # (its echo blends with the view behind into a near range), not an
            # obstacle. (Lying after a fall, it is the ground.) In cm: no long ints.
            cm = r // 10
            if r <= _WINDOW_MM or tof.signal_kcps < _DARK_KCPS_AT_1M * 10000 // (cm * cm):
                return ranging.NEAR_ZERO
        return kind

    def _follow(self, now_ms, range_mm, prior_mm_s, valid):
        # One sensor, one range: readings that fit the followed target extend
        # it; readings that agree among themselves but not with it become a
        # candidate, which takes over once it has two samples (it is then
        # confirmed like any new target, see _judge_track).
        ground_mm = self.ground.return_mm
        ground_like = self.ground.contains(now_ms, range_mm)
        track = self.track
        candidate = self.candidate
        if track.fits(now_ms, range_mm, prior_mm_s, ground_mm):
            track.add(now_ms, range_mm, ground_mm, valid, ground_like)
            candidate.reset()
            if track.samples == _LEARN_SAMPLES and track.valid * 2 >= _LEARN_SAMPLES and \
                    (track.solid or not ground_like):
                self.pace.learn(track.closing_mm_s)  # a static target closes at the runner's pace
            return
        if candidate.fits(now_ms, range_mm, prior_mm_s, ground_mm):
            candidate.add(now_ms, range_mm, ground_mm, valid, ground_like)
        else:
            candidate.start(now_ms, range_mm, ground_mm, valid, ground_like)
            if self._rising >= _RISING_SAMPLES and \
                    self._last_signal_kcps * 100 >= self._rising_from_kcps * _RISING_GROWTH_PCT:
                # The samples before this first range (too faint to range)
                # saw a return growing stronger: they agree on an approach.
                candidate.support = 1
        if candidate.evidence() >= _CONFIRM_SAMPLES or not track.active(now_ms):
            self.track = candidate
            self.candidate = track
            track.reset()
            self._kept_mm = -1

    # --- levels ---------------------------------------------------------------
    def _update_level(self, now_ms, body):
        self.distance_mm = -1
        self.ttc_ms = -1
        self.closing_mm_s = 0
        self.on_ground = False
        self._wanted = events.NONE
        self._hold = events.NONE
        pitch = body.pitch_cdeg
        if body.stumble:
            self._lurch_ms = now_ms
        if body.fallen or pitch > _OFF_PATH_CDEG or pitch < -_OFF_PATH_CDEG or \
                ticks_diff(now_ms, self._lurch_ms) < _LURCH_MS:
            # Falling, lying, lurching or bent far over: the beam is not looking
            # along the path (the ground rushing up in a fall is not an obstacle).
            pass
        elif self.track.active(now_ms) and self.track.evidence() >= _CONFIRM_SAMPLES:
            self.track.held = False  # until _keep_quiet finds the runner standing at it
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
        # still holds with hysteresis (_hold), by what its samples can tell.
        track = self.track
        pace = self.pace.speed_mm_s
        if track.ground_like and not track.solid and \
                not self._off_ground(track, pace, self.ground.seen(now_ms)):
            self.on_ground = True
            return
        d = track.predicted_mm(now_ms)
        closing = track.closing_mm_s
        young = track.valid < _MEASURED_SAMPLES
        measured = closing  # what the samples say it does (receding or not)
        if track.ground_like and not track.solid and closing < pace <= 2 * track.ground_closing_mm_s \
                and self.ground.contains(now_ms, track.first_mm):
            # A wall emerging from the ground's return took over a track that followed the
            # ground: its line holds the ground's samples; against the ground it closes.
            young = True
            closing = measured = pace
        # Static: closes at the runner's pace (a signal grew before it, or a slope of a third
        # of the pace). One first seen close with no such signal came from the side, where a
        # flank's first ranges close as it runs away: half the pace erring high, 2 valid if young.
        support = track.support > 0
        static = pace >= _MOVING_MM_S and (track.samples < 2 or support or closing * 3 >= pace)
        if static and not support and track.first_mm <= self.profile.caution_distance_mm and \
                track.samples < _SLOW_CONFIRM_SAMPLES:
            static = (track.valid_closing_mm_s if young else closing) * 2 >= self.pace.fast_mm_s and \
                (track.valid >= 2 or not young)
        if young and static and closing < pace:
            closing = pace  # two samples make a noisy slope
        ttc = ranging.ttc_ms(d, closing)
        self.distance_mm = d
        self.ttc_ms = ttc
        self.closing_mm_s = closing
        self._wanted = self._level_for(d, ttc, 0, 100)
        self._hold = self._level_for(d, ttc, _HYST_MM, _HYST_TTC_PCT)
        self._weigh_evidence(track, d, young, static, measured)
        self._keep_quiet(now_ms, d, closing, young, body)
        if self._wanted:
            track.solid = True

    @staticmethod
    def _off_ground(track, pace, ground_seen):
        # Where the ground can be, a target is an obstacle once it closes faster
        # than the (pitch-compensated) ground over many samples; or, while no
        # ground has been returning, as soon as it closes like a static obstacle
        # at the runner's pace and its range clearly does not follow the pitch:
        # the pitch would have moved the ground a lot more (or otherwise, and its
        # signal grew before it), or three samples lie on a line far better
        # than on the ground's curve.
        ground = track.ground_closing_mm_s
        if track.samples >= _GROUND_CONFIRM_SAMPLES and ground >= _GROUND_CLOSING_MM_S:
            return True
        closing = track.closing_mm_s
        if ground_seen or track.samples < 2 or not \
                pace * _GROUND_STATIC_PCT <= closing * 100 <= pace * (200 - _GROUND_STATIC_PCT):
            return False
        if track.samples >= 3 and track.ground_misfit > _MISFIT_RATIO * track.line_misfit + _MISFIT_MM2:
            return True
        if ground < 0:
            ground = -ground
        return ground >= _GROUND_CLOSING_MM_S and ground * 2 >= pace and \
            (track.support > 0 or ground >= _STILL_RATIO * closing)

    def _weigh_evidence(self, track, d, young, static, measured):
        # A level needs the evidence to back it: a STOP from distance two
        # agreeing samples; a young track that closes like a static obstacle at
        # most a WARNING (a STOP from TTC needs a measured closing speed);
        # anything else its own slope over more samples, closing: a target
        # that keeps its distance or moves away (a partner alongside, a
        # runner who cut in) never alerts from distance alone.
        if track.valid and d <= self.profile.stop_distance_mm:
            return
        if track.valid == 0 or (young and not static) or measured < -_RECEDING_MM_S or \
                (not static and (track.samples < _SLOW_CONFIRM_SAMPLES or measured < _KEEPING_MM_S or (
                    measured < _MOVING_MM_S and track.samples < _SLOW_CLOSING_SAMPLES))):
            self._wanted = events.NONE
            self._hold = self.level
        elif young and self._wanted == events.STOP:
            self._wanted = self._hold = events.WARNING

    def _keep_quiet(self, now_ms, d, closing, young, body):
        # A target that keeps its distance (the runner stopped by a wall, a
        # partner running ahead at the same pace): a reminder, then silence,
        # until it closes or comes nearer again. A runner who stands still has
        # heeded the alert: the reminder starts at once (the partner's waits 2 s).
        if young or closing >= _KEEPING_MM_S or closing <= -_KEEPING_MM_S or \
                (self._kept_mm >= 0 and d < self._kept_mm - _NEARER_MM):
            self._kept_mm = -1
            return
        if self._kept_mm < 0:
            self._kept_mm = d
            self._kept_ms = now_ms
        # the runner stands at it, close enough to alert: lost measurements do not end it (_keep_target)
        self.track.held = self._standing(now_ms, body) and d <= self.profile.caution_distance_mm
        kept = ticks_diff(now_ms, self._kept_ms)
        if kept < _REMIND_MS and body.balance.still_ms(now_ms) >= _STOOD_MS:
            self._kept_ms = ticks_add(now_ms, -_REMIND_MS)
            kept = _REMIND_MS
        if kept >= _QUIET_MS:
            self._wanted = self._hold = events.NONE
        elif kept >= _REMIND_MS and self._hold > events.CAUTION:
            self._wanted = self._hold = events.CAUTION

    @staticmethod
    def _standing(now_ms, body):
        # The gait has no steps, or the trunk has been still long enough to say
        # the runner stopped (the gait's "moving" ends 1.5 s after the last step).
        return not body.moving or body.balance.still_ms(now_ms) >= _STOOD_MS

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
        limit = self.profile.blind_ms
        quiet = ticks_diff(now_ms, self._seen_ms) > limit
        if self.blind:
            if tof.ok and not self.covered and self._good_run >= _CLEAR_BLIND_SAMPLES and not quiet:
                self.blind = False
            return
        if quiet and ticks_diff(now_ms, tof.fault_ms) <= limit and \
                ticks_diff(now_ms, self._seen_ms) <= 3 * limit:
            return  # the driver is bringing the sensor back: a quick recovery is not blindness
        moving = body.moving or body.running
        if quiet and (moving or not tof.ok or self.covered):
            self.blind = True
            self._good_run = 0
            self.events.emit(now_ms, events.BLIND)

    # --- too fast for visibility ------------------------------------------------
    def _update_too_fast(self, now_ms, body):
        # The runner's speed: the pace (high while the stride is a guess);
        # without one, a target's closing speed (taken as standing still), else
        # the athlete's usual running speed while the gait says running.
        speed = self.pace.fast_mm_s
        if speed <= 0:
            closing = self.closing_mm_s
            if _STATIC_MIN_MM_S <= closing <= _STATIC_MAX_MM_S:
                speed = closing
            elif body.running:
                speed = self.profile.run_speed_mm_s
        self.speed_mm_s = speed
        vis = self.visibility
        if vis.update_speed(now_ms, speed):
            self.too_fast_notices += 1
            self.events.emit(now_ms, events.TOO_FAST)
        self.too_fast = vis.too_fast
