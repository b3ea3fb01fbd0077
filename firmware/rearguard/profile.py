# The athlete profile: every tunable the runner or coach may change, with its
# default, bounds and unit. One table, read by the firmware, the sync protocol
# (get/set with validation) and the host's `rearguard config`.
#
#     p = Profile()
#     p.set("reaction_ms", 600)     # ValueError if out of bounds
#     p.reaction_ms                 # 600

# name, default, min, max, unit, what it means
FIELDS = (
    ("reaction_ms", 500, 200, 2000, "ms", "runner's reaction time to a buzz"),
    ("latency_ms", 100, 0, 1000, "ms", "sensor-to-motor latency budget"),
    ("braking_mm_s2", 3000, 1000, 8000, "mm/s2", "deceleration the runner can brake with"),
    ("stride_mm", 900, 300, 3000, "mm", "backward stride (two steps) for the speed estimate"),
    ("run_speed_mm_s", 2000, 500, 6000, "mm/s", "running speed assumed when gait has no estimate"),
    ("mount_height_mm", 1000, 500, 1500, "mm", "height of the clip above the ground"),
    ("ttc_caution_ms", 3500, 1000, 10000, "ms", "time-to-collision that starts CAUTION"),
    ("ttc_warning_ms", 2200, 500, 8000, "ms", "time-to-collision that starts WARNING"),
    ("ttc_stop_ms", 1200, 300, 5000, "ms", "time-to-collision that starts STOP"),
    ("stop_distance_mm", 600, 200, 2000, "mm", "distance that always means STOP"),
    ("warning_distance_mm", 1000, 300, 3000, "mm", "distance that means at least WARNING"),
    ("caution_distance_mm", 1600, 500, 4000, "mm", "distance that means at least CAUTION"),
    ("blind_ms", 300, 100, 3000, "ms", "no valid range this long while moving = blind"),
    ("session_start_ms", 4000, 1000, 30000, "ms", "running this long starts a session"),
    ("session_pause_ms", 10000, 2000, 120000, "ms", "standing still this long pauses it"),
    ("session_end_ms", 120000, 10000, 1800000, "ms", "standing still this long ends it"),
    ("haptic_strength_pct", 100, 20, 100, "%", "motor strength for alerts"),
)

# Bumped when FIELDS changes meaning; stored in every session summary.
PROFILE_VERSION = 1


class Profile:
    def __init__(self):
        self.version = 0  # edits since defaults; the summary stores it
        for name, default, _lo, _hi, _unit, _doc in FIELDS:
            setattr(self, name, default)

    def set(self, name, value):
        for fname, _default, lo, hi, unit, _doc in FIELDS:
            if fname == name:
                value = int(value)
                if not lo <= value <= hi:
                    raise ValueError("%s must be %d..%d %s" % (name, lo, hi, unit))
                setattr(self, name, value)
                self.version += 1
                return
        raise KeyError(name)

    def items(self):
        return [(f[0], getattr(self, f[0])) for f in FIELDS]
