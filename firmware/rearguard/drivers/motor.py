# Vibration motor on a PWM pin. The PWM object is made by the caller (hw.py)
# from the board config; this class only knows duty and polarity.


class Motor:
    FULL = 65535

    def __init__(self, pwm, active_high=True):
        self.pwm = pwm
        self.active_high = active_high
        self.off()

    def set(self, strength_pct):
        duty = self.FULL * strength_pct // 100
        self.pwm.duty_u16(duty if self.active_high else self.FULL - duty)

    def off(self):
        self.pwm.duty_u16(0 if self.active_high else self.FULL)
