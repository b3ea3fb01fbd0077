# `esp32` on the virtual board (real MicroPython): the deep-sleep wake sources
# of the shared machine core, acting on machine's board.
from vboard.machine_core import WAKEUP_ALL_LOW, WAKEUP_ANY_HIGH, wake_on_ext0, wake_on_ext1  # noqa: F401
