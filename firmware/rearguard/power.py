# Battery and storage watch, checked every few seconds rather than every
# tick (an ADC read takes ~50 us and the battery moves slowly). When the
# battery falls below _LOW_BATTERY_MV the runner feels four blips once, and
# again only after it has recovered (charged) and fallen again. When the
# flash is full the status LED lights: the run is still counted, in RAM,
# until the host pulls the sessions (the handshake reports it too).
#
#     watch = PowerWatch(hw.battery, hw.led, events, arbiter)
#     watch.update(now_ms, keeper.low_storage)     # every tick; reads the ADC every 10 s
from time import ticks_diff

from micropython import const

from rearguard import events, haptics

_CHECK_EVERY_MS = const(10000)
_LOW_BATTERY_MV = const(3500)  # a LiPo under load at ~10% left: about 10 min of running
_RECOVERED_MV = const(3700)  # hysteresis: only a charge clears the warning
_NO_BATTERY_MV = const(2000)  # below this the divider reads nothing: powered from USB


class PowerWatch:
    def __init__(self, battery, led, events_, arbiter):
        self.battery = battery
        self.led = led
        self.events = events_
        self.arbiter = arbiter
        self.checked = False
        self.checked_ms = 0
        self.battery_mv = 0
        self.low_battery = False
        self.led_on = False

    def update(self, now_ms, low_storage):
        if self.checked and ticks_diff(now_ms, self.checked_ms) < _CHECK_EVERY_MS:
            return
        self.checked = True
        self.checked_ms = now_ms
        mv = self.battery.read_mv()
        self.battery_mv = mv
        if mv < _NO_BATTERY_MV:
            pass
        elif not self.low_battery and mv < _LOW_BATTERY_MV:
            self.low_battery = True
            self.events.emit(now_ms, events.LOW_BATTERY)
            self.arbiter.request_blip(haptics.BLIP_LOW_BATTERY)
        elif self.low_battery and mv > _RECOVERED_MV:
            self.low_battery = False
        if self.led is not None and low_storage != self.led_on:
            self.led_on = low_storage
            self.led.set(low_storage)
