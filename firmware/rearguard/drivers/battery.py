# LiPo voltage through a resistor divider on an ADC pin. read_uv() uses the
# ESP32's factory calibration, so no per-board constant is needed.


class Battery:
    # LiPo: 4.2 V full, 3.3 V where the regulator starts to drop out.
    FULL_MV = 4200
    EMPTY_MV = 3300

    def __init__(self, adc, divider):
        self.adc = adc
        self.num, self.den = divider

    def read_mv(self):
        return self.adc.read_uv() * self.num // self.den // 1000

    def percent(self):
        mv = self.read_mv()
        pct = (mv - self.EMPTY_MV) * 100 // (self.FULL_MV - self.EMPTY_MV)
        return 0 if pct < 0 else 100 if pct > 100 else pct
