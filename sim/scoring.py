"""Scoring a scenario run against the world's ground truth (the definitions are
in docs/scenarios.md, "Metrics"): leads, false alerts (receding targets
included), balance events, steps, buzzing while standing still, the firmware's
speed estimate, "too fast" notices and blind chirps.

    detections = Detections(world, tof); tof.listeners.append(detections.on_sample)
    watch = Watch(recorder); board.clock.add_listener(watch.on_time)
    metrics = score(spec, world, ghost_world(spec, seed), recorder, detections, watch)
"""

import math

from sim.chips.rng import Rng
from sim.vboard.chips import RAW_VALID
from sim.world import World

FALSE_ALERT_MARGIN_MM = 1500  # + 2 s of closing: see docs/scenarios.md
FALSE_ALERT_LOOKAHEAD_MS = 2000
RECEDING_MM_S = 150  # moving away faster than this: not a reason to alert
STANDING_MS = 10000  # stood still this long next to a static obstacle: should be quiet
STANDING_NEAR_MM = 3000
OBSTACLE_PATTERNS = ("stop", "warning", "caution")
STEADY_MS = 2000  # the true speed held within 5% this long: its estimate is judged
STEADY_MIN_MM_S = 1200
PASSED_MM = 1500  # a static obstacle this close on the path has been approached
BEHIND_MM = 400  # a part of an obstacle this far behind the clip has been passed
WINDOW_BLOCKED_MM = 100  # an obstacle this close covers the window: blind is true
FAULT_SETTLE_MS = 1000  # blind this long after a fault ends still counts as the fault's


class Detections:
    """When the sensor model's ranges first made each obstacle knowable as a
    threat: a static one at its first valid sighting, a moving one at the next
    measurement after a sighting at which it closes on the runner (one range
    gives no direction; docs/scenarios.md, "Metrics")."""

    def __init__(self, world, tof):
        self.world = world
        self.tof = tof
        self.first = {}  # obstacle id -> (t_ms, gap_mm, runner v mm/s)
        self.sighted = {}  # obstacle id -> t_ms of its first valid sighting
        self.pending = []  # moving obstacles sighted once: knowable at the next measurement

    def on_sample(self, t_us, raw, dist, ambient, signal, spads):
        t_ms = t_us // 1000
        for ob in self.pending:
            self.know(ob, t_ms)
        self.pending = []
        scene = self.tof.last_scene
        if raw != RAW_VALID or scene is None or scene.dominant in (None, "ground", "cover"):
            return
        if scene.dominant in self.first or abs(dist - scene.distance_mm) > 300:
            return  # known already; or a quirk (spurious, aliased), not a sighting
        for ob in self.world.obstacles:
            if ob.id != scene.dominant:
                continue
            self.sighted.setdefault(ob.id, t_ms)
            vx, vy = ob.velocity(t_ms)
            if math.hypot(vx, vy) <= RECEDING_MM_S:
                self.know(ob, t_ms)  # it closes at the runner's own speed
            elif self.world.v + ob.approach_mm_s(t_ms, self.world.heading(t_ms)[0]) > RECEDING_MM_S:
                self.pending.append(ob)  # crossing towards the path, or running away?
            # (one keeping its distance, a partner at the same pace, is no threat yet)

    def know(self, ob, t_ms):
        world = self.world
        gap = ob.gap_mm(t_ms, world.x, world.y, 0.0, world.heading(t_ms)[0])
        self.first[ob.id] = (t_ms, gap, world.v)


class Watch:
    """Samples the firmware's state every `every_ms` of board time: which pattern
    plays and whether the motor is on, and its estimate of the runner's speed."""

    def __init__(self, recorder, every_ms=50):
        self.recorder = recorder
        self.every_us = every_ms * 1000
        self.every_ms = every_ms
        self.next_us = 0
        self.rows = []  # (t_ms, pattern name, motor on, speed estimate mm/s)
        self.names = None

    def on_time(self, now_us):
        if now_us < self.next_us or not self.recorder.apps:
            return
        self.next_us = now_us + self.every_us
        app = self.recorder.apps[-1]
        if self.names is None:
            import sys

            self.names = sys.modules["rearguard.haptics"].NAMES
        player = app.player
        pace = getattr(app.obstacle, "pace", None)
        speed = pace.speed_mm_s if pace is not None else app.body.speed_mm_s
        self.rows.append((now_us // 1000, self.names[player.pattern], player.on, speed))


def ghost_world(spec, seed):
    """The same world with no firmware and no reaction: when would contact happen?"""
    ghost = World(spec, Rng(seed).fork(1), board=None, react=False)
    ghost.stop_on_contact = False
    ghost.advance(spec["duration_ms"] * 1000)
    return ghost


# --- ground truth ---------------------------------------------------------------------------
def stopping_distance_mm(v_runner, v_obstacle_x, reaction_ms, braking):
    closing = v_runner - v_obstacle_x
    brake_s = v_runner / braking
    return max(0.0, closing * reaction_ms / 1000.0 + v_runner * v_runner / (2 * braking)
               + max(0.0, -v_obstacle_x) * brake_s)


def truth_row(world, t_ms):
    """The world's truth row at or before t_ms (the first one before any)."""
    rows = world.truth
    lo, hi = 0, len(rows) - 1
    if hi < 0:
        return None
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if rows[mid][0] <= t_ms:
            lo = mid
        else:
            hi = mid - 1
    return rows[lo]


def truth_at(world, t_ms):
    """(x, v) of the runner from the world's truth log at or before t_ms."""
    row = truth_row(world, t_ms)
    if row is None:
        return world.x, 0.0
    if row[0] > t_ms:
        return row[1], 0.0
    return row[1], row[2]


def pose_at(world, t_ms):
    """(x, y, v, heading) of the runner at or before t_ms."""
    row = truth_row(world, t_ms)
    if row is None:
        return world.x, world.y, 0.0, 0.0
    return row[1], row[7], row[2] if row[0] <= t_ms else 0.0, row[8]


def alert_cause(world, t_ms, reaction_ms, braking):
    """Why an obstacle alert at t_ms: "justified" (something on, or about to be on,
    the path within stopping distance plus a margin, and not moving away),
    "receding" (only things moving away), or None (nothing)."""
    x, y, v, heading = pose_at(world, t_ms)
    cause = None
    for ob in world.obstacles:
        for ahead in (0, FALSE_ALERT_LOOKAHEAD_MS // 2, FALSE_ALERT_LOOKAHEAD_MS):
            t = t_ms + ahead
            gap = ob.gap_mm(t, x + v * ahead / 1000.0 * _cos(heading),
                            y + v * ahead / 1000.0 * _sin(heading), 300, heading, BEHIND_MM)
            if gap is None:
                continue
            approach = ob.approach_mm_s(t_ms, heading)
            closing = max(0.0, v + approach)
            horizon = (stopping_distance_mm(v, -approach, reaction_ms, braking)
                       + FALSE_ALERT_MARGIN_MM + closing * FALSE_ALERT_LOOKAHEAD_MS / 1000.0)
            if gap <= horizon:
                if v + approach < -RECEDING_MM_S:
                    cause = "receding"
                    continue
                return "justified"
    return cause


def _cos(deg):
    return math.cos(math.radians(deg))


def _sin(deg):
    return math.sin(math.radians(deg))


# --- the score ------------------------------------------------------------------------------
def score(spec, world, ghost, recorder, detections, watch=None):
    reaction_ms = world.reaction_ms
    braking = world.braking
    alerts = [(t, level) for t, kind, level in recorder.events if kind == "obstacle"]
    obstacles = [obstacle_row(world, ghost, ob, detections, [t for t, _l in alerts])
                 for ob in world.obstacles]
    causes = [(t, level, alert_cause(world, t, reaction_ms, braking)) for t, level in alerts]
    false_alerts = [t for t, _level, cause in causes if cause != "justified"]
    out = {
        "obstacles": obstacles,
        "false_alerts": len(false_alerts),
        "false_alert_ms": false_alerts[:20],
        "stops_receding": sum(1 for _t, level, cause in causes
                              if level == "stop" and cause == "receding"),
        "balance": balance_metrics(spec, recorder),
        "gait": {"true_steps": world.true_steps, "detected_steps": detected_steps(recorder)},
        "too_fast_notices": sum(1 for _t, kind, _l in recorder.events if kind == "too_fast"),
        "false_blind": len(false_blinds(spec, recorder, world)),
        "running_s": round(running_ms(world) / 1000.0, 1),
    }
    if watch is not None:
        out["stationary_alert_s"] = stationary_alert_s(world, watch)
        out["speed_error_pct"] = speed_errors(world, watch)
        out["patterns"] = pattern_changes(watch)
    return out


def obstacle_row(world, ghost, ob, detections, alerts):
    contact = ghost.collisions.get(ob.id)
    seen = detections.first.get(ob.id)
    row = {"id": ob.id, "kind": ob.kind, "collision_course": contact is not None,
           "contact_ms": contact, "first_detectable_ms": seen[0] if seen else None,
           "available_lead_ms": None, "lead_ms": None,
           "collided": ob.id in world.collisions, "avoidable": None}
    if contact is None:
        return row
    if seen is not None and seen[0] <= contact:
        row["available_lead_ms"] = contact - seen[0]
        gap = seen[1] if seen[1] is not None else 0.0
        approach = ob.approach_mm_s(seen[0], world.heading(seen[0])[0])
        # (a runner who does not react avoids nothing: None)
        row["avoidable"] = gap > stopping_distance_mm(
            seen[2], -approach, world.reaction_ms, world.braking) if world.react else None
    else:
        row["available_lead_ms"] = 0
        row["avoidable"] = False
    relevant = relevant_from(ghost, ob, contact)
    firsts = [t for t in alerts if relevant <= t <= contact]
    if firsts:
        row["lead_ms"] = contact - firsts[0]
        # The firmware stamps a tick at its start, the model a sample when it is
        # read a little later; and a moving obstacle alerted from its first
        # sighting was knowable then: never report more lead than was available.
        sighted = detections.sighted.get(ob.id, contact) - 10
        if row["available_lead_ms"] < row["lead_ms"] <= contact - sighted:
            row["available_lead_ms"] = row["lead_ms"]
    return row


def relevant_from(ghost, ob, contact_ms):
    """From when an alert counts for this obstacle: it is the nearest thing on the
    runner's path and within 8 m (ghost run: no reaction)."""
    for row in ghost.truth:
        t, gap, oid = row[0], row[3], row[4]
        if oid == ob.id and gap is not None and gap <= 8000:
            return t
    return contact_ms


def justified(world, t_ms, reaction_ms, braking):
    """An obstacle alert is justified if something is on (or about to be on) the
    path within stopping distance plus a margin, and is not moving away."""
    return alert_cause(world, t_ms, reaction_ms, braking) == "justified"


def running_ms(world):
    rows = world.truth
    return sum(b[0] - a[0] for a, b in zip(rows, rows[1:]) if a[2] >= 1000)


def stationary_alert_s(world, watch):
    """Seconds an obstacle pattern buzzed while the runner had stood still for
    STANDING_MS or more with a static obstacle within STANDING_NEAR_MM on the path."""
    still_since = None
    buzz_ms = 0
    rows = watch.rows
    for i, (t, pattern, on, _speed) in enumerate(rows):
        row = truth_row(world, t)
        if row is None or row[2] > 0:
            still_since = None
            continue
        if still_since is None:
            still_since = t
        if t - still_since < STANDING_MS or not on or pattern not in OBSTACLE_PATTERNS:
            continue
        x, y, _v, heading = pose_at(world, t)
        if any(ob.approach_mm_s(t, heading) == 0 and 0 <= (ob.gap_mm(t, x, y, 0, heading) or -1)
               <= STANDING_NEAR_MM for ob in world.obstacles):
            buzz_ms += rows[i + 1][0] - t if i + 1 < len(rows) else watch.every_ms
    return round(buzz_ms / 1000.0, 2)


def speed_errors(world, watch):
    """Absolute errors (%) of the firmware's speed estimate at steady running
    speeds: {"before": [...], "after": [...]} a static obstacle was approached."""
    passed_ms = None
    for row in world.truth:
        gap, oid = row[3], row[4]
        ob = next((o for o in world.obstacles if o.id == oid), None)
        if gap is not None and gap <= PASSED_MM and ob is not None and ob.path is None \
                and ob.vx == 0 and ob.vy == 0:
            passed_ms = row[0]
            break
    steady = {}  # truth time -> the true speed has held within 5% for STEADY_MS
    ref_v, ref_t = None, 0
    for row in world.truth:
        t, v = row[0], row[2]
        if ref_v is None or v < STEADY_MIN_MM_S or abs(v - ref_v) > 0.05 * ref_v:
            ref_v, ref_t = v, t
        steady[t] = v >= STEADY_MIN_MM_S and t - ref_t >= STEADY_MS
    out = {"before": [], "after": []}
    for t, _pattern, _on, est in watch.rows:
        row = truth_row(world, t)
        if row is None or not steady.get(row[0]):
            continue
        v = row[2]
        key = "after" if passed_ms is not None and t > passed_ms else "before"
        out[key].append(round(abs(est - v) * 100.0 / v, 1))
    return out


def pattern_changes(watch):
    """[[t_ms, pattern name], ...] each time the haptic pattern changed (sampled)."""
    out = []
    for t, pattern, _on, _speed in watch.rows:
        if not out or out[-1][1] != pattern:
            out.append([t, pattern])
    return out


def fault_windows(spec):
    """(start, end) of the faults that really blind the sensor."""
    out = []
    for f in spec.get("faults", []):
        if f["kind"] in ("unplug", "bus_hung", "covered", "i2c_errors", "power_cut"):
            end = f["t_ms"] + f.get("duration_ms", spec["duration_ms"])
            out.append((f["t_ms"], end + FAULT_SETTLE_MS))
    return out


def false_blinds(spec, recorder, world):
    """Blind events outside any fault, with nothing pressed against the window."""
    windows = fault_windows(spec)
    out = []
    for t, kind, _l in recorder.events:
        if kind != "blind" or any(a <= t <= b for a, b in windows):
            continue
        row = truth_row(world, t)
        if row is not None and row[3] is not None and row[3] <= WINDOW_BLOCKED_MM:
            continue  # backed into the obstacle: the window is covered
        out.append(t)
    return out


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
