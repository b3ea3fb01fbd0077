"""The simulated runner's body as a clip on the waistband feels it: the bounce
of each step (vertical half-sine in running, a rocking 1 g in walking), the
horizontal braking and pushing with the jolt of each foot contact, the
trunk's rocking and its slow wander, the wobble of the clip after each
contact, and no two steps alike; plus balance events (stumbles and falls).

Calibrated against real waist recordings of walking and jogging (SisFall
D01-D04) and of recovered stumbles (D18), Sucerquia et al. 2017; the
comparison is `python -m tools.gait_compare` and the plot in docs/balance.md.

    gait = Gait(spec["runner"], rng)
    gait.advance(dt_s, v_mm_s, t_ms)                 # every world step
    gait.rocking(ahead_s, v, dv, t_ms)               # (pitch, roll, yaw, rates) deg, deg/s
    gait.force(ahead_s, v, t_ms)                     # world-frame specific force of the gait, mg

Every angle comes with its exact time derivative, so an integrated gyro agrees
with gravity; angles never jump at a step boundary (per-step variation is
blended in over the step).
"""

import math

G_MG = 1000.0
STEPPING_MIN_MM_S = 200
YAW_SWING_DEG = 4.0  # pelvis/trunk rotation at stride rate, full jogging intensity
# Running: the vertical specific force is a half-sine over the ground contact
# and nearly free fall in flight. Real waist peaks are ~2.7 g jogging slowly
# and ~3.5 g quickly (SisFall D03/D04), so the contact share of the step
# shortens with speed.
FLIGHT_MG = 100.0
CONTACT_SHARE_SLOW = 0.58  # at 2 m/s
CONTACT_SHARE_FAST = 0.42  # at 3.5 m/s and faster
FORE_AFT_MG = 350.0  # braking then pushing, at step rate
LATERAL_MG = 200.0
CONTACT_JOLT_MG = 1600.0  # horizontal swing of each foot contact (real: ~1.5-2.3 g peaks)
CONTACT_JOLT_S = 0.06
# Walking (runner "gait": "walk"): double support, no flight; |a| rocks about
# 1 g, dipping to ~0.65 g and peaking sharply after each heel strike (real
# peaks 1.4-2.3 g); the trunk with WALK_SWAY of the running amplitudes.
WALK_VERTICAL_MG = 300.0
WALK_HEEL_MG = 500.0
WALK_HEEL_MEAN = 5.0 / 32.0  # the mean of max(0, cos)^6: the heel strike adds no mean
WALK_FORE_AFT_MG = 200.0
WALK_LATERAL_MG = 100.0
WALK_JOLT_MG = 450.0
WALK_SWAY = 0.6
# The clip wobbles on the waistband after each contact: a damped oscillation
# that makes the real per-step trunk rate peaks (100-300 deg/s jogging) with
# only a few degrees of angle.
WOBBLE_PITCH_DEG = 2.0
WOBBLE_ROLL_DEG = 1.3
WOBBLE_HZ = 12.0
WOBBLE_TAU_S = 0.03
WALK_WOBBLE = 0.5  # a heel strike shakes the clip less than a running landing
# No two steps alike (real step-to-step variation: interval 2-7 %, peaks 6-25 %)
RATE_JITTER_RUN = 0.025
RATE_JITTER_WALK = 0.06
AMP_JITTER_RUN = 0.12
AMP_JITTER_WALK = 0.15
ROCK_JITTER = 0.2  # stride-to-stride change of the rocking amplitude
WANDER_DEG = 0.6  # per-step change of the trunk's slow lean (pitch and roll)
WANDER_KEEP = 0.85  # ... and how much of the last one stays: ~1.1 deg drift
# Turn-rounds (runner "turns": [t_ms, ...]): the end of a corridor or of an
# out-and-back, 180 deg about the vertical, leaning into the turn.
TURN_S = 1.4
TURN_LEAN_DEG = 12.0


def smooth_bump(u):
    """0 -> 1 as u goes 0 -> 1, with zero slope at both ends."""
    if u <= 0:
        return 0.0
    if u >= 1:
        return 1.0
    return (1 - math.cos(math.pi * u)) / 2


def smooth_bump_rate(u, duration_s):
    """d/dt of smooth_bump(t / duration)."""
    if u <= 0 or u >= 1:
        return 0.0
    return math.pi * math.sin(math.pi * u) / (2 * duration_s)


def profile_value(points, t_ms):
    """Linear interpolation over [[t_ms, value], ...], held flat outside."""
    if t_ms <= points[0][0]:
        return points[0][1]
    for i in range(1, len(points)):
        t1, v1 = points[i]
        if t_ms <= t1:
            t0, v0 = points[i - 1]
            return v0 + (v1 - v0) * (t_ms - t0) / (t1 - t0) if t1 > t0 else v1
    return points[-1][1]


class _PerStep:
    """A value that changes each step, blended in over the step (no jumps)."""

    def __init__(self, value=0.0):
        self.before = value
        self.after = value

    def step(self, value):
        self.before = self.after
        self.after = value

    def at(self, u, step_s):
        """(value, d/dt) a fraction u into the step (u >= 1: the step is over)."""
        if u >= 1.0:
            return self.after, 0.0
        k = smooth_bump(u)
        span = self.after - self.before
        return self.before + span * k, span * smooth_bump_rate(u, step_s)


class Gait:
    def __init__(self, runner, rng):
        self.rng = rng
        self.cadence = runner["cadence_spm"]
        self.walking = runner.get("gait", "run") == "walk"
        self.pitch_deg = float(runner.get("gait_pitch_deg", 3.0))
        self.roll_deg = float(runner.get("gait_roll_deg", 5.0))
        self.phase = 0.0  # steps since start
        self.true_steps = 0
        self.rate_scale = 1.0  # this step's cadence jitter
        self.amp = 1.0  # this step's intensity jitter
        self.side = 1.0  # which foot: the lateral jolt's side
        self.rock = _PerStep(1.0)
        self.wander_pitch = _PerStep()
        self.wander_roll = _PerStep()
        self.wobble = (0.0, 0.0)  # this contact's clip wobble amplitudes (pitch, roll)
        self.wobble_next = self._wobble_amplitudes()  # drawn ahead: a look past the step sees it
        self.turns = sorted(runner.get("turns", []))

    # --- stepping -------------------------------------------------------------
    def spm(self, t_ms):
        return profile_value(self.cadence, t_ms) if isinstance(self.cadence, list) else self.cadence

    def step_rate_hz(self, v, t_ms):
        if v < STEPPING_MIN_MM_S:
            return 0.0
        return self.spm(t_ms) / 60.0 * self.rate_scale

    def advance(self, dt_s, v, t_ms):
        if v < STEPPING_MIN_MM_S:
            return
        before = int(self.phase)
        self.phase += self.step_rate_hz(v, t_ms) * dt_s
        if int(self.phase) != before:
            self.true_steps += int(self.phase) - before
            self._new_step()

    def _new_step(self):
        r = self.rng
        self.rate_scale = 1.0 + r.gauss(0.0, RATE_JITTER_WALK if self.walking else RATE_JITTER_RUN)
        self.amp = max(0.5, 1.0 + r.gauss(0.0, AMP_JITTER_WALK if self.walking else AMP_JITTER_RUN))
        self.side = -self.side
        self.rock.step(max(0.4, 1.0 + r.gauss(0.0, ROCK_JITTER)))
        self.wander_pitch.step(WANDER_KEEP * self.wander_pitch.after + r.gauss(0.0, WANDER_DEG))
        self.wander_roll.step(WANDER_KEEP * self.wander_roll.after + r.gauss(0.0, WANDER_DEG))
        self.wobble = self.wobble_next
        self.wobble_next = self._wobble_amplitudes()

    def _wobble_amplitudes(self):
        r = self.rng
        k = WALK_WOBBLE if self.walking else 1.0
        return k * WOBBLE_PITCH_DEG * r.uniform(0.5, 1.5), k * WOBBLE_ROLL_DEG * r.uniform(0.5, 1.5)

    def sway(self, v, dv):
        """The rocking's amplitude 0 (standing) .. 1 (full jogging), and its
        rate of change per second (carried on between steps, so angles never jump)."""
        if v < STEPPING_MIN_MM_S:
            return 0.0, 0.0
        if self.walking:
            return WALK_SWAY, 0.0
        r = (v - STEPPING_MIN_MM_S) / 1800.0
        if r < 0.25:
            return 0.25, 0.0
        if r > 1.0:
            return 1.0, 0.0
        return r, dv / 1800.0

    # --- the trunk --------------------------------------------------------------
    def rocking(self, ahead_s, v, dv, t_ms):
        """(pitch, roll, yaw, pitch rate, roll rate, yaw rate) of the gait and its
        turn-rounds, deg and deg/s, `ahead_s` past the world's last step."""
        p, r, y, pr, rr, yr = self._rocking(ahead_s, v, dv, t_ms)
        for t0 in self.turns:
            u = (t_ms - t0) / 1000.0 / TURN_S
            if u <= 0:
                break
            y += 180.0 * smooth_bump(u)
            yr += 180.0 * smooth_bump_rate(u, TURN_S)
            if u < 1:
                r += TURN_LEAN_DEG * math.sin(math.pi * u)
                rr += TURN_LEAN_DEG * math.pi / TURN_S * math.cos(math.pi * u)
        return p, r, y, pr, rr, yr

    def _rocking(self, ahead_s, v, dv, t_ms):
        f = self.step_rate_hz(v, t_ms)
        v_now = v + dv * ahead_s
        r, dr = self.sway(v_now, dv)
        phase = self.phase + f * ahead_s
        if r == 0.0 or f == 0.0:
            return 0.0, 0.0, 0.0, 0.0, 0.0, 0.0
        frac = phase % 1.0
        step_s = 1.0 / f
        w = 2 * math.pi * phase
        # Looking past the next contact (the world has not stepped there yet):
        # this step's blends are complete and the next contact's wobble has begun.
        past = int(phase) > int(self.phase)
        u = 1.0 if past else frac
        wobble = self.wobble_next if past else self.wobble
        m, dm = self.rock.at(u, step_s)
        a_p, a_r = self.pitch_deg * r * m, self.roll_deg * r * m
        da_p = self.pitch_deg * (dr * m + r * dm)
        da_r = self.roll_deg * (dr * m + r * dm)
        pitch = a_p * math.sin(w + 0.5)
        pitch_rate = a_p * 2 * math.pi * f * math.cos(w + 0.5) + da_p * math.sin(w + 0.5)
        roll = a_r * math.sin(w / 2)
        roll_rate = a_r * math.pi * f * math.cos(w / 2) + da_r * math.sin(w / 2)
        yaw = r * YAW_SWING_DEG * math.sin(w / 2 + 1.0)
        yaw_rate = (r * YAW_SWING_DEG * math.pi * f * math.cos(w / 2 + 1.0)
                    + dr * YAW_SWING_DEG * math.sin(w / 2 + 1.0))
        wp, dwp = self.wander_pitch.at(u, step_s)
        wr, dwr = self.wander_roll.at(u, step_s)
        ob, dob = self._wobble(frac * step_s)
        dob = r * dob + dr * ob
        ob *= r
        return (pitch + r * wp + ob * wobble[0], roll + r * wr + ob * wobble[1], yaw,
                pitch_rate + r * dwp + dr * wp + dob * wobble[0],
                roll_rate + r * dwr + dr * wr + dob * wobble[1], yaw_rate)

    def _wobble(self, s):
        """Unit clip wobble s seconds after the contact, and its rate (per second):
        it swells and dies away within ~0.15 s, starting with neither angle nor rate."""
        x = s / WOBBLE_TAU_S
        e = math.exp(2.0 * (1.0 - x))
        k = x * x * e  # 0 at the contact (and gently: no step in rate), 1 at WOBBLE_TAU_S
        dk = 2.0 * x * (1.0 - x) * e / WOBBLE_TAU_S
        wt = 2 * math.pi * WOBBLE_HZ
        return k * math.sin(wt * s), dk * math.sin(wt * s) + k * wt * math.cos(wt * s)

    # --- the push of the ground ------------------------------------------------
    def force(self, ahead_s, v, t_ms):
        """Specific force of the gait in world axes (mg), without gravity's 1 g
        on standing still (that is in az) and without the speed change."""
        f = self.step_rate_hz(v, t_ms)
        phase = self.phase + f * ahead_s
        r, _dr = self.sway(v, 0.0)
        if r == 0.0:
            return 0.0, 0.0, G_MG
        k = self.amp
        frac = phase % 1.0
        s = frac / f if f > 0 else 1.0
        # braking, then pushing: one full swing, so it adds no net speed (or tilt)
        jolt = math.sin(2 * math.pi * s / CONTACT_JOLT_S) if s < CONTACT_JOLT_S else 0.0
        if self.walking:
            c = math.cos(2 * math.pi * phase)
            heel = (c if c > 0 else 0.0) ** 6 - WALK_HEEL_MEAN
            az = G_MG + k * (WALK_VERTICAL_MG * c + WALK_HEEL_MG * heel)
            ax = k * WALK_FORE_AFT_MG * math.sin(2 * math.pi * phase) - k * WALK_JOLT_MG * jolt
            ay = k * WALK_LATERAL_MG * math.sin(math.pi * phase) + self.side * k * WALK_JOLT_MG * jolt / 2
            return ax, ay, az
        share = CONTACT_SHARE_SLOW - (CONTACT_SHARE_SLOW - CONTACT_SHARE_FAST) * min(
            1.0, max(0.0, (v - 2000.0) / 1500.0))
        peak = (G_MG - (1 - share) * FLIGHT_MG) * math.pi / (2 * share)
        vertical = peak * math.sin(math.pi * frac / share) if frac < share else FLIGHT_MG
        az = G_MG + r * (k * vertical - G_MG)
        ax = r * FORE_AFT_MG * math.sin(2 * math.pi * phase) - r * k * CONTACT_JOLT_MG * jolt
        ay = r * LATERAL_MG * math.sin(math.pi * phase) + self.side * r * k * CONTACT_JOLT_MG * jolt / 2
        return ax, ay, az


class BalanceEvent:
    """A stumble (the foot catches: a jolt and a trunk excursion, recovered) or a
    fall (loss of balance, impact, lying still). A stumble's defaults are the
    median of real recovered stumbles (SisFall D18): the trunk turns ~18 deg at
    ~140 deg/s and the waist takes a ~2.3 g horizontal jolt."""

    def __init__(self, spec):
        self.kind = spec["kind"]
        self.t_ms = spec["t_ms"]
        self.direction = spec.get("direction", "backward")
        sign = 1.0 if self.direction == "backward" else -1.0
        if self.kind == "stumble":
            self.excursion_deg = sign * spec.get("excursion_deg", 18.0)
            self.rise_ms = spec.get("rise_ms", 200)
            self.recover_ms = spec.get("recover_ms", 500)
            self.jolt_mg = spec.get("jolt_mg", 2300.0)
        else:
            self.tip_deg = sign * spec.get("tip_deg", 12.0)  # loss of balance, ~10 deg beyond normal
            self.tip_ms = spec.get("tip_ms", 400)
            self.fall_ms = spec.get("fall_ms", 500)  # from tipping point to impact
            self.lying_deg = sign * 85.0  # on the back: beam looks at the ground
            self.impact_mg = spec.get("impact_mg", 6000.0)
            self.get_up_ms = spec.get("get_up_ms")  # None: lies still to the end
            self.onset_speed = None  # runner's speed when balance was lost

    def end_ms(self):
        if self.kind == "stumble":
            return self.t_ms + self.rise_ms + self.recover_ms
        return self.t_ms + self.tip_ms + self.fall_ms

    def pitch(self, t_ms):
        """(extra pitch deg, pitch rate deg/s) this event adds at t_ms."""
        dt = t_ms - self.t_ms
        if dt <= 0:
            return 0.0, 0.0
        if self.kind == "stumble":
            return self._stumble_pitch(dt)
        if dt < self.tip_ms:
            # Loss of balance: the trunk accelerates away from upright.
            u = dt / self.tip_ms
            return self.tip_deg * u * u, self.tip_deg * 2 * u / (self.tip_ms / 1000.0)
        dt -= self.tip_ms
        if dt < self.fall_ms:
            # Toppling: angle grows with rising rate until the back hits the ground.
            u = dt / self.fall_ms
            span = self.lying_deg - self.tip_deg
            return (self.tip_deg + span * u * u,
                    span * 2 * u / (self.fall_ms / 1000.0))
        if self.get_up_ms is not None and t_ms >= self.t_ms + self.get_up_ms:
            u = (t_ms - self.t_ms - self.get_up_ms) / 1500.0
            return (self.lying_deg * (1 - smooth_bump(u)),
                    -self.lying_deg * smooth_bump_rate(u, 1.5))
        return self.lying_deg, 0.0

    def _stumble_pitch(self, dt):
        if dt < self.rise_ms:
            u = dt / self.rise_ms
            return (self.excursion_deg * smooth_bump(u),
                    self.excursion_deg * smooth_bump_rate(u, self.rise_ms / 1000.0))
        u = (dt - self.rise_ms) / self.recover_ms
        return (self.excursion_deg * (1 - smooth_bump(u)),
                -self.excursion_deg * smooth_bump_rate(u, self.recover_ms / 1000.0))

    def jolt(self, t_ms):
        """Extra specific force (world x, z mg) from the event."""
        dt = t_ms - self.t_ms
        if self.kind == "stumble":
            if 0 <= dt < 100:  # a mis-step: the foot catches, the body lurches
                s = math.sin(math.pi * dt / 100)
                return -self.jolt_mg * s, 0.45 * self.jolt_mg * s
            return 0.0, 0.0
        impact = self.tip_ms + self.fall_ms
        if self.tip_ms <= dt < impact:
            return 0.0, -650.0 * (dt - self.tip_ms) / self.fall_ms  # towards free fall
        if impact <= dt < impact + 60:
            return 0.0, self.impact_mg * math.sin(math.pi * (dt - impact) / 60)
        return 0.0, 0.0

    def height_mm(self, t_ms, mount_mm):
        if self.kind != "fall":
            return mount_mm
        dt = t_ms - self.t_ms - self.tip_ms
        lying = 150.0
        if self.get_up_ms is not None and t_ms >= self.t_ms + self.get_up_ms:
            u = (t_ms - self.t_ms - self.get_up_ms) / 1500.0
            return lying + (mount_mm - lying) * smooth_bump(u)
        if dt <= 0:
            return mount_mm
        u = dt / self.fall_ms
        return mount_mm - (mount_mm - lying) * (u * u if u < 1 else 1.0)
