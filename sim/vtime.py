"""The `time` module the firmware sees inside the simulator: MicroPython's API
over the current virtual board's clock.

The loader binds it as `time` while it imports firmware modules, so
`import time; time.ticks_ms()` in firmware/ reaches the virtual clock.
"""

from sim import vclock

_clock = None
_rtc_seconds = None  # the board's RTC: seconds since 2000-01-01
_rtc_offset_s = 946684800  # MicroPython's epoch on the ESP32 is 2000-01-01


def bind(clock, rtc_seconds=None):
    """The board's clock (and RTC) the firmware's `time` reads from now on."""
    global _clock, _rtc_seconds
    _clock = clock
    _rtc_seconds = rtc_seconds


def _c():
    if _clock is None:
        raise RuntimeError("no virtual board is running (sim.vtime.bind was not called)")
    return _clock


def ticks_ms():
    return _c().ticks_ms()


def ticks_us():
    return _c().ticks_us()


def ticks_cpu():
    return _c().ticks_cpu()


ticks_diff = vclock.ticks_diff
ticks_add = vclock.ticks_add


def sleep_ms(ms):
    _c().sleep_ms(ms)


def sleep_us(us):
    _c().sleep_us(us)


def sleep(seconds):
    _c().sleep(seconds)


def time():
    """Seconds since 2000-01-01 by the board's RTC (set by the host at sync)."""
    if _rtc_seconds is None:
        raise RuntimeError("no virtual board is running (its RTC is not bound)")
    return _rtc_seconds()


def time_ns():
    return time() * 1_000_000_000


def gmtime(secs=None):
    import time as _host_time

    if secs is None:
        secs = time()
    t = _host_time.gmtime(secs + _rtc_offset_s)
    return (t.tm_year, t.tm_mon, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec, t.tm_wday, t.tm_yday)


localtime = gmtime


def mktime(tup):
    import calendar

    return calendar.timegm(tuple(tup[:6]) + (0, 0, 0)) - _rtc_offset_s
