# `esp32` for the firmware under real MicroPython in tests (the WebAssembly port
# has none): the deep-sleep wake sources of the shared machine core, acting on
# fake_machine's board.
from vboard.machine_core import WAKEUP_ALL_LOW, WAKEUP_ANY_HIGH, wake_on_ext0, wake_on_ext1  # noqa: F401
