"""Every shipped board config is complete and wires only pins its chip allows."""

import pytest

from sim import esp32_pins
from sim.loader import known_boards, load_board_config

BOARDS = known_boards()
REQUIRED = ("NAME", "CHIP", "I2C", "TOF", "IMU", "MOTOR", "BUTTON", "BATTERY", "LED")
AXIS = {"x": (1, 0, 0), "y": (0, 1, 0), "z": (0, 0, 1)}


def test_the_three_reference_boards_ship():
    assert {"esp32_devkitc", "xiao_esp32s3", "m5stack_atoms3"} <= set(BOARDS)


def test_unknown_board_names_the_known_ones():
    with pytest.raises(ValueError, match="esp32_devkitc"):
        load_board_config("esp32_devkitz")


def _pins(cfg):
    """(pin, role, needs_output, needs_adc) for every pin the board wires."""
    yield from ((p, "i2c", True, False) for bus in cfg.I2C.values() for p in bus[:2])
    if cfg.TOF.get("xshut") is not None:
        yield cfg.TOF["xshut"], "tof xshut", True, False
    if cfg.TOF.get("irq") is not None:
        yield cfg.TOF["irq"], "tof irq", False, False
    yield cfg.MOTOR["pin"], "motor", True, False
    yield cfg.BUTTON["pin"], "button", False, False
    yield cfg.BATTERY["pin"], "battery", False, True
    if cfg.LED is not None:
        yield cfg.LED["pin"], "led", True, False


@pytest.mark.parametrize("name", BOARDS)
def test_board_is_complete(name):
    cfg = load_board_config(name)
    missing = [key for key in REQUIRED if not hasattr(cfg, key)]
    assert not missing, "%s lacks %s" % (name, missing)
    assert cfg.NAME == name
    assert cfg.CHIP in esp32_pins.CHIPS
    assert cfg.TOF["bus"] in cfg.I2C and cfg.IMU["bus"] in cfg.I2C
    assert cfg.IMU["chip"] in ("mpu6050", "mpu6886", "lsm6dsox")


@pytest.mark.parametrize("name", BOARDS)
def test_board_pins_are_valid_for_its_chip(name):
    cfg = load_board_config(name)
    problems = []
    used = {}
    for pin, role, output, adc in _pins(cfg):
        reason = esp32_pins.check_pin(cfg.CHIP, pin, output=output, adc=adc)
        if reason:
            problems.append("%s: %s" % (role, reason))
        if pin in used and {used[pin], role} != {"i2c"}:
            problems.append("GPIO%d used for both %s and %s" % (pin, used[pin], role))
        used[pin] = role
    assert not problems, problems


def test_the_pin_check_catches_flash_and_input_only_pins():
    assert "reserved" in esp32_pins.check_pin("esp32", 6)
    assert "input-only" in esp32_pins.check_pin("esp32", 35, output=True)
    assert esp32_pins.check_pin("esp32", 35) is None
    assert "USB" in esp32_pins.check_pin("esp32s3", 19)


def _axes_matrix(axes):
    rows = []
    for i in range(0, 6, 2):
        sign = 1 if axes[i] == "+" else -1
        rows.append(tuple(sign * c for c in AXIS[axes[i + 1]]))
    return rows


def _det(m):
    (a, b, c), (d, e, f), (g, h, i) = m
    return a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g)


@pytest.mark.parametrize("name", BOARDS)
def test_imu_axes_map_to_a_right_handed_device_frame(name):
    # A mirrored mapping would flip the sign of pitch or roll: backward falls
    # would look like forward ones.
    axes = load_board_config(name).IMU["axes"]
    assert len(axes) == 6 and sorted(axes[1::2]) == ["x", "y", "z"], axes
    assert _det(_axes_matrix(axes)) == 1, "%s: %s is a mirror image" % (name, axes)
