# Deep sleep, loaded only when it is time (the clip left alone on battery):
# the session closed and saved, the motor off, the IMU left watching for
# motion by itself, the wake sources armed (the button on ext0, the IMU's
# interrupt pin on ext1), the range sensor in standby, then
# machine.deepsleep(). Waking is a reset into main.py; the RTC keeps the wall
# clock meanwhile (docs/power.md).
#
#     from rearguard import sleep
#     sleep.enter(app, now_ms)      # returns only if nothing could wake the board
import esp32

from rearguard.drivers import imu_wake


def enter(app, now_ms):
    """Sleep until the button or motion; False (the IMU then set up again) if
    the board has no pin that can wake it (not an RTC GPIO, or not wired)."""
    hw = app.hw
    app.shutdown(now_ms)  # motor off first, then the session closed and saved
    if not _arm(hw):
        hw.imu.ok = False  # perhaps left in its wake mode: the driver sets it up again
        return False
    hw.tof.standby()
    if hw.led is not None:
        hw.led.set(False)
    hw.machine.deepsleep()
    return True  # a virtual board that does not reset


def _arm(hw):
    machine = hw.machine
    Pin = machine.Pin
    board = hw.board
    armed = False
    b = board.BUTTON
    try:
        pin = Pin(b["pin"], Pin.IN, Pin.PULL_UP if b["pull_up"] else Pin.PULL_DOWN, hold=True)
        esp32.wake_on_ext0(pin, esp32.WAKEUP_ALL_LOW if b["active_low"] else esp32.WAKEUP_ANY_HIGH)
        armed = True
    except ValueError:  # not an RTC GPIO
        pass
    irq = board.IMU.get("int")
    if irq is not None and imu_wake.arm(hw.imu):
        try:
            esp32.wake_on_ext1((Pin(irq, Pin.IN),), esp32.WAKEUP_ANY_HIGH)
            armed = True
        except ValueError:
            pass
    return armed
