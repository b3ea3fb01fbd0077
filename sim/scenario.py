"""Scenarios: load and check a scenario JSON (docs/scenarios.md is the spec),
wire a virtual board with chip models over a simulated world, run the
unchanged firmware on it, and score what it did against ground truth.

    spec = load("sim/scenarios/wall_2_5ms_sun.json")     # ScenarioError if malformed
    out = run(spec, seed=7, trace_path="out.csv")
    out["events"], out["metrics"]["obstacles"]
"""

import json
import math
import os
import sys

from sim import loader, power
from sim.board import VirtualBoard
from sim.chips.battery import Battery
from sim.chips.imu import make_imu
from sim.chips.rng import Rng
from sim.chips.vl53l1x import VL53L1X
from sim.vboard.chips import RAW_VALID
from sim.world import AMBIENT_PRESETS, World

SCENARIO_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "scenarios")
FALSE_ALERT_MARGIN_MM = 1500  # + 2 s of closing: see docs/scenarios.md
FALSE_ALERT_LOOKAHEAD_MS = 2000


class ScenarioError(ValueError):
    """A scenario file that cannot be run: says which file, key or line, and what is wrong."""


# --- the schema ------------------------------------------------------------------------------
OBSTACLE_DEFAULTS = {
    "wall": {"width_mm": 10000, "height_mm": 2500, "reflectance": 0.6, "angle_deg": 0},
    "fence": {"length_mm": 8000, "height_mm": 1200, "reflectance": 0.4, "fill": 0.6,
              "angle_deg": 30},
    "pole": {"radius_mm": 50, "height_mm": 3000, "reflectance": 0.5},
    "tree": {"radius_mm": 150, "height_mm": 5000, "reflectance": 0.35},
    "person": {"radius_mm": 220, "height_mm": 1750, "reflectance": 0.35},
    "runner": {"radius_mm": 220, "height_mm": 1750, "reflectance": 0.35},
}
OBSTACLE_KEYS = {"id": str, "kind": str, "x_mm": "num", "y_mm": "num", "vx_mm_s": "num",
                 "vy_mm_s": "num", "start_ms": "int", "stop_ms": "int", "width_mm": "num",
                 "length_mm": "num", "height_mm": "num", "radius_mm": "num", "reflectance": "num",
                 "fill": "num", "angle_deg": "num"}
RUNNER_KEYS = {"speed": "profile", "cadence_spm": "profile", "mount_height_mm": "num",
               "pitch_deg": "num", "pitch_profile": "profile", "gait_pitch_deg": "num",
               "gait_roll_deg": "num", "lane_y_mm": "num", "start_x_mm": "num",
               "direction": str, "reaction": dict, "gait": str, "turns": list}
FAULT_KINDS = ("i2c_errors", "unplug", "bus_hung", "covered", "imu_saturation", "power_cut")
FAULT_KEYS = {"kind": str, "t_ms": "int", "duration_ms": "int", "device": str, "rate": "num",
              "errno": "int", "bus": "int", "accel_mg": "num", "gyro_mdps": "num"}
BALANCE_KEYS = {"kind": str, "t_ms": "int", "direction": str, "excursion_deg": "num",
                "rise_ms": "int", "recover_ms": "int", "tip_deg": "num", "tip_ms": "int",
                "fall_ms": "int", "impact_mg": "num", "get_up_ms": "int", "jolt_mg": "num"}
TOP_KEYS = {"name": str, "description": str, "board": str, "duration_ms": "int", "seed": "int",
            "long": bool, "tags": list, "runner": dict, "obstacles": list, "ground": dict,
            "ambient": "ambient", "faults": list, "balance": list, "quirks": dict,
            "battery": dict, "button": list, "profile": dict}
RANGES = {"duration_ms": (1000, 4 * 3600 * 1000), "fault_duration_ms": (1, 4 * 3600 * 1000), "mount_height_mm": (300, 1600),
          "pitch_deg": (-60, 90), "reflectance": (0.01, 1.0), "fill": (0.05, 1.0),
          "angle_deg": (-89, 89), "rate": (0.0, 1.0), "radius_mm": (5, 3000),
          "height_mm": (50, 20000), "reaction_ms": (50, 5000), "braking_mm_s2": (300, 12000)}


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
    runner = dict(spec["runner"])
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
    if "pitch_profile" in runner:
        runner["pitch_profile"] = _profile(runner["pitch_profile"])
    for i, t in enumerate(runner.get("turns", [])):
        c.value("runner.turns[%d]" % i, t, "int")
    reaction = dict(runner.get("reaction", {}))
    c.keys("runner.reaction", reaction, {"enabled": bool, "reaction_ms": "int",
                                         "braking_mm_s2": "num"})
    runner["reaction"] = reaction
    out["runner"] = runner
    obstacles = []
    seen = set()
    for i, ob in enumerate(spec.get("obstacles", [])):
        where = "obstacles[%d]" % i
        c.keys(where, ob, OBSTACLE_KEYS, required=("id", "kind", "x_mm"))
        if ob["kind"] not in OBSTACLE_DEFAULTS:
            c.fail(where + ".kind", "unknown kind %r (known: %s)"
                   % (ob["kind"], ", ".join(OBSTACLE_DEFAULTS)))
        if ob["id"] in seen or ob["id"] == "ground":
            c.fail(where + ".id", "id %r is used twice (or reserved)" % ob["id"])
        seen.add(ob["id"])
        full = dict(OBSTACLE_DEFAULTS[ob["kind"]])
        full.update(ob)
        obstacles.append(full)
    out["obstacles"] = obstacles
    ground = dict(spec.get("ground", {}))
    c.keys("ground", ground, {"reflectance": "num"})
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
    c.keys("quirks", spec.get("quirks", {}),
           {"spurious_p": "num", "frozen_p": "num", "wrap_valid_p": "num"})
    c.keys("battery", spec.get("battery", {}), {"capacity_mah": "num", "soc_pct": "num"})
    check_profile(c, spec.get("profile", {}))
    for i, press in enumerate(spec.get("button", [])):
        c.keys("button[%d]" % i, press, {"t_ms": "int", "duration_ms": "int"}, ("t_ms",))
    return out


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


# --- wiring and running ------------------------------------------------------------------------------
class Recorder:
    """The simulator's window onto the firmware: events, the App, session summaries."""

    def __init__(self, world=None, active=False, profile=None):
        self.world = world
        self.active = active
        self.profile = profile or {}
        self.events = []  # (t_ms, kind name, level name)
        self.apps = []
        self.summaries = []

    def on_boot(self, app):
        self.apps.append(app)
        events = sys.modules["rearguard.events"]
        kinds, levels = events.KIND_NAMES, events.LEVEL_NAMES
        session_end = events.SESSION_END

        def sink(t_ms, kind, level):
            name = kinds[kind] if kind < len(kinds) else "kind_%d" % kind
            self.events.append((t_ms, name, levels[level] if 0 < level < len(levels) else None))
            if name == "obstacle" and self.world is not None:
                self.world.obstacle_alert(t_ms)
            if kind == session_end:
                self.summaries.append(session_summary(app, t_ms))

        app.events.sinks.append(sink)
        for name, value in sorted(self.profile.items()):
            app.profile.set(name, value)  # what the athlete set up over sync
        if self.active:
            # `replay --active`: the whole trace is inside a running session, with
            # automatic pause/end off.
            app.session_control.keep_active(_now_ms())

    def event_dicts(self):
        out = []
        for t, kind, level in self.events:
            e = {"t_ms": t, "kind": kind}
            if level:
                e["level"] = level
            out.append(e)
        return out

    def summary(self):
        return self.summaries[-1] if self.summaries else None


def _now_ms():
    from sim import vtime

    return vtime.ticks_ms()


def session_summary(app, t_ms):
    """The summary the firmware would store, as a dict (names from rearguard.sessionfile)."""
    names = sys.modules["rearguard.sessionfile"].summary_names()
    return dict(zip(names, app.session.summary(t_ms)))


def wire_xshut(vb, tof, pin):
    """The VL53L1X follows its XSHUT pin: every write to it, and a reset letting
    it go (the breakout's pull-up then holds it high)."""

    def written(p, level):
        if p == pin:
            tof.xshut(1 if level is None else level)
    vb.pin_listeners.append(written)


def build_board(spec, rng, world_source, imu_noise=True, tof_cls=VL53L1X, start_ms=0, flash=None):
    """A VirtualBoard with the VL53L1X, the board's IMU, battery and button wired;
    `flash` (sim.flash.VirtualFlash) holds sessions across runs, else a fresh one."""
    vb = VirtualBoard(spec["board"], start_ms=start_ms, flash=flash)
    cfg = vb.config

    def now_us():
        return vb.clock.us

    tof = tof_cls(world_source, rng.fork(2), now_us, spec.get("quirks"))
    if cfg.TOF.get("xshut") is not None:
        wire_xshut(vb, tof, cfg.TOF["xshut"])
    vb.attach_i2c(cfg.TOF["bus"], cfg.TOF["addr"], tof)
    imu = make_imu(cfg.IMU["chip"], world_source, rng.fork(3), now_us, cfg.IMU["axes"], imu_noise)
    vb.attach_i2c(cfg.IMU["bus"], cfg.IMU["addr"], imu)
    bat = spec.get("battery", {})
    cell = Battery(bat.get("capacity_mah", 400), bat.get("soc_pct", 90),
                   cfg.BATTERY["divider"], *power.board_load(vb))  # the power model's load
    vb.adc_sources[cfg.BATTERY["pin"]] = cell.adc_uv
    presses = spec.get("button", [])
    if presses:
        b = cfg.BUTTON
        idle, pressed = (1, 0) if b["active_low"] else (0, 1)

        def button_level(t_ms):
            for p in presses:
                if p["t_ms"] <= t_ms < p["t_ms"] + p.get("duration_ms", 150):
                    return pressed
            return idle
        vb.pin_inputs[b["pin"]] = button_level
    return vb, tof, imu, cell


def run(spec, seed=None, trace_path=None, plot_path=None, echo=None, flash=None, on_board=None):
    """Run a checked scenario; returns the JSON-able result (events, summary, metrics).
    The session lands in `flash` when given (sim.pty serves it afterwards);
    `on_board(vb)` sees the virtual board before it boots (`sim board` paces it)."""
    seed = spec["seed"] if seed is None else seed
    rng = Rng(seed)
    world = World(spec, rng.fork(1))
    vb, tof, imu, cell = build_board(spec, rng, world, flash=flash)
    world.board = vb
    world.motor_pin = vb.config.MOTOR["pin"]
    world.chips = {"tof": tof, "imu": imu}
    world.power_cut_hooks.append(vb.flash.reboot)  # open files lost, committed data kept
    vb.clock.add_listener(world.on_time)
    recorder = Recorder(world, profile=spec.get("profile"))
    probe = None
    if plot_path is not None:
        from sim.plot import Probe

        probe = Probe(recorder)
        vb.clock.add_listener(probe.on_time)
    detections = Detections(world, tof)
    tof.listeners.append(detections.on_sample)
    trace = None
    if trace_path is not None:
        from sim.trace import TraceWriter

        trace = TraceWriter()
        imu.listeners.append(trace.on_imu)
        tof.listeners.append(trace.on_range)
    if on_board is not None:
        on_board(vb)
    result = vb.run(until_ms=spec["duration_ms"], on_boot=recorder.on_boot, echo=echo)
    ghost = ghost_world(spec, seed)
    metrics = score(spec, world, ghost, recorder, detections)
    metrics["sim"] = {
        "ended_by": result.ended_by,
        "resets": [list(r) for r in result.resets],
        "tof_samples": len(tof.samples),
        "quirks": dict(sorted(tof.counts.items())),
        "chip_problems": tof.problems_report() + imu_problems(imu),
        "faults": [[t, text] for t, text in world.fault_log],
        "battery_soc_pct": round(cell.soc_pct, 2),
    }
    out = {
        "scenario": spec["name"],
        "seed": seed,
        "board": spec["board"],
        "events": recorder.event_dicts(),
        "summary": recorder.summary(),
        "metrics": metrics,
    }
    if trace is not None:
        trace.write(trace_path)
    if plot_path is not None:
        from sim.plot import plot_run

        plot_run(plot_path, spec, world, tof, vb, recorder, probe)
    return out


def imu_problems(imu):
    return ["IMU write to 0x%02x: %s" % (r, d.hex()) for r, d in imu.unknown_writes] + imu.problems


class Detections:
    """When the sensor model first reported each obstacle as a valid range."""

    def __init__(self, world, tof):
        self.world = world
        self.tof = tof
        self.first = {}  # obstacle id -> (t_ms, gap_mm, runner v mm/s)

    def on_sample(self, t_us, raw, dist, ambient, signal, spads):
        scene = self.tof.last_scene
        if raw != RAW_VALID or scene is None or scene.dominant in (None, "ground"):
            return
        oid = scene.dominant
        if oid in self.first:
            return
        if abs(dist - scene.distance_mm) > 300:
            return  # a quirk (spurious, aliased), not a sighting of the obstacle
        t_ms = t_us // 1000
        for ob in self.world.obstacles:
            if ob.id == oid:
                gap = ob.gap_mm(t_ms, self.world.x, self.world.y)
                self.first[oid] = (t_ms, gap, self.world.v)


def ghost_world(spec, seed):
    """The same world with no firmware and no reaction: when would contact happen?"""
    ghost = World(spec, Rng(seed).fork(1), board=None, react=False)
    ghost.stop_on_contact = False
    ghost.advance(spec["duration_ms"] * 1000)
    return ghost


# --- metrics (definitions in docs/scenarios.md) ----------------------------------------------------
def stopping_distance_mm(v_runner, v_obstacle_x, reaction_ms, braking):
    closing = v_runner - v_obstacle_x
    brake_s = v_runner / braking
    return max(0.0, closing * reaction_ms / 1000.0 + v_runner * v_runner / (2 * braking)
               + max(0.0, -v_obstacle_x) * brake_s)


def truth_at(world, t_ms):
    """(x, v) of the runner from the world's truth log at or before t_ms."""
    rows = world.truth
    lo, hi = 0, len(rows) - 1
    if hi < 0 or rows[0][0] > t_ms:
        return world.x if hi < 0 else rows[0][1], 0.0
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if rows[mid][0] <= t_ms:
            lo = mid
        else:
            hi = mid - 1
    return rows[lo][1], rows[lo][2]


def score(spec, world, ghost, recorder, detections):
    reaction_ms = world.reaction_ms
    braking = world.braking
    alerts = [t for t, kind, _level in recorder.events if kind == "obstacle"]
    obstacles = []
    for ob in world.obstacles:
        contact = ghost.collisions.get(ob.id)
        seen = detections.first.get(ob.id)
        row = {"id": ob.id, "kind": ob.kind, "collision_course": contact is not None,
               "contact_ms": contact, "first_detectable_ms": seen[0] if seen else None,
               "available_lead_ms": None, "lead_ms": None,
               "collided": ob.id in world.collisions, "avoidable": None}
        if contact is not None:
            if seen is not None and seen[0] <= contact:
                row["available_lead_ms"] = contact - seen[0]
                gap = seen[1] if seen[1] is not None else 0.0
                vx, _vy = ob.velocity(seen[0])
                row["avoidable"] = gap > stopping_distance_mm(seen[2], vx, reaction_ms, braking)
            else:
                row["available_lead_ms"] = 0
                row["avoidable"] = False
            relevant = relevant_from(ghost, ob, contact)
            firsts = [t for t in alerts if relevant <= t <= contact]
            if firsts:
                row["lead_ms"] = contact - firsts[0]
                # The firmware stamps a tick at its start, the model a sample when
                # it is read a little later: never report more lead than was available.
                if row["available_lead_ms"] < row["lead_ms"] <= row["available_lead_ms"] + 10:
                    row["available_lead_ms"] = row["lead_ms"]
        obstacles.append(row)
    false_alerts = [t for t in alerts if not justified(world, t, reaction_ms, braking)]
    out = {
        "obstacles": obstacles,
        "false_alerts": len(false_alerts),
        "false_alert_ms": false_alerts[:20],
        "balance": balance_metrics(spec, recorder),
        "gait": {"true_steps": world.true_steps, "detected_steps": detected_steps(recorder)},
    }
    return out


def relevant_from(ghost, ob, contact_ms):
    """From when an alert counts for this obstacle: it is the nearest thing on the
    runner's path and within 8 m (ghost run: no reaction)."""
    for t, _x, _v, gap, oid, _pitch, _acc in ghost.truth:
        if oid == ob.id and gap is not None and gap <= 8000:
            return t
    return contact_ms


def justified(world, t_ms, reaction_ms, braking):
    """An obstacle alert is justified if something is on (or about to be on) the
    path within stopping distance plus a margin."""
    x, v = truth_at(world, t_ms)
    for ob in world.obstacles:
        for ahead in (0, FALSE_ALERT_LOOKAHEAD_MS // 2, FALSE_ALERT_LOOKAHEAD_MS):
            t = t_ms + ahead
            gap = ob.gap_mm(t, x + v * ahead / 1000.0, world.y, lateral_margin=300)
            if gap is None:
                continue
            vx, _vy = ob.velocity(t_ms)
            closing = max(0.0, v - vx)
            horizon = (stopping_distance_mm(v, vx, reaction_ms, braking) + FALSE_ALERT_MARGIN_MM
                       + closing * FALSE_ALERT_LOOKAHEAD_MS / 1000.0)
            if -400 <= gap <= horizon:
                return True
    return False


def balance_metrics(spec, recorder):
    truth = [b for b in spec.get("balance", []) if b["t_ms"] < spec["duration_ms"]]
    stumbles = [b["t_ms"] for b in truth if b["kind"] == "stumble"]
    falls = [b["t_ms"] for b in truth if b["kind"] == "fall"]
    got_stumbles = [t for t, kind, _l in recorder.events if kind == "stumble"]
    got_falls = [t for t, kind, _l in recorder.events if kind == "fall"]
    det_s = [t for t in stumbles if any(t - 100 <= e <= t + 1500 for e in got_stumbles)]
    det_f = [t for t in falls if any(t <= e <= t + 6000 for e in got_falls)]
    return {
        "stumbles": len(stumbles), "falls": len(falls),
        "detected_stumbles": len(det_s), "detected_falls": len(det_f),
        "false_stumbles": sum(1 for e in got_stumbles
                              if not any(t - 100 <= e <= t + 1500 for t in stumbles + falls)),
        "false_falls": sum(1 for e in got_falls if not any(t <= e <= t + 6000 for t in falls)),
    }


def detected_steps(recorder):
    if not recorder.apps:
        return None
    steps = getattr(recorder.apps[-1].body, "steps", None)
    return steps if isinstance(steps, int) else None
