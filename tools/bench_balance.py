"""Balance and gait figures for `make bench`, from synthetic waist-IMU traces
built from published kinematics (docs/balance.md), run through the unchanged
firmware BodyMonitor under CPython; and, where the simulator has them, its
gait/stumble/fall scenarios.

    figures()   # {"fall_recall": 1.0, "stumble_recall": ..., "balance_false_per_hour": 0.0,
                #  "step_error_pct": ...}
    rows, truth = synth(Plan(seed=3).run(60, 180).fall(50, "back"), rate_hz=100)
    events, body = run_body(rows)

The synthetic runner (Plan/synth) is deliberately independent of sim/world.py:
it is a second opinion, written from the studies rather than from the
simulator, so the detector is not tuned to one model's numbers.

Model, per step (cadence c, period T = 60/c s):
- running: vertical specific force a half-sine over the contact time
  (tc = 0.6 T at 140 spm down to 0.5 T at 200 spm) with peak pi*T/(2*tc) g so
  the mean is 1 g, ~0 g in flight, plus a short impact transient at contact;
  walking: 1 g + a sinusoid of 0.2-0.35 g at step frequency.
- fore-aft +-0.3 g (walking 0.15 g) at step frequency; lateral +-0.15 g at
  stride frequency.
- pelvis pitch +-1.5-3.5 deg at step frequency, roll +-3-6 deg and yaw +-5 deg at
  stride frequency (pelvic tilt/obliquity/rotation ranges in running).
- per-step jitter of period (+-3 %) and amplitudes (+-15 %), sensor noise
  (15 mg, 0.5 deg/s), residual gyro bias up to 1 deg/s, a mounting tilt up to
  8 deg about each axis.
Stumble: the trunk turns 16-28 deg off its path (the range of real recovered
stumbles, SisFall D18: median 19 deg) in 0.15-0.3 s and is brought back over
~0.6 s; no foot-catch jolt (the turn alone must be enough). Fall: an
inverted pendulum (L = 1 m) from a small perturbation until the trunk is
~85 deg from vertical, support force dropping as it goes, an impact of 2.5-6 g,
then lying nearly still.
"""

import math
import os
import random

from sim import loader

G = 1.0


class Plan:
    """A script of what the synthetic runner does, second by second."""

    def __init__(self, seed=0, mount_tilt_deg=None, bias_dps=None):
        self.rng = random.Random(seed)
        self.segments = []  # (t0_s, duration_s, kind, params)
        self.t = 0.0
        r = self.rng
        tilt = mount_tilt_deg if mount_tilt_deg is not None else 8.0
        self.mount = (r.uniform(-tilt, tilt), r.uniform(-tilt, tilt), r.uniform(-180, 180) * 0)
        b = bias_dps if bias_dps is not None else 1.0
        self.bias = (r.uniform(-b, b), r.uniform(-b, b), r.uniform(-b, b))
        # Individual style: how much this runner's pelvis rocks, and how loosely
        # the clip sits (a damped ~10 Hz wobble after each foot contact).
        self.rock = (r.uniform(0.6, 1.8), r.uniform(0.6, 1.6))
        self.wobble_deg = r.uniform(0.0, 1.5)
        self.events = []  # (t_s, kind, direction)

    def _add(self, seconds, kind, **params):
        self.segments.append((self.t, seconds, kind, params))
        self.t += seconds
        return self

    def still(self, seconds):
        return self._add(seconds, "still")

    def run(self, seconds, cadence_spm, lean_deg=-4.0):
        return self._add(seconds, "run", cadence=cadence_spm, lean=lean_deg)

    def walk(self, seconds, cadence_spm, lean_deg=-2.0):
        return self._add(seconds, "walk", cadence=cadence_spm, lean=lean_deg)

    def stumble(self, at_s, direction="back", size_deg=None, rise_s=None):
        r = self.rng
        lo, hi = {"back": (16, 26), "forward": (18, 28)}.get(direction, (18, 26))
        size = size_deg if size_deg is not None else r.uniform(lo, hi)
        rise = rise_s if rise_s is not None else r.uniform(0.15, 0.3)
        self.events.append((at_s, "stumble", direction, size, rise))
        return self

    def fall(self, at_s, direction="back", lie_s=8.0, gets_up=True):
        self.events.append((at_s, "fall", direction, lie_s, gets_up))
        return self

    # Things runners do that are not losses of balance (confounders).
    def pose(self, at_s, seconds, pitch=0.0, roll=0.0, yaw=0.0, hold=False):
        """Turn the trunk by (pitch, roll, yaw) deg over `seconds`, and back unless `hold`."""
        self.events.append((at_s, "pose", "back", seconds, (pitch, roll, yaw), hold))
        return self

    def turn_round(self, at_s):
        return self.pose(at_s, 1.2, roll=8.0, yaw=180.0)  # round, and round again

    def look_back(self, at_s, side=1):
        return self.pose(at_s, 0.7, pitch=-3.0, roll=6.0 * side, yaw=70.0 * side)

    def jump(self, at_s):
        """A hop over a kerb: 0.35 s of near free fall, a 5 g landing."""
        self.events.append((at_s, "jump", "back", 0.35, 5.0))
        return self


def _rot(pitch, roll, yaw):
    # Device orientation in the world: R = Rz(yaw) Ry(pitch) Rx(-roll), radians.
    cp, sp = math.cos(pitch), math.sin(pitch)
    cr, sr = math.cos(-roll), math.sin(-roll)
    cy, sy = math.cos(yaw), math.sin(yaw)
    ry = ((cp, 0, sp), (0, 1, 0), (-sp, 0, cp))
    rx = ((1, 0, 0), (0, cr, -sr), (0, sr, cr))
    rz = ((cy, -sy, 0), (sy, cy, 0), (0, 0, 1))
    return _mul(rz, _mul(ry, rx))


def _mul(a, b):
    return tuple(tuple(sum(a[i][k] * b[k][j] for k in range(3)) for j in range(3)) for i in range(3))


def _tmul(r, v):
    # R^T v: a world vector in device coordinates
    return tuple(r[0][i] * v[0] + r[1][i] * v[1] + r[2][i] * v[2] for i in range(3))


class _Gait:
    """Step-by-step oscillations for one segment, with per-step jitter."""

    def __init__(self, rng, kind, cadence, t0, rock=(1.0, 1.0), wobble_deg=0.0):
        self.rock = rock
        self.wobble_deg = wobble_deg
        self.rng = rng
        self.kind = kind
        self.cadence = cadence
        self.step_t0 = t0
        self.steps = []  # step start times
        self._new_step(t0)

    def _new_step(self, t0):
        r = self.rng
        self.step_t0 = t0
        self.T = 60.0 / self.cadence * r.uniform(0.97, 1.03)
        self.prev_amp = getattr(self, "amp", 1.0)
        self.amp = r.uniform(0.85, 1.15)
        self.steps.append(t0)
        self.side = 1 - 2 * (len(self.steps) & 1)

    def sample(self, t):
        while t >= self.step_t0 + self.T:
            self._new_step(self.step_t0 + self.T)
        s = t - self.step_t0
        T = self.T
        ph = 2 * math.pi * s / T
        # each step's amplitude blends in over the first third of the step
        a = self.prev_amp + (self.amp - self.prev_amp) * min(1.0, max(0.0, s / (0.3 * T)))
        if self.kind == "run":
            duty = 0.6 - 0.1 * (self.cadence - 140) / 60.0
            tc = duty * T
            peak = math.pi * T / (2 * tc)
            if s < tc:
                fz = peak * math.sin(math.pi * s / tc) * a + (1 - a) * 0.5
                fz += 0.8 * a * math.exp(-((s - 0.012) / 0.01) ** 2)  # contact transient
            else:
                fz = 0.05
            fx = 0.3 * a * math.sin(ph)
            pitch = 2.5 * a * math.sin(ph + 1.0)
            roll = 4.5 * a * self.side * math.sin(ph / 2)
        else:
            fz = 1 + 0.28 * a * math.sin(ph) + 0.08 * math.sin(2 * ph + 0.5)
            fx = 0.15 * a * math.sin(ph + 0.7)
            pitch = 1.5 * a * math.sin(ph + 1.0)
            roll = 3.0 * a * self.side * math.sin(ph / 2)
        fy = 0.15 * self.side * math.sin(ph / 2)
        yaw = 5.0 * self.side * math.sin(ph / 2 + 0.3)
        pitch *= self.rock[0]
        roll *= self.rock[1]
        if self.kind == "run":
            pitch += self.wobble_deg * math.exp(-s / 0.06) * math.sin(2 * math.pi * 10 * s)
        return fx, fy, fz, pitch, roll, yaw


def synth(plan, rate_hz=100, jitter_ms=0):
    """Samples (t_ms, ax, ay, az, gx, gy, gz) in the device frame, and the truth:
    {"steps": n (during 140-200 spm running), "all_steps": n, "falls": [t_ms], "stumbles": [(t_ms, dir)]}."""
    rng = plan.rng
    dt = 1.0 / rate_hz
    total = plan.t
    mount = _rot(*(math.radians(v) for v in plan.mount))
    gaits = {}
    truth = {"steps": 0, "all_steps": 0, "falls": [], "stumbles": []}
    rows = []
    n = int(total * rate_hz)
    events = sorted(plan.events)
    for ev in events:
        if ev[1] not in ("fall", "stumble"):
            continue
        key = "falls" if ev[1] == "fall" else "stumbles"
        truth[key].append(int(ev[0] * 1000) if key == "falls" else (int(ev[0] * 1000), ev[2]))
    state = {"down_until": -1.0}

    def pose(t, commit):
        # (fx, fy, fz) specific force in the trunk frame and (pitch, roll, yaw) deg at t
        down_until = state["down_until"]
        seg = None
        for s in plan.segments:
            if s[0] <= t < s[0] + s[1]:
                seg = s
                break
        fx = fy = 0.0
        fz = 1.0
        pitch = roll = yaw = 0.0
        if seg is not None and seg[2] in ("run", "walk") and t >= down_until:
            g = gaits.get(id(seg))
            if g is None:
                g = gaits[id(seg)] = _Gait(rng, seg[2], seg[3]["cadence"], seg[0], plan.rock,
                                           plan.wobble_deg)
            fx, fy, fz, pitch, roll, yaw = g.sample(t)
        # The trunk's lean and the gait's rocking change over ~1 s between
        # segments, as a runner's do, not in one sample.
        if seg is not None:
            i = plan.segments.index(seg)
            lean = _lean(seg)
            u = t - seg[0]
            if u < 1.0:
                before = _lean(plan.segments[i - 1]) if i > 0 else lean
                k = (1 - math.cos(math.pi * u)) / 2
                lean = before + (lean - before) * k
                if i > 0:
                    pitch, roll, yaw = pitch * k, roll * k, yaw * k
                    old = gaits.get(id(plan.segments[i - 1]))
                    if old is not None and t >= down_until:  # the old rocking fades out
                        _fx, _fy, _fz, op, orl, oy = old.sample(t)
                        pitch += op * (1 - k)
                        roll += orl * (1 - k)
                        yaw += oy * (1 - k)
            pitch += lean
        fall_state = _events_at(t, events, fz)
        if fall_state is not None:
            dpitch, droll, fz_override, down = fall_state[:4]
            pitch += dpitch
            roll += droll
            yaw += fall_state[4] if len(fall_state) > 4 else 0.0
            if fz_override is not None:
                fz = fz_override
                fx = fy = 0.0
            if down and commit:
                state["down_until"] = t + 1.5 * dt
        return fx, fy, fz, pitch, roll, yaw

    def orientation(pitch, roll, yaw):
        return _mul(_rot(math.radians(pitch), math.radians(roll), math.radians(yaw)), mount)

    h = 0.0005
    for i in range(n):
        t = i * dt + (rng.uniform(-jitter_ms, jitter_ms) / 1000.0 if jitter_ms else 0.0)
        fx, fy, fz, pitch, roll, yaw = pose(t, True)
        r = orientation(pitch, roll, yaw)
        f = _tmul(r, (fx, fy, fz))
        # The gyro: the body's angular velocity at t, [w]x = R^T dR/dt, exactly
        # (a central difference 1 ms wide), whatever the sample rate.
        rp = orientation(*pose(t + h, False)[3:])
        rm = orientation(*pose(t - h, False)[3:])
        wm = [[sum(r[k][a] * (rp[k][b] - rm[k][b]) for k in range(3)) / (2 * h) for b in range(3)]
              for a in range(3)]
        w = tuple(math.degrees(v) for v in (wm[2][1], wm[0][2], wm[1][0]))
        ax, ay, az = (int(1000 * v + rng.gauss(0, 15)) for v in f)
        gx, gy, gz = (int(1000 * (w[k] + plan.bias[k]) + rng.gauss(0, 500)) for k in range(3))
        clip = 16000
        ax, ay, az = (max(-clip, min(clip, v)) for v in (ax, ay, az))
        rows.append((int(round(t * 1000)), ax, ay, az, gx, gy, gz))
    for seg in plan.segments:
        g = gaits.get(id(seg))
        if g is None:
            continue
        n_steps = sum(1 for s in g.steps if s < seg[0] + seg[1] and s < down_until_first(plan, s))
        truth["all_steps"] += n_steps
        if seg[2] == "run" and 140 <= seg[3]["cadence"] <= 200:
            truth["steps"] += n_steps
    return rows, truth


def _lean(seg):
    return seg[3]["lean"] if seg[2] in ("run", "walk") else 0.0


def down_until_first(plan, t):
    # Steps after a fall (while lying) do not exist; the plan's gait resumes after.
    for ev in plan.events:
        if ev[1] == "fall" and ev[0] <= t < ev[0] + 1.2 + ev[3]:
            return -1
    return float("inf")


_DIRS = {"back": (1, 0), "forward": (-1, 0), "right": (0, 1), "left": (0, -1)}


def _events_at(t, events, fz):
    """Trunk offsets (deg) and support force during stumbles and falls at time t."""
    for ev in events:
        t0 = ev[0]
        if t < t0:
            continue
        sp, sr = _DIRS[ev[2]]
        if ev[1] == "pose":
            dur, (p, r, y), hold = ev[3], ev[4], ev[5]
            u = (t - t0) / dur
            if hold:
                k = min(1.0, (1 - math.cos(math.pi * min(u, 1.0))) / 2)
            elif u < 2:
                k = (1 - math.cos(math.pi * u)) / 2  # there and back
            else:
                k = 0.0
            if hold or u < 2:
                return p * k, r * k, None, False, y * k
            continue
        if ev[1] == "jump":
            u = t - t0
            if u < ev[3]:
                return 0.0, 0.0, 0.05, False
            if u < ev[3] + 0.05:
                return 0.0, 0.0, 1 + (ev[4] - 1) * math.sin(math.pi * (u - ev[3]) / 0.05), False
            continue
        if ev[1] == "stumble":
            size, rise = ev[3], ev[4]
            u = t - t0
            if u < rise:
                a = size * (1 - math.cos(math.pi * u / rise)) / 2
            elif u < rise + 0.6:
                a = size * (1 + math.cos(math.pi * (u - rise) / 0.6)) / 2
            else:
                continue
            return sp * a, sr * a, None, False
        lie_s, gets_up = ev[3], ev[4]
        u = t - t0
        th, t_fall = _pendulum(u)
        th -= _PENDULUM[0][1] * (1 - min(1.0, u / t_fall))  # starts from the trunk's own angle
        if u < t_fall:
            # support falls away as the body tips: partial free fall
            support = max(0.15, math.cos(math.radians(th)) * (1 - u / t_fall) + 0.15)
            return sp * th, sr * th, support, True
        if u < t_fall + 0.06:
            return sp * 85, sr * 85, 1 + 4.0 * math.sin(math.pi * (u - t_fall) / 0.06), True
        if u < t_fall + 0.06 + lie_s:
            return sp * 85, sr * 85, 1.0, True
        if gets_up and u < t_fall + 0.06 + lie_s + 1.5:
            k = (u - t_fall - 0.06 - lie_s) / 1.5
            return sp * 85 * (1 - k), sr * 85 * (1 - k), 1.0 + 0.2 * math.sin(math.pi * k), True
        if not gets_up:
            return sp * 85, sr * 85, 1.0, True
    return None


_PENDULUM = []


def _pendulum(u):
    """Angle (deg) of a falling inverted pendulum u s after the perturbation, and
    the time it takes to reach 85 deg."""
    if not _PENDULUM:
        th, w, t, h = math.radians(3.0), math.radians(40.0), 0.0, 0.001
        while th < math.radians(85):
            w += 9.81 / 1.0 * math.sin(th) * h
            th += w * h
            t += h
            _PENDULUM.append((t, math.degrees(th)))
    t_fall = _PENDULUM[-1][0]
    if u >= t_fall:
        return 85.0, t_fall
    i = min(len(_PENDULUM) - 1, int(u / 0.001))
    return _PENDULUM[i][1], t_fall


class Sample:
    __slots__ = ("ax", "ay", "az", "gx", "gy", "gz")


def run_body(rows, session_active=True, board=None):
    """Feed samples to the firmware BodyMonitor; returns ([(t_ms, kind)], body)."""
    with loader.firmware_modules(board) as load:
        events = load("rearguard.events")
        body_mod = load("rearguard.sensing.body")
        profile = load("rearguard.profile").Profile()
        log = events.Events()
        out = []
        log.sinks.append(lambda t, k, lv: out.append((t, events.KIND_NAMES[k])))
        body = body_mod.BodyMonitor(profile, log)
        s = Sample()
        for row in rows:
            body.session_active = session_active
            s.ax, s.ay, s.az, s.gx, s.gy, s.gz = row[1:]
            body.update(row[0] & ((1 << 30) - 1), s)
        return out, body


def _matched(truth_ms, event_ms, before_ms=500, after_ms=10000):
    return any(truth_ms - before_ms <= e <= truth_ms + after_ms for e in event_ms)


def score(plan_runs):
    """plan_runs: [(rows, truth, events)] -> recall figures."""
    falls = falls_hit = stumbles = stumbles_hit = 0
    for _rows, truth, evs in plan_runs:
        fall_ms = [t for t, k in evs if k == "fall"]
        st_ms = [t for t, k in evs if k == "stumble"]
        for t in truth["falls"]:
            falls += 1
            falls_hit += _matched(t, fall_ms)
        for t, _d in truth["stumbles"]:
            stumbles += 1
            stumbles_hit += _matched(t, st_ms, 100, 1000)
    return falls_hit / max(1, falls), stumbles_hit / max(1, stumbles)


def normal_hour(seed, minutes=60, rate_hz=100):
    """Running and walking at several speeds and cadences, no incident."""
    p = Plan(seed=seed)
    r = p.rng
    p.still(3)
    while p.t < minutes * 60:
        kind = r.random()
        if kind < 0.6:
            t0 = p.t
            p.run(r.uniform(30, 120), r.choice((140, 150, 160, 170, 180, 190, 200)))
            # Retro runners look over a shoulder often, hop kerbs and turn round.
            t = t0 + 5
            while t < p.t - 5:
                what = r.random()
                if what < 0.6:
                    p.look_back(t, r.choice((-1, 1)))
                elif what < 0.8:
                    p.jump(t)
                else:
                    p.turn_round(t)
                t += r.uniform(8, 30)
        elif kind < 0.9:
            p.walk(r.uniform(20, 60), r.choice((90, 100, 110, 120, 130)))
        else:
            p.still(r.uniform(3, 20))
    return p


def incident_plans(seed0=100, n=12):
    plans = []
    for i in range(n):
        d = ("back", "back", "forward", "right", "left")[i % 5]
        cad = (150, 170, 190, 200)[i % 4]
        p = Plan(seed=seed0 + i)
        p.still(2).run(20, cad)
        p.stumble(12 + (i % 3), d)
        if i % 2:
            p.fall(17, d, lie_s=6)
            p.still(8).walk(10, 110)
        else:
            p.run(10, cad)
        plans.append(p)
    return plans


SIM_BALANCE = ("stumble.json", "fall.json")
SIM_GAIT = ("gait_140_spm.json", "gait_160_spm.json", "gait_180_spm.json", "gait_200_spm.json")
SIM_QUIET = SIM_GAIT + ("long_session.json", "jog_turns.json")  # every balance event is false
SIM_SEEDS = (1, 2, 3)


def sim_figures(seeds=SIM_SEEDS):
    """Recall and step error on the simulator's own scenarios (whole firmware, chip models)."""
    from sim import scenario

    keys = ("stumbles", "falls", "detected_stumbles", "detected_falls", "false_stumbles",
            "false_falls")
    totals = dict.fromkeys(keys, 0)
    step_errors = []
    quiet_s = 0.0
    for name in SIM_BALANCE + SIM_QUIET:
        spec = scenario.load(os.path.join(scenario.SCENARIO_DIR, name))
        for seed in (seeds if name in SIM_BALANCE else seeds[:1]):
            out = scenario.run(spec, seed=seed)
            m = out["metrics"]["balance"]
            for k in keys:
                totals[k] += m[k]
            if name in SIM_QUIET:
                quiet_s += spec["duration_ms"] / 1000.0
            if name in SIM_GAIT:
                g = out["metrics"]["gait"]
                step_errors.append(
                    abs(g["detected_steps"] - g["true_steps"]) / max(1, g["true_steps"]))
    return totals, quiet_s, max(step_errors)


def synth_figures(minutes=60):
    """Recall and false alarms on the independent synthetic runner (module docstring)."""
    incidents = []
    for i, p in enumerate(incident_plans()):
        rows, truth = synth(p, rate_hz=(50, 100, 200)[i % 3])
        evs, _body = run_body(rows)
        incidents.append((rows, truth, evs))
    fall_recall, stumble_recall = score(incidents)
    false_events = 0
    seconds = 0.0
    step_err = []
    for seed, rate in ((1, 100), (2, 50), (3, 200)):
        p = normal_hour(seed, minutes // 3, rate)
        rows, truth = synth(p, rate_hz=rate)
        evs, body = run_body(rows)
        false_events += sum(1 for _t, k in evs if k in ("stumble", "fall"))
        seconds += p.t
        step_err.append(abs(body.steps - truth["all_steps"]) / max(1, truth["all_steps"]))
    return fall_recall, stumble_recall, false_events, seconds, max(step_err)


def figures(minutes=60):
    sim, quiet_s, sim_step = sim_figures()
    s_fall, s_stumble, s_false, s_seconds, s_step = synth_figures(minutes)
    false_events = sim["false_stumbles"] + sim["false_falls"] + s_false
    return {
        # the simulator's stumble and fall scenarios, three seeds each
        "fall_recall": round(sim["detected_falls"] / max(1, sim["falls"]), 3),
        "stumble_recall": round(sim["detected_stumbles"] / max(1, sim["stumbles"]), 3),
        # false stumbles/falls per hour of running and walking: the simulator's
        # gait scenarios and 30-minute session plus an hour of the synthetic
        # runner (glances back, kerb hops, turns, speeds, cadences, sample rates)
        "balance_false_per_hour": round(false_events * 3600.0 / (quiet_s + s_seconds), 2),
        "step_error_pct": round(100 * sim_step, 2),
        "synth_fall_recall": round(s_fall, 3),
        "synth_stumble_recall": round(s_stumble, 3),
        "synth_step_error_pct": round(100 * s_step, 2),
        "balance_hours_checked": round((quiet_s + s_seconds) / 3600.0, 2),
    }


if __name__ == "__main__":
    import json

    print(json.dumps(figures(), indent=1))
