# What the waist IMU says about the runner: trunk attitude, gait (steps,
# cadence, walking/running, speed) and balance (stumbles and falls), each
# sample in integer units, nothing allocated.
#
#     body = BodyMonitor(profile, log)
#     if imu.read(now_ms):
#         body.update(now_ms, imu)
#     body.stumble     # True in the tick balance loss is detected (buzz at once)
#     body.fallen      # True from a confirmed fall until the runner is up again
#     body.balance.stumbles, .near_falls, .falls   # the counts (kept there only)
#
# Balance is judged while the runner is "armed": inside a session (set by the
# session control through `session_active`) or while walking/running and for
# 5 s after. A clip put down on a table or tossed into a bag is not a fall.
# Events: STUMBLE when balance is lost (pre-impact), FALL when a fall is
# confirmed (after impact, posture change and stillness). A fall normally
# follows its own STUMBLE. docs/balance.md has the reasoning and the sources.
from time import ticks_add, ticks_diff

from micropython import const

from rearguard import events
from rearguard.sensing.attitude import Attitude
from rearguard.sensing.balance import Balance
from rearguard.sensing.gait import Gait

_MAX_DT_MS = const(100)  # a longer gap (bus error) counts as this
_ARMED_AFTER_GAIT_MS = const(5000)


class BodyMonitor:
    def __init__(self, profile, log):
        self.profile = profile
        self.log = log
        self.attitude = Attitude()
        self.gait = Gait(profile)
        self.balance = Balance()
        self.pitch_cdeg = 0
        self.steps = self.cadence_spm = self.speed_mm_s = 0
        self.moving = self.running = self.stumble = self.fallen = False
        self.session_active = False  # set by the session control every tick
        self.armed = False
        self._last_ms = 0
        self._last_moving_ms = 0
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
        att.update(dt, imu)
        gait = self.gait
        gait.update(now_ms, dt, att.accel_mg)
        if gait.moving:
            self._last_moving_ms = now_ms
        self.armed = self.session_active or ticks_diff(now_ms, self._last_moving_ms) < _ARMED_AFTER_GAIT_MS
        bal = self.balance
        bal.armed = self.armed
        bal.update(now_ms, dt, imu, att, gait)
        self.pitch_cdeg = att.pitch_cdeg
        self.steps = gait.steps
        self.cadence_spm = gait.cadence_spm
        self.speed_mm_s = gait.speed_mm_s
        self.moving = gait.moving
        self.running = gait.running
        self.stumble = bal.stumble
        self.fallen = bal.fallen
        if bal.stumble:
            self.log.emit(now_ms, events.STUMBLE)
        if bal.fall:
            self.log.emit(now_ms, events.FALL)

    def acknowledge(self):
        """The runner pressed the button while the fall alarm played."""
        self.balance.acknowledge()
        self.fallen = False
