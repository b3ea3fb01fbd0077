"""The power model (sim/power.py) against its sources page (docs/power.md):
every figure it uses is written there, every board has its own draw, and the
arithmetic does what the page says."""

import os
import re

import pytest

from host_tools.pull import FULL_CHARGE_RUNNING_H
from sim import power
from sim.loader import ROOT, known_boards, load_board_config
from sim.vboard.energy import CPU_DEEP_SLEEP, CPU_LIGHT_SLEEP

with open(os.path.join(ROOT, "docs", "power.md")) as f:
    DOC = f.read()


def _figures():
    for chip in power.CPU_MA.values():
        yield from chip["idle"].values()
        yield from chip["busy"].values()
        yield chip["light"]
        yield chip["deep"]
    yield power.VL53L1X_RANGING_MA
    yield power.VL53L1X_BETWEEN_MA
    yield from power.VL53L1X_MA.values()
    for chip in power.MPU_MA.values():
        yield from (chip["sleep"], chip["accel"], chip["gyro"], chip["both"])
        yield from chip["lp"]
    yield from (power.LSM6DSOX_MA["off"], power.LSM6DSOX_MA["accel_hp"], power.LSM6DSOX_MA["gyro"])
    yield from power.LSM6DSOX_MA["accel_lp"].values()
    yield from (power.MOTOR_MA, power.LED_MA)


def _written(value):
    """The figure as the page writes it (mA, 0.010 or 10 µA style both count)."""
    forms = {"%g" % value, "%.1f" % value, "%.3f" % value, "%g" % (value * 1000)}
    return any(re.search(r"(?<![\d.])%s(?![\d])" % re.escape(f), DOC) for f in forms)


def test_every_figure_of_the_model_is_on_its_sources_page():
    missing = sorted({v for v in _figures() if v and not _written(v)})
    assert not missing, missing


@pytest.mark.parametrize("name", known_boards())
def test_every_board_has_its_own_draw_in_the_model_and_on_the_page(name):
    ua = round(power.BOARD_QUIESCENT_MA[name] * 1000)
    assert re.search(r"\| `%s` \| %d \|" % (name, ua), DOC), name


def test_the_ranging_duty_follows_budget_and_period():
    model = power.PowerModel(load_board_config("esp32_devkitc"))
    back_to_back = model.vl53l1x_ma(50 * 100000 + 7)  # the init table's 7 ms period
    paced = model.vl53l1x_ma(50 * 100000 + 100)
    assert back_to_back == pytest.approx(power.VL53L1X_RANGING_MA * 50 / 54, rel=0.01)
    assert paced == pytest.approx(power.VL53L1X_RANGING_MA / 2, rel=0.01)


def test_the_cpu_pays_for_its_python_out_of_the_sleep_after_each_tick():
    model = power.PowerModel(load_board_config("esp32_devkitc"), tick_ops=4000, us_per_op=0.5)  # 2 ms
    cpu = power.CPU_MA["esp32"]
    # one second of ticks: 100 ms awake at 240 MHz (I2C), 900 ms light sleep, 100 wakes
    charge = model.cpu_charge({240: 100, CPU_LIGHT_SLEEP: 900}, 100)
    expected = (200 * cpu["busy"][240] + 100 * cpu["idle"][240] + 700 * cpu["light"]
                + 100 * 0.5 * (cpu["idle"][240] - cpu["light"]))
    assert charge == pytest.approx(expected)
    assert model.cpu_charge({CPU_DEEP_SLEEP: 1000}, 0) == pytest.approx(1000 * cpu["deep"])


def test_the_host_promises_the_hours_the_page_gives():
    row = next(line for line in DOC.splitlines() if line.startswith("| the 30-minute session"))
    assert row.endswith("| %.1f h |" % FULL_CHARGE_RUNNING_H)  # the 'after' column


def test_the_cost_of_an_operation_is_the_calibrated_one_on_the_page():
    flat = " ".join(DOC.split())
    assert "%.1f µs on MicroPython at 240 MHz, calibrated" % power.US_PER_OP_240 in flat
    assert "{:,} pystones a second".format(power.PYSTONES_ESP32_240) in flat
