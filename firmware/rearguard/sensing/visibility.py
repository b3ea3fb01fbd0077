# How far the sensor can see right now, which distance mode sees farther in
# this light, and whether the runner is faster than that range can protect.
#
#     vis = Visibility(profile)
#     vis.sample(now_ms, tof.ambient_kcps, tof.spads, tof.mode, tof.budget_ms)  # per sample
#     tof.configure(vis.mode, vis.budget_ms)              # mode chosen with hysteresis
#     vis.effective_range_mm
#     vis.stopping_mm(speed_mm_s)                         # v*(latency+reaction) + v^2/2a
#     if vis.update_speed(now_ms, speed_mm_s): ...        # True: tell the runner (a notice)
#     vis.too_fast                                        # the state, for the session's time
#     tof.pace(vis.imp_ms)                                # 0: back to back (rearguard/power.py)
#
# The range model is docs/design.md's table (88% white target, 100 ms budget: long
# 3.6 m dark / 0.73 m in strong sun of 200 kcps per SPAD, short ~1.36 m in
# both), geometric between dark and sun, times a budget factor (signal ~ 1/d^2,
# SNR ~ sqrt(time): d ~ budget^(1/4) in long mode; short mode is limited by
# its phase window). Integer tables, no floats. docs/obstacle.md has the figures.
from time import ticks_diff

from micropython import const

from rearguard.drivers.tof import LONG, SHORT

# Budgets used: the longest that keeps updates frequent enough for TTC.
_LONG_BUDGET_MS = const(50)
_SHORT_BUDGET_MS = const(50)
# Standing still (nothing closing either) for 3 s, not just a turn at the end
# of a lap, ten ranges a second are enough, at half the sensor's current;
# below the driver's 200 ms stall limit, and the first step or a closing
# target brings back-to-back ranging at once (docs/power.md).
_STILL_IMP_MS = const(100)
_STILL_MS = const(3000)

_LONG_DARK_MM = const(3600)
_SHORT_DARK_MM = const(1360)
_SUN_KCPS_PER_SPAD = const(200)
# (sun/dark)^a x 1000 for long mode, a = ambient / sun in steps of 0.1 (0..2)
_LONG_SUN_FACTOR = (1000, 853, 727, 620, 528, 450, 384, 327, 279, 238, 203, 173, 147, 126,
                    107, 91, 78, 66, 57, 48, 41)
# budget_ms -> range factor x 1000 (long: budget^0.25, short: budget^0.08)
_BUDGETS = (15, 20, 33, 50, 100, 200)
_LONG_BUDGET_FACTOR = (622, 669, 758, 841, 1000, 1189)
_SHORT_BUDGET_FACTOR = (859, 879, 915, 946, 1000, 1057)

_SWITCH_GAIN_PCT = const(15)  # the other mode must see this much farther ...
_SWITCH_DWELL_MS = const(400)  # ... for this long before the mode changes
_TOO_FAST_ON_MS = const(300)  # need > range this long: too fast
_TOO_FAST_OFF_MS = const(1500)  # need < 90% range this long: clear
_TOO_FAST_CLEAR_PCT = const(90)
# Notices (docs/haptics.md): one when "too fast" begins, then again only when
# the shortfall has grown by three quarters since the last one, or after a while.
_WORSE_PCT = const(175)
_NOTICE_AGAIN_MS = const(1200000)  # 20 minutes
_NOTICE_GAP_MS = const(10000)  # and never two within this (the light settles)


def _budget_factor(table, budget_ms):
    for i in range(len(_BUDGETS)):
        if _BUDGETS[i] >= budget_ms:
            return table[i]
    return table[len(table) - 1]


def range_mm(mode, ambient_per_spad, budget_ms):
    """Max range (88% white, filling the view) in this light, mode and budget."""
    a1000 = ambient_per_spad * 1000 // _SUN_KCPS_PER_SPAD  # thousandths of strong sun
    if a1000 >= 2000:
        a1000 = 1999
    a10 = a1000 // 100
    if mode == LONG:
        lo = _LONG_SUN_FACTOR[a10]
        factor = lo - (lo - _LONG_SUN_FACTOR[a10 + 1]) * (a1000 - a10 * 100) // 100
        return _LONG_DARK_MM * factor // 1000 * _budget_factor(
            _LONG_BUDGET_FACTOR, budget_ms) // 1000
    # short: 1360 -> 1350 mm from dark to strong sun
    return (_SHORT_DARK_MM - a10) * _budget_factor(
        _SHORT_BUDGET_FACTOR, budget_ms) // 1000


class Visibility:
    def __init__(self, profile):
        self.profile = profile
        self.ambient_per_spad = 0  # filtered, kcps per SPAD
        self.mode = LONG
        self.budget_ms = _LONG_BUDGET_MS
        self.effective_range_mm = range_mm(LONG, 0, _LONG_BUDGET_MS)
        self._better_since_ms = 0
        self._better = False
        self.too_fast = False
        self.needed_mm = 0
        self._too_fast_since_ms = 0
        self._too_fast_pending = False
        self._noticed_ms = 0
        self._noticed_pct = 0  # needed range in % of the effective one at the last notice (0: none yet)
        self.imp_ms = 0  # inter-measurement period wanted: 0 = back to back
        self._moved_ms = 0  # the last time the runner (or a target) moved
        self._started = False

    def sample(self, now_ms, ambient_kcps, spads, active_mode, active_budget_ms):
        """One ToF sample's ambient light; updates effective range and wanted mode."""
        if spads <= 0:
            return
        amb = ambient_kcps // spads
        f = self.ambient_per_spad
        # First-order filter, ~4 samples: sun changes in a stride, noise does not.
        self.ambient_per_spad = f + (amb - f) // 4
        self.effective_range_mm = range_mm(active_mode, self.ambient_per_spad, active_budget_ms)
        self._choose_mode(now_ms)

    def _choose_mode(self, now_ms):
        amb = self.ambient_per_spad
        here = range_mm(self.mode, amb, self.budget_ms)
        other = SHORT if self.mode == LONG else LONG
        other_budget = _SHORT_BUDGET_MS if other == SHORT else _LONG_BUDGET_MS
        there = range_mm(other, amb, other_budget)
        if there > here * 2:
            # Sun from behind a building: no dwell when one mode is half blind.
            self.mode = other
            self.budget_ms = other_budget
            self._better = False
        elif there * 100 > here * (100 + _SWITCH_GAIN_PCT):
            if not self._better:
                self._better = True
                self._better_since_ms = now_ms
            elif ticks_diff(now_ms, self._better_since_ms) >= _SWITCH_DWELL_MS:
                self.mode = other
                self.budget_ms = other_budget
                self._better = False
        else:
            self._better = False

    def stopping_mm(self, speed_mm_s):
        """Distance the runner needs to stop from this speed: reaction plus braking."""
        p = self.profile
        v = speed_mm_s
        if v <= 0:
            return 0
        if v > 10000:
            v = 10000  # keeps v*v below 2**30
        return v * (p.latency_ms + p.reaction_ms) // 1000 + v * v // (2 * p.braking_mm_s2)

    def update_speed(self, now_ms, speed_mm_s):
        """Too fast while the stopping distance exceeds what the sensor can see
        (True when the runner is to be told: a notice); and how often it must
        range: paced while nobody moves."""
        if speed_mm_s > 0 or not self._started:
            self._started = True
            self._moved_ms = now_ms  # stillness is timed from the first call
        self.imp_ms = _STILL_IMP_MS if ticks_diff(now_ms, self._moved_ms) >= _STILL_MS else 0
        need = self.stopping_mm(speed_mm_s)
        self.needed_mm = need
        eff = self.effective_range_mm
        if self.too_fast:
            over = need * 100 > eff * _TOO_FAST_CLEAR_PCT
            hold_ms = _TOO_FAST_OFF_MS
        else:
            over = need > eff
            hold_ms = _TOO_FAST_ON_MS
        if over == self.too_fast:
            self._too_fast_pending = False
        elif not self._too_fast_pending:
            self._too_fast_pending = True
            self._too_fast_since_ms = now_ms
        elif ticks_diff(now_ms, self._too_fast_since_ms) >= hold_ms:
            self.too_fast = over
            self._too_fast_pending = False
        return self.too_fast and self._notice_due(now_ms, need * 100 // max(eff, 1))

    def _notice_due(self, now_ms, pct):
        last = self._noticed_pct
        since = ticks_diff(now_ms, self._noticed_ms)
        worse = pct * 100 >= last * _WORSE_PCT
        if last and (since < _NOTICE_GAP_MS or not worse and (
                since < _NOTICE_AGAIN_MS or pct <= 100)):
            return False
        self._noticed_pct = pct if worse else last  # a reminder keeps the worst told
        self._noticed_ms = now_ms
        return True
