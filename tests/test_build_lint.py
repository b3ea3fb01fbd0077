"""`make lint`'s type check: pyright with pyrightconfig.json reports a call the
ESP32 port does not have, and a module the board lacks, on the exact lines,
while correct firmware code against the same stubs passes."""

import json
import os
import re
import subprocess

from sim.loader import ROOT

PYRIGHT = os.path.join(ROOT, "node_modules", ".bin", "pyright")

# Lines ending in "# wrong" must be reported; all others must not.
SAMPLE = """\
import logging  # wrong: CPython only
import machine
import sim  # wrong: host package, not on the board
import time
from micropython import const

from adafruit_vl53l1x import VL53L1X
from rearguard import events

_RESULT = const(0x0089)
i2c = machine.I2C(0, scl=machine.Pin(22), sda=machine.Pin(21), freq=400_000)
block = bytearray(17)
i2c.readfrom_mem_into(0x29, _RESULT, block, addrsize=16)
i2c.read_register(0x29, _RESULT)  # wrong: machine.I2C has no such method
pwm = machine.PWM(machine.Pin(27), freq=200, duty_u16=0)
pwm.duty_u16(32768)
pwm.duty_percent(50)  # wrong: not in the ESP32 port's PWM
elapsed = time.ticks_diff(time.ticks_ms(), 0)
time.monotonic()  # wrong: CPython's time, not MicroPython's
events.Events().emit(elapsed, events.BLIND)
VL53L1X(i2c).start_ranging()
"""


def test_pyright_flags_exactly_what_the_board_lacks(tmp_path):
    (tmp_path / "sample.py").write_text(SAMPLE)
    # The project's settings, applied to one file outside firmware/.
    config = {
        "extends": os.path.join(ROOT, "pyrightconfig.json"),
        "include": ["sample.py"],
        "executionEnvironments": [{"root": ".", "extraPaths": [
            os.path.join(ROOT, "firmware"),
            os.path.join(ROOT, "firmware", "lib"),
            os.path.join(ROOT, "tools", "pyright", "stubs"),
        ]}],
    }
    (tmp_path / "pyrightconfig.json").write_text(json.dumps(config))
    proc = subprocess.run([PYRIGHT, "--project", "pyrightconfig.json"], cwd=tmp_path,
                          capture_output=True, text=True)
    reported = {int(n) for n in re.findall(r"sample\.py:(\d+):\d+ - error", proc.stdout)}
    wrong = {i for i, line in enumerate(SAMPLE.splitlines(), 1) if "# wrong" in line}
    assert reported == wrong, proc.stdout
