# The rear-facing VL53L1X: a per-tick read that allocates nothing and a
# recovery state machine that never blocks a tick. Setting the chip up (the
# init table, distance modes, budgets) goes through Adafruit's driver, loaded
# only while the sensor starts (drivers/tof_setup.py).
#
#     tof = RangeSensor(i2c, 0x29, xshut_pin, time.ticks_ms(), "esp32_devkitc")
#     if tof.poll(now_ms):                   # every tick; True = a new sample
#         tof.range_mm, tof.status           # status: ULD code, 0 = valid
#     tof.configure(LONG, 50)                # applied between two samples
#     tof.pace(100)                          # a range every 100 ms (0: back to back)
#
# Never raises: faults (OSError from the bus, data that never becomes ready,
# frozen results) set ok = False and problem, and the sensor is brought back
# by itself: XSHUT pulse (or software reset), stepped re-initialisation,
# retries with backoff. Each poll does at most one small step of that work.
from time import sleep_ms, ticks_add, ticks_diff

from micropython import const

# Registers (ST ULD names)
_SOFT_RESET = const(0x0000)
_GPIO__TIO_HV_STATUS = const(0x0031)
_SYSTEM__INTERRUPT_CLEAR = const(0x0086)
_SYSTEM__MODE_START = const(0x0087)
_SYSTEM__INTERMEASUREMENT_PERIOD = const(0x006C)  # 32 bits
_RESULT__RANGE_STATUS = const(0x0089)  # first byte of the result block
_RESULT__OSC_CALIBRATE_VAL = const(0x00DE)
_RESULT_BLOCK_LEN = const(17)  # 0x0089..0x0099: status .. signal rate, one burst

# Offsets in the result block (ULD VL53L1X_GetResult)
_OFS_STATUS = const(0)  # 0x0089, low 5 bits: raw range status
_OFS_SPADS = const(3)  # 0x008C, effective SPAD count (integer part of 8.8)
_OFS_AMBIENT = const(7)  # 0x0090, ambient rate, 9.7 Mcps (ULD: x8 = kcps)
_OFS_RANGE = const(13)  # 0x0096, final range mm
_OFS_SIGNAL = const(15)  # 0x0098, peak signal rate, 9.7 Mcps (ULD: x8 = kcps)

# Raw status -> ULD status (ULD status_rtn): raw 9 -> 0 valid, 6 -> 1 sigma
# fail, 4 -> 2 signal fail (no target), 5 -> 4 out of bounds, 7 -> 7 wraparound.
_STATUS_FROM_RAW = b"\xff\xff\xff\x05\x02\x04\x01\x07\x03\x00\xff\xff\x09\x0d\xff\xff\xff\xff\x0a\x06\xff\xff\x0b\x0c"
_CLEAR = b"\x01"
_MODE_STOP = b"\x00"  # SYSTEM__MODE_START: stop
_MODE_START = b"\x40"  # SYSTEM__MODE_START: back-to-back ranging
_RESET_LOW = b"\x00"
_RESET_HIGH = b"\x01"
_BACK_TO_BACK = b"\x00\x00\x0f\x89"  # the init table's period, shorter than any budget

# Distance modes (Adafruit's distance_mode values): the one home of these two,
# sensing/visibility.py chooses between them.
SHORT = const(1)
LONG = const(2)
_BUDGET_MS = const(50)  # at boot; sensing/visibility.py asks for others through configure()
# The configurations sensing/visibility.py switches between, recorded while
# the set-up is loaded so that switching in daylight needs neither it nor heap.
_RECIPES = ((LONG, _BUDGET_MS), (SHORT, _BUDGET_MS))

# Recovery states
_DOWN = const(0)  # waiting for the next attempt (backoff)
_BOOTING = const(1)  # XSHUT released or soft reset: the chip boots (~1.2 ms)
_CALIBRATING = const(2)  # init table written, first ranging (VHV calibration) running
_RANGING = const(3)

_BOOT_MS = const(3)  # datasheet tBOOT 1.2 ms, with margin
_XSHUT_LOW_MS = const(10)
_CALIBRATION_TIMEOUT_MS = const(400)  # first ranging at the init table's 100 ms budget
_STALL_MS = const(200)  # no data-ready this long while ranging (~3 periods): reset
_ERRORS_TO_RESET = const(8)  # failed polls in a row (80 ms) before a reset
_ENODEV = const(19)
_FROZEN_SAMPLES = const(2)  # repeats of one result block: the chip froze
_NOISY_AMBIENT = const(64)  # ambient register (x8 kcps) this high never repeats by chance
_BACKOFF_MIN_MS = const(50)
_BACKOFF_MAX_MS = const(400)  # caps the delay before a re-plugged sensor is back

_NO_CHIP = "no VL53L1X at 0x%02x on I2C - check the cable and boards/%s.py"
_WRONG_CHIP = "the chip at 0x%02x is not a VL53L1X - check boards/%s.py"
_NEVER_READY = "VL53L1X at 0x%02x never finished calibrating - check its power (boards/%s.py)"

# Field of view of the ROI, centi-degrees (docs/design.md): 16x16 27 deg, 8x8 20, 4x4 15.
FOV_16X16_CDEG = const(2700)


class RangeSensor:
    def __init__(self, i2c, addr, xshut, now_ms, board_name):
        self.i2c = i2c
        self.addr = addr
        self.xshut = xshut
        self.board_name = board_name
        self._setup = None  # drivers/tof_setup.ChipSetup while the chip starts
        self._one = bytearray(1)
        self._block = bytearray(_RESULT_BLOCK_LEN)
        self._previous = bytearray(_RESULT_BLOCK_LEN)
        self._ready_level = 1  # init table: interrupt active high (0x0030 bit 4 = 0)
        self._recipes = {}  # mode * 1000 + budget_ms -> (register, bytes, ...)
        self._osc = 0  # RESULT__OSC_CALIBRATE_VAL: the period's clock
        self._period = bytearray(4)
        self._clear_state(now_ms)
        # Boot: hw.py has just raised XSHUT; the chip needs tBOOT (datasheet
        # 1.2 ms) before it answers. Then the init table is written and the
        # first ranging (VHV calibration, ~100 ms) completes over the first
        # ticks, so boot never waits on it.
        if xshut is not None:
            sleep_ms(_BOOT_MS)
        self._step(now_ms, self._start_init)
        if self._state == _CALIBRATING:
            self.ok = True  # the right chip answered; samples follow within ~100 ms

    def _clear_state(self, now_ms):
        # The sample, the mode and the recovery state at boot.
        self.range_mm = self.ambient_kcps = self.signal_kcps = self.spads = 0
        self.status = 255
        self.mode = LONG
        self.budget_ms = _BUDGET_MS
        self.fov_cdeg = FOV_16X16_CDEG
        self._wanted_mode = LONG
        self._wanted_budget_ms = _BUDGET_MS
        self.imp_ms = self._wanted_imp_ms = 0  # inter-measurement period, 0 = back to back
        self.ok = False
        self.problem = ""
        self.faults = 0  # recoveries started since boot, for the session log
        self.fault_ms = now_ms  # when the last one started
        self.samples = self._same = self._errors = 0
        self._state = _DOWN
        self._state_ms = self._last_sample_ms = self._retry_at_ms = now_ms
        self._backoff_ms = _BACKOFF_MIN_MS
        self._xshut_low = False

    # --- what the app calls every tick -----------------------------------
    def poll(self, now_ms):
        """Read a new sample if one is ready; True when the attributes changed."""
        if self._state != _RANGING:
            self._advance(now_ms)
            return False
        i2c = self.i2c
        try:
            i2c.readfrom_mem_into(self.addr, _GPIO__TIO_HV_STATUS, self._one, addrsize=16)
            self._errors = 0  # the chip answers: later glitches are the bus's
            if (self._one[0] & 1) != self._ready_level:
                if ticks_diff(now_ms, self._last_sample_ms) > _STALL_MS:
                    self._fault(now_ms, "no new range for 200 ms")
                return False
            if (self._wanted_mode != self.mode or self._wanted_budget_ms != self.budget_ms
                    or self._wanted_imp_ms != self.imp_ms):
                self._apply_mode()  # between two samples
                self._last_sample_ms = now_ms
                return False
            block = self._previous  # read into the older buffer, then swap
            i2c.readfrom_mem_into(self.addr, _RESULT__RANGE_STATUS, block, addrsize=16)
            i2c.writeto_mem(self.addr, _SYSTEM__INTERRUPT_CLEAR, _CLEAR, addrsize=16)
        except OSError as e:
            self._bus_error(now_ms, e)
            return False
        self._previous = self._block
        self._block = block
        return self._take(now_ms, block)

    def _bus_error(self, now_ms, err):
        # One glitch is retried next tick; a run of them, or no ACK at all
        # (ENODEV: unplugged, powered down), means the chip is gone.
        self._errors += 1
        if self._errors >= _ERRORS_TO_RESET or err.errno == _ENODEV:
            self._fault(now_ms, "I2C errors while ranging")

    def _take(self, now_ms, block):
        # A new result block: decoded, unless it repeats the last one.
        if block == self._previous:
            # A real chip's rates and range always jitter: an identical block
            # is the same result again (frozen quirk), not news. The ambient
            # count is photon noise: one repeat of a large one is proof enough.
            self._same += 1
            ambient = (block[_OFS_AMBIENT] << 8) | block[_OFS_AMBIENT + 1]
            # Paced (10 Hz), a second repeat would come too late: the recovery
            # must end within the blind limit (sensing/obstacle.py), as it does unpaced.
            if self._same >= _FROZEN_SAMPLES or ambient >= _NOISY_AMBIENT or self.imp_ms:
                self._fault(now_ms, "readings frozen")
            return False
        self._same = 0
        self._last_sample_ms = now_ms
        self._decode(block)
        self.samples += 1
        return True

    def starting(self):
        """True while the chip boots or calibrates (not while it waits to retry)."""
        return self._state == _BOOTING or self._state == _CALIBRATING

    def configure(self, mode, budget_ms):
        """Ask for a distance mode (SHORT/LONG) and budget; applied between samples."""
        self._wanted_mode = mode
        self._wanted_budget_ms = budget_ms

    def pace(self, imp_ms):
        """Ask for a range every imp_ms (0: each as soon as the last ends)."""
        self._wanted_imp_ms = imp_ms

    def standby(self):
        """Before deep sleep: ranging stopped, and XSHUT held low through the
        sleep where it is wired (hardware standby); the boot after wakes it."""
        try:
            self.i2c.writeto_mem(self.addr, _SYSTEM__MODE_START, _MODE_STOP, addrsize=16)
        except OSError:
            pass  # a missing sensor is off already
        if self.xshut is not None:
            self.xshut.init(value=0, hold=True)

    # --- decoding -------------------------------------------------------------
    def _decode(self, block):
        raw = block[_OFS_STATUS] & 0x1F
        self.status = _STATUS_FROM_RAW[raw] if raw < 24 else 255
        self.spads = block[_OFS_SPADS]
        self.ambient_kcps = ((block[_OFS_AMBIENT] << 8) | block[_OFS_AMBIENT + 1]) << 3
        self.range_mm = (block[_OFS_RANGE] << 8) | block[_OFS_RANGE + 1]
        self.signal_kcps = ((block[_OFS_SIGNAL] << 8) | block[_OFS_SIGNAL + 1]) << 3

    def _ready_now(self):
        self.i2c.readfrom_mem_into(self.addr, _GPIO__TIO_HV_STATUS, self._one, addrsize=16)
        return (self._one[0] & 1) == self._ready_level

    # --- recovery state machine --------------------------------------------
    def _fault(self, now_ms, what):
        self.ok = False
        self.faults += 1
        self.fault_ms = now_ms
        self.status = 255
        self.problem = "VL53L1X at 0x%02x: %s - recovering (check the cable and boards/%s.py)" % (
            self.addr, what, self.board_name)
        self._state = _DOWN
        self._retry_at_ms = now_ms  # the first retry comes at once
        self._state_ms = now_ms

    def _advance(self, now_ms):
        # One bounded step of recovery per tick.
        state = self._state
        elapsed = ticks_diff(now_ms, self._state_ms)
        if state == _DOWN:
            if ticks_diff(now_ms, self._retry_at_ms) >= 0:
                self._step(now_ms, self._reset_chip)
        elif state == _BOOTING:
            if self._xshut_low:
                if elapsed >= _XSHUT_LOW_MS:
                    self._release_xshut(now_ms)
            elif elapsed >= _BOOT_MS:
                self._step(now_ms, self._start_init)
        elif state == _CALIBRATING:
            if elapsed > _CALIBRATION_TIMEOUT_MS:
                self._give_up(now_ms, _NEVER_READY)
            else:
                self._step(now_ms, self._await_calibration)

    def _step(self, now_ms, step):
        try:
            step(now_ms)
        except OSError:
            self._give_up(now_ms, _NO_CHIP)
        except (RuntimeError, ValueError):
            self._give_up(now_ms, _WRONG_CHIP)

    def _reset_chip(self, now_ms):
        self._state = _BOOTING
        self._state_ms = now_ms
        self._same = 0
        if self.xshut is not None:
            self.xshut.value(0)  # held low _XSHUT_LOW_MS, then released in _advance
            self._xshut_low = True
            return
        # No XSHUT line: software reset (ULD: write 0, wait 100 us, write 1).
        self._xshut_low = False
        self.i2c.writeto_mem(self.addr, _SOFT_RESET, _RESET_LOW, addrsize=16)
        self.i2c.writeto_mem(self.addr, _SOFT_RESET, _RESET_HIGH, addrsize=16)

    def _release_xshut(self, now_ms):
        # In standby the chip must not answer; if it does, the XSHUT line
        # is not wired to it (check boards/<name>.py) and a soft reset is used.
        try:
            self.i2c.readfrom_mem_into(self.addr, _GPIO__TIO_HV_STATUS, self._one, addrsize=16)
            self.i2c.writeto_mem(self.addr, _SOFT_RESET, _RESET_LOW, addrsize=16)
            self.i2c.writeto_mem(self.addr, _SOFT_RESET, _RESET_HIGH, addrsize=16)
        except OSError:
            pass  # held in reset, as it should be
        self.xshut.value(1)
        self._xshut_low = False
        self._state_ms = now_ms

    def _await_calibration(self, now_ms):
        try:
            ready = self._ready_now()
        except OSError:
            return  # a glitch on a noisy bus; the calibration timeout bounds the wait
        if ready:
            self._finish_init(now_ms)

    def _chip_setup(self):
        # Adafruit's driver, through drivers/tof_setup.py, only while needed.
        if self._setup is None:
            from rearguard.drivers.tof_setup import ChipSetup

            self._setup = ChipSetup(self.i2c, self.addr)
        return self._setup

    def _drop_setup(self):
        if self._setup is not None:
            self._setup = None
            from rearguard.drivers import tof_setup

            tof_setup.unload()

    def _start_init(self, now_ms):
        finished = self._chip_setup().start()  # RuntimeError: not a VL53L1X
        self._state = _CALIBRATING
        self._state_ms = now_ms
        if finished:
            self._configure_after_init(now_ms)

    def _finish_init(self, now_ms):
        self._chip_setup().finish()
        self._configure_after_init(now_ms)

    def _configure_after_init(self, now_ms):
        setup = self._chip_setup()
        self._ready_level = setup.ready_level()
        self.imp_ms = 0  # a fresh init table ranges back to back
        for mode, budget_ms in _RECIPES:
            self._record(mode, budget_ms)
        self._record(self._wanted_mode, self._wanted_budget_ms)
        self._drop_setup()
        self._apply_mode()  # the wanted mode's writes, then ranging starts
        self._state = _RANGING
        self._state_ms = now_ms
        self._last_sample_ms = now_ms
        self._backoff_ms = _BACKOFF_MIN_MS
        self.ok = True
        self.problem = ""

    def _apply_mode(self):
        # Between two samples: stop, the recorded register writes of Adafruit's
        # distance_mode/timing_budget setters, clear, start. Constant bytes
        # only, so a change of light costs no heap.
        recipe = self._recipes.get(self._wanted_mode * 1000 + self._wanted_budget_ms)
        if recipe is None:
            try:
                recipe = self._record(self._wanted_mode, self._wanted_budget_ms)  # first use
            except (ValueError, RuntimeError):  # not a budget of that mode: keep ranging
                self._wanted_mode = self.mode
                self._wanted_budget_ms = self.budget_ms
                return
            finally:
                if self._state == _RANGING:
                    self._drop_setup()
        i2c = self.i2c
        addr = self.addr
        i2c.writeto_mem(addr, _SYSTEM__MODE_START, _MODE_STOP, addrsize=16)
        for i in range(0, len(recipe), 2):
            i2c.writeto_mem(addr, recipe[i], recipe[i + 1], addrsize=16)
        if self._wanted_imp_ms != self.imp_ms:
            i2c.writeto_mem(addr, _SYSTEM__INTERMEASUREMENT_PERIOD, self._period_bytes(), addrsize=16)
        i2c.writeto_mem(addr, _SYSTEM__INTERRUPT_CLEAR, _CLEAR, addrsize=16)
        i2c.writeto_mem(addr, _SYSTEM__MODE_START, _MODE_START, addrsize=16)
        self.mode = self._wanted_mode
        self.budget_ms = self._wanted_budget_ms
        self.imp_ms = self._wanted_imp_ms

    def _period_bytes(self):
        # ULD SetInterMeasurementInMs: period = clock * ms * 1.075, 32 bits big-endian.
        imp = self._wanted_imp_ms
        if not imp:
            return _BACK_TO_BACK
        if not self._osc:  # read once, at the first pacing (the chip's own clock)
            osc = self.i2c.readfrom_mem(self.addr, _RESULT__OSC_CALIBRATE_VAL, 2, addrsize=16)
            self._osc = ((osc[0] << 8) | osc[1]) & 0x3FF
        v = self._osc * imp + self._osc * imp * 75 // 1000
        b = self._period
        for i in range(4):
            b[i] = (v >> (24 - 8 * i)) & 0xFF
        return b

    def _record(self, mode, budget_ms):
        """Adafruit's writes for this mode and budget, kept for later switches."""
        key = mode * 1000 + budget_ms
        recipe = self._recipes.get(key)
        if recipe is None:
            recipe = self._chip_setup().recipe(mode, budget_ms)
            self._recipes[key] = recipe
        return recipe

    def _give_up(self, now_ms, message):
        # This attempt failed: wait (doubling, capped) and start again.
        self.ok = False
        self.status = 255
        self.problem = message % (self.addr, self.board_name)
        self._state = _DOWN
        self._state_ms = now_ms
        self._retry_at_ms = ticks_add(now_ms, self._backoff_ms)
        self._backoff_ms = min(self._backoff_ms * 2, _BACKOFF_MAX_MS)
        if self.xshut is not None:
            try:
                self.xshut.value(1)
            except OSError:
                pass

