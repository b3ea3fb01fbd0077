# The board's simple parts: the vibration motor on a PWM pin, the status LED,
# and the LiPo's voltage through a resistor divider on an ADC pin. hw.py makes
# the machine objects from the board config; these classes only know duty,
# polarity and scale.
#
#     motor = Motor(machine.PWM(Pin(27), freq=200, duty_u16=0), active_high=True)
#     motor.set(80); motor.off(); motor.steady      # steady: fully on or off
#     Battery(machine.ADC(Pin(35), atten=machine.ADC.ATTN_11DB), (2, 1)).read_mv()
from micropython import const

_FULL_DUTY = const(65535)


class Motor:
    def __init__(self, pwm, active_high=True):
        self.pwm = pwm
        self.active_high = active_high
        self.off()

    def set(self, strength_pct):
        duty = _FULL_DUTY * strength_pct // 100
        # Fully on or off, the output needs no PWM clock: light sleep keeps it.
        self.steady = duty == 0 or duty == _FULL_DUTY
        self.pwm.duty_u16(duty if self.active_high else _FULL_DUTY - duty)

    def off(self):
        self.steady = True
        self.pwm.duty_u16(0 if self.active_high else _FULL_DUTY)


class Led:
    def __init__(self, pin, active_high=True):
        self.pin = pin
        self.active_high = active_high
        self.set(False)

    def set(self, on):
        self.pin.value(1 if on == self.active_high else 0)


class Battery:
    """read_uv() uses the ESP32's factory ADC calibration: no per-board constant."""

    def __init__(self, adc, divider):
        self.adc = adc
        self.num, self.den = divider

    def read_mv(self):
        return self.adc.read_uv() * self.num // self.den // 1000

