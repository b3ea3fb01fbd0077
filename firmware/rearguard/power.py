# Battery, storage and power management, measured against the power model
# (docs/power.md):
# - the gauge (rearguard/gauge.py) every 10 s, on battery: percent from the
#   voltage under load; at 10 % the runner feels four blips once, and again
#   only after a charge (30 %) and a new drop; a full flash lights the LED;
# - the CPU: between ticks, on battery (the board's VBUS pin reads no USB)
#   and with the motor fully on or off, it light-sleeps at 240 MHz (finishing
#   a tick fast and sleeping costs less than running slowly); otherwise it
#   runs at the lowest frequency whose busiest tick of the last second fits
#   in half the 10 ms, and at 240 MHz while a host syncs;
# - the range sensor's pace (sensing/visibility.py asks for it, standing
#   still; not in a session) and the IMU's rate: gyro off and 50 Hz after
#   30 s with nobody moving and no session;
# - deep sleep after 3 minutes of that on battery, unless runs wait in RAM
#   for a host (a full flash) (rearguard/sleep.py).
#
#     watch = PowerWatch(hw, events, arbiter)
#     watch.update(now_ms, session, body, obstacle)   # every tick
#     watch.worked(now_ms, busy_us, serving)          # after the tick: its CPU time
#     watch.rest(wait_ms)                             # until the next tick
#     watch.sleep_due                                 # time for deep sleep
from time import sleep_ms, ticks_diff

from micropython import const

from rearguard import events, gauge, haptics

_CHECK_EVERY_MS = const(10000)
_LOW_PCT = const(10)  # about an hour of running left (docs/power.md)
_RECOVERED_PCT = const(30)  # hysteresis: only a charge clears the warning
_NO_BATTERY_MV = const(2000)  # below this the divider reads nothing: powered from USB
_IMU_REST_AFTER_MS = const(30000)
_SLEEP_AFTER_MS = const(180000)
_TICK_US = const(10000)
_FAST_MHZ = const(240)
_BUSY_PCT = const(50)  # a tick may keep the CPU this busy at a lower frequency ...
_LATE_PCT = const(70)  # ... and one this busy brings 240 MHz back at once
_CHOOSE_EVERY_MS = const(1000)
_LIGHT_MIN_MS = const(2)  # a shorter wait is not worth a light sleep's wake-up


class PowerWatch:
    def __init__(self, hw, events_, arbiter):
        self.hw = hw
        self.events = events_
        self.arbiter = arbiter
        self.battery_mv = 0
        self.battery_pct = -1  # the last reading on battery (-1: none yet)
        self.low_battery = False
        self.led_on = False
        self.on_battery = False  # the VBUS pin says no USB power (False where not wired)
        self.light_ok = False
        self.sleep_due = False
        self.can_sleep = True  # False once the board proved it has no wake source
        self.busy_us = 0  # the busiest tick of this second ...
        self.tick_us = 0  # ... and of the last one (reported to the host)
        self.mhz = hw.machine.freq() // 1000000
        self._checked = False
        self._checked_ms = 0
        self._stirred_ms = 0
        self._chosen_ms = 0
        self._started = False

    def update(self, now_ms, session, body, obstacle):
        hw = self.hw
        if not self._started:
            self._started = True
            self._stirred_ms = now_ms
            self._chosen_ms = now_ms
        vbus = hw.vbus
        self.on_battery = vbus is not None and not vbus.value()
        self._check_battery(now_ms, session.low_storage)
        if session.active or body.armed or body.moving or body.fallen:
            self._stirred_ms = now_ms
        idle_ms = ticks_diff(now_ms, self._stirred_ms)
        hw.imu.rest(idle_ms >= _IMU_REST_AFTER_MS and hw.imu.bias.known)
        # In a session the sensor keeps its full rate even standing: a paused
        # runner may set off at any moment.
        hw.tof.pace(0 if session.active else obstacle.visibility.imp_ms)
        self.light_ok = self.on_battery and hw.motor.steady
        # Never with runs held in RAM only (a full flash): deep sleep would lose them.
        self.sleep_due = (self.on_battery and self.can_sleep and not session.low_storage
                          and idle_ms >= _SLEEP_AFTER_MS)

    # --- battery and storage (every 10 s) ------------------------------------------
    def _check_battery(self, now_ms, low_storage):
        if self.led_on != low_storage and self.hw.led is not None:
            self.led_on = low_storage
            self.hw.led.set(low_storage)
        if self._checked and ticks_diff(now_ms, self._checked_ms) < _CHECK_EVERY_MS:
            return
        if self.arbiter.player.on:
            return  # the motor's current would pull the reading down: after the buzz
        self._checked = True
        self._checked_ms = now_ms
        mv = self.hw.battery.read_mv()
        self.battery_mv = mv
        # On USB the charger holds the cell up: the last reading on battery stands.
        if mv >= _NO_BATTERY_MV and (self.on_battery or self.hw.vbus is None):
            self._gauge(now_ms, gauge.percent(mv))

    def _gauge(self, now_ms, pct):
        self.battery_pct = pct
        if not self.low_battery and pct <= _LOW_PCT:
            self.low_battery = True
            self.events.emit(now_ms, events.LOW_BATTERY)
            self.arbiter.request_blip(haptics.BLIP_LOW_BATTERY)
        elif self.low_battery and pct >= _RECOVERED_PCT:
            self.low_battery = False

    # --- between ticks ---------------------------------------------------------------
    def worked(self, now_ms, busy_us, serving):
        """The tick (and host slice) just done kept the CPU busy `busy_us`;
        `serving`: a host is being served."""
        if busy_us > self.busy_us:
            self.busy_us = busy_us
        if busy_us * 100 > _TICK_US * _LATE_PCT and self.mhz < _FAST_MHZ:
            self._set_mhz(_FAST_MHZ)  # a tick near its limit: no waiting for the second
        if ticks_diff(now_ms, self._chosen_ms) < _CHOOSE_EVERY_MS:
            return
        self._chosen_ms = now_ms
        self.tick_us = self.busy_us
        self._set_mhz(self._mhz_for(self.busy_us * self.mhz, serving))
        self.busy_us = 0

    def _set_mhz(self, mhz):
        if mhz != self.mhz:
            self.hw.machine.freq(mhz * 1000000)
            self.mhz = mhz

    def _mhz_for(self, work, serving):
        # work: the busiest tick in us x MHz (what it would take at 1 MHz)
        if self.light_ok or serving:
            return _FAST_MHZ
        if work // 80 * 100 <= _TICK_US * _BUSY_PCT:
            return 80
        if work // 160 * 100 <= _TICK_US * _BUSY_PCT:
            return 160
        return _FAST_MHZ

    def rest(self, wait_ms):
        """Until the next tick: light sleep where it is allowed, else idle."""
        if self.light_ok and wait_ms >= _LIGHT_MIN_MS:
            self.hw.machine.lightsleep(wait_ms)
        else:
            sleep_ms(wait_ms)
