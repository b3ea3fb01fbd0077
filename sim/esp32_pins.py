"""Which GPIOs each ESP32 variant has, and which a board config may use.

One home for these facts: the virtual board enforces them (ValueError like the
real port) and tests/test_boards.py checks every shipped board against them.
"""

CHIPS = {
    "esp32": {
        "gpio": set(range(0, 20)) | {21, 22, 23, 25, 26, 27} | set(range(32, 40)),
        # GPIO6-11 drive the SPI flash; touching them crashes the chip.
        "reserved": set(range(6, 12)),
        # GPIO34-39 have no output driver and no pull resistors.
        "input_only": set(range(34, 40)),
        # ADC2 cannot be read while Wi-Fi runs; ADC1 is GPIO32-39.
        "adc": set(range(32, 40)),
        # RTC GPIOs: the only ones that can wake the chip from deep sleep (ext0/ext1).
        "rtc": {0, 2, 4, 12, 13, 14, 15, 25, 26, 27} | set(range(32, 40)),
    },
    "esp32s3": {
        "gpio": set(range(0, 22)) | set(range(26, 49)),
        # 26-32 drive the SPI flash; 33-37 octal flash/PSRAM on R8 modules;
        # 19/20 are the native USB port that carries the REPL.
        "reserved": set(range(26, 38)) | {19, 20},
        "input_only": set(),
        "adc": set(range(1, 11)),  # ADC1
        "rtc": set(range(0, 22)),
    },
}


def check_pin(chip, pin, output=False, adc=False, wake=False):
    """Return None if `pin` is usable as asked on `chip`, else the reason."""
    facts = CHIPS[chip]
    if pin not in facts["gpio"]:
        return "GPIO%d does not exist on the %s" % (pin, chip)
    if pin in facts["reserved"]:
        return "GPIO%d is reserved on the %s (flash, PSRAM or USB)" % (pin, chip)
    if output and pin in facts["input_only"]:
        return "GPIO%d is input-only on the %s" % (pin, chip)
    if adc and pin not in facts["adc"]:
        return "GPIO%d has no ADC1 channel on the %s" % (pin, chip)
    if wake and pin not in facts["rtc"]:
        return "GPIO%d is not an RTC GPIO on the %s: it cannot wake it from deep sleep" % (pin, chip)
    return None
