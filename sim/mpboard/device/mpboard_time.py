# `time` on the virtual board: the port's own ticks, with two changes that
# make it behave like the ESP32's:
# - sleep_ms serves the serial line while it waits (the port's busy-waits with
#   JavaScript blocked, so neither Ctrl-C nor sync bytes could arrive);
# - time()/localtime() count from 2000-01-01, starting there at power-on and
#   following machine.RTC().datetime(...) once the host has set the clock.
# With --speed N the board's clock runs N times faster than the wall clock.
#
#     import sys, mpboard_time; sys.modules["time"] = mpboard_time
import time as _port

import js

_board = js.mpboard
_sleep_js = _board.sleep
_poll_js = _board.poll
_uptime_ms = _board.uptimeMs
_rtc_offset = _board.rtcOffset
_speed = 1
_EPOCH_2000 = 946684800  # the port's gmtime/mktime count from 1970

ticks_diff = _port.ticks_diff
ticks_add = _port.ticks_add
ticks_cpu = _port.ticks_cpu
ticks_ms = _port.ticks_ms
ticks_us = _port.ticks_us
_t0_ms = _port.ticks_ms()


def set_speed(speed):
    global _speed, ticks_ms, ticks_us, _port_us, _board_us
    _speed = speed
    if speed != 1:
        ticks_ms = _fast_ticks_ms
        ticks_us = _fast_ticks_us
        _port_us = _board_us = _port.ticks_us()


def _fast_ticks_ms():
    return _port.ticks_add(_t0_ms, _port.ticks_diff(_port.ticks_ms(), _t0_ms) * _speed) & 0x3FFFFFFF


_port_us = 0
_board_us = 0


def _fast_ticks_us():
    # Advanced by what passed since the last call: wraps like the port's
    # counter and stays a small int (the chips read it on every transaction).
    global _port_us, _board_us
    now = _port.ticks_us()
    _board_us = _port.ticks_add(_board_us, _port.ticks_diff(now, _port_us) * _speed)
    _port_us = now
    return _board_us


# Set by machine.WDT: the watchdog keeps counting while the board sleeps.
watchdog = None


def sleep_ms(ms):
    dog = watchdog
    if dog is not None and dog.left_ms() < ms:
        ms = max(0, dog.left_ms() + 1)
        _sleep_js(ms // _speed if _speed != 1 else ms)
        dog.check()  # expired: resets the board
    elif ms > 0:
        _sleep_js(ms // _speed if _speed != 1 else ms)
    else:
        _poll_js()


def sleep_us(us):
    if us >= 1000:
        sleep_ms(us // 1000)
    elif us > 0:
        _port.sleep_us(us)


def sleep(seconds):
    sleep_ms(int(seconds * 1000))


def time():
    offset = _rtc_offset()
    if offset < 0:
        offset = 0  # never set: a fresh ESP32 starts at 2000-01-01 00:00:00
    return offset + _uptime_ms() // 1000


def time_ns():
    return time() * 1_000_000_000


def gmtime(secs=None):
    return _port.gmtime((time() if secs is None else secs) + _EPOCH_2000)


localtime = gmtime


def mktime(t):
    return _port.mktime(t) - _EPOCH_2000
