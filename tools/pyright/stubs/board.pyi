# What pyright knows about `board`: the board config the firmware imports
# (boards/<name>.py, copied to the device as board.py/board.mpy). Keep in step
# with docs/boards.md; tests check the real configs, this only types them.
from typing import Any

NAME: str
CHIP: str
I2C: dict[int, tuple[int, int, int]]  # bus id -> (sda, scl, freq_hz)
TOF: dict[str, Any]
IMU: dict[str, Any]
MOTOR: dict[str, Any]
BUTTON: dict[str, Any]
BATTERY: dict[str, Any]
LED: dict[str, Any] | None
VBUS: int | None
