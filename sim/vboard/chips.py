# Register-level models of the clip's chips: the VL53L1X, the MPU6050/MPU6886
# and the LSM6DSOX, as a driver meets them on I2C (register maps, what a write
# may touch, data-ready timing, result and data encoding, power and XSHUT,
# quirk hooks). One set for every virtual board; docs/simulator.md has the
# behaviour and the datasheet facts behind it.
#
# What the chips measure comes from a source, through the hooks each class
# leaves open (measure, take_sample, and the VL53L1X's pacing):
# - sim/chips: the CPython simulator's world physics (floats, noise, quirks);
# - trace_player: a recorded trace (the MicroPython boards, the allocation probe).
#
#     tof = trace_player.Vl53l1x(player, now_us)   # a subclass for its source
#     tof.select(0x010F); tof.read_into(buf3)      # EA CC 10
#
# Runs under CPython and MicroPython, in integers; select/write_from/read_into
# allocate nothing, so a firmware tick reading the chips allocates nothing.
# Power: each chip tells the board's energy ledger (vboard/energy.py) its mode
# as an int when it changes (power_state: docs/power.md has the codes), and
# the IMUs model their wake-on-motion interrupt (int_level: the INT pin).
# Time: `now_us()` from the glue, microsecond ticks (wrapping at 2**30 on
# MicroPython, the CPython simulator's never wrap).

try:
    from time import ticks_add, ticks_diff  # MicroPython
except ImportError:  # CPython: the simulator's microseconds do not wrap

    def ticks_diff(end, start):
        return end - start

    def ticks_add(ticks, delta):
        return ticks + delta


class Registers:
    # A chip on the bus: a register file, a pointer (ADDR_BYTES wide) that
    # auto-increments, a table of the registers a write may touch, and what the
    # firmware wrote that the model did not understand.
    ADDR_BYTES = 1
    SIZE = 256
    AUTO_INCREMENT = True
    PART = "chip"  # its name in the energy ledger
    ledger = None  # the board's, set when the chip is attached

    def __init__(self, source, now_us):
        self.source = source  # where the measurements come from (the subclass's hooks read it)
        self.now_us = now_us
        self.regs = bytearray(self.SIZE)
        self.pointer = 0
        self.present = True  # plugged in
        self.unknown_writes = []  # (register, bytes) nothing is known to live at
        self.problems = []  # understood registers written with values that make no sense
        self.fault_errno = 0  # a fault timeline (the CPython world) makes transactions fail ...
        self.fault_rate = 0  # ... this often (1: always), drawn from rng
        self.rng = None

    # --- the bus side ---------------------------------------------------------
    def answers(self):
        """True when the chip ACKs its address."""
        return self.present

    def i2c_fault(self):
        if self.fault_errno and (self.fault_rate >= 1 or self.rng.chance(self.fault_rate)):
            return self.fault_errno
        return 0

    def select(self, reg):
        self.pointer = reg

    def write_from(self, data, start=0):
        """Store data[start:] from the pointer on; the model reacts per register."""
        reg = self.pointer
        count = len(data) - start
        if count <= 0:
            return
        for i in range(count):
            if not self.writable(reg + i):
                self.unknown_writes.append((reg, bytes(data[start:])))
                break
        else:
            regs = self.regs
            for i in range(count):
                regs[reg + i] = data[start + i]
            self.written(reg, count)
        if self.AUTO_INCREMENT:
            self.pointer = reg + count

    def i2c_write(self, data):
        """One raw write: the register address (ADDR_BYTES), then data."""
        n = self.ADDR_BYTES
        if len(data) < n:
            return  # an address-only probe
        self.pointer = data[0] if n == 1 else (data[0] << 8) | data[1]
        self.write_from(data, n)

    def read_into(self, buf):
        reg = self.pointer
        n = len(buf)
        self.before_read(reg, n)
        regs = self.regs
        size = self.SIZE
        inc = self.AUTO_INCREMENT
        for i in range(n):
            r = reg + i if inc else reg
            buf[i] = regs[r] if r < size else 0
        if inc:
            self.pointer = reg + n
        self.after_read(reg, n)

    def i2c_read(self, n):
        buf = bytearray(n)
        self.read_into(buf)
        return bytes(buf)

    def set_power(self, on):
        """Unplug (False) or plug in (True): plugging in is a power-on reset."""
        if on and not self.present:
            self.power_on()
        self.present = on

    def report_power(self):
        """Tell the board's energy ledger the mode the registers hold now."""
        if self.ledger is not None:
            self.ledger.set(self.PART, self.power_state())

    # --- what a model overrides -------------------------------------------------
    def power_state(self):
        return 0

    def power_on(self):
        pass

    def writable(self, reg):
        return False

    def written(self, reg, n):
        pass

    def before_read(self, reg, n):
        pass

    def after_read(self, reg, n):
        pass

    # --- helpers -------------------------------------------------------------------
    def covers(self, reg, n, target):
        return reg <= target < reg + n

    def u16be(self, reg):
        return (self.regs[reg] << 8) | self.regs[reg + 1]

    def put_u16be(self, reg, value):
        self.regs[reg] = (value >> 8) & 0xFF
        self.regs[reg + 1] = value & 0xFF

    def put_s16(self, reg, value, big_endian):
        if value > 32767:
            value = 32767
        elif value < -32768:
            value = -32768
        value &= 0xFFFF
        if big_endian:
            self.regs[reg] = value >> 8
            self.regs[reg + 1] = value & 0xFF
        else:
            self.regs[reg] = value & 0xFF
            self.regs[reg + 1] = value >> 8

    def problems_report(self):
        """Everything the firmware wrote that the model did not understand."""
        lines = ["write to 0x%04x: %s" % (reg, data.hex()) for reg, data in self.unknown_writes]
        return lines + list(self.problems)


# --- VL53L1X (ST ULD register names) -------------------------------------------------
SOFT_RESET = 0x0000  # 0x00 holds the core in reset, 0x01 boots it again
VHV_CONFIG_TIMEOUT_MACROP_LOOP_BOUND = 0x0008
VHV_CONFIG_INIT = 0x000B
OFFSET_FIRST = 0x0016  # ULD SetOffset / SetXtalk write 0x16..0x23
OFFSET_LAST = 0x0023
CONFIG_FIRST = 0x002D  # the default configuration block, written in one go
GPIO_HV_MUX_CTRL = 0x0030  # bits 3:0 = 0x1; bit 4: interrupt active low
GPIO_TIO_HV_STATUS = 0x0031  # bit 0: the interrupt line
PHASECAL_CONFIG_TIMEOUT_MACROP = 0x004B
RANGE_CONFIG_TIMEOUT_MACROP_A_HI = 0x005E
RANGE_CONFIG_VCSEL_PERIOD_A = 0x0060
RANGE_CONFIG_VCSEL_PERIOD_B = 0x0063
RANGE_CONFIG_VALID_PHASE_HIGH = 0x0069
SYSTEM_INTERMEASUREMENT_PERIOD = 0x006C  # 32 bits
SD_CONFIG_WOI_SD0 = 0x0078
SD_CONFIG_INITIAL_PHASE_SD0 = 0x007A
ROI_CONFIG_USER_ROI_CENTRE_SPAD = 0x007F
ROI_CONFIG_USER_ROI_REQUESTED_GLOBAL_XY_SIZE = 0x0080
SYSTEM_INTERRUPT_CLEAR = 0x0086
SYSTEM_MODE_START = 0x0087
CONFIG_LAST = 0x0087
RESULT_RANGE_STATUS = 0x0089
RESULT_DSS_ACTUAL_EFFECTIVE_SPADS_SD0 = 0x008C  # 8.8
RESULT_AMBIENT_COUNT_RATE_MCPS_SD0 = 0x0090  # kcps / 8
RESULT_FINAL_CROSSTALK_CORRECTED_RANGE_MM_SD0 = 0x0096
RESULT_PEAK_SIGNAL_COUNT_RATE_MCPS_SD0 = 0x0098  # kcps / 8
RESULT_OSC_CALIBRATE_VAL = 0x00DE
FIRMWARE_SYSTEM_STATUS = 0x00E5  # bit 0: booted
IDENTIFICATION_MODEL_ID = 0x010F  # EA CC 10: model, module type, mask revision
VL53L1X_REG_SIZE = 0x0120

MODE_START_BACK_TO_BACK = 0x40
MODE_STOP = 0x00
VL_OFF = 0  # power_state codes (docs/power.md); ranging: budget_ms * 100000 + IMP ms
VL_HW_STANDBY = 1
VL_SW_STANDBY = 2

# Raw range status codes in RESULT__RANGE_STATUS, and ULD's conversion table
# (VL53L1X_GetRangeStatus: status_rtn[raw & 0x1F]; 255 = undefined).
RAW_VALID = 9
RAW_SIGMA_FAIL = 6
RAW_SIGNAL_FAIL = 4
RAW_PHASE_OUT_OF_BOUNDS = 5
RAW_WRAPAROUND = 7
RAW_NONE = 0  # no measurement yet / not configured
ULD_STATUS = (255, 255, 255, 5, 2, 4, 1, 7, 3, 0, 255, 255, 9, 13, 255, 255,
              255, 255, 10, 6, 255, 255, 11, 12)
_RAW_FROM_ULD = bytearray(256)  # the inverse, for the codes a trace can hold
for _raw in range(len(ULD_STATUS) - 1, -1, -1):
    _RAW_FROM_ULD[ULD_STATUS[_raw]] = _raw
_RAW_FROM_ULD[0] = RAW_VALID


def roi_spad(centre):
    """(row, col) of SPAD number `centre` on the 16x16 array (row 0 at the top).

    ST's numbering (the table in Adafruit's roi_center docs): 128 + 8 * col + row
    in the top half, 127 - 8 * col - (row - 8) in the bottom half; 199 (row 7,
    col 8) is the optical centre."""
    if centre >= 128:
        return (centre - 128) % 8, (centre - 128) // 8
    return 8 + (127 - centre) % 8, (127 - centre) // 8


def roi_fits(centre, roi_w, roi_h):
    """Does a roi_w x roi_h ROI around SPAD `centre` lie on the array? (For even
    sizes ST's centre is the upper right of the four middle SPADs.)"""
    row, col = roi_spad(centre)
    top, left = row - (roi_h - 1) // 2, col - roi_w // 2
    return top >= 0 and left >= 0 and top + roi_h <= 16 and left + roi_w <= 16


def uld_status(raw):
    raw &= 0x1F
    return ULD_STATUS[raw] if raw < len(ULD_STATUS) else 255


def raw_status(uld):
    """Inverse of uld_status: the raw code that reads as ULD code `uld`."""
    return _RAW_FROM_ULD[uld] if 0 <= uld < 256 else RAW_NONE


# Distance-mode register values (ULD VL53L1X_SetDistanceMode): (register, value).
MODE_REGS = {
    "short": ((PHASECAL_CONFIG_TIMEOUT_MACROP, 0x14), (RANGE_CONFIG_VCSEL_PERIOD_A, 0x07),
              (RANGE_CONFIG_VCSEL_PERIOD_B, 0x05), (RANGE_CONFIG_VALID_PHASE_HIGH, 0x38),
              (SD_CONFIG_WOI_SD0, 0x07), (SD_CONFIG_WOI_SD0 + 1, 0x05),
              (SD_CONFIG_INITIAL_PHASE_SD0, 0x06), (SD_CONFIG_INITIAL_PHASE_SD0 + 1, 0x06)),
    "long": ((PHASECAL_CONFIG_TIMEOUT_MACROP, 0x0A), (RANGE_CONFIG_VCSEL_PERIOD_A, 0x0F),
             (RANGE_CONFIG_VCSEL_PERIOD_B, 0x0D), (RANGE_CONFIG_VALID_PHASE_HIGH, 0xB8),
             (SD_CONFIG_WOI_SD0, 0x0F), (SD_CONFIG_WOI_SD0 + 1, 0x0D),
             (SD_CONFIG_INITIAL_PHASE_SD0, 0x0E), (SD_CONFIG_INITIAL_PHASE_SD0 + 1, 0x0E)),
}
MODES = ("short", "long")

# Timing budget by RANGE_CONFIG__TIMEOUT_MACROP_A (ULD VL53L1X_SetTimingBudgetInMs).
BUDGET_BY_MACROP_A = {
    "short": {0x001D: 15, 0x0051: 20, 0x00D6: 33, 0x01AE: 50, 0x02E1: 100, 0x03E1: 200,
              0x0591: 500},
    "long": {0x001E: 20, 0x0060: 33, 0x00AD: 50, 0x01CC: 100, 0x02D9: 200, 0x048F: 500},
}

# Timing (docs/simulator.md, "VL53L1X model")
OVERHEAD_MS = 4  # between measurements, no target
STRETCH_MS = 20  # extra with a target present at budgets up to 33 ms (20 ms -> ~40 ms)
BOOT_US = 1200  # tBOOT: XSHUT rising (or power) to the first I2C answer (datasheet max)
OSC_CALIBRATE = 0x0200  # what ULD's SetInterMeasurementInMs multiplies by (x1.075)
ROI_CENTRE = 199  # the optical centre's SPAD


class Config:
    """What the registers said when ranging started: mode, budget, ROI, period."""

    def __init__(self):
        self.mode = None  # "short", "long", or None: the registers match neither
        self.budget_ms = 0
        self.roi_w = 16
        self.roi_h = 16
        self.roi_center = ROI_CENTRE
        self.imp_ms = 0


class Vl53l1x(Registers):
    # Hooks for the source: measure(now_us) loads the result block
    # (load_result); due() and arm() pace the measurements, by default with the
    # chip's own timing (budget, inter-measurement period, when the host clears
    # the interrupt); a trace paces them with its timestamps instead.
    ADDR_BYTES = 2
    SIZE = VL53L1X_REG_SIZE
    I2C_ADDR = 0x29
    PART = "vl53l1x"

    def __init__(self, source, now_us):
        Registers.__init__(self, source, now_us)
        self.listeners = []  # fn(t_us, raw, range_mm, ambient_kcps, signal_kcps, spads)
        self.counts = {}  # quirk name -> how often it happened (tests, metrics)
        self.xshut_off = False  # XSHUT low: hardware standby
        self.booting = False
        self.booted_us = 0  # while booting: the chip answers from then on
        self.power_on()

    # --- power ------------------------------------------------------------------
    def answers(self):
        if self.xshut_off or not self.present:
            return False
        if self.booting:
            if ticks_diff(self.now_us(), self.booted_us) < 0:
                return False  # tBOOT: no ACK yet
            self.booting = False
        return True

    def xshut(self, level):
        """The XSHUT pin was driven: low = hardware standby (registers lost,
        ranging stopped, no ACK); a rising edge boots it with reset values."""
        if not level:
            if not self.xshut_off:
                self.xshut_off = True
                self.ranging = False
                self.pending = False
        elif self.xshut_off:
            self.xshut_off = False
            self.boot()
        self.report_power()

    def set_power(self, on):
        if on and not self.present:
            self.boot()
        self.present = on
        self.report_power()

    def power_state(self):
        # 0 unpowered, 1 hardware standby (XSHUT low), 2 software standby;
        # ranging: budget_ms * 100000 + inter-measurement period ms
        if not self.present:
            return VL_OFF
        if self.xshut_off:
            return VL_HW_STANDBY
        if not self.ranging:
            return VL_SW_STANDBY
        cfg = self.config
        return (cfg.budget_ms or 100) * 100000 + cfg.imp_ms

    def boot(self):
        self.power_on()
        self.booted_us = ticks_add(self.now_us(), BOOT_US)
        self.booting = True

    def power_on(self):
        """Power-on reset: registers to reset values, not ranging, quirks cleared."""
        regs = self.regs
        for i in range(self.SIZE):
            regs[i] = 0
        regs[IDENTIFICATION_MODEL_ID] = 0xEA
        regs[IDENTIFICATION_MODEL_ID + 1] = 0xCC
        regs[IDENTIFICATION_MODEL_ID + 2] = 0x10
        regs[FIRMWARE_SYSTEM_STATUS] = 0x01
        regs[GPIO_HV_MUX_CTRL] = 0x11  # active-low interrupt until configured
        self.put_u16be(RESULT_OSC_CALIBRATE_VAL, OSC_CALIBRATE)
        self.pointer = 0
        self.ranging = False
        self.pending = False  # interrupt raised, not yet cleared
        self.next_ready_us = 0
        self.last_ready_us = 0
        self.target_seen = False
        self.frozen_left = 0  # quirk: measurements left with a frozen result block
        self.config = Config()
        self.report_power()

    # --- writes -------------------------------------------------------------------
    def writable(self, reg):
        return (CONFIG_FIRST <= reg <= CONFIG_LAST or reg == SOFT_RESET
                or reg == VHV_CONFIG_TIMEOUT_MACROP_LOOP_BOUND or reg == VHV_CONFIG_INIT
                or OFFSET_FIRST <= reg <= OFFSET_LAST)

    def written(self, reg, n):
        regs = self.regs
        if reg == SOFT_RESET:
            if regs[SOFT_RESET] & 0x01:
                self.power_on()  # out of reset: boots with reset values
                regs[SOFT_RESET] = 0x01
            else:
                self.ranging = False
                self.pending = False
                self.report_power()
            return
        if reg <= SYSTEM_INTERRUPT_CLEAR < reg + n:
            value = regs[SYSTEM_INTERRUPT_CLEAR]
            regs[SYSTEM_INTERRUPT_CLEAR] = 0  # self-clearing
            if value & 0x01:
                self.clear_interrupt()
        if reg <= SYSTEM_MODE_START < reg + n:
            value = regs[SYSTEM_MODE_START]
            if value == MODE_START_BACK_TO_BACK:
                self.start()
            elif value == MODE_STOP:
                self.ranging = False
                self.pending = False
            else:
                self.problems.append("SYSTEM__MODE_START = 0x%02x (ULD uses 0x40 / 0x00)" % value)
            self.report_power()
        if reg <= GPIO_HV_MUX_CTRL < reg + n and regs[GPIO_HV_MUX_CTRL] & 0x0F != 0x01:
            self.problems.append("GPIO_HV_MUX__CTRL bits 3:0 must be 0x1")

    def decode_mode(self):
        regs = self.regs
        for mode in MODES:
            for r, v in MODE_REGS[mode]:
                if regs[r] != v:
                    break
            else:
                return mode
        self.problems.append(
            "distance mode registers match neither ULD short nor long (0x4B=0x%02x 0x60=0x%02x)"
            % (regs[PHASECAL_CONFIG_TIMEOUT_MACROP], regs[RANGE_CONFIG_VCSEL_PERIOD_A]))
        return None

    def decode_config(self):
        regs = self.regs
        cfg = self.config
        cfg.mode = self.decode_mode()
        if cfg.mode is None:
            return
        macrop_a = self.u16be(RANGE_CONFIG_TIMEOUT_MACROP_A_HI)
        cfg.budget_ms = BUDGET_BY_MACROP_A[cfg.mode].get(macrop_a, 0)
        if not cfg.budget_ms:
            self.problems.append("timing budget 0x%04x is not a ULD %s-mode value"
                                 % (macrop_a, cfg.mode))
            cfg.mode = None
            return
        xy = regs[ROI_CONFIG_USER_ROI_REQUESTED_GLOBAL_XY_SIZE]
        cfg.roi_w = (xy & 0x0F) + 1
        cfg.roi_h = ((xy >> 4) & 0x0F) + 1
        if cfg.roi_w < 4 or cfg.roi_h < 4:
            self.problems.append("ROI %dx%d is below the 4x4 minimum" % (cfg.roi_w, cfg.roi_h))
        cfg.roi_center = regs[ROI_CONFIG_USER_ROI_CENTRE_SPAD]
        if not roi_fits(cfg.roi_center, cfg.roi_w, cfg.roi_h):
            self.problems.append("ROI centre %d with a %dx%d ROI: it does not fit the 16x16 array (ST UM2555)"
                                 % (cfg.roi_center, cfg.roi_w, cfg.roi_h))
        imp = SYSTEM_INTERMEASUREMENT_PERIOD
        imp = (self.u16be(imp) << 16) | self.u16be(imp + 2)
        cfg.imp_ms = imp * 5 // 2752  # / (OSC_CALIBRATE * 1.075)

    # --- pacing: the chip's own timing ---------------------------------------------
    def period_us(self):
        cfg = self.config
        budget = cfg.budget_ms or 100
        period = budget + OVERHEAD_MS
        if self.target_seen:
            period = budget + (STRETCH_MS if budget <= 33 else OVERHEAD_MS + 2)
        if cfg.imp_ms > period:
            period = cfg.imp_ms
        return period * 1000

    def schedule(self, last_ready_us, cleared_us):
        # The next range starts when the interrupt is cleared; a host that
        # clears late stretches the period (docs/simulator.md).
        period = self.period_us()
        budget_us = (self.config.budget_ms or 100) * 1000
        if ticks_diff(cleared_us, last_ready_us) <= period - budget_us:
            return ticks_add(last_ready_us, period)
        return ticks_add(cleared_us, budget_us + OVERHEAD_MS * 1000)

    def due(self):
        """Has the measurement under way finished (last_ready_us: when)?"""
        now = self.now_us()
        if ticks_diff(now, self.next_ready_us) < 0:
            return False
        self.last_ready_us = now
        return True

    def arm(self, last_ready_us, cleared_us):
        """The next measurement starts: ranging started, or the interrupt cleared."""
        self.next_ready_us = self.schedule(last_ready_us, cleared_us)

    def start(self):
        self.decode_config()
        self.ranging = True
        self.pending = False
        now = self.now_us()
        self.last_ready_us = now
        self.arm(now, now)
        self.report_power()

    def clear_interrupt(self):
        if not self.pending:
            return
        self.pending = False
        self.arm(self.last_ready_us, self.now_us())

    # --- reads ----------------------------------------------------------------------
    def before_read(self, reg, n):
        if self.ranging and not self.pending and self.due():
            self.pending = True
            self.latch(self.last_ready_us)
        self.show_interrupt()

    def show_interrupt(self):
        # GPIO__TIO_HV_STATUS bit 0 is the interrupt line: its active level
        # (GPIO_HV_MUX__CTRL bit 4: 0 = high) while a result is pending.
        regs = self.regs
        active = 0 if regs[GPIO_HV_MUX_CTRL] & 0x10 else 1
        level = active if self.pending else 1 - active
        regs[GPIO_TIO_HV_STATUS] = level | (regs[GPIO_TIO_HV_STATUS] & 0xFE)

    def latch(self, now_us):
        if self.frozen_left > 0:
            # The frozen-reading quirk: data ready toggles, the result block stays.
            self.frozen_left -= 1
            self.bump("frozen")
        else:
            self.measure(now_us)
        self.notify(now_us)

    def measure(self, now_us):
        """The source's measurement into the result block (load_result)."""
        raise NotImplementedError

    def load_result(self, raw, dist, ambient_kcps, signal_kcps, spads):
        self.regs[RESULT_RANGE_STATUS] = raw
        self.put_u16be(RESULT_DSS_ACTUAL_EFFECTIVE_SPADS_SD0, (spads & 0xFF) << 8)
        self.put_u16be(RESULT_AMBIENT_COUNT_RATE_MCPS_SD0, min(0xFFFF, ambient_kcps // 8))
        self.put_u16be(RESULT_FINAL_CROSSTALK_CORRECTED_RANGE_MM_SD0, max(0, min(0xFFFF, dist)))
        self.put_u16be(RESULT_PEAK_SIGNAL_COUNT_RATE_MCPS_SD0, min(0xFFFF, signal_kcps // 8))

    def notify(self, now_us):
        """Tell listeners what the result block now holds, in ULD units (kcps = reg * 8)."""
        if not self.listeners:
            return
        regs = self.regs
        sample = (now_us, regs[RESULT_RANGE_STATUS],
                  self.u16be(RESULT_FINAL_CROSSTALK_CORRECTED_RANGE_MM_SD0),
                  self.u16be(RESULT_AMBIENT_COUNT_RATE_MCPS_SD0) * 8,
                  self.u16be(RESULT_PEAK_SIGNAL_COUNT_RATE_MCPS_SD0) * 8,
                  regs[RESULT_DSS_ACTUAL_EFFECTIVE_SPADS_SD0])
        for fn in self.listeners:
            fn(*sample)

    def bump(self, name):
        self.counts[name] = self.counts.get(name, 0) + 1


# --- IMUs ------------------------------------------------------------------------
def device_to_chip(mapping, v):
    """mapping: the firmware's parse_axes() (chip index, sign) for device x, y, z."""
    index, sign = mapping
    chip = [0, 0, 0]
    for i in range(3):
        chip[index[i]] = sign[i] * v[i]
    return chip


def chip_to_device(mapping, chip):
    index, sign = mapping
    return [sign[i] * chip[index[i]] for i in range(3)]


class Imu(Registers):
    # What the three IMUs share: samples at the configured data rate from the
    # source (the hook take_sample), in chip axes (the board's mounting),
    # scaled to the configured full scale and saturating there.
    SIZE = 0x80
    STARTUP_US = 0

    def __init__(self, source, now_us, mapping):
        Registers.__init__(self, source, now_us)
        self.mapping = mapping  # parse_axes(board IMU["axes"])
        self.accel = [0, 0, 0]  # the sample to store, chip axes: mg ...
        self.gyro = [0, 0, 0]  # ... and mdps
        self.listeners = []  # fn(t_us, ax, ay, az, gx, gy, gz): device frame, as the firmware read it
        self.power_on()

    def power_on(self):
        regs = self.regs
        for i in range(self.SIZE):
            regs[i] = 0
        self.pointer = 0
        self.stamp = -1  # which sample the data registers hold (the source's mark)
        self.reported = -1
        self.awake_us = None  # since when the MPU's gyro has been starting up
        self.last_accel = [0, 0, 0]  # the motion filter's previous sample
        self.motion_primed = False
        self.reset_values()
        self.rescale()
        self.report_power()

    def take_sample(self, now_us, period_us):
        """The source's newest sample into self.accel/gyro and self.stamp;
        False if it is the one already stored."""
        raise NotImplementedError

    def moved(self, threshold_mg):
        """Wake-on-motion: an axis changed by more than the threshold since
        the last sample (the chips' slope / high-pass motion filters, simplified)."""
        last = self.last_accel
        accel = self.accel
        hit = False
        for i in range(3):
            d = accel[i] - last[i]
            if d > threshold_mg or d < -threshold_mg:
                hit = True
            last[i] = accel[i]
        if not self.motion_primed:
            self.motion_primed = True
            return False
        return hit

    def int_level(self):
        """The INT pin now (the board reads it while asleep): samples what is due."""
        self.update_sample()
        return self.int_pin_level()

    def put_device(self, ax, ay, az, gx, gy, gz):
        # device frame -> chip axes, without allocating
        index, sign = self.mapping
        accel = self.accel
        gyro = self.gyro
        accel[index[0]] = sign[0] * ax
        accel[index[1]] = sign[1] * ay
        accel[index[2]] = sign[2] * az
        gyro[index[0]] = sign[0] * gx
        gyro[index[1]] = sign[1] * gy
        gyro[index[2]] = sign[2] * gz

    def update_sample(self):
        """Refresh the data registers if the chip has produced a new sample."""
        period = self.period_us()
        if not period:
            return
        now = self.now_us()
        if self.awake_us is not None and ticks_diff(now, self.awake_us) < self.STARTUP_US:
            return
        if self.take_sample(now, period):
            self.store()
            self.new_data()

    # Scales are exact fractions (unit per LSB = num / den, set by rescale()) so
    # that a recorded value maps back to the same raw reading: units =
    # floor(raw * num / den) when recording, raw = ceil(units * den / num) here.
    def to_raw(self, value, num, den):
        return -((-value * den) // num)

    def to_units(self, raw, num, den):
        return (raw * num) // den

    def store(self):
        accel_on = self.accel_on()
        gyro_on = self.gyro_on()
        big = self.BIG_ENDIAN
        for i in range(3):
            if accel_on:
                self.put_s16(self.ACCEL_REG + 2 * i,
                             self.to_raw(self.accel[i], self.a_num, self.a_den), big)
            if gyro_on:
                self.put_s16(self.GYRO_REG + 2 * i,
                             self.to_raw(self.gyro[i], self.g_num, self.g_den), big)
        self.store_temperature()

    def load(self):
        accel = [self.to_units(self.s16(self.ACCEL_REG + 2 * i), self.a_num, self.a_den)
                 for i in range(3)]
        gyro = [self.to_units(self.s16(self.GYRO_REG + 2 * i), self.g_num, self.g_den)
                for i in range(3)]
        return accel, gyro

    def report(self):
        """Tell listeners (a trace being recorded) what the firmware just read,
        once per sample, stamped with the time it was read."""
        if self.stamp == self.reported or not self.listeners:
            return
        self.reported = self.stamp
        accel, gyro = self.load()
        a = chip_to_device(self.mapping, accel)
        g = chip_to_device(self.mapping, gyro)
        now = self.now_us()
        for fn in self.listeners:
            fn(now, a[0], a[1], a[2], g[0], g[1], g[2])

    def s16(self, reg):
        if self.BIG_ENDIAN:
            v = (self.regs[reg] << 8) | self.regs[reg + 1]
        else:
            v = self.regs[reg] | (self.regs[reg + 1] << 8)
        return v - 65536 if v & 0x8000 else v


# --- InvenSense MPU6050 / MPU6886 ---------------------------------------------------
SMPLRT_DIV = 0x19
CONFIG = 0x1A
GYRO_CONFIG = 0x1B  # bits 4:3 full scale 250/500/1000/2000 dps
ACCEL_CONFIG = 0x1C  # bits 4:3 full scale 2/4/8/16 g
ACCEL_CONFIG2 = 0x1D  # MPU6886 only
MOT_THR = 0x1F  # MPU6050: motion threshold, 2 mg per LSB
MOT_DUR = 0x20
FIFO_EN = 0x23
INT_PIN_CFG = 0x37  # bit 7: INT active low
INT_ENABLE = 0x38  # bit 6: motion, bit 0: data ready
INT_STATUS = 0x3A  # bit 6: motion, bit 0: data ready; cleared on read
MPU_MOT = 0x40
MPU_CYCLE = 0x20  # PWR_MGMT_1: accelerometer-only low-power cycles at LP_WAKE_CTRL's rate
MPU_LP_WAKE_US = (800000, 200000, 50000, 25000)  # PWR_MGMT_2 bits 7:6: 1.25, 5, 20, 40 Hz
MPU_SLEEP = 1  # power_state codes (docs/power.md): asleep; 100 + LP rate code: cycling;
MPU_CYCLING = 100  # 200 + 1 (accelerometer on) + 2 (gyro on): normal
MPU_NORMAL = 200
ACCEL_XOUT_H = 0x3B  # ax, ay, az, temp, gx, gy, gz: 14 bytes big-endian
TEMP_OUT_H = 0x41
GYRO_XOUT_H = 0x43
DATA_END = 0x49
SIGNAL_PATH_RESET = 0x68
USER_CTRL = 0x6A
PWR_MGMT_1 = 0x6B  # bit 7: reset, bit 6: sleep (set at power-on)
PWR_MGMT_2 = 0x6C
WHO_AM_I = 0x75

MPU_WRITABLE = (SMPLRT_DIV, CONFIG, GYRO_CONFIG, ACCEL_CONFIG, FIFO_EN, INT_PIN_CFG, INT_ENABLE,
                SIGNAL_PATH_RESET, USER_CTRL, PWR_MGMT_1, PWR_MGMT_2)


class Mpu6050(Imu):
    WHO = 0x68
    PART = "mpu6050"
    STARTUP_US = 30000  # gyro start-up time, datasheet table 6.1
    TEMP_27C = -3240  # (27 - 36.53) * 340 LSB/degC
    WRITABLE = MPU_WRITABLE + (MOT_THR, MOT_DUR)
    ACCEL_RESERVED = 0xE0  # ACCEL_CONFIG bits 2:0 are the motion filter (ACCEL_HPF)
    ACCEL_REG = ACCEL_XOUT_H
    GYRO_REG = GYRO_XOUT_H
    BIG_ENDIAN = True

    def reset_values(self):
        self.regs[PWR_MGMT_1] = 0x40  # asleep after power-up
        self.regs[WHO_AM_I] = self.WHO

    def writable(self, reg):
        return reg in self.WRITABLE

    def written(self, reg, n):
        if self.covers(reg, n, PWR_MGMT_1):
            value = self.regs[PWR_MGMT_1]
            if value & 0x80:  # DEVICE_RESET: registers to defaults, asleep again
                self.power_on()
                return
            if value & 0x40:
                self.awake_us = None
            elif self.awake_us is None:
                self.awake_us = self.now_us()
        for r, bad in ((GYRO_CONFIG, 0xE7), (ACCEL_CONFIG, self.ACCEL_RESERVED)):
            if self.covers(reg, n, r) and self.regs[r] & bad:
                self.problems.append("0x%02x = 0x%02x: self-test or reserved bits set"
                                     % (r, self.regs[r]))
        if self.covers(reg, n, INT_ENABLE):
            self.motion_primed = False  # motion is judged from the next samples on
        if self.covers(reg, n, PWR_MGMT_1) or self.covers(reg, n, PWR_MGMT_2):
            self.report_power()
        self.rescale()

    def power_state(self):
        p1 = self.regs[PWR_MGMT_1]
        if p1 & 0x40:
            return MPU_SLEEP
        if p1 & MPU_CYCLE:
            return MPU_CYCLING + (self.regs[PWR_MGMT_2] >> 6)
        return MPU_NORMAL + (1 if self.accel_on() else 0) + (2 if self.gyro_on() else 0)

    def rescale(self):
        # mg per LSB: 2 g -> 1000/16384 ... 16 g -> 1000/2048;
        # mdps per LSB: 250 dps -> 1000/131 ... 2000 dps -> 8000/131.
        self.a_num = 1000
        self.a_den = 16384 >> ((self.regs[ACCEL_CONFIG] >> 3) & 3)
        self.g_num = 1000 << ((self.regs[GYRO_CONFIG] >> 3) & 3)
        self.g_den = 131

    def asleep(self):
        return bool(self.regs[PWR_MGMT_1] & 0x40)

    def period_us(self):
        if self.asleep():
            return 0
        if self.regs[PWR_MGMT_1] & MPU_CYCLE:
            return MPU_LP_WAKE_US[self.regs[PWR_MGMT_2] >> 6]
        dlpf = self.regs[CONFIG] & 0x07
        base_hz = 8000 if dlpf == 0 or dlpf == 7 else 1000
        return (1 + self.regs[SMPLRT_DIV]) * 1000000 // base_hz

    def accel_on(self):
        return self.regs[PWR_MGMT_2] & 0x38 != 0x38  # STBY_XA/YA/ZA

    def gyro_on(self):
        # STBY_XG/YG/ZG; in cycle mode only the accelerometer samples
        return self.regs[PWR_MGMT_2] & 0x07 != 0x07 and not self.regs[PWR_MGMT_1] & MPU_CYCLE

    def store_temperature(self):
        self.put_s16(TEMP_OUT_H, self.TEMP_27C, True)

    def new_data(self):
        status = 0x01  # DATA_RDY_INT
        if self.regs[INT_ENABLE] & MPU_MOT and self.moved(self.regs[MOT_THR] * 2):
            status |= MPU_MOT
        self.regs[INT_STATUS] |= status

    def int_pin_level(self):
        active = 0 if self.regs[INT_PIN_CFG] & 0x80 else 1
        pending = self.regs[INT_STATUS] & self.regs[INT_ENABLE] & (MPU_MOT | 0x01)
        return active if pending else 1 - active

    def before_read(self, reg, n):
        if reg <= INT_STATUS < reg + n or (reg < DATA_END and reg + n > ACCEL_XOUT_H):
            self.update_sample()

    def after_read(self, reg, n):
        if reg <= INT_STATUS < reg + n:
            self.regs[INT_STATUS] = 0  # cleared on read
        if reg < DATA_END and reg + n > ACCEL_XOUT_H:
            self.report()


class Mpu6886(Mpu6050):
    WHO = 0x19
    PART = "mpu6886"
    STARTUP_US = 35000
    TEMP_27C = 653  # (27 - 25) * 326.8 LSB/degC
    WRITABLE = MPU_WRITABLE + (ACCEL_CONFIG2,)  # its wake-on-motion registers are not modelled
    ACCEL_RESERVED = 0xE7


# --- ST LSM6DSOX ------------------------------------------------------------------------
FUNC_CFG_ACCESS = 0x01
FIFO_CTRL1 = 0x07
FIFO_CTRL4 = 0x0A
INT1_CTRL = 0x0D
INT2_CTRL = 0x0E
LSM_WHO_AM_I = 0x0F
CTRL1_XL = 0x10  # ODR bits 7:4 (0 = power-down), FS bits 3:2
CTRL2_G = 0x11  # ODR bits 7:4, FS bits 3:2, FS_125 bit 1
CTRL3_C = 0x12  # bit 7 BOOT, bit 5 H_LACTIVE (INT active low), bit 2 IF_INC (set at power-on), bit 0 SW_RESET
CTRL6_C = 0x15  # bit 4 XL_HM_MODE: accelerometer high-performance mode off (low-power / normal)
CTRL10_C = 0x19
WAKE_UP_SRC = 0x1B  # bit 3 WU_IA: wake-up event (latched with LIR until read)
STATUS_REG = 0x1E  # bit 0 XLDA, 1 GDA, 2 TDA
OUT_TEMP_L = 0x20
OUTX_L_G = 0x22  # gyro x, y, z then accel x, y, z: little-endian
OUTX_L_A = 0x28
LSM_DATA_END = 0x2E
TAP_CFG0 = 0x56  # bit 0 LIR: latched interrupts
TAP_CFG2 = 0x58  # bit 7 INTERRUPTS_ENABLE
WAKE_UP_THS = 0x5B  # bits 5:0: wake-up threshold, full scale / 64 per LSB
WAKE_UP_DUR = 0x5C
MD1_CFG = 0x5E  # bit 5 INT1_WU: the wake-up event on INT1
LSM_WRITABLE_EXTRA = (TAP_CFG0, TAP_CFG2, WAKE_UP_THS, WAKE_UP_DUR, MD1_CFG)
FS_XL_G = (2, 16, 4, 8)

ODR_PERIOD_US = (0, 80000, 38461, 19230, 9615, 4807, 2403, 1200, 600, 300, 149)  # 12.5 .. 6667 Hz
FS_XL_UG_PER_LSB = (61, 488, 122, 244)  # FS_XL = 00: 2 g, 01: 16 g, 10: 4 g, 11: 8 g
FS_G_UDPS_PER_LSB = (8750, 17500, 35000, 70000)  # 250, 500, 1000, 2000 dps
FS_125_UDPS_PER_LSB = 4375


class Lsm6dsox(Imu):
    WHO = 0x6C
    PART = "lsm6dsox"
    ACCEL_REG = OUTX_L_A
    GYRO_REG = OUTX_L_G
    BIG_ENDIAN = False

    def reset_values(self):
        self.regs[LSM_WHO_AM_I] = self.WHO
        self.regs[CTRL3_C] = 0x04  # IF_INC: register address auto-increments
        self.AUTO_INCREMENT = True

    def writable(self, reg):
        return (reg == FUNC_CFG_ACCESS or reg == INT1_CTRL or reg == INT2_CTRL
                or CTRL1_XL <= reg <= CTRL10_C or FIFO_CTRL1 <= reg <= FIFO_CTRL4
                or reg in LSM_WRITABLE_EXTRA)

    def written(self, reg, n):
        if self.covers(reg, n, CTRL3_C):
            value = self.regs[CTRL3_C]
            if value & 0x81:  # BOOT or SW_RESET
                self.power_on()
                return
            self.AUTO_INCREMENT = bool(value & 0x04)
        if self.covers(reg, n, CTRL1_XL) and self.regs[CTRL1_XL] >> 4 >= len(ODR_PERIOD_US):
            self.problems.append("CTRL1_XL ODR code %d is not a high-performance rate"
                                 % (self.regs[CTRL1_XL] >> 4))
        if self.covers(reg, n, MD1_CFG) or self.covers(reg, n, TAP_CFG2):
            self.motion_primed = False  # motion is judged from the next samples on
        if reg <= CTRL6_C and reg + n > CTRL1_XL:
            self.report_power()
        self.rescale()

    def power_state(self):
        # 1000 * accelerometer ODR code + 10 * gyro ODR code + 1 if the
        # accelerometer's high-performance mode is off (docs/power.md)
        regs = self.regs
        low_power = 1 if regs[CTRL6_C] & 0x10 else 0
        return 1000 * (regs[CTRL1_XL] >> 4) + 10 * (regs[CTRL2_G] >> 4) + low_power

    def rescale(self):
        # mg per LSB = micro-g / 1000; mdps per LSB = micro-dps / 1000
        self.a_num = FS_XL_UG_PER_LSB[(self.regs[CTRL1_XL] >> 2) & 3]
        self.a_den = 1000
        g = self.regs[CTRL2_G]
        self.g_num = FS_125_UDPS_PER_LSB if g & 0x02 else FS_G_UDPS_PER_LSB[(g >> 2) & 3]
        self.g_den = 1000

    def odr_period_us(self, reg):
        code = self.regs[reg] >> 4
        return ODR_PERIOD_US[code] if code < len(ODR_PERIOD_US) else 0

    def period_us(self):
        # the faster of the two sensors' data rates (0: both powered down)
        xl = self.odr_period_us(CTRL1_XL)
        g = self.odr_period_us(CTRL2_G)
        if not xl or not g:
            return xl or g
        return xl if xl < g else g

    def accel_on(self):
        return self.odr_period_us(CTRL1_XL) > 0

    def gyro_on(self):
        return self.odr_period_us(CTRL2_G) > 0

    def store_temperature(self):
        self.put_s16(OUT_TEMP_L, 512, False)  # 256 LSB/degC from 25 degC: 27 degC

    def int_pin_level(self):
        regs = self.regs
        active = 0 if regs[CTRL3_C] & 0x20 else 1
        pending = regs[WAKE_UP_SRC] & 0x08 and regs[MD1_CFG] & 0x20 and regs[TAP_CFG2] & 0x80
        return active if pending else 1 - active

    def watch_motion(self):
        regs = self.regs
        if not (regs[TAP_CFG2] & 0x80 and regs[MD1_CFG] & 0x20):
            return
        step_mg = FS_XL_G[(regs[CTRL1_XL] >> 2) & 3] * 1000 // 64
        if self.moved((regs[WAKE_UP_THS] & 0x3F) * step_mg):
            regs[WAKE_UP_SRC] |= 0x08
        elif not regs[TAP_CFG0] & 0x01:
            regs[WAKE_UP_SRC] &= 0xF7  # not latched: the event lasts one sample

    def new_data(self):
        self.watch_motion()
        bits = 0x04  # TDA
        if self.accel_on():
            bits |= 0x01  # XLDA
        if self.gyro_on():
            bits |= 0x02  # GDA
        self.regs[STATUS_REG] |= bits

    def before_read(self, reg, n):
        if (self.covers(reg, n, STATUS_REG) or self.covers(reg, n, WAKE_UP_SRC)
                or (reg < LSM_DATA_END and reg + n > OUT_TEMP_L)):
            self.update_sample()

    def after_read(self, reg, n):
        if self.covers(reg, n, WAKE_UP_SRC):
            self.regs[WAKE_UP_SRC] &= 0xF7  # a latched wake-up clears when read
        end = reg + (n if self.AUTO_INCREMENT else 1)
        if reg < OUTX_L_A and end > OUTX_L_G:
            self.regs[STATUS_REG] &= 0xFD
        if reg < LSM_DATA_END and end > OUTX_L_A:
            self.regs[STATUS_REG] &= 0xFE
        if reg < LSM_DATA_END and end > OUTX_L_G:
            self.report()
