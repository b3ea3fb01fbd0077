"""What a VL53L1X can see of the ground and of trip hazards behind a backward
runner (issue 14), from the simulator's sensor physics (docs/simulator.md):
for each arrangement, how strong the ground's return is (q: 1.0 = the edge of
a valid range, below 0.6 nothing is reported) and how far a 150 mm kerb, a
100 mm kerb, a 170 mm step down and a 450 mm dog move the reported range as
they come closer; then, for a second sensor pitched 40-50 deg down, when each
hazard enters its view, when it first moves the range beyond the ranging
noise, and what lead that leaves a runner. docs/obstacle.md, "Trip hazards",
has the decision.

    .venv/bin/python -m tools.trip_geometry          # the tables
"""

import math
import statistics
import sys

from sim.chips.rng import Rng
from sim.chips.vl53l1x import Q_NO_TARGET, fov_deg, max_range_mm, roi_offset_deg
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


def world(pitch, profile=None, obstacles=(), ambient="shade", speed=0, bumps_mm=0,
          height_mm=HEIGHT_MM):
    ground = {"reflectance": GROUND}
    if profile:
        ground["profile"] = profile
    if bumps_mm:
        ground["bumps_mm"] = bumps_mm
    duration = 20000 if speed else 1000
    spec = check({"name": "geometry", "duration_ms": duration, "ambient": ambient, "ground": ground,
                  "runner": {"speed": [[0, speed], [duration, speed]], "pitch_deg": pitch,
                             "mount_height_mm": height_mm},
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


# --- the gate for a second sensor looking down (issue 14) ---------------------------------
SECOND_SENSORS = ((40, 16), (45, 16), (50, 16), (50, 8), (55, 4))  # (deg down, ROI rows)
SAMPLE_S = 0.06  # one long-mode 50 ms ranging with a target (the chip stretches it)
CONFIRM_SAMPLES = 3  # a return short of the ground must persist to be told from noise
SPEEDS_MM_S = (1200, 2500)  # walking, running


def _steps(d, rise, n):
    """A ground profile: n steps of `rise` mm (280 mm deep) from d on."""
    pts = [[0, 0], [d, 0]]
    for i in range(n):
        pts += [[d + 280 * i, rise * (i + 1)], [d + 280 * (i + 1), rise * (i + 1)]]
    return pts + [[d + 5000, rise * n]]


HAZARDS = (  # (name, hazard whose near edge is d mm behind the clip -> world keywords)
    ("kerb 150 mm", lambda d: {"profile": [[0, 0], [d, 0], [d, 150], [d + 3000, 150]]}),
    ("kerb 100 mm", lambda d: {"profile": [[0, 0], [d, 0], [d, 100], [d + 3000, 100]]}),
    ("step down 170 mm", lambda d: {"profile": [[0, 0], [d, 0], [d, -170], [d + 3000, -170]]}),
    ("stairs up", lambda d: {"profile": _steps(d, 170, 4)}),
    ("stairs down", lambda d: {"profile": _steps(d, -170, 4)}),
    ("dog", lambda d: {"obstacles": [{"id": "dog", "kind": "dog", "x_mm": d + 200}]}),
    ("low bench", lambda d: {"obstacles": [{"id": "bench", "kind": "bench", "x_mm": d}]}),
)


def noise_mm(q, ambient="shade"):
    """The chip model's ranging noise (1 sigma) for a return of strength q (sim/chips/vl53l1x.py)."""
    a = min(AMBIENT_PRESETS[ambient] / 200.0, 1.0)
    return (10.0 + 2.5 * a) * (1.0 + 0.6 / max(q, 0.6))


def sighting(down, rows, hazard, ambient="shade", height_mm=HEIGHT_MM):
    """(mm behind the clip where the hazard enters the view of a sensor `down` deg
    down through a centred 16 x `rows` ROI, where it first moves the noise-free
    range by 3 sigma or takes the return away): the best any firmware could do.
    (None, None) if the ground itself is not ranged."""
    top = 8 - rows // 2
    q0, r0 = look(world(0, ambient=ambient, height_mm=height_mm), 16, rows, top, down, ambient)
    if q0 < Q_NO_TARGET:
        return None, None
    sigma = noise_mm(q0, ambient)
    enters = seen = None
    for d in range(3000, 0, -20):
        w = world(0, ambient=ambient, height_mm=height_mm, **hazard(d))
        q, r = look(w, 16, rows, top, down, ambient)
        if enters is None and (abs(r - r0) > 0.5 or abs(q - q0) > 0.002):
            enters = d
        if abs(r - r0) > 3 * sigma or q < Q_NO_TARGET:
            return enters, d
    return enters, seen


def leads(enters, seen):
    """(best lead ratio: alert at the first sighting; per speed: lead s with
    CONFIRM_SAMPLES to confirm, and that lead's ratio to the time in view).
    Contact is the clip over the hazard's edge: the heel gets there first."""
    out = [seen / enters]
    for v in SPEEDS_MM_S:
        lead = seen / v - CONFIRM_SAMPLES * SAMPLE_S
        out += [lead, lead / (enters / v)]
    return out


def best_ratio(down, rows, hazard, height_mm):
    enters, seen = sighting(down, rows, hazard, "shade", height_mm)
    return None if seen is None or enters is None else seen / enters


def ground_spread(down, speed, bumps_mm):
    """Standard deviation (mm) of the noise-free range of the ground while
    running: as reported, and after taking out the true pitch (the best a
    pitch-driven prediction could do)."""
    w = world(0, speed=speed, bumps_mm=bumps_mm)
    raw, rest = [], []
    for k in range(60, 300):
        scene = w.scene(k * 60000, 27.0, -down, 0.0, 27.0)
        pitch = w.attitude(w.t_us)[0]
        raw.append(scene.distance_mm)
        rest.append(scene.distance_mm * math.sin(math.radians(down + pitch)))
    return statistics.pstdev(raw), statistics.pstdev(rest) / math.sin(math.radians(down))


def second_sensor_rows(down, rows):
    out = []
    for ambient in ("dark", "shade", "overcast", "sun"):
        q, r = look(world(0, ambient=ambient), 16, rows, 8 - rows // 2, down, ambient)
        out.append("ground in %-8s q %.2f at %4d mm" % (ambient, q, r))
    for name, hazard in HAZARDS:
        enters, seen = sighting(down, rows, hazard)
        best, lw, rw, lr, rr = leads(enters, seen)
        out.append("%-16s in view from %4d mm, seen from %4d: best ratio %.2f | walk lead %.2f s"
                   " ratio %.2f | run lead %.2f s ratio %.2f" % (name, enters, seen, best, lw, rw, lr, rr))
    for height in (800, 1200) if rows == 16 else ():
        ratios = [best_ratio(down, rows, hazard, height) for _name, hazard in HAZARDS]
        out.append("clip at %.1f m: best ratio %s" % (height / 1000, "ground not ranged" if None in ratios
                                                       else "%.2f-%.2f" % (min(ratios), max(ratios))))
    spreads = ((1200, 0), (2500, 0), (2500, 15), (2500, 30)) if rows == 16 else ()
    for speed, bumps in spreads:
        raw, rest = ground_spread(down, speed, bumps)
        out.append("ground while running %.1f m/s, bumps %2d mm: range sd %2.0f mm, %2.0f mm with the"
                   " true pitch taken out" % (speed / 1000, bumps, raw, rest))
    return out


def main():
    for a in ARRANGEMENTS:
        print(a[0])
        for line in rows_for(a):
            print("   ", line)
    print("\nA second sensor looking down (shade; seen = the noise-free range moves by 3 sigma"
          " or the return is lost; leads with %d samples to confirm, clip over the edge = contact)"
          % CONFIRM_SAMPLES)
    for down, rows in SECOND_SENSORS:
        print("second sensor %d deg down, ROI 16x%d" % (down, rows))
        for line in second_sensor_rows(down, rows):
            print("   ", line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
