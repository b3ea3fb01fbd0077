"""`machine` for the firmware inside the CPython simulator: the shared core
(sim/vboard/machine_core.py, the ESP32 port's API written once for every
virtual board) bound to the running VirtualBoard (sim/board.py), which holds
the clock, the I2C buses with their chip models, the pin and PWM logs, the
watchdog and the resets.

    with VirtualBoard("esp32_devkitc").active():
        machine.I2C(0).readfrom_mem(0x68, 0x75, 1)     # the IMU model answers

Errors match the ESP32 port: a missing I2C device raises OSError(ENODEV), a
hung bus OSError(ETIMEDOUT), a pin the chip does not have ValueError.
"""

from sim.vboard.machine_core import *  # noqa: F403 - the API, as the firmware sees it


class BoardReset(BaseException):
    """Unwinds the running firmware like a reset would; the board reboots it.
    A BaseException so that the firmware's `except Exception` cannot swallow it."""

    def __init__(self, cause):
        super().__init__(cause)
        self.cause = cause
