"""`esp32` for the firmware inside the CPython simulator: the ESP32 port's
deep-sleep wake sources, from the shared machine core (sim/vboard/machine_core.py)
acting on the running VirtualBoard.

    esp32.wake_on_ext0(machine.Pin(0), esp32.WAKEUP_ALL_LOW)   # ValueError: not an RTC GPIO
"""

from sim.vboard.machine_core import WAKEUP_ALL_LOW, WAKEUP_ANY_HIGH, wake_on_ext0, wake_on_ext1

__all__ = ["WAKEUP_ALL_LOW", "WAKEUP_ANY_HIGH", "wake_on_ext0", "wake_on_ext1"]
