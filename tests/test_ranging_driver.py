"""drivers/tof.py on the virtual board against the register-level VL53L1X model:
boots without waiting on the chip, reads samples, never raises, never holds a
tick, and brings the sensor back by itself after unplugging, freezing and bus errors."""

import pytest

from sim import loader, machine
from sim.board import VirtualBoard
from sim.chips.rng import Rng
from sim.chips.vl53l1x import VL53L1X
from sim.world import Scene

ADDR = 0x29


class Wall:
    """A scene source: a flat target filling the view at `distance_mm`."""

    def __init__(self, distance_mm=1000, reflectance=0.5, ambient=5.0):
        self.distance_mm = distance_mm
        self.reflectance = reflectance
        self.ambient = ambient
        self.covered = False
        self.rng = Rng(11)

    def scene(self, now_us, fov_deg):
        s = Scene()
        s.covered = self.covered
        # ambient light is a photon count: it is never the same twice
        s.ambient_kcps_per_spad = self.ambient * (1.0 + self.rng.gauss(0.0, 0.03))
        d_m = self.distance_mm / 1000.0
        s.signal = self.reflectance / (d_m * d_m)
        s.distance_mm = self.distance_mm
        s.peak_reflectance = self.reflectance
        s.dominant = "wall"
        return s


class Xshut:
    """The XSHUT line wired to the chip model: low powers it down, high boots it."""

    def __init__(self, chip):
        self.chip = chip
        self.level = 1

    def value(self, v=None):
        if v is None:
            return self.level
        self.level = v
        self.chip.set_power(bool(v))


class Bench:
    def __init__(self, wall=None, attach=True, xshut=True, quirks=None):
        self.vb = VirtualBoard("esp32_devkitc")
        self.wall = wall or Wall()
        self.chip = VL53L1X(self.wall, Rng(3), now_us=lambda: self.vb.clock.us,
                            quirks=quirks or {"spurious_p": 0.0, "frozen_p": 0.0})
        if attach:
            self.vb.attach_i2c(0, ADDR, self.chip)
        self.xshut = Xshut(self.chip) if xshut else None
        self.samples = []  # (t_ms, status, range_mm)
        self.longest_poll_ms = 0
        with self.vb.active(), loader.firmware_modules(self.vb.config) as load:
            self.tof_mod = load("rearguard.drivers.tof")
            i2c = machine.I2C(0, scl=machine.Pin(22), sda=machine.Pin(21))
            t0 = self.vb.clock.us
            self.tof = self.tof_mod.RangeSensor(i2c, ADDR, self.xshut, self.vb.clock.ticks_ms(),
                                                "esp32_devkitc")
            self.boot_ms = (self.vb.clock.us - t0) / 1000

    def run(self, ms):
        clock = self.vb.clock
        # The driver imports its set-up while the chip (re)starts: as on a board.
        with self.vb.active(), loader.firmware_modules(self.vb.config, fresh=False):
            end = clock.ms + ms
            while clock.ms < end:
                t0 = clock.us
                if self.tof.poll(clock.ticks_ms()):
                    self.samples.append((clock.ms, self.tof.status, self.tof.range_mm))
                self.longest_poll_ms = max(self.longest_poll_ms, (clock.us - t0) / 1000)
                clock.sleep_ms(10)
        return self

    def samples_after(self, t_ms):
        return [s for s in self.samples if s[0] >= t_ms]


def test_boot_does_not_wait_for_the_first_ranging_and_samples_follow():
    b = Bench()
    assert b.tof.ok and b.tof.problem == ""
    assert b.boot_ms < 10  # tBOOT and the init table, not the 100 ms first ranging
    b.run(1000)
    assert b.samples and b.samples[0][0] < 300
    valid = [r for _t, st, r in b.samples if st == 0]
    assert len(valid) > 10
    assert all(abs(r - 1000) < 100 for r in valid)
    assert b.chip.problems_report() == []
    assert b.longest_poll_ms < 5


def test_decodes_no_target_and_ambient():
    b = Bench(wall=Wall(distance_mm=9000, ambient=100.0)).run(600)
    assert b.samples and all(st == 2 for _t, st, _r in b.samples)  # signal fail: nothing there
    assert b.tof.ambient_kcps // b.tof.spads == pytest.approx(100, abs=5)


def test_missing_sensor_reports_a_fix_and_comes_up_when_plugged():
    b = Bench(attach=False, xshut=False)
    assert not b.tof.ok
    assert "0x29" in b.tof.problem and "boards/esp32_devkitc.py" in b.tof.problem
    b.run(2000)
    assert b.samples == []
    b.vb.attach_i2c(0, ADDR, b.chip)
    plugged = b.vb.clock.ms
    b.run(1500)
    assert b.tof.ok
    assert b.samples and b.samples[0][0] - plugged < 1000


def test_unplug_is_a_fault_and_replug_recovers_within_a_second():
    b = Bench().run(500)
    b.chip.set_power(False)
    unplugged = b.vb.clock.ms
    b.run(100)
    assert not b.tof.ok and b.tof.problem
    b.run(3000)
    b.chip.set_power(True)
    back = b.vb.clock.ms
    b.run(1500)
    assert b.tof.ok
    first = b.samples_after(back)
    assert first and first[0][0] - back < 1000
    assert b.longest_poll_ms < 5
    assert unplugged < back


def test_frozen_readings_are_not_new_samples_and_reset_the_chip():
    b = Bench().run(500)
    faults = b.tof.faults
    b.chip.frozen_left = 1000  # the chip keeps presenting one result block
    frozen_at = b.vb.clock.ms
    b.run(2000)
    assert b.tof.faults > faults  # reset through XSHUT
    assert b.chip.frozen_left == 0  # power-on cleared it
    fresh = b.samples_after(frozen_at + 1000)
    assert len(fresh) > 10
    # No stale copies were handed out as news: each sample differs from the last.
    repeats = sum(1 for a, c in zip(b.samples, b.samples[1:]) if a[1:] == c[1:])
    assert repeats < len(b.samples) // 5


def test_no_xshut_line_uses_a_soft_reset_and_still_recovers():
    b = Bench(xshut=False).run(500)
    b.chip.set_power(False)
    b.run(500)
    b.chip.set_power(True)
    back = b.vb.clock.ms
    b.run(1500)
    assert b.tof.ok and b.samples_after(back)


def test_occasional_bus_errors_never_raise_and_sampling_goes_on():
    b = Bench().run(300)
    b.chip.fault_errno = 5
    b.chip.fault_rate = 0.2
    b.chip.rng = Rng(7)
    start = b.vb.clock.ms
    b.run(3000)
    assert len(b.samples_after(start)) > 30
    assert b.tof.ok and b.tof.faults == 0


def test_distance_mode_and_budget_change_between_samples():
    b = Bench().run(400)
    assert b.chip.config.mode == "long"
    b.tof.configure(b.tof_mod.SHORT, 50)
    b.run(400)
    assert b.chip.config.mode == "short" and b.chip.config.budget_ms == 50
    assert b.tof.mode == b.tof_mod.SHORT and b.tof.budget_ms == 50
    assert b.chip.problems_report() == []


def test_a_budget_the_mode_does_not_have_is_ignored_not_raised():
    b = Bench().run(400)
    b.tof.configure(b.tof_mod.LONG, 15)  # 15 ms exists in short mode only
    b.run(400)
    assert b.tof.ok and b.tof.budget_ms == 50 and b.chip.config.budget_ms == 50
    assert b.samples_after(b.vb.clock.ms - 200)
