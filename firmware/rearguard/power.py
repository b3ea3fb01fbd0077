# Battery and storage watch, checked every few seconds rather than every
# tick (an ADC read takes ~50 us and the battery moves slowly). When the
# battery falls below LOW_BATTERY_MV the runner feels four blips once, and
# again only after it has recovered (charged) and fallen again. When the
# flash is full the status LED lights: the run is still counted, in RAM,
# until the host pulls the sessions (the handshake reports it too).
#
#     watch = PowerWatch(hw.battery, hw.led)
#     watch.update(now_ms, app)          # every tick; reads the ADC every 10 s
from time import ticks_diff

from micropython import const

from rearguard import events, haptics

CHECK_EVERY_MS = const(10000)
LOW_BATTERY_MV = const(3500)  # a LiPo under load at ~10% left: about 10 min of running
RECOVERED_MV = const(3700)  # hysteresis: only a charge clears the warning
NO_BATTERY_MV = const(2000)  # below this the divider reads nothing: powered from USB


class PowerWatch:
    def __init__(self, battery, led):
        self.battery = battery
        self.led = led
        self.checked = False
        self.checked_ms = 0
        self.battery_mv = 0
        self.low_battery = False
        self.led_on = False

    def update(self, now_ms, app):
        if self.checked and ticks_diff(now_ms, self.checked_ms) < CHECK_EVERY_MS:
            return
        self.checked = True
        self.checked_ms = now_ms
        mv = self.battery.read_mv()
        self.battery_mv = mv
        if mv < NO_BATTERY_MV:
            pass
        elif not self.low_battery and mv < LOW_BATTERY_MV:
            self.low_battery = True
            app.log.emit(now_ms, events.LOW_BATTERY)
            app.arbiter.request_blip(haptics.BLIP_LOW_BATTERY)
        elif self.low_battery and mv > RECOVERED_MV:
            self.low_battery = False
        full = app.session.low_storage
        if self.led is not None and full != self.led_on:
            self.led_on = full
            self.led.set(full)
