"""What a VL53L1X can see of the ground and of trip hazards behind a backward
runner (issue 14), from the simulator's sensor physics (docs/simulator.md):
for each arrangement, how strong the ground's return is (q: 1.0 = the edge of
a valid range, below 0.6 nothing is reported) and how far a 150 mm kerb, a
100 mm kerb, a 170 mm step down and a 450 mm dog move the reported range as
they come closer. docs/obstacle.md, "Trip hazards", has the decision.

    .venv/bin/python -m tools.trip_geometry          # the tables
"""

import sys

from sim.chips.rng import Rng
from sim.chips.vl53l1x import fov_deg, max_range_mm, roi_offset_deg
from sim.schema import check
from sim.vboard.chips import roi_fits
from sim.world import AMBIENT_PRESETS, World

HEIGHT_MM = 1000
GROUND = 0.3  # the simulator's default path surface
DISTANCES_MM = (2500, 2000, 1600, 1300, 1000, 800)  # hazard edge, horizontal, from the clip


def zone_centre(top_row, rows):
    """ST's SPAD number centring a 16-wide ROI of `rows` rows from `top_row` down."""
    row = top_row + (rows - 1) // 2
    return 128 + 8 * 8 + row if row < 8 else 127 - 8 * 8 - (row - 8)


# (name, clip pitch deg down, ROI columns, rows, first row, extra mount angle deg down)
ARRANGEMENTS = (
    ("one sensor, lower zone 16x8, clip 20 deg down", 20, 16, 8, 8, 0),
    ("one sensor, lower zone 16x4, clip 20 deg down", 20, 16, 4, 12, 0),
    ("one sensor, lower zone 16x4, clip 30 deg down", 30, 16, 4, 12, 0),
    ("second sensor 35 deg down, full ROI", 0, 16, 16, 0, 35),
    ("second sensor 45 deg down, full ROI", 0, 16, 16, 0, 45),
)


def world(pitch, profile=None, obstacles=(), ambient="shade"):
    ground = {"reflectance": GROUND}
    if profile:
        ground["profile"] = profile
    spec = check({"name": "geometry", "duration_ms": 1000, "ambient": ambient, "ground": ground,
                  "runner": {"speed": 0, "pitch_deg": pitch, "mount_height_mm": HEIGHT_MM},
                  "obstacles": list(obstacles)})
    return World(spec, Rng(1))


def look(w, cols, rows, top, down, ambient="shade"):
    """(q, reported range mm) of one measurement through this ROI."""
    if rows == 16:
        el, fov_w, fov_h = -down, 27.0, 27.0
    else:
        centre = zone_centre(top, rows)
        assert roi_fits(centre, cols, rows)
        el = roi_offset_deg(centre, cols, rows)[0] - down
        fov_w, fov_h = fov_deg(cols), fov_deg(rows)
    scene = w.scene(1000, fov_w, el, 0.0, fov_h)
    r = max_range_mm("long", AMBIENT_PRESETS[ambient], 50, cols, rows)
    return scene.signal * r * r / 0.88e6, scene.distance_mm


def rows_for(arrangement):
    _name, pitch, cols, rows, top, down = arrangement
    out = []
    for ambient in ("dark", "shade", "overcast"):
        q, r = look(world(pitch, ambient=ambient), cols, rows, top, down, ambient)
        out.append("ground in %-8s q %.2f at %4d mm" % (ambient, q, r))
    for d in DISTANCES_MM:
        cells = []
        for label, w in (
                ("kerb 150", world(pitch, [[0, 0], [d, 0], [d, 150], [d + 3000, 150]])),
                ("kerb 100", world(pitch, [[0, 0], [d, 0], [d, 100], [d + 3000, 100]])),
                ("step down", world(pitch, [[0, 0], [d, 0], [d, -170], [d + 3000, -170]])),
                ("dog", world(pitch, obstacles=[{"id": "dog", "kind": "dog", "x_mm": d + 200}]))):
            q, r = look(w, cols, rows, top, down)
            cells.append("%s q %.2f %4d" % (label, q, r))
        out.append("at %4d mm: %s" % (d, " | ".join(cells)))
    return out


def main():
    for a in ARRANGEMENTS:
        print(a[0])
        for line in rows_for(a):
            print("   ", line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
