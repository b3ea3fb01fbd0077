"""The IMU driver against the simulator's register-level chip models: what the
firmware reads is the motion in the device frame, on every supported chip and
board mounting, at running full scale, and it survives a flaky bus."""

import errno

import pytest

from sim import loader, machine
from sim.board import VirtualBoard
from sim.chips.imu import make_imu
from sim.chips.rng import Rng

BOARDS = ("esp32_devkitc", "m5stack_atoms3", "xiao_esp32s3")  # mpu6050, mpu6886, lsm6dsox


class Motion:
    """A source for the chip models: constant device-frame motion on a 200 Hz grid."""

    def __init__(self, ax=0.0, ay=0.0, az=1000.0, gx=0.0, gy=0.0, gz=0.0):
        self.values = (ax, ay, az, gx, gy, gz)

    def imu_sample(self, now_us, period_us):
        return now_us - now_us % period_us, self.values


def _wire(board_name, motion, noise=False, seed=1):
    vb = VirtualBoard(board_name)
    cfg = vb.config.IMU
    chip = make_imu(cfg["chip"], motion, Rng(seed), lambda: vb.clock.us, cfg["axes"], noise)
    vb.attach_i2c(cfg["bus"], cfg["addr"], chip)
    return vb, chip


def _imu(vb, load):
    cfg = vb.config.IMU
    sda, scl, freq = vb.config.I2C[cfg["bus"]]
    i2c = machine.I2C(cfg["bus"], scl=machine.Pin(scl), sda=machine.Pin(sda), freq=freq)
    return load("rearguard.drivers.imu").open_imu(i2c, vb.config, vb.clock.ticks_ms())


def _next_sample(vb, imu, limit_ms=200):
    for _ in range(limit_ms):
        vb.clock.sleep_ms(1)
        if imu.read(vb.clock.ticks_ms()):
            return True
    return False


@pytest.mark.parametrize("board_name", BOARDS)
def test_reads_device_frame_motion_beyond_8g_and_1000dps(board_name):
    # A hard landing with the trunk whipping round: 11 g back, 3 g down, 1500 deg/s.
    motion = Motion(ax=11000, ay=-2500, az=-3000, gx=1500000, gy=-250000, gz=40000)
    vb, _chip = _wire(board_name, motion)
    with vb.active(), loader.firmware_modules(vb.config) as load:
        imu = _imu(vb, load)
        assert imu.ok, imu.problem
        vb.clock.sleep_ms(50)  # gyro start-up
        assert _next_sample(vb, imu)
        got = (imu.ax, imu.ay, imu.az, imu.gx, imu.gy, imu.gz)
    want = motion.values
    for g, w in zip(got[:3], want[:3]):
        assert abs(g - w) <= 10  # milli-g: one LSB at +-16 g is 0.5 mg
    for g, w in zip(got[3:], want[3:]):
        assert abs(g - w) <= 0.005 * abs(w) + 150  # mdps


@pytest.mark.parametrize("board_name", BOARDS)
def test_each_chip_sample_is_reported_once(board_name):
    vb, _chip = _wire(board_name, Motion())
    with vb.active(), loader.firmware_modules(vb.config) as load:
        imu = _imu(vb, load)
        vb.clock.sleep_ms(50)
        new = 0
        start = vb.clock.us
        while vb.clock.us - start < 1_000_000:  # 1 s of polling every 1 ms
            vb.clock.sleep_ms(1)
            new += imu.read(vb.clock.ticks_ms())
    rate_hz = 208 if board_name == "xiao_esp32s3" else 200
    assert abs(new - rate_hz) <= 3  # each sample once, not once per poll


def test_bus_errors_mark_it_not_ok_and_it_recovers_without_raising():
    vb, chip = _wire("esp32_devkitc", Motion(az=1000))
    with vb.active(), loader.firmware_modules(vb.config) as load:
        imu = _imu(vb, load)
        vb.clock.sleep_ms(50)
        assert _next_sample(vb, imu)
        chip.present = False  # unplugged
        assert not _next_sample(vb, imu, 100)
        assert not imu.ok
        assert "0x68" in imu.problem and "boards/esp32_devkitc.py" in imu.problem
        chip.set_power(True)  # plugged back in: the chip is asleep again, as after power-up
        assert _next_sample(vb, imu, 3000)
        assert imu.ok and imu.problem == ""
        assert abs(imu.az - 1000) < 20


def test_wrong_chip_is_named_in_the_problem():
    vb = VirtualBoard("esp32_devkitc")
    # An MPU6886 where the board config promises an MPU6050.
    chip = make_imu("mpu6886", Motion(), Rng(1), lambda: vb.clock.us, "+z+x+y", False)
    vb.attach_i2c(0, 0x68, chip)
    with vb.active(), loader.firmware_modules(vb.config) as load:
        imu = _imu(vb, load)
        assert not imu.ok
        assert "WHO_AM_I 0x19" in imu.problem and "mpu6050" in imu.problem
        assert not imu.read(vb.clock.ticks_ms())


def test_a_hung_bus_costs_one_timeout_a_second_not_one_per_tick():
    vb, _chip = _wire("esp32_devkitc", Motion())
    with vb.active(), loader.firmware_modules(vb.config) as load:
        imu = _imu(vb, load)
        vb.buses[0].hung = True
        start = vb.clock.us
        for _ in range(50):  # half a second of ticks
            vb.clock.sleep_ms(10)
            assert imu.read(vb.clock.ticks_ms()) is False
        spent_ms = (vb.clock.us - start) // 1000
        assert not imu.ok and "mpu6050" in imu.problem
        assert spent_ms < 50 * 10 + 2 * 50  # at most one 50 ms timeout in the period
        assert str(errno.ETIMEDOUT) in imu.problem


@pytest.mark.parametrize("board_name", BOARDS)
def test_gyro_bias_is_learned_while_the_clip_lies_still(board_name):
    # The chip model adds a random zero-rate offset of ~0.5 deg/s per axis plus noise.
    vb, chip = _wire(board_name, Motion(), noise=True, seed=5)
    chip.gyro_bias = [1800.0, -2500.0, 1200.0]  # a poor MPU6050: several deg/s
    with vb.active(), loader.firmware_modules(vb.config) as load:
        imu = _imu(vb, load)
        vb.clock.sleep_ms(50)
        sums = [0, 0, 0]
        n = 0
        for i in range(500):  # 5 s at rest
            vb.clock.sleep_ms(10)
            if imu.read(vb.clock.ticks_ms()) and i >= 400:
                sums[0] += imu.gx
                sums[1] += imu.gy
                sums[2] += imu.gz
                n += 1
    assert imu.bias.known
    for s in sums:
        assert abs(s / n) < 150  # mdps, was up to 2500


def test_malformed_axes_in_a_board_config_are_refused_with_the_format():
    with loader.firmware_modules() as load:
        parse = load("rearguard.drivers.axes").parse_axes
        assert parse("+z+x+y") == (bytearray([2, 0, 1]), [1, 1, 1])
        assert parse("-y+z-x") == (bytearray([1, 2, 0]), [-1, 1, -1])
        for bad in ("+z+x+x", "z+x+y", "+z+x"):
            with pytest.raises(ValueError, match=r"\+z\+x\+y|once"):
                parse(bad)
