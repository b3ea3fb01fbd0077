"""The simulator's chip models against the drivers that will meet the real chips:
the unmodified Adafruit VL53L1X driver, and IMU register maps and scaling as
the datasheets give them. Each sensor quirk the models promise shows up."""

import errno
import statistics

import pytest

from sim import machine, vtime
from sim.board import VirtualBoard
from sim.chips import imu as imu_chips
from sim.chips.battery import Battery
from sim.chips.rng import Rng
from sim.chips.vl53l1x import VL53L1X
from sim.loader import firmware_modules
from sim.scenario import check, wire_xshut
from sim.vboard.chips import chip_to_device, device_to_chip, uld_status
from sim.world import World

NO_QUIRKS = {"spurious_p": 0.0, "frozen_p": 0.0}


def standing_world(obstacles=(), ambient="dark", pitch_deg=0, seed=1):
    spec = check({"name": "t", "duration_ms": 60000, "runner": {"speed": 0, "pitch_deg": pitch_deg},
                  "obstacles": list(obstacles), "ambient": ambient})
    return World(spec, Rng(seed))


def wall(x_mm, reflectance=0.88, **extra):
    ob = {"id": "wall", "kind": "wall", "x_mm": x_mm, "reflectance": reflectance}
    ob.update(extra)
    return ob


class Bench:
    """A virtual board with one VL53L1X over a world, and the Adafruit driver on it."""

    def __init__(self, world, quirks=NO_QUIRKS, seed=2):
        self.vb = VirtualBoard("esp32_devkitc")
        self.chip = VL53L1X(world, Rng(seed), lambda: self.vb.clock.us, quirks)
        self.vb.attach_i2c(0, 0x29, self.chip)

    def __enter__(self):
        self._active = self.vb.active()
        self._active.__enter__()
        self._mods = firmware_modules(self.vb.config)
        load = self._mods.__enter__()
        adafruit = load("adafruit_vl53l1x")
        i2c = machine.I2C(0, scl=machine.Pin(22), sda=machine.Pin(21))
        self.sensor = adafruit.VL53L1X(i2c)
        return self

    def __exit__(self, *exc):
        self._mods.__exit__(*exc)
        self._active.__exit__(*exc)

    def samples(self, n, poll_ms=2):
        """n readings the way an application loop takes them: (t_ms, status, mm)."""
        s = self.sensor
        out = []
        while len(out) < n:
            if s.data_ready:
                status = s._read_register(0x0089)[0]
                mm = int.from_bytes(s._read_register(0x0096, 2), "big")
                out.append((self.vb.clock.ms, uld_status(status), mm))
                s.clear_interrupt()
            vtime.sleep_ms(poll_ms)
        return out


def test_adafruit_driver_initialises_and_measures_a_wall():
    with Bench(standing_world([wall(1500)])) as b:
        s = b.sensor
        assert s.model_info == (0xEA, 0xCC, 0x10)
        assert s.distance_mode == 2  # the default block sets long mode
        assert s.timing_budget == 50
        s.start_ranging()
        readings = b.samples(20)
        assert all(status == 0 for _t, status, _mm in readings)
        assert abs(statistics.mean(mm for _t, _s, mm in readings) - 1500) < 15
        assert 1.3 < s.distance / 100 < 1.7  # Adafruit's distance: cm, None unless valid
        assert b.chip.problems_report() == []


def test_mode_and_budget_written_by_the_driver_decide_the_period():
    with Bench(standing_world([wall(800)])) as b:
        s = b.sensor
        s.distance_mode = 1
        s.timing_budget = 20
        s.start_ranging()
        readings = b.samples(30, poll_ms=1)
        assert b.chip.config.mode == "short" and b.chip.config.budget_ms == 20
        gaps = [b2[0] - a[0] for a, b2 in zip(readings[1:], readings[2:])]
        assert 36 <= statistics.median(gaps) <= 44  # 20 ms budget, target present: ~40 ms
        s.stop_ranging()
    with Bench(standing_world([])) as b:  # nothing in view: budget + overhead
        b.sensor.distance_mode = 1
        b.sensor.timing_budget = 20
        b.sensor.start_ranging()
        readings = b.samples(30, poll_ms=1)
        gaps = [b2[0] - a[0] for a, b2 in zip(readings[1:], readings[2:])]
        assert 22 <= statistics.median(gaps) <= 27


def test_roi_narrows_the_field_of_view():
    # A wall 1 m back starting 150 mm to the side (8.5 deg): inside 27 deg, outside 15 deg.
    side = wall(1000, reflectance=0.9, width_mm=2000, y_mm=1150)
    with Bench(standing_world([side])) as b:
        b.sensor.timing_budget = 100
        b.sensor.start_ranging()
        wide = b.samples(10)
        b.sensor.stop_ranging()
        b.sensor.roi_xy = (4, 4)
        assert b.sensor.roi_xy == (4, 4)
        # Adafruit's roi_xy puts the centre on SPAD 0 (a corner) for ROIs up to
        # 10 wide, as it would on hardware; aim it back at the optical centre.
        assert b.sensor.roi_center == 0
        b.sensor.roi_center = 199
        b.sensor.start_ranging()
        narrow = b.samples(10)
    assert sum(st == 0 for _t, st, _mm in wide) >= 8
    assert all(st != 0 for _t, st, _mm in narrow)


def test_roi_centre_aims_a_small_roi():
    # Same side wall (from 8.5 deg right); a 4x4 ROI (15 deg) sees it only when
    # its centre moves 6 SPADs (~10 deg) to the right, as far as a 4x4 still fits.
    side = wall(1000, reflectance=0.9, width_mm=2000, y_mm=1150)
    with Bench(standing_world([side])) as b:
        b.sensor.timing_budget = 100
        b.sensor.roi_xy = (4, 4)
        b.sensor.roi_center = 199
        b.sensor.start_ranging()
        ahead = b.samples(10)
        b.sensor.stop_ranging()
        b.sensor.roi_center = 247  # row 7, column 14 (ST's numbering)
        b.sensor.start_ranging()
        aimed = b.samples(10)
        assert b.chip.problems_report() == []
    assert all(st != 0 for _t, st, _mm in ahead)
    assert sum(st == 0 for _t, st, _mm in aimed) >= 8


def test_an_roi_that_does_not_fit_the_array_is_reported():
    with Bench(standing_world([wall(1000)])) as b:
        b.sensor.roi_xy = (4, 4)
        b.sensor.roi_center = 255  # column 15: a 4x4 around it hangs over the edge
        b.sensor.start_ranging()
        b.samples(2)
        assert any("does not fit" in p for p in b.chip.problems_report())


def test_unknown_writes_are_reported_not_swallowed():
    with Bench(standing_world([])) as b:
        b.sensor._write_register(0x00F0, b"\x12")
        b.sensor._write_register(0x004B, b"\x33")  # not a ULD distance mode
        b.sensor.start_ranging()
        b.samples(1)
        report = b.chip.problems_report()
    assert "write to 0x00f0: 12" in report
    assert any("distance mode" in line for line in report)


def test_long_mode_collapses_in_sun_while_short_mode_holds():
    def valid_share(distance_mm, mode, light):
        with Bench(standing_world([wall(distance_mm)], ambient=light)) as b:
            b.sensor.distance_mode = mode
            b.sensor.timing_budget = 100
            b.sensor.start_ranging()
            readings = b.samples(20)
        return sum(st == 0 for _t, st, _mm in readings) / 20

    assert valid_share(3000, 2, "dark") >= 0.9  # long, dark: ~3.6 m
    assert valid_share(1200, 2, "sun") == 0  # long, sun: ~0.73 m
    assert valid_share(600, 2, "sun") >= 0.9
    assert valid_share(1200, 1, "sun") >= 0.9  # short holds ~1.35 m in sun
    assert valid_share(1700, 1, "dark") == 0


def test_sigma_fail_near_the_limit_and_no_target_beyond():
    with Bench(standing_world([wall(4000)], ambient="dark")) as b:
        b.sensor.timing_budget = 100
        b.sensor.start_ranging()
        near_limit = [st for _t, st, _mm in b.samples(40)]
    with Bench(standing_world([wall(5000)], ambient="dark")) as b:
        b.sensor.timing_budget = 100
        b.sensor.start_ranging()
        beyond = [st for _t, st, _mm in b.samples(20)]
    assert 1 in near_limit  # sigma fail
    assert set(beyond) == {2}  # signal fail: no target


def test_noise_matches_the_datasheet_accuracy():
    with Bench(standing_world([wall(1000)], ambient="dark")) as b:
        b.sensor.timing_budget = 100
        b.sensor.start_ranging()
        dark = [mm for _t, _st, mm in b.samples(200)]
    assert abs(statistics.mean(dark) - 1000) < 4
    assert 5 < statistics.pstdev(dark) < 15  # +-20 mm as two sigma
    assert max(abs(mm - 1000) for mm in dark) < 60


def test_wraparound_aliases_a_bright_far_target_in_short_mode():
    with Bench(standing_world([wall(2600, reflectance=0.9)], ambient="dark"),
               quirks={"spurious_p": 0.0, "frozen_p": 0.0, "wrap_valid_p": 0.2}) as b:
        b.sensor.distance_mode = 1
        b.sensor.timing_budget = 100
        b.sensor.start_ranging()
        readings = b.samples(60)
    aliased = [(st, mm) for _t, st, mm in readings if mm < 700]
    assert len(aliased) == 60  # 2.6 m shows up ~0.4 m
    assert {st for st, _mm in aliased} == {0, 7}  # mostly flagged, some pass as valid


def test_spurious_near_readings_are_marked_valid():
    with Bench(standing_world([wall(2000)]), quirks={"spurious_p": 0.2, "frozen_p": 0.0}) as b:
        b.sensor.start_ranging()
        readings = b.samples(100)
    spurious = [mm for _t, st, mm in readings if st == 0 and mm <= 30]
    assert 8 <= len(spurious) <= 35


def test_frozen_readings_repeat_the_same_result():
    with Bench(standing_world([wall(1500)]), quirks={"spurious_p": 0.0, "frozen_p": 0.05}) as b:
        b.sensor.start_ranging()
        readings = b.samples(200)
    repeats = sum(1 for a, c in zip(readings, readings[1:]) if a[2] == c[2])
    assert repeats >= 6
    assert b.chip.counts["frozen"] >= 6


def test_two_targets_in_view_blend():
    # A wide post 1 m back covering part of the view, a wall at 2.5 m behind it.
    post = {"id": "post", "kind": "pole", "x_mm": 1000, "y_mm": 150, "radius_mm": 120,
            "reflectance": 0.4}
    with Bench(standing_world([post, wall(2500, reflectance=0.88)])) as b:
        b.sensor.timing_budget = 100
        b.sensor.start_ranging()
        mean = statistics.mean(mm for _t, st, mm in b.samples(20) if st == 0)
    assert 1300 < mean < 2200


def test_ground_returns_when_the_beam_pitches_down():
    world = standing_world([], pitch_deg=45, ambient="shade")
    world.ground_reflectance = 0.5  # light concrete
    with Bench(world) as b:
        b.sensor.timing_budget = 100
        b.sensor.start_ranging()
        readings = b.samples(20)
    valid = [mm for _t, st, mm in readings if st == 0]
    assert len(valid) >= 15
    assert 1250 < statistics.mean(valid) < 1650  # 1 m mount, 45 deg down: ~1.41 m


def test_xshut_low_holds_the_chip_off_and_release_resets_it():
    with Bench(standing_world([wall(1000)])) as b:
        pin = machine.Pin(25, machine.Pin.OUT, value=1)
        wire_xshut(b.vb, b.chip, 25)
        b.sensor.start_ranging()
        b.samples(2)
        pin.value(0)
        assert not b.chip.ranging  # standby at once, not at the next bus transaction
        with pytest.raises(OSError) as e:
            _ = b.sensor.model_info
        assert e.value.args[0] == errno.ENODEV
        pin.value(1)
        vtime.sleep_ms(2)  # tBOOT 1.2 ms
        assert b.sensor.model_info == (0xEA, 0xCC, 0x10)
        assert not b.chip.ranging  # booted with reset values: must be configured again


def test_an_xshut_pulse_between_transactions_resets_the_chip_and_it_boots_in_1_2_ms():
    with Bench(standing_world([wall(1000)]), quirks={"spurious_p": 0.0, "frozen_p": 1.0}) as b:
        pin = machine.Pin(25, machine.Pin.OUT, value=1)
        wire_xshut(b.vb, b.chip, 25)
        b.sensor.timing_budget = 50
        b.sensor.start_ranging()
        b.samples(3)
        assert b.chip.frozen_left > 0
        pin.value(0)
        vtime.sleep_ms(10)
        pin.value(1)  # released again before the host said anything on the bus
        assert b.chip.frozen_left == 0 and b.chip.config.mode is None
        with pytest.raises(OSError):  # still booting
            _ = b.sensor.model_info
        vtime.sleep_ms(2)
        assert b.sensor.model_info == (0xEA, 0xCC, 0x10)
        assert b.sensor._read_register(0x005E, 2) == b"\x00\x00"  # the budget written is gone
        assert not b.sensor.data_ready


def test_a_board_reset_releases_xshut_and_the_chip_answers_after_boot(tmp_path):
    # A reset turns the pins back into inputs: the breakout's pull-up releases XSHUT.
    with Bench(standing_world([wall(1000)])) as b:
        pin = machine.Pin(25, machine.Pin.OUT, value=1)
        wire_xshut(b.vb, b.chip, 25)
        pin.value(0)
        b.vb.release_pins()  # what a reset does to pins
        vtime.sleep_ms(300)
        assert b.sensor.model_info == (0xEA, 0xCC, 0x10)


# --- IMUs --------------------------------------------------------------------------------
class Steady:
    """An IMU source: the same device-frame motion at every sample."""

    def __init__(self, motion):
        self.motion = motion

    def imu_sample(self, now_us, period_us):
        return now_us - now_us % period_us, self.motion


def imu_on_bus(chip, motion, axes, noise=False):
    vb = VirtualBoard("esp32_devkitc")
    model = imu_chips.make_imu(chip, Steady(motion), Rng(3), lambda: vb.clock.us, axes, noise)
    vb.attach_i2c(0, 0x68, model)
    return vb, model


def s16(data, i, big_endian):
    raw = data[i:i + 2] if big_endian else data[i:i + 2][::-1]
    return int.from_bytes(raw, "big", signed=True)


@pytest.mark.parametrize("chip, who", [("mpu6050", 0x68), ("mpu6886", 0x19)])
def test_mpu_who_am_i_sleep_and_scaling(chip, who):
    upright_turning = (0, 0, 1000, 0, 0, 100000)  # 1 g up, 100 dps about device z
    vb, model = imu_on_bus(chip, upright_turning, "+z+x+y")  # chip +y up, chip +z back
    with vb.active():
        i2c = machine.I2C(0)
        assert i2c.readfrom_mem(0x68, 0x75, 1)[0] == who
        vtime.sleep_ms(50)
        assert i2c.readfrom_mem(0x68, 0x3B, 14) == bytes(14)  # asleep after power-up
        i2c.writeto_mem(0x68, 0x6B, b"\x00")  # wake
        vtime.sleep_ms(50)
        data = i2c.readfrom_mem(0x68, 0x3B, 14)
        assert s16(data, 2, True) == 16384  # chip y = up, 2 g range: 16384 LSB/g
        assert s16(data, 8 + 4, True) == 0  # gyro z (chip) = device x
        assert s16(data, 8 + 2, True) == 13100  # gyro chip y = device z, 131 LSB/dps
        i2c.writeto_mem(0x68, 0x1C, b"\x18")  # +-16 g
        i2c.writeto_mem(0x68, 0x1B, b"\x00")
        vtime.sleep_ms(5)
        data = i2c.readfrom_mem(0x68, 0x3B, 14)
        assert s16(data, 2, True) == 2048
        assert model.problems == [] and model.unknown_writes == []


def test_imu_saturates_at_full_scale():
    vb, _model = imu_on_bus("mpu6050", (0, 0, 5000, 0, 0, 400000), "+z+x+y")  # 5 g, 400 dps
    with vb.active():
        i2c = machine.I2C(0)
        i2c.writeto_mem(0x68, 0x6B, b"\x00")
        vtime.sleep_ms(50)
        data = i2c.readfrom_mem(0x68, 0x3B, 14)
    assert s16(data, 2, True) == 32767  # +-2 g range clips 5 g
    assert s16(data, 10, True) == 32767  # +-250 dps clips 400 dps


def test_lsm6dsox_who_am_i_power_down_and_little_endian_scaling():
    vb, model = imu_on_bus("lsm6dsox", (0, 0, 1000, 0, 0, 0), "-y+z-x")  # xiao: chip -x up
    vb.buses[0].detach(0x68)
    vb.attach_i2c(0, 0x6A, model)
    with vb.active():
        i2c = machine.I2C(0)
        assert i2c.readfrom_mem(0x6A, 0x0F, 1)[0] == 0x6C
        vtime.sleep_ms(20)
        assert i2c.readfrom_mem(0x6A, 0x22, 12) == bytes(12)  # powered down until ODR set
        i2c.writeto_mem(0x6A, 0x10, b"\x54")  # 208 Hz, +-16 g (0.488 mg/LSB)
        vtime.sleep_ms(20)
        assert i2c.readfrom_mem(0x6A, 0x1E, 1)[0] & 0x01  # XLDA
        data = i2c.readfrom_mem(0x6A, 0x28, 6)
        assert s16(data, 0, False) == -2049  # chip x = down
        assert s16(data, 4, False) == 0


def test_axes_mapping_round_trips():
    for axes in ("+z+x+y", "+z-x-y", "-y+z-x"):
        mapping = imu_chips.parse_axes(axes)
        v = [1, 2, 3]
        assert chip_to_device(mapping, device_to_chip(mapping, v)) == v
    with pytest.raises(ValueError):
        imu_chips.parse_axes("+z+z+y")


# --- world, battery -----------------------------------------------------------------------------
def world_series(spec_extra, t0_ms, t1_ms, every_ms=2):
    spec = {"name": "t", "duration_ms": 60000, "runner": {"speed": [[0, 2500]], "cadence_spm": 170}}
    spec.update(spec_extra)
    world = World(check(spec), Rng(4))
    out = []
    for t in range(t0_ms, t1_ms, every_ms):
        _ts, m = world.imu_sample(t * 1000, every_ms * 1000)
        out.append((t, m, world.attitude(world.t_us)[0]))
    return world, out


def test_jogging_peaks_at_about_three_g_with_one_g_mean():
    # Real waist steps while jogging peak at 2.7-3.7 g (SisFall D03/D04 medians).
    _w, series = world_series({}, 2000, 8000)
    mags = [(m[0] ** 2 + m[1] ** 2 + m[2] ** 2) ** 0.5 for _t, m, _p in series]
    assert 2700 < max(mags) < 4500
    assert 950 < statistics.mean(m[2] for _t, m, _p in series) < 1050


def test_stumble_and_fall_have_realistic_trunk_motion():
    _w, series = world_series({"balance": [{"kind": "stumble", "t_ms": 5000}]}, 4800, 6000)
    rates = [m[4] for _t, m, _p in series]  # gy: pitch rate, mdps
    assert max(rates) > 80000  # ~140 deg/s excursion
    # ~18 deg (the median real recovered stumble, SisFall D18) beyond the rocking, then recovers
    assert 15 < max(p for _t, _m, p in series) < 26
    world, series = world_series({"balance": [{"kind": "fall", "t_ms": 5000}]}, 4800, 9000)
    mags = [(m[0] ** 2 + m[1] ** 2 + m[2] ** 2) ** 0.5 for _t, m, _p in series]
    assert max(mags[150:]) > 5000  # impact after the tip and topple (~5.9 s)
    _t, lying, pitch = series[-1]
    assert pitch > 80 and lying[0] < -950  # on the back: gravity along -x (beam down)
    assert abs(lying[4]) < 1 and world.v == 0  # still


def test_battery_sags_under_motor_load_and_discharges():
    duty = [0]
    cell = Battery(400, 80, (2, 1), lambda _t: 95 + 80 * duty[0])
    idle = cell.voltage_mv(0)
    duty[0] = 1
    assert idle - cell.voltage_mv(1) > 10  # ESR sag while buzzing
    later = cell.voltage_mv(3600 * 1000)  # an hour at ~175 mA
    assert cell.soc_pct < 40 and later < idle
    assert cell.adc_uv(3600 * 1000) == int(cell.voltage_mv(3600 * 1000) * 1000 / 2)
