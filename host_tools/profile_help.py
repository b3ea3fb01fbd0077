"""What each athlete-profile field means, for `rearguard config`. The fields
themselves (names, defaults, bounds, units) live in the firmware's one table,
rearguard.profile.FIELDS; this prose stays on the host because on the clip
every string costs RAM. A test keeps the two in step.
"""

MEANING = {
    "reaction_ms": "runner's reaction time to a buzz",
    "latency_ms": "sensor-to-motor latency budget",
    "braking_mm_s2": "deceleration the runner can brake with",
    "stride_mm": "backward stride (two steps) at 180 steps/min, for the speed estimate; the clip learns it",
    "run_speed_mm_s": "running speed assumed when gait has no estimate",
    "mount_height_mm": "height of the clip above the ground",
    "ttc_caution_ms": "time-to-collision that starts CAUTION",
    "ttc_warning_ms": "time-to-collision that starts WARNING",
    "ttc_stop_ms": "time-to-collision that starts STOP",
    "stop_distance_mm": "distance that always means STOP",
    "warning_distance_mm": "distance that means at least WARNING",
    "caution_distance_mm": "distance that means at least CAUTION",
    "blind_ms": "no valid range this long while moving = blind",
    "session_start_ms": "running this long starts a session",
    "session_pause_ms": "standing still this long pauses it",
    "session_end_ms": "standing still this long ends it",
    "haptic_strength_pct": "motor strength for alerts",
}
