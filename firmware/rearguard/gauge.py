# The battery gauge: a LiPo cell's voltage, read under the clip's load, to a
# state of charge in percent. The load's drop across the cell's internal
# resistance is added back first (load compensation); the open-circuit
# voltage then runs through a typical single-cell LiPo discharge curve.
# Shared by the clip (rearguard/power.py) and the host, which turns a
# session's battery_start_mv/battery_end_mv into the charge it used.
#
#     percent(3870)            # 60: mV under the awake clip's load
#     percent(3800, 100)       # with the motor running as well
#
# docs/power.md has the curve's source and the load figures.
from micropython import const

# Open-circuit voltage at 0, 10, ..., 100 % as (mV - 3000) // 5.
_CURVE = b"\x3c\x8a\x92\x9a\xa0\xa8\xae\xbe\xcc\xde\xf0"
_STEP_PCT = const(10)
_CELL_MOHM = const(150)  # a 400 mAh pouch cell with its protection circuit and leads
_AWAKE_LOAD_MA = const(44)  # what the awake clip draws while running (docs/power.md)


def percent(mv, load_ma=_AWAKE_LOAD_MA):
    """State of charge 0..100 for `mv` read while the clip draws `load_ma`."""
    ocv = mv + load_ma * _CELL_MOHM // 1000
    curve = _CURVE
    if ocv <= 3000 + curve[0] * 5:
        return 0
    for i in range(1, len(curve)):
        hi = 3000 + curve[i] * 5
        if ocv < hi:
            lo = 3000 + curve[i - 1] * 5
            return (i - 1) * _STEP_PCT + (ocv - lo) * _STEP_PCT // (hi - lo)
    return 100
