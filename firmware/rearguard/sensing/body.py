# What the waist IMU says about the runner: trunk attitude, gait (steps,
# cadence, walking/running, speed) and balance (stumbles and falls), each
# sample in integer units, nothing allocated.
#
#     body = BodyMonitor(profile, log)
#     if imu.read(now_ms):
#         body.update(now_ms, imu)
#     body.stumble     # True in the tick balance loss is detected (buzz at once)
#     body.fallen      # True from a confirmed fall until the runner is up again
#
# Balance is judged while the runner is "armed": inside a session (set by the
# session control through `session_active`) or while walking/running and for
# 5 s after. A clip put down on a table or tossed into a bag is not a fall.
# Events: STUMBLE when balance is lost (pre-impact), FALL when a fall is
# confirmed (after impact, posture change and stillness). A fall normally
# follows its own STUMBLE; `near_falls` counts the stumbles no fall followed.
# docs/balance.md has the reasoning and the sources.
from time import ticks_add, ticks_diff

from micropython import const

from rearguard import events
from rearguard.sensing.attitude import Attitude
from rearguard.sensing.balance import Balance
from rearguard.sensing.gait import Gait

_MAX_DT_MS = const(100)  # a longer gap (bus error) counts as this
_ARMED_AFTER_GAIT_MS = const(5000)
_STEPS_TO_CLEAR = const(4)  # steps after a fall that mean the runner is walking again
_GAIT_TAIL_MS = const(1500)  # a stumble can stop the steps; it is still "in gait"
_STILL_STRIDE_MS = const(1000)  # the window balance is judged over when not stepping
NEAR_FALL_WINDOW_MS = const(8000)  # a fall is confirmed within this after its stumble


class BodyMonitor:
    def __init__(self, profile, log):
        self.profile = profile
        self.log = log
        self.attitude = Attitude()
        self.gait = Gait(profile)
        self.balance = Balance()
        self.pitch_cdeg = 0
        self.roll_cdeg = 0
        self.steps = 0
        self.cadence_spm = 0
        self.speed_mm_s = 0
        self.moving = False
        self.running = False
        self.stumble = False
        self.fallen = False
        self.stumbles = 0
        self.falls = 0
        self.near_falls = 0
        self.session_active = False  # set by the session control every tick
        self.armed = False
        self._last_ms = 0
        self._last_moving_ms = 0
        self._pending_stumble = False
        self._stumble_ms = 0
        self._steps_at_fall = 0
        self._started = False

    def update(self, now_ms, imu):
        if not self._started:
            self._started = True
            self._last_ms = now_ms
            self._last_moving_ms = ticks_add(now_ms, -_ARMED_AFTER_GAIT_MS)
        dt = ticks_diff(now_ms, self._last_ms)
        self._last_ms = now_ms
        if dt > _MAX_DT_MS:
            dt = _MAX_DT_MS
        elif dt <= 0:
            dt = 1
        att = self.attitude
        att.update(dt, imu.ax, imu.ay, imu.az, imu.gx, imu.gy, imu.gz)
        gait = self.gait
        gait.update(now_ms, dt, att.accel_mg)
        if gait.moving:
            self._last_moving_ms = now_ms
        self.armed = self.session_active or ticks_diff(now_ms, self._last_moving_ms) < _ARMED_AFTER_GAIT_MS
        bal = self.balance
        in_gait = gait.moving or ticks_diff(now_ms, gait.last_step_ms) < _GAIT_TAIL_MS
        stride_ms = gait.interval_ms * 2 if gait.moving else _STILL_STRIDE_MS
        bal.update(now_ms, dt, imu.gx, imu.gy, imu.gz, att, in_gait, self.armed, stride_ms,
                   gait.steady)
        self.pitch_cdeg = att.pitch_cdeg
        self.roll_cdeg = att.roll_cdeg
        self.steps = gait.steps
        self.cadence_spm = gait.cadence_spm
        self.speed_mm_s = gait.speed_mm_s
        self.moving = gait.moving
        self.running = gait.running
        if bal.fall:
            self._steps_at_fall = gait.steps
        elif bal.fallen and gait.steps - self._steps_at_fall >= _STEPS_TO_CLEAR:
            bal.acknowledge()  # walking again: up and about
        self.stumble = bal.stumble
        self.fallen = bal.fallen
        self._count(now_ms, bal)

    def _count(self, now_ms, bal):
        if self._pending_stumble and ticks_diff(now_ms, self._stumble_ms) > NEAR_FALL_WINDOW_MS:
            self._pending_stumble = False
            self.near_falls += 1
        if bal.stumble:
            if self._pending_stumble:
                self.near_falls += 1  # the earlier one was survived
            self._pending_stumble = True
            self._stumble_ms = now_ms
            self.stumbles += 1
            self.log.emit(now_ms, events.STUMBLE)
        if bal.fall:
            self._pending_stumble = False
            self.falls += 1
            self.log.emit(now_ms, events.FALL)

    def acknowledge(self):
        """The runner pressed the button while the fall alarm played."""
        self.balance.acknowledge()
        self.fallen = False
