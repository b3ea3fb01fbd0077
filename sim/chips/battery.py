"""A LiPo cell behind the board's resistor divider, discharging with the
clip's load (the power model over the board's energy ledger: sim.power.board_load).

    cell = Battery(capacity_mah=400, soc_pct=80, divider=(2, 1), load_ma=fn, average_ma=fn)
    board.adc_sources[pin] = cell.adc_uv      # fn(t_ms) -> microvolts at the pin

load_ma(t_ms): the current now (the voltage sags by it across the internal
resistance); average_ma(t_ms): the mean current since its last call (the
charge drawn); without it, load_ma stands for the whole interval.
"""

# Open-circuit voltage of a small LiPo against state of charge (%, mV).
OCV_CURVE = ((0, 3300), (5, 3550), (10, 3680), (20, 3740), (40, 3800), (60, 3870),
             (80, 4000), (100, 4180))
INTERNAL_MOHM = 150  # a 400 mAh pouch cell, with connector and protection FET


def ocv_mv(soc_pct):
    if soc_pct <= 0:
        return OCV_CURVE[0][1]
    for i in range(1, len(OCV_CURVE)):
        s1, v1 = OCV_CURVE[i]
        if soc_pct <= s1:
            s0, v0 = OCV_CURVE[i - 1]
            return v0 + (v1 - v0) * (soc_pct - s0) / (s1 - s0)
    return OCV_CURVE[-1][1]


class Battery:
    def __init__(self, capacity_mah, soc_pct, divider, load_ma, average_ma=None):
        self.capacity_mah = capacity_mah
        self.soc_pct = float(soc_pct)
        self.num, self.den = divider
        self.load_ma = load_ma  # fn(t_ms) -> current drawn now
        self.average_ma = average_ma or load_ma  # fn(t_ms) -> mean current since the last call
        self.t_ms = 0
        self.cut = False  # power cut: the cell is disconnected

    def advance(self, t_ms):
        if t_ms <= self.t_ms:
            return
        used_mah = self.average_ma(t_ms) * (t_ms - self.t_ms) / 3600000.0
        self.soc_pct = max(0.0, self.soc_pct - 100.0 * used_mah / self.capacity_mah)
        self.t_ms = t_ms

    def voltage_mv(self, t_ms):
        self.advance(t_ms)
        if self.cut:
            return 0
        return ocv_mv(self.soc_pct) - self.load_ma(t_ms) * INTERNAL_MOHM / 1000.0

    def adc_uv(self, t_ms):
        return int(self.voltage_mv(t_ms) * 1000 * self.den / self.num)
