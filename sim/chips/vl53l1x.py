"""Register-level model of ST's VL53L1X time-of-flight sensor, as the Adafruit
driver and ST's ULD API see it.

The firmware writes the default configuration block (0x2D..0x87), a distance
mode (0x4B, 0x60, 0x63, 0x69, 0x78, 0x7A), a timing budget (0x5E, 0x61), an ROI
(0x7F, 0x80), starts ranging (0x87), polls data-ready (0x31, polarity from
0x30), reads the result block from 0x89 and clears the interrupt (0x86). The
values written decide what the model does; writes it does not understand land
in `unknown_writes`, nonsense values in `problems`.

What is in view comes from a scene source (sim.world.World.scene); this module
turns a scene into a measurement with the sensor's physics and quirks:

    tof = VL53L1X(world, rng, now_us=board.clock_us)
    board.attach_i2c(0, 0x29, tof)

Measurement model (docs/simulator.md has the numbers and why):
- max range for an 88% white target filling the field of view follows
  docs/design.md's table (long 3.6 m dark -> 0.73 m sun, short ~1.36 m), scaled by
  budget and ROI size; the scene's signal relative to that decides the status:
  valid (raw 9), sigma fail near the limit (raw 6), no target beyond (raw 4);
- short mode: targets past the phase window give raw 5, bright ones past the
  wrap distance alias to d - WRAP_SHORT_MM with raw 7 (sometimes raw 9);
- spurious 0-30 mm readings marked valid, frozen result blocks, noise of
  about +-20 mm (dark) / +-25 mm (sun) that grows near the limit;
- the period is the budget plus overhead, stretched with a target in view.
"""

from sim.chips.regdev import RegisterDevice

# --- registers (ULD names) ---------------------------------------------------------
SOFT_RESET = 0x0000  # 0x00 holds the core in reset, 0x01 boots it again
I2C_SLAVE_DEVICE_ADDRESS = 0x0001
VHV_CONFIG_TIMEOUT_MACROP_LOOP_BOUND = 0x0008
VHV_CONFIG_INIT = 0x000B
ALGO_PART_TO_PART_RANGE_OFFSET_MM = 0x001E  # ULD SetOffset writes 0x1E..0x23 (with inner/outer)
CONFIG_FIRST = 0x002D  # the default configuration block, written in one go
GPIO_HV_MUX_CTRL = 0x0030
GPIO_TIO_HV_STATUS = 0x0031
PHASECAL_CONFIG_TIMEOUT_MACROP = 0x004B
RANGE_CONFIG_TIMEOUT_MACROP_A_HI = 0x005E
RANGE_CONFIG_VCSEL_PERIOD_A = 0x0060
RANGE_CONFIG_TIMEOUT_MACROP_B_HI = 0x0061
RANGE_CONFIG_VCSEL_PERIOD_B = 0x0063
RANGE_CONFIG_VALID_PHASE_HIGH = 0x0069
SYSTEM_INTERMEASUREMENT_PERIOD = 0x006C
SD_CONFIG_WOI_SD0 = 0x0078
SD_CONFIG_INITIAL_PHASE_SD0 = 0x007A
ROI_CONFIG_USER_ROI_CENTRE_SPAD = 0x007F
ROI_CONFIG_USER_ROI_REQUESTED_GLOBAL_XY_SIZE = 0x0080
SYSTEM_INTERRUPT_CLEAR = 0x0086
SYSTEM_MODE_START = 0x0087
CONFIG_LAST = 0x0087
RESULT_RANGE_STATUS = 0x0089
RESULT_DSS_ACTUAL_EFFECTIVE_SPADS_SD0 = 0x008C
RESULT_AMBIENT_COUNT_RATE_MCPS_SD0 = 0x0090
RESULT_FINAL_CROSSTALK_CORRECTED_RANGE_MM_SD0 = 0x0096
RESULT_PEAK_SIGNAL_COUNT_RATE_MCPS_SD0 = 0x0098
RESULT_OSC_CALIBRATE_VAL = 0x00DE
FIRMWARE_SYSTEM_STATUS = 0x00E5
IDENTIFICATION_MODEL_ID = 0x010F
REG_SIZE = 0x0120

MODE_START_BACK_TO_BACK = 0x40
MODE_STOP = 0x00

# Raw range status codes in RESULT__RANGE_STATUS, and the ULD's conversion
# table (VL53L1X_GetRangeStatus: status_rtn[raw & 0x1F]; 255 = undefined).
RAW_VALID = 9
RAW_SIGMA_FAIL = 6
RAW_SIGNAL_FAIL = 4
RAW_PHASE_OUT_OF_BOUNDS = 5
RAW_WRAPAROUND = 7
RAW_NONE = 0  # no measurement yet / not configured
ULD_STATUS = (255, 255, 255, 5, 2, 4, 1, 7, 3, 0, 255, 255, 9, 13, 255, 255,
              255, 255, 10, 6, 255, 255, 11, 12)


def uld_status(raw):
    raw &= 0x1F
    return ULD_STATUS[raw] if raw < len(ULD_STATUS) else 255


def raw_status(uld):
    """Inverse of uld_status for the codes a trace can hold."""
    if uld == 0:
        return RAW_VALID
    for raw in range(len(ULD_STATUS)):
        if ULD_STATUS[raw] == uld:
            return raw
    return RAW_NONE


# Distance-mode register values (ULD VL53L1X_SetDistanceMode): reg -> bytes.
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

# Timing budget by RANGE_CONFIG__TIMEOUT_MACROP_A (ULD VL53L1X_SetTimingBudgetInMs).
BUDGET_BY_MACROP_A = {
    "short": {0x001D: 15, 0x0051: 20, 0x00D6: 33, 0x01AE: 50, 0x02E1: 100, 0x03E1: 200,
              0x0591: 500},
    "long": {0x001E: 20, 0x0060: 33, 0x00AD: 50, 0x01CC: 100, 0x02D9: 200, 0x048F: 500},
}

# --- physics (docs/design.md table; docs/simulator.md) ----------------------------------
MAX_RANGE_MM = {"short": (1360, 1350), "long": (3600, 730)}  # (dark, strong sun), 88% white
SUN_KCPS_PER_SPAD = 200.0  # "strong sun" in the table
SPAD_DEG = 27.0 / 16  # one SPAD of the 16x16 array, through the lens
WRAP_SHORT_MM = 2200  # phase wrap distance in short mode
OVERHEAD_MS = 4  # between measurements, no target
BOOT_US = 1200  # tBOOT: XSHUT rising (or power) to the first I2C answer (datasheet max)
STRETCH_MS = 20  # extra with a target present at budgets up to 33 ms (20 ms -> ~40 ms)
OSC_CALIBRATE = 0x0200  # what ULD's SetInterMeasurementInMs multiplies by (x1.075)
SIGNAL_KCPS_AT_1M = 12000.0  # 88% white filling the field of view at 1 m
Q_NO_TARGET = 0.6  # signal / signal-at-max-range below which nothing is reported (~1.3x range)

DEFAULT_QUIRKS = {
    "spurious_p": 0.002,  # per measurement: a 0-30 mm reading marked valid
    "frozen_p": 0.001,  # per measurement: result block stops updating for 3-12 samples
    "wrap_valid_p": 0.1,  # an aliased (wrapped) reading marked valid instead of raw 7
}


def fov_deg(roi_w, roi_h):
    """Full field of view of an ROI: 27 deg at 16x16, ~20 at 8x8, ~15 at 4x4."""
    n = roi_w if roi_w < roi_h else roi_h
    if n < 4:
        n = 4
    return 15.0 + (27.0 - 15.0) * (n - 4) / 12.0


def roi_offset_deg(centre):
    """(elevation, azimuth) degrees an ROI centred on SPAD `centre` looks off axis.

    ST's numbering (the table in Adafruit's roi_center docs): 128 + 8 * col + row
    in the top half, 127 - 8 * col - (row - 8) in the bottom half; 199 (row 7,
    col 8) is the optical centre. Assumed mounting (docs/simulator.md): rows
    towards the top of that table look up, columns towards its right look to
    the runner's right, SPAD_DEG apart.
    """
    if centre >= 128:
        col, row = (centre - 128) // 8, (centre - 128) % 8
    else:
        col, row = (127 - centre) // 8, 8 + (127 - centre) % 8
    return (7 - row) * SPAD_DEG, (col - 8) * SPAD_DEG


def max_range_mm(mode, ambient_kcps_per_spad, budget_ms, roi_w, roi_h):
    """Range at which an 88% white target filling the view is at the edge of detection."""
    dark, sun = MAX_RANGE_MM[mode]
    a = ambient_kcps_per_spad / SUN_KCPS_PER_SPAD
    if a > 2.0:
        a = 2.0
    r = dark * (sun / dark) ** a  # geometric between dark and strong sun
    # Signal ~ 1/d^2 and SNR ~ sqrt(integration time) would give d ~ budget^(1/4);
    # ST's curves flatten that a little (0.2). Short mode is limited by its phase
    # window, so the budget matters much less there.
    r *= (budget_ms / 100.0) ** (0.2 if mode == "long" else 0.08)
    r *= (roi_w * roi_h / 256.0) ** 0.2
    return r


class Config:
    """What the registers currently say: mode, budget, ROI, period."""

    def __init__(self):
        self.mode = None
        self.budget_ms = 0
        self.roi_w = 16
        self.roi_h = 16
        self.roi_center = 199
        self.imp_ms = 0


class VL53L1X(RegisterDevice):
    ADDR_BYTES = 2
    I2C_ADDR = 0x29

    def __init__(self, source, rng, now_us, quirks=None):
        RegisterDevice.__init__(self, REG_SIZE)
        self.source = source
        self.rng = rng
        self.now_us = now_us
        self.quirks = dict(DEFAULT_QUIRKS)
        if quirks:
            self.quirks.update(quirks)
        self.samples = []  # (t_us, raw_status, range_mm, ambient_kcps, signal_kcps, spads)
        self.listeners = []  # fn(t_us, raw, range_mm, ambient_kcps, signal_kcps, spads)
        self.counts = {}  # quirk name -> how often it happened (tests, metrics)
        # XSHUT: the board tells the model of each pin write (xshut()); xshut_low
        # (fn() -> True while the pin holds the chip in standby) catches changes
        # made without a write (Pin.init, a board reset releasing the pin).
        self.xshut_low = None
        self.xshut_off = False
        self.booted_us = 0  # the chip answers from then on (tBOOT after power-up)
        self.power_on()

    @property
    def present(self):
        if self.xshut_low is not None:
            low = self.xshut_low()
            if low and not self.xshut_off:
                self.shut_down()
            elif not low and self.xshut_off:
                self.boot(self.now_us() - BOOT_US)  # released unseen: booted by now
        if self.xshut_off or self.now_us() < self.booted_us:
            return False  # standby or still booting: no ACK
        return self.plugged

    @present.setter
    def present(self, value):
        self.plugged = value

    # --- power ------------------------------------------------------------------
    def xshut(self, level):
        """The XSHUT pin was driven: low = hardware standby (registers lost,
        ranging stopped, no ACK); a rising edge boots it with reset values."""
        if not level:
            if not self.xshut_off:
                self.shut_down()
        elif self.xshut_off:
            self.boot(self.now_us())

    def shut_down(self):
        self.xshut_off = True
        self.ranging = False
        self.pending = False

    def boot(self, edge_us):
        self.xshut_off = False
        self.power_on()
        self.booted_us = edge_us + BOOT_US

    def power_on(self):
        """Power-on reset: registers to reset values, not ranging, quirks cleared."""
        regs = self.regs
        for i in range(len(regs)):
            regs[i] = 0
        regs[IDENTIFICATION_MODEL_ID] = 0xEA
        regs[IDENTIFICATION_MODEL_ID + 1] = 0xCC
        regs[IDENTIFICATION_MODEL_ID + 2] = 0x10
        regs[FIRMWARE_SYSTEM_STATUS] = 0x01  # booted
        regs[GPIO_HV_MUX_CTRL] = 0x11  # active-low interrupt until configured
        self.put_u16be(RESULT_OSC_CALIBRATE_VAL, OSC_CALIBRATE)
        self.pointer = 0
        self.ranging = False
        self.pending = False  # interrupt raised, not yet cleared
        self.next_ready_us = 0
        self.last_ready_us = 0
        self.target_seen = False
        self.frozen_left = 0
        self.last_scene = None  # what the last measurement saw (metrics)
        self.config = Config()

    def set_power(self, on):
        """Unplug (False) or plug in (True); plugging in is a power-on reset."""
        if on and not self.plugged:
            self.power_on()
            self.booted_us = self.now_us() + BOOT_US
        self.plugged = on

    # --- writes -------------------------------------------------------------------
    def writable(self, reg):
        return (CONFIG_FIRST <= reg <= CONFIG_LAST
                or reg in (SOFT_RESET, VHV_CONFIG_TIMEOUT_MACROP_LOOP_BOUND, VHV_CONFIG_INIT)
                or 0x0016 <= reg <= 0x0023)

    def written(self, reg, n):
        if reg == SOFT_RESET:
            if self.regs[SOFT_RESET] & 0x01:
                self.power_on()  # out of reset: boots with reset values
                self.regs[SOFT_RESET] = 0x01
            else:
                self.ranging = False
                self.pending = False
            return
        if self.covers(reg, n, SYSTEM_INTERRUPT_CLEAR):
            value = self.regs[SYSTEM_INTERRUPT_CLEAR]
            self.regs[SYSTEM_INTERRUPT_CLEAR] = 0  # self-clearing
            if value & 0x01:
                self.clear_interrupt()
        if self.covers(reg, n, SYSTEM_MODE_START):
            value = self.regs[SYSTEM_MODE_START]
            if value == MODE_START_BACK_TO_BACK:
                self.start()
            elif value == MODE_STOP:
                self.ranging = False
                self.pending = False
            else:
                self.problems.append("SYSTEM__MODE_START = 0x%02x (ULD uses 0x40 / 0x00)" % value)
        if self.covers(reg, n, GPIO_HV_MUX_CTRL) and self.regs[GPIO_HV_MUX_CTRL] & 0x0F != 0x01:
            self.problems.append("GPIO_HV_MUX__CTRL bits 3:0 must be 0x1")

    def decode_config(self):
        regs = self.regs
        cfg = self.config
        cfg.mode = None
        for mode in ("short", "long"):
            if all(regs[r] == v for r, v in MODE_REGS[mode]):
                cfg.mode = mode
        if cfg.mode is None:
            self.problems.append(
                "distance mode registers match neither ULD short nor long (0x4B=0x%02x 0x60=0x%02x)"
                % (regs[PHASECAL_CONFIG_TIMEOUT_MACROP], regs[RANGE_CONFIG_VCSEL_PERIOD_A]))
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
        if cfg.roi_center != 199 and (cfg.roi_w > 10 or cfg.roi_h > 10):
            self.problems.append("ROI centre %d with a %dx%d ROI: only 199 fits (ST UM2555)"
                                 % (cfg.roi_center, cfg.roi_w, cfg.roi_h))
        imp = ((regs[SYSTEM_INTERMEASUREMENT_PERIOD] << 24) | (regs[SYSTEM_INTERMEASUREMENT_PERIOD + 1] << 16)
               | (regs[SYSTEM_INTERMEASUREMENT_PERIOD + 2] << 8) | regs[SYSTEM_INTERMEASUREMENT_PERIOD + 3])
        cfg.imp_ms = int(imp / (OSC_CALIBRATE * 1.075))

    def period_us(self):
        cfg = self.config
        budget = cfg.budget_ms or 100
        period = budget + OVERHEAD_MS
        if self.target_seen:
            period = budget + (STRETCH_MS if budget <= 33 else OVERHEAD_MS + 2)
        if cfg.imp_ms > period:
            period = cfg.imp_ms
        return period * 1000

    def start(self):
        self.decode_config()
        self.ranging = True
        self.pending = False
        now = self.now_us()
        self.last_ready_us = now
        self.next_ready_us = self.schedule(now, now)

    def clear_interrupt(self):
        if not self.pending:
            return
        self.pending = False
        self.next_ready_us = self.schedule(self.last_ready_us, self.now_us())

    def schedule(self, last_ready_us, cleared_us):
        # The next range starts when the interrupt is cleared; a host that
        # clears late stretches the period (docs/simulator.md).
        period = self.period_us()
        budget_us = (self.config.budget_ms or 100) * 1000
        if cleared_us <= last_ready_us + period - budget_us:
            return last_ready_us + period
        return cleared_us + budget_us + OVERHEAD_MS * 1000

    # --- reads ----------------------------------------------------------------------
    def before_read(self, reg, n):
        if self.ranging and not self.pending:
            now = self.now_us()
            if now >= self.next_ready_us:
                self.pending = True
                self.last_ready_us = now
                self.latch(now)
        active = 0 if self.regs[GPIO_HV_MUX_CTRL] & 0x10 else 1
        self.regs[GPIO_TIO_HV_STATUS] = (active if self.pending else 1 - active) | (
            self.regs[GPIO_TIO_HV_STATUS] & 0xFE)

    def latch(self, now_us):
        if self.frozen_left > 0:
            # The frozen-reading quirk: data-ready toggles, the result block does not change.
            self.frozen_left -= 1
            self.bump("frozen")
        else:
            self.last_scene = None
            raw, dist, ambient, signal, spads = self.measure(now_us)
            self.load_result(raw, dist, ambient, signal, spads)
        self.notify(now_us)

    def load_result(self, raw, dist, ambient_kcps, signal_kcps, spads):
        regs = self.regs
        regs[RESULT_RANGE_STATUS] = raw
        self.put_u16be(RESULT_DSS_ACTUAL_EFFECTIVE_SPADS_SD0, (spads & 0xFF) << 8)
        self.put_u16be(RESULT_AMBIENT_COUNT_RATE_MCPS_SD0, min(0xFFFF, ambient_kcps // 8))
        self.put_u16be(RESULT_FINAL_CROSSTALK_CORRECTED_RANGE_MM_SD0, max(0, min(0xFFFF, dist)))
        self.put_u16be(RESULT_PEAK_SIGNAL_COUNT_RATE_MCPS_SD0, min(0xFFFF, signal_kcps // 8))

    def notify(self, now_us):
        """Tell listeners what the result block now holds, in ULD units (kcps = reg * 8)."""
        regs = self.regs
        sample = (now_us, regs[RESULT_RANGE_STATUS],
                  self.u16be(RESULT_FINAL_CROSSTALK_CORRECTED_RANGE_MM_SD0),
                  self.u16be(RESULT_AMBIENT_COUNT_RATE_MCPS_SD0) * 8,
                  self.u16be(RESULT_PEAK_SIGNAL_COUNT_RATE_MCPS_SD0) * 8,
                  regs[RESULT_DSS_ACTUAL_EFFECTIVE_SPADS_SD0])
        self.samples.append(sample)
        for fn in self.listeners:
            fn(*sample)

    def bump(self, name):
        self.counts[name] = self.counts.get(name, 0) + 1

    # --- the measurement --------------------------------------------------------------
    def measure(self, now_us):
        """(raw status, range mm, ambient kcps, signal kcps, effective SPADs) for now."""
        cfg = self.config
        rng = self.rng
        if cfg.mode is None:
            return RAW_NONE, 0, 0, 0, 0
        roi_spads = int(cfg.roi_w * cfg.roi_h * 0.8)
        fov = fov_deg(cfg.roi_w, cfg.roi_h)
        el, az = roi_offset_deg(cfg.roi_center)
        if el or az:
            scene = self.source.scene(now_us, fov, el, az)
        else:
            scene = self.source.scene(now_us, fov)
        self.last_scene = scene
        if scene.covered:
            # A finger or mud on the window: a bright return at a few mm, no ambient.
            self.target_seen = True
            self.bump("covered")
            return RAW_VALID, rng.randint(0, 20), 0, 60000, 4
        ambient_per_spad = scene.ambient_kcps_per_spad
        r_max = max_range_mm(cfg.mode, ambient_per_spad, cfg.budget_ms, cfg.roi_w, cfg.roi_h)
        signal = scene.signal  # sum of reflectance * share of view / d_m^2
        q = signal * r_max * r_max / (0.88 * 1e6)  # 1.0 = at the edge of detection
        signal_kcps = int(signal * SIGNAL_KCPS_AT_1M)
        spads = roi_spads
        if q > 1.5:
            spads = max(4, int(roi_spads * 1.5 / q))  # dynamic SPAD selection backs off
        ambient_kcps = int(ambient_per_spad * spads)
        a = ambient_per_spad / SUN_KCPS_PER_SPAD
        self.target_seen = q >= Q_NO_TARGET
        if self.rng.chance(self.quirks["frozen_p"]):
            self.frozen_left = rng.randint(3, 12)
        if rng.chance(self.quirks["spurious_p"]):
            self.bump("spurious")
            return RAW_VALID, rng.randint(0, 30), ambient_kcps, signal_kcps, spads
        if cfg.mode == "short" and scene.distance_mm > max_range_mm(
                "short", 0, 100, 16, 16):
            return self.beyond_short_window(scene, ambient_kcps, signal_kcps, spads, a)
        if q < Q_NO_TARGET:
            return RAW_SIGNAL_FAIL, rng.randint(0, 60), ambient_kcps, signal_kcps, spads
        sigma = (10.0 + 2.5 * min(a, 1.0)) * (1.0 + 0.6 / q) * (50.0 / cfg.budget_ms) ** 0.25
        dist = int(scene.distance_mm + rng.gauss(0.0, sigma))
        # ST's max range is where >= 94% of measurements are valid: q = 1 here.
        if q < 1.0:
            p_valid = 0.94 * (q - Q_NO_TARGET) / (1.0 - Q_NO_TARGET)
        elif q < 1.2:
            p_valid = 0.94
        else:
            p_valid = 1.0
        if p_valid < 1.0 and not rng.chance(p_valid):
            if cfg.mode == "long" and rng.chance(0.1):
                return RAW_PHASE_OUT_OF_BOUNDS, dist, ambient_kcps, signal_kcps, spads
            return RAW_SIGMA_FAIL, dist, ambient_kcps, signal_kcps, spads
        return RAW_VALID, dist, ambient_kcps, signal_kcps, spads

    def beyond_short_window(self, scene, ambient_kcps, signal_kcps, spads, a):
        """Short mode, nearest return past the phase window: out of bounds, or
        a bright far target aliased by one wrap (the wraparound quirk)."""
        rng = self.rng
        d = scene.distance_mm
        # Could the photons be counted at all? Use the long-mode link budget.
        r_snr = max_range_mm("long", a * SUN_KCPS_PER_SPAD, self.config.budget_ms,
                             self.config.roi_w, self.config.roi_h)
        q_snr = scene.signal * r_snr * r_snr / (0.88 * 1e6)
        self.target_seen = False
        if d >= WRAP_SHORT_MM and q_snr >= 1.0 and scene.peak_reflectance >= 0.5:
            self.bump("wraparound")
            dist = int(d - WRAP_SHORT_MM + rng.gauss(0.0, 15.0))
            if rng.chance(self.quirks["wrap_valid_p"]):
                self.bump("wraparound_valid")
                return RAW_VALID, max(0, dist), ambient_kcps, signal_kcps, spads
            return RAW_WRAPAROUND, max(0, dist), ambient_kcps, signal_kcps, spads
        if q_snr >= 1.0:
            return RAW_PHASE_OUT_OF_BOUNDS, rng.randint(0, 1400), ambient_kcps, signal_kcps, spads
        return RAW_SIGNAL_FAIL, rng.randint(0, 60), ambient_kcps, signal_kcps, spads

    # --- for test helpers ---------------------------------------------------------------
    def problems_report(self):
        """Everything the firmware wrote that the model did not understand."""
        lines = ["write to 0x%04x: %s" % (reg, data.hex()) for reg, data in self.unknown_writes]
        return lines + list(self.problems)
