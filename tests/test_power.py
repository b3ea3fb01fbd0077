"""Low battery and full flash, as the runner notices them on the virtual board."""

from sim.board import VirtualBoard
from sim.loader import firmware_modules

FOUR_BLIPS = 4
with firmware_modules() as load:
    LOW_BATTERY = load("rearguard.events").LOW_BATTERY


def _board(battery_mv):
    vb = VirtualBoard("esp32_devkitc")
    pin = vb.config.BATTERY["pin"]
    num, den = vb.config.BATTERY["divider"]
    vb.adc_sources[pin] = lambda t_ms: battery_mv(t_ms) * 1000 * den // num
    return vb


def _events(vb, until_ms, on_boot=None):
    seen = []

    def watch(app):
        app.events.sinks.append(lambda t, kind, level: seen.append((t, kind)))
        if on_boot:
            on_boot(app)

    vb.run(until_ms=until_ms, on_boot=watch)
    return seen


def _blips_between(vb, start_ms, end_ms):
    return sum(1 for t, duty in vb.motor_timeline() if start_ms <= t < end_ms and duty > 0)


def test_low_battery_gives_four_blips_once_and_is_logged():
    vb = _board(lambda t_ms: 3400)
    seen = _events(vb, 30_000)
    low = [t for t, kind in seen if kind == LOW_BATTERY]
    assert len(low) == 1  # once, not every check
    # The board has no sensors here, so the blind chirps play too: count the
    # motor pulses in the 700 ms after the warning, before the next chirp group.
    assert _blips_between(vb, low[0], low[0] + 700) == FOUR_BLIPS


def test_a_charged_battery_and_usb_power_give_no_warning():
    for mv in (3900, 0):  # charged; no battery on the divider (USB power)
        seen = _events(_board(lambda t_ms, mv=mv: mv), 25_000)
        assert not [t for t, kind in seen if kind == LOW_BATTERY], mv


def test_warning_comes_back_only_after_a_charge():
    # low; a little higher but under the recovery level; charged; low again
    def mv(t_ms):
        return 3400 if t_ms < 30_000 else 3600 if t_ms < 50_000 else 4000 if t_ms < 70_000 else 3400

    seen = _events(_board(mv), 95_000)
    assert len([t for t, kind in seen if kind == LOW_BATTERY]) == 2


def test_full_flash_lights_the_status_led():
    vb = _board(lambda t_ms: 3900)
    led_pin = vb.config.LED["pin"]

    def fill(app):
        app.session.low_storage = True

    _events(vb, 12_000, on_boot=fill)
    assert (led_pin, 1) in [(p, level) for _t, p, level in vb.pin_log]
