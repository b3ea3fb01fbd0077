"""The scenario format: load a scenario JSON and check it against the schema
(docs/scenarios.md is the spec), filling in defaults. A malformed file raises
ScenarioError naming the file and the line (syntax) or key path (content).

    spec = load("sim/scenarios/wall_2_5ms_sun.json")     # ScenarioError if malformed
    spec = check({"name": "t", "duration_ms": 5000, "runner": {"speed": 0}})
"""

import json
import math
import os

from sim import loader
from sim.world import AMBIENT_PRESETS

SCENARIO_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "scenarios")


class ScenarioError(ValueError):
    """A scenario file that cannot be run: says which file, key or line, and what is wrong."""


OBSTACLE_DEFAULTS = {
    "wall": {"width_mm": 10000, "height_mm": 2500, "reflectance": 0.6, "angle_deg": 0},
    "fence": {"length_mm": 8000, "height_mm": 1200, "reflectance": 0.4, "fill": 0.6,
              "angle_deg": 30},
    "bench": {"width_mm": 1600, "height_mm": 450, "reflectance": 0.35, "angle_deg": 0},
    "pole": {"radius_mm": 50, "height_mm": 3000, "reflectance": 0.5},
    "tree": {"radius_mm": 150, "height_mm": 5000, "reflectance": 0.35},
    "person": {"radius_mm": 220, "height_mm": 1750, "reflectance": 0.35},
    "runner": {"radius_mm": 220, "height_mm": 1750, "reflectance": 0.35},
    "dog": {"radius_mm": 200, "height_mm": 450, "reflectance": 0.3},
}
OBSTACLE_KEYS = {"id": str, "kind": str, "x_mm": "num", "y_mm": "num", "vx_mm_s": "num",
                 "vy_mm_s": "num", "start_ms": "int", "stop_ms": "int", "width_mm": "num",
                 "length_mm": "num", "height_mm": "num", "radius_mm": "num", "reflectance": "num",
                 "fill": "num", "angle_deg": "num", "path": list}
RUNNER_KEYS = {"speed": "profile", "cadence_spm": "profile", "mount_height_mm": "num",
               "pitch_deg": "num", "pitch_profile": "profile", "gait_pitch_deg": "num",
               "gait_roll_deg": "num", "lane_y_mm": "num", "start_x_mm": "num",
               "direction": str, "reaction": dict, "gait": str, "turns": list,
               "heading_deg": "profile"}
REACTION_KEYS = {"enabled": bool, "reaction_ms": "int", "braking_mm_s2": "num", "resume_ms": "int",
                 "turn_back": bool, "accel_mm_s2": "num"}
GROUND_KEYS = {"reflectance": "num", "profile": list, "bumps_mm": "num"}
FAULT_KINDS = ("i2c_errors", "unplug", "bus_hung", "covered", "imu_saturation", "power_cut")
FAULT_KEYS = {"kind": str, "t_ms": "int", "duration_ms": "int", "device": str, "rate": "num",
              "errno": "int", "bus": "int", "accel_mg": "num", "gyro_mdps": "num", "cover": "num"}
BALANCE_KEYS = {"kind": str, "t_ms": "int", "direction": str, "excursion_deg": "num",
                "rise_ms": "int", "recover_ms": "int", "tip_deg": "num", "tip_ms": "int",
                "fall_ms": "int", "impact_mg": "num", "get_up_ms": "int", "jolt_mg": "num"}
QUIRK_KEYS = {"spurious_p": "num", "frozen_p": "num", "wrap_valid_p": "num", "dropout_p": "num"}
TOP_KEYS = {"name": str, "description": str, "board": str, "duration_ms": "int", "seed": "int",
            "long": bool, "tags": list, "runner": dict, "obstacles": list, "ground": dict,
            "ambient": "ambient", "faults": list, "balance": list, "quirks": dict,
            "battery": dict, "button": list, "profile": dict}
RANGES = {"duration_ms": (1000, 4 * 3600 * 1000), "fault_duration_ms": (1, 4 * 3600 * 1000), "mount_height_mm": (300, 1600),
          "pitch_deg": (-60, 90), "reflectance": (0.01, 1.0), "fill": (0.05, 1.0),
          "angle_deg": (-89, 89), "rate": (0.0, 1.0), "radius_mm": (5, 3000),
          "height_mm": (50, 20000), "reaction_ms": (50, 5000), "braking_mm_s2": (300, 12000),
          "accel_mm_s2": (300, 12000), "cover": (0.0, 1.0), "bumps_mm": (0, 200),
          "dropout_p": (0.0, 0.9)}


class _Checker:
    def __init__(self, source):
        self.source = source

    def fail(self, where, what):
        raise ScenarioError("%s: %s: %s" % (self.source, where, what))

    def value(self, where, v, kind):
        if kind == "num":
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                self.fail(where, "expected a number, got %s" % json.dumps(v))
        elif kind == "int":
            if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                self.fail(where, "expected a whole number >= 0, got %s" % json.dumps(v))
        elif kind == "profile":
            self.profile(where, v)
        elif kind == "ambient":
            self.ambient(where, v)
        elif not isinstance(v, kind) or (kind is int and isinstance(v, bool)):
            self.fail(where, "expected %s, got %s" % (kind.__name__, json.dumps(v)))
        key = where.rsplit(".", 1)[-1]
        if key == "duration_ms" and where != key:
            key = "fault_duration_ms"
        if key in RANGES and kind in ("num", "int"):
            lo, hi = RANGES[key]
            if not lo <= v <= hi:
                self.fail(where, "%s is outside %s..%s" % (v, lo, hi))

    def keys(self, where, obj, allowed, required=()):
        if not isinstance(obj, dict):
            self.fail(where, "expected an object, got %s" % json.dumps(obj))
        for key in obj:
            if key not in allowed:
                self.fail("%s.%s" % (where, key) if where else key,
                          "unknown key (known: %s)" % ", ".join(sorted(allowed)))
        for key in required:
            if key not in obj:
                self.fail(where or "scenario", "missing required key %r" % key)
        for key, v in obj.items():
            self.value("%s.%s" % (where, key) if where else key, v, allowed[key])

    def profile(self, where, v):
        """A number, or [[t_ms, value], ...] with t_ms rising."""
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            return
        if not isinstance(v, list) or not v:
            self.fail(where, "expected a number or a list of [t_ms, value] points")
        last = -1
        for i, point in enumerate(v):
            w = "%s[%d]" % (where, i)
            if not isinstance(point, list) or len(point) != 2:
                self.fail(w, "expected [t_ms, value], got %s" % json.dumps(point))
            self.value(w + "[0]", point[0], "int")
            if not isinstance(point[1], str):
                self.value(w + "[1]", point[1], "num")
            if point[0] < last:
                self.fail(w, "t_ms %d goes back in time (previous point %d)" % (point[0], last))
            last = point[0]

    def points(self, where, v, names, rising_first=True):
        """A non-empty list of [a, b, ...] number lists whose first member never falls."""
        if not isinstance(v, list) or not v:
            self.fail(where, "expected a list of [%s] points" % ", ".join(names))
        last = None
        for i, point in enumerate(v):
            w = "%s[%d]" % (where, i)
            if not isinstance(point, list) or len(point) != len(names):
                self.fail(w, "expected [%s], got %s" % (", ".join(names), json.dumps(point)))
            for j, x in enumerate(point):
                self.value("%s[%d]" % (w, j), x, "int" if j == 0 and names[0] == "t_ms" else "num")
            if rising_first and last is not None and point[0] < last:
                self.fail(w, "%s %s goes back (previous point %s)" % (names[0], point[0], last))
            last = point[0]

    def ambient(self, where, v):
        if isinstance(v, str):
            if v not in AMBIENT_PRESETS:
                self.fail(where, "unknown light %r (known: %s)" % (v, ", ".join(AMBIENT_PRESETS)))
            return
        self.profile(where, v)
        if isinstance(v, list):
            for i, (_t, a) in enumerate(v):
                if isinstance(a, str) and a not in AMBIENT_PRESETS:
                    self.fail("%s[%d][1]" % (where, i), "unknown light %r (known: %s)"
                              % (a, ", ".join(AMBIENT_PRESETS)))
                if not isinstance(a, str) and a < 0:
                    self.fail("%s[%d][1]" % (where, i), "ambient cannot be negative")


def _profile(v):
    return [[0, v]] if isinstance(v, (int, float)) else [list(p) for p in v]


def check(spec, source="scenario"):
    """The scenario with defaults filled in, or ScenarioError naming the key."""
    c = _Checker(source)
    c.keys("", spec, TOP_KEYS, required=("name", "duration_ms", "runner"))
    out = dict(spec)
    out.setdefault("board", "esp32_devkitc")
    if out["board"] not in loader.known_boards():
        c.fail("board", "unknown board %r (known: %s)" % (out["board"], ", ".join(loader.known_boards())))
    out.setdefault("seed", 1)
    out.setdefault("long", False)
    out["runner"] = _check_runner(c, spec["runner"])
    out["obstacles"] = _check_obstacles(c, spec.get("obstacles", []))
    ground = dict(spec.get("ground", {}))
    c.keys("ground", ground, GROUND_KEYS)
    if "profile" in ground:
        c.points("ground.profile", ground["profile"], ("x_mm", "z_mm"))
    out["ground"] = ground
    ambient = spec.get("ambient", "shade")
    if isinstance(ambient, str):
        ambient = [[0, ambient]]
    ambient = _profile(ambient)
    out["ambient"] = [[t, AMBIENT_PRESETS[a] if isinstance(a, str) else a] for t, a in ambient]
    for i, f in enumerate(spec.get("faults", [])):
        where = "faults[%d]" % i
        c.keys(where, f, FAULT_KEYS, required=("kind", "t_ms"))
        if f["kind"] not in FAULT_KINDS:
            c.fail(where + ".kind", "unknown fault %r (known: %s)" % (f["kind"], ", ".join(FAULT_KINDS)))
        if f.get("device", "tof") not in ("tof", "imu"):
            c.fail(where + ".device", "device must be \"tof\" or \"imu\"")
    for i, b in enumerate(spec.get("balance", [])):
        where = "balance[%d]" % i
        c.keys(where, b, BALANCE_KEYS, required=("kind", "t_ms"))
        if b["kind"] not in ("stumble", "fall"):
            c.fail(where + ".kind", "balance events are \"stumble\" or \"fall\"")
        if b.get("direction", "backward") not in ("backward", "forward"):
            c.fail(where + ".direction", "direction is \"backward\" or \"forward\"")
    c.keys("quirks", spec.get("quirks", {}), QUIRK_KEYS)
    c.keys("battery", spec.get("battery", {}), {"capacity_mah": "num", "soc_pct": "num"})
    check_profile(c, spec.get("profile", {}))
    for i, press in enumerate(spec.get("button", [])):
        c.keys("button[%d]" % i, press, {"t_ms": "int", "duration_ms": "int"}, ("t_ms",))
    return out


def _check_runner(c, spec):
    runner = dict(spec)
    c.keys("runner", runner, RUNNER_KEYS, required=("speed",))
    if runner.setdefault("direction", "backward") != "backward":
        c.fail("runner.direction", "only \"backward\" running is modelled")
    if runner.setdefault("gait", "run") not in ("run", "walk"):
        c.fail("runner.gait", "gait is \"run\" or \"walk\"")
    runner["speed"] = _profile(runner["speed"])
    for i, (_t, v) in enumerate(runner["speed"]):
        if not 0 <= v <= 8000:
            c.fail("runner.speed[%d][1]" % i, "speed %s mm/s is outside 0..8000" % v)
    cadence = runner.get("cadence_spm", 170)
    runner["cadence_spm"] = cadence if isinstance(cadence, (int, float)) else _profile(cadence)
    for key in ("pitch_profile", "heading_deg"):
        if key in runner:
            runner[key] = _profile(runner[key])
    for i, t in enumerate(runner.get("turns", [])):
        c.value("runner.turns[%d]" % i, t, "int")
    reaction = dict(runner.get("reaction", {}))
    c.keys("runner.reaction", reaction, REACTION_KEYS)
    runner["reaction"] = reaction
    return runner


def _check_obstacles(c, spec):
    obstacles = []
    seen = set()
    for i, ob in enumerate(spec):
        where = "obstacles[%d]" % i
        c.keys(where, ob, OBSTACLE_KEYS, required=("id", "kind", "x_mm"))
        if ob["kind"] not in OBSTACLE_DEFAULTS:
            c.fail(where + ".kind", "unknown kind %r (known: %s)"
                   % (ob["kind"], ", ".join(OBSTACLE_DEFAULTS)))
        if ob["id"] in seen or ob["id"] == "ground":
            c.fail(where + ".id", "id %r is used twice (or reserved)" % ob["id"])
        seen.add(ob["id"])
        if "path" in ob:
            c.points(where + ".path", ob["path"], ("t_ms", "x_mm", "y_mm"))
            if any(k in ob for k in ("vx_mm_s", "vy_mm_s", "start_ms", "stop_ms")):
                c.fail(where + ".path", "a path replaces vx_mm_s/vy_mm_s/start_ms/stop_ms")
        full = dict(OBSTACLE_DEFAULTS[ob["kind"]])
        full.update(ob)
        obstacles.append(full)
    return obstacles


def check_profile(c, profile):
    """Athlete profile settings for the firmware (rearguard.profile.FIELDS), applied at boot."""
    from rearguard.profile import FIELDS

    bounds = {f[0]: (f[2], f[3]) for f in FIELDS}
    c.keys("profile", profile, {name: "int" for name in bounds})
    for name, value in profile.items():
        lo, hi = bounds[name]
        if not lo <= value <= hi:
            c.fail("profile." + name, "%d is outside %d..%d" % (value, lo, hi))


def load(path):
    """Read and check a scenario file; ScenarioError says file, line or key, and what."""
    try:
        with open(path) as f:
            text = f.read()
    except OSError as e:
        raise ScenarioError("%s: cannot read: %s" % (path, e.strerror)) from None
    try:
        spec = json.loads(text)
    except json.JSONDecodeError as e:
        raise ScenarioError("%s:%d:%d: invalid JSON: %s" % (path, e.lineno, e.colno, e.msg)) from None
    return check(spec, path)


def shipped():
    """Paths of the scenarios in sim/scenarios/, sorted."""
    return sorted(os.path.join(SCENARIO_DIR, f) for f in os.listdir(SCENARIO_DIR)
                  if f.endswith(".json"))
