"""The VL53L1X's physics: the register model (sim/vboard/chips.Vl53l1x: what
the Adafruit driver and ST's ULD write and read, data ready, the result block)
measuring what is in view of the simulated world.

The scene comes from a source (sim.world.World.scene); this module turns it
into a measurement for the mode, budget and ROI the registers hold, with the
sensor's noise and quirks:

    tof = VL53L1X(world, rng, now_us=lambda: board.clock.us)
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
- whether a target is in view (the chip's period stretches with one).
"""

from sim.vboard import chips
from sim.vboard.chips import (
    RAW_NONE,
    RAW_PHASE_OUT_OF_BOUNDS,
    RAW_SIGMA_FAIL,
    RAW_SIGNAL_FAIL,
    RAW_VALID,
    RAW_WRAPAROUND,
    roi_spad,
)

# --- physics (docs/design.md table; docs/simulator.md) ----------------------------------
MAX_RANGE_MM = {"short": (1360, 1350), "long": (3600, 730)}  # (dark, strong sun), 88% white
SUN_KCPS_PER_SPAD = 200.0  # "strong sun" in the table
SPAD_DEG = 27.0 / 16  # one SPAD of the 16x16 array, through the lens
WRAP_SHORT_MM = 2200  # phase wrap distance in short mode
SIGNAL_KCPS_AT_1M = 12000.0  # 88% white filling the field of view at 1 m
Q_NO_TARGET = 0.6  # signal / signal-at-max-range below which nothing is reported (~1.3x range)

DEFAULT_QUIRKS = {
    "spurious_p": 0.002,  # per measurement: a 0-30 mm reading marked valid
    "frozen_p": 0.001,  # per measurement: result block stops updating for 3-12 samples
    "wrap_valid_p": 0.1,  # an aliased (wrapped) reading marked valid instead of raw 7
    "dropout_p": 0.0,  # per measurement: the return is lost (no target reported)
}


def fov_deg(roi_w, roi_h=None):
    """Full field of view across `roi_w` SPADs (of the smaller side, given both):
    27 deg at 16, ~20 at 8, ~15 at 4 (the lens blurs each SPAD's cone)."""
    n = roi_w if roi_h is None or roi_w < roi_h else roi_h
    if n < 4:
        n = 4
    return 15.0 + (27.0 - 15.0) * (n - 4) / 12.0


def roi_offset_deg(centre, roi_w=16, roi_h=16):
    """(elevation, azimuth) degrees an ROI centred on SPAD `centre` looks off axis.

    Assumed mounting (docs/simulator.md): rows towards the top of ST's table
    look up, columns towards its right look to the runner's right, SPAD_DEG
    apart; the optical axis lies between rows 7/8 and columns 7/8."""
    row, col = roi_spad(centre)
    mid_row = row + (0.5 if roi_h % 2 == 0 else 0.0)
    mid_col = col - (0.5 if roi_w % 2 == 0 else 0.0)
    return (7.5 - mid_row) * SPAD_DEG, (mid_col - 7.5) * SPAD_DEG


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


class VL53L1X(chips.Vl53l1x):
    """The shared register model (sim/vboard/chips.py) measuring the world's scene."""

    def __init__(self, source, rng, now_us, quirks=None):
        self.quirks = dict(DEFAULT_QUIRKS)
        if quirks:
            self.quirks.update(quirks)
        self.samples = []  # (t_us, raw_status, range_mm, ambient_kcps, signal_kcps, spads)
        chips.Vl53l1x.__init__(self, source, now_us)
        self.rng = rng  # also draws the fault timeline's failed transactions
        self.listeners.append(self._keep)

    def _keep(self, *sample):
        self.samples.append(sample)

    def power_on(self):
        chips.Vl53l1x.power_on(self)
        self.last_scene = None  # what the last measurement saw (metrics)

    def measure(self, now_us):
        self.last_scene = None
        self.load_result(*self.observe(now_us))

    # --- the measurement --------------------------------------------------------------
    def observe(self, now_us):
        """(raw status, range mm, ambient kcps, signal kcps, effective SPADs) for now."""
        cfg = self.config
        rng = self.rng
        if cfg.mode is None:
            return RAW_NONE, 0, 0, 0, 0
        roi_spads = int(cfg.roi_w * cfg.roi_h * 0.8)
        fov_w, fov_h = fov_deg(cfg.roi_w), fov_deg(cfg.roi_h)
        el, az = roi_offset_deg(cfg.roi_center, cfg.roi_w, cfg.roi_h)
        if el or az or fov_w != fov_h:
            scene = self.source.scene(now_us, fov_w, el, az, fov_h)
        else:
            scene = self.source.scene(now_us, fov_w)
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
        if rng.chance(self.quirks["dropout_p"]):
            self.bump("dropout")
            return RAW_SIGNAL_FAIL, rng.randint(0, 60), ambient_kcps, signal_kcps // 4, spads
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
