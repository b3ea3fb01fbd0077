# The athlete profile: every tunable the runner or coach may change, with its
# default, bounds and unit. One table, read by the firmware, the sync protocol
# (get/set with validation) and the host's `rearguard config` (whose help text
# for each field is host_tools/profile_help.py: prose costs the clip's RAM).
#
#     p = Profile()
#     p.set("reaction_ms", 600)     # ValueError if out of bounds or out of order
#     p.reaction_ms                 # 600
#     p.reset()                     # every field back to its default

# name, default, min, max, unit
FIELDS = (
    ("reaction_ms", 500, 200, 2000, "ms"),
    ("latency_ms", 100, 0, 1000, "ms"),
    ("braking_mm_s2", 3000, 1000, 8000, "mm/s2"),
    ("stride_mm", 1540, 300, 3000, "mm"),  # at 180 steps/min; sensing/pace.py learns it
    ("run_speed_mm_s", 2000, 500, 6000, "mm/s"),
    ("mount_height_mm", 1000, 500, 1500, "mm"),
    ("ttc_caution_ms", 3500, 1000, 10000, "ms"),
    ("ttc_warning_ms", 2200, 500, 8000, "ms"),
    ("ttc_stop_ms", 1200, 300, 5000, "ms"),
    ("stop_distance_mm", 600, 200, 2000, "mm"),
    ("warning_distance_mm", 1000, 300, 3000, "mm"),
    ("caution_distance_mm", 1600, 500, 4000, "mm"),
    ("blind_ms", 300, 100, 3000, "ms"),
    ("session_start_ms", 4000, 1000, 30000, "ms"),
    ("session_pause_ms", 10000, 2000, 120000, "ms"),
    ("session_end_ms", 120000, 10000, 1800000, "ms"),
    ("haptic_strength_pct", 100, 20, 100, "%"),
)

# Bumped when FIELDS changes meaning; stored in every session summary.
PROFILE_VERSION = 1

# Alert thresholds that must keep their order, caution > warning > stop, in time
# and in distance: a STOP threshold above WARNING would make every alert a STOP.
# The one home of the rule: the clip enforces it (PSET), the host asks it first.
# (One string, split when checked: a tuple of tuples costs the clip 300 bytes.)
_ORDER = "ttc_caution_ms ttc_warning_ms ttc_stop_ms caution_distance_mm warning_distance_mm stop_distance_mm"


def field(name):
    """The FIELDS row of a setting: (name, default, min, max, unit); KeyError if none."""
    for f in FIELDS:
        if f[0] == name:
            return f
    raise KeyError(name)


class Profile:
    def __init__(self):
        self.version = 0  # edits since defaults; the summary stores it
        for field in FIELDS:
            setattr(self, field[0], field[1])

    def set(self, name, value, ordered=True):
        """`ordered=False`: the order of thresholds is checked by the caller
        once every field is in (loading a saved profile)."""
        _name, _default, lo, hi, unit = field(name)
        value = int(value)
        if not lo <= value <= hi:
            raise ValueError("%s must be %d..%d %s" % (name, lo, hi, unit))
        old = getattr(self, name)
        setattr(self, name, value)
        problem = ordered and self.disorder()
        if problem:
            setattr(self, name, old)
            raise ValueError(problem)
        self.version += 1

    def disorder(self):
        """What breaks caution > warning > stop, naming both values; '' if nothing."""
        names = _ORDER.split()
        for i in (0, 1, 3, 4):  # within each group of three
            high, low = getattr(self, names[i]), getattr(self, names[i + 1])
            if high <= low:
                return "%s %d must be above %s %d" % (names[i], high, names[i + 1], low)
        return ""

    reset = __init__  # every field back to its default, no edits since

    def items(self):
        return [(f[0], getattr(self, f[0])) for f in FIELDS]
