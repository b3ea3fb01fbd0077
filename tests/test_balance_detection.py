"""Stumbles (pre-impact balance loss) and falls as a runner would meet them:
detected at once and before the ground, at 50-200 Hz, whatever the mount,
and never from ordinary running, walking, kerb hops, turns or glances back."""

import pytest

from tools.bench_balance import Plan, normal_hour, run_body, synth


def _kinds(events, kind):
    return [t for t, k in events if k == kind]


@pytest.mark.parametrize("rate_hz", [50, 100, 200])
@pytest.mark.parametrize("cadence", [150, 190])
def test_backward_stumble_buzzes_within_0_4_s(rate_hz, cadence):
    # 20 deg: a real recovered stumble's trunk turn (SisFall D18: median 19 deg)
    plan = Plan(seed=rate_hz + cadence).still(2).run(25, cadence).stumble(
        14, "back", size_deg=20, rise_s=0.2)
    plan.rock = (1.0, 1.0)  # a typical runner: the pelvis rocks +-2.5 deg each step
    rows, _truth = synth(plan, rate_hz=rate_hz)
    events, body = run_body(rows)
    stumbles = _kinds(events, "stumble")
    assert len(stumbles) == 1
    assert 14000 <= stumbles[0] <= 14400  # the trunk is still turning: before any impact
    assert _kinds(events, "fall") == [] and not body.fallen
    assert body.balance.near_falls == 1


@pytest.mark.parametrize("rate_hz", [50, 200])
def test_a_runner_who_rocks_a_lot_needs_a_bigger_stumble(rate_hz):
    # The margin grows with the runner's own rocking: +-4.5 deg each step hides
    # a 10 deg lurch, not a 26 deg one.
    found = []
    for size in (10, 26):
        plan = Plan(seed=31).still(2).run(25, 170).stumble(14, "back", size_deg=size, rise_s=0.2)
        plan.rock = (1.8, 1.6)
        events, _body = run_body(synth(plan, rate_hz=rate_hz)[0])
        found.append(_kinds(events, "stumble"))
    assert found[0] == []
    assert len(found[1]) == 1 and 14000 <= found[1][0] <= 14400


@pytest.mark.parametrize("direction,big,small", [("forward", 20, 10), ("right", 36, 12),
                                                ("left", 36, 12)])
def test_forward_lurches_count_like_backward_ones_and_sideways_need_more(direction, big, small):
    # Real trips pitch the trunk forward (SisFall D18); a backward runner's are
    # backward: the same margin both ways. Hips sway sideways in every stride,
    # so a sideways lurch must be larger.
    got = []
    for size in (big, small):
        plan = Plan(seed=3).still(2).run(25, 170).stumble(14, direction, size_deg=size)
        got.append(_kinds(run_body(synth(plan, rate_hz=100)[0])[0], "stumble"))
    assert len(got[0]) == 1 and 14000 <= got[0][0] <= 14400
    assert got[1] == []


@pytest.mark.parametrize("rate_hz", [50, 100, 200])
@pytest.mark.parametrize("direction", ["back", "forward", "left"])
def test_fall_is_warned_before_impact_and_confirmed_once(rate_hz, direction):
    plan = Plan(seed=7).still(2).run(20, 180).fall(15, direction, lie_s=6).still(10).walk(8, 110)
    rows, _truth = synth(plan, rate_hz=rate_hz)
    events, body = run_body(rows)
    falls = _kinds(events, "fall")
    assert len(falls) == 1
    assert 16000 <= falls[0] <= 19000  # impact ~0.9 s after the loss of balance, then 1 s still
    stumbles = _kinds(events, "stumble")
    assert stumbles and 15000 <= stumbles[0] <= 15800  # the warning comes before the impact
    assert not body.fallen  # up and walking again: the alarm stopped
    assert body.balance.falls == 1 and body.balance.near_falls == 0


def test_fallen_holds_while_lying_and_clears_when_up_again():
    plan = Plan(seed=8).still(2).run(20, 170).still(10).fall(15, "back", lie_s=8)
    rows, _truth = synth(plan, rate_hz=100)
    cut_lying = [r for r in rows if r[0] < 22000]
    assert run_body(cut_lying)[1].fallen
    events, body = run_body(rows)  # gets up at ~24 s and stands
    assert not body.fallen and len(_kinds(events, "fall")) == 1


def test_an_impact_alone_is_never_a_fall():
    # Kerb hops: near free fall, then a 5 g landing, every few seconds while running.
    plan = Plan(seed=9).still(2).run(60, 170)
    for i in range(10):
        plan.jump(8 + 5 * i)
    events, _body = run_body(synth(plan, rate_hz=100)[0])
    assert events == []


def test_lying_down_slowly_after_a_run_is_not_a_fall():
    plan = Plan(seed=10).still(2).run(20, 170).still(20).pose(24, 2.5, pitch=85, hold=True)
    events, body = run_body(synth(plan, rate_hz=100)[0])
    assert _kinds(events, "fall") == [] and not body.fallen


def test_a_clip_tossed_on_a_table_outside_a_session_is_not_a_fall():
    # Still on a table, a knock, tipped over: no gait, no session: not armed.
    rows = []
    for t in range(0, 8000, 10):
        ax, az = 0, 1000
        if 3000 <= t < 3300:
            ax, az = -int(1000 * (t - 3000) / 300), int(1000 * (3300 - t) / 300)
        elif 3300 <= t < 3330:
            ax, az = -3000, 0
        elif t >= 3330:
            ax, az = -1000, 0
        gy = 300_000 if 3000 <= t < 3300 else 0
        rows.append((t, ax, 0, az, 0, gy, 0))
    events, _body = run_body(rows, session_active=False)
    assert events == []


def test_judged_from_the_first_sample_of_a_short_recording():
    # `replay --active`: a 4 s recording that starts mid-run with a backward fall.
    plan = Plan(seed=12).run(7, 180).fall(1.5, "back", lie_s=5, gets_up=False)
    events, body = run_body(synth(plan, rate_hz=100)[0])
    assert _kinds(events, "stumble") and len(_kinds(events, "fall")) == 1
    assert body.fallen


@pytest.mark.parametrize("seed,rate_hz", [(21, 50), (22, 100), (23, 200)])
def test_no_balance_events_in_running_and_walking_with_glances_hops_and_turns(seed, rate_hz):
    plan = normal_hour(seed, minutes=4, rate_hz=rate_hz)
    rows, truth = synth(plan, rate_hz=rate_hz)
    events, body = run_body(rows)
    assert [e for e in events if e[1] in ("stumble", "fall")] == []
    assert abs(body.steps - truth["all_steps"]) <= 0.03 * truth["all_steps"]


def test_a_turn_round_with_the_clip_worn_askew_is_not_a_stumble():
    plan = Plan(seed=13, mount_tilt_deg=0).still(2).run(40, 170)
    plan.mount = (12.0, -10.0, 0.0)  # clipped on crooked
    for i in range(5):
        plan.turn_round(8 + 6 * i)
    events, _body = run_body(synth(plan, rate_hz=100)[0])
    assert events == []


@pytest.mark.parametrize("mount", [(25.0, 0.0, 0.0), (0.0, 40.0, 0.0), (-20.0, 20.0, 0.0)])
def test_a_clip_worn_crooked_still_tells_stumbles_and_falls_from_running(mount):
    # The runner's "up" is learned from the gait, and tipping is measured about
    # horizontal axes, so the mount's tilt does not matter.
    plan = Plan(seed=5).still(2).run(20, 180).still(10).walk(8, 110)
    plan.mount = mount
    plan.stumble(10, "back", size_deg=14).fall(16, "back", lie_s=6)
    plan.look_back(5.5)
    events, body = run_body(synth(plan, rate_hz=100)[0])
    stumbles = _kinds(events, "stumble")
    assert stumbles[0] // 1000 == 10 and len(_kinds(events, "fall")) == 1
    assert all(t >= 10000 for t in stumbles)  # the glance back at 5.5 s is not one
    assert not body.fallen


def test_detection_is_the_same_across_the_tick_counter_wrap():
    # ticks_ms wraps at 2**30 (every 12.4 days of uptime); the detector only
    # ever takes differences, so a fall across the wrap is the same fall.
    plan = Plan(seed=14).still(2).run(20, 180).still(10).stumble(10, "back", size_deg=20)
    plan.fall(16, "back", lie_s=6)
    rows = synth(plan, rate_hz=100)[0]
    wrap = (1 << 30) - 12_000  # the counter wraps 12 s into the trace
    shifted = [((t + wrap) & ((1 << 30) - 1),) + r[1:] for (t, *_), r in zip(rows, rows)]
    plain, _ = run_body(rows)
    wrapped, _ = run_body(shifted)
    unwrapped = [(((t - wrap) & ((1 << 30) - 1)), k) for t, k in wrapped]
    assert unwrapped == plain and [k for _t, k in plain] == ["stumble", "stumble", "fall"]
