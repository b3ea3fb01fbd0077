"""Sessions survive power cuts and full flash: the firmware's session recorder
and store on the virtual flash, with the power cut at every kind of moment."""

import os
import random

import pytest

from host_tools import track
from sim import loader, vtime
from sim.flash import PowerCut, VirtualFlash
from sim.vclock import Clock


class Balance:
    near_falls = 0
    near_fall_pending = False
    falls = 0


class Body:
    steps = 0
    cadence_spm = 0
    speed_mm_s = 2000
    moving = True
    balance = Balance()


class Obstacle:
    level = 0
    ttc_ms = -1
    distance_mm = -1
    blind = False
    too_fast = False
    range_valid = True


class Battery:
    def read_mv(self):
        return 3900


class App:
    def __init__(self):
        self.body = Body()
        self.obstacle = Obstacle()


@pytest.fixture
def fw():
    vtime.bind(Clock())
    with loader.firmware_modules() as load:
        yield {n: load("rearguard." + n) for n in ("store", "session", "events", "profile", "sessionfile")}
    vtime.bind(None)


def boot(fw, vf):
    """A fresh boot on the same flash: the store mounts, the keeper is new."""
    vf.reboot()
    store = fw["store"].Store(fw["store"].Flash(vf))
    store.mount()
    log = fw["events"].Events()
    keeper = fw["session"].SessionKeeper(store, fw["profile"].Profile(), "esp32_devkitc", Battery(), log)
    return store, keeper, log


def live(fw, vf, rng, finished, state):
    """Runs sessions of random length, ticking every 100 ms; records what a
    finished session must contain and the running one's last checkpoint."""
    store, keeper, log = boot(fw, vf)
    app = App()
    t = 0
    for _ in range(6):
        keeper.start(t)
        sid = keeper.session_id
        state["running"] = sid
        state["ckp_ms"] = None
        for _ in range(rng.randrange(50, 900)):
            t += 100
            app.body.steps += 1
            if rng.random() < 0.01:
                log.emit(t, fw["events"].STUMBLE)
            before = keeper.last_ckp_ms
            keeper.update(t, app.body, app.obstacle)
            if keeper.last_ckp_ms != before:
                state["ckp_ms"] = t - keeper.start_ms
        keeper.stop(t)
        state["running"] = None
        finished[sid] = (keeper.steps, t - keeper.start_ms)
        t += 5000


@pytest.mark.parametrize("torn", [False, True], ids=["littlefs", "torn-writes"])
def test_power_cut_anywhere_keeps_finished_sessions_and_recovers_the_running_one(fw, torn):
    sessionfile = fw["sessionfile"]
    for seed in range(80):
        dry = VirtualFlash(capacity_bytes=512 * 1024, torn=torn)
        live(fw, dry, random.Random(seed), {}, {})  # same life without the cut: how many operations
        rng = random.Random(seed)
        vf = VirtualFlash(capacity_bytes=512 * 1024, torn=torn)
        finished, state = {}, {"running": None, "ckp_ms": None}
        vf.cut_after(random.Random(-seed).randrange(1, dry.ops + 1))
        with pytest.raises(PowerCut):
            live(fw, vf, rng, finished, state)
        store, _keeper, _log = boot(fw, vf)
        assert store.problems == [] or all("recovered" in p for p in store.problems), (seed, store.problems)
        ids = {sid for sid, *_ in store.listing()}
        for sid, (steps, duration) in finished.items():
            summary = sessionfile.decode(store.read(sid))[0]
            assert (summary["steps"], summary["duration_ms"]) == (steps, duration), seed
            assert not summary["flags"] & sessionfile.FLAG_RECOVERED
            assert len(track_of(store, sid)) == duration // 1000, seed  # every second of it
        running = state["running"]
        if running is not None and state["ckp_ms"] is not None:
            # cut after at least one checkpoint: the run is back, up to that checkpoint
            assert running in ids, seed
            assert len(track_of(store, running)) >= (state["ckp_ms"] - 30_000) // 1000, seed
            summary = sessionfile.decode(store.read(running))[0]
            if summary["flags"] & sessionfile.FLAG_RECOVERED:
                assert state["ckp_ms"] - 30_000 <= summary["duration_ms"] <= state["ckp_ms"], seed
            else:  # the cut came while stop() was tidying up: the whole session was written
                assert summary["duration_ms"] >= state["ckp_ms"], seed
        assert ids <= set(finished) | {running}, seed  # nothing invented
        # the next session gets a new id, never one used before the cut
        _store, keeper, _ = store, *boot(fw, vf)[1:]
        keeper.start(0)
        assert keeper.session_id > max(ids | {running or 0})


def track_of(store, session_id):
    """The session's track as the host reads it (its length and CRC checked)."""
    blob = bytes(store.read(session_id))
    sent = blob + store.read_track(session_id, 0, track.sessionfile.track_size(blob))
    return track.samples(track.split(sent)[1])


def test_flash_full_never_deletes_an_unsynced_session(fw):
    vf = VirtualFlash(capacity_bytes=12 * 4096)  # 2 blocks metadata + 10
    store, keeper, _log = boot(fw, vf)
    app = App()
    t = 0
    made = []
    for _ in range(14):
        keeper.start(t)
        made.append(keeper.session_id)
        keeper.update(t + 1000, app.body, app.obstacle)
        keeper.stop(t + 2000)
        t += 3000
    listed = {sid: synced for sid, _size, _crc, synced in store.listing()}
    assert sorted(listed) == made  # every session still there: in flash or in RAM
    assert store.low_storage and keeper.low_storage
    for sid in made:
        assert fw["sessionfile"].decode(store.read(sid))[0]["session_id"] == sid

    # The host takes the first five; later sessions may now push the oldest synced out.
    for sid in made[:5]:
        assert store.mark_synced(sid)
    for _ in range(4):
        keeper.start(t)
        made.append(keeper.session_id)
        keeper.stop(t + 2000)
        t += 3000
    left = {sid: synced for sid, _size, _crc, synced in store.listing()}
    unsynced = [s for s in made if s not in made[:5]]
    assert all(s in left and not left[s] for s in unsynced)
    deleted = [s for s in made[:5] if s not in left]
    assert deleted == made[: len(deleted)]  # oldest synced first
    files = vf.listdir("rg")
    assert deleted and not any("s%08d.trk" % s in files for s in deleted)  # their tracks went with them
    assert all(len(track_of(store, s)) == 1 for s in left if "s%08d.trk" % s in files)


def test_corrupt_session_is_set_aside_and_reported_not_served(fw):
    vf = VirtualFlash()
    store, keeper, _log = boot(fw, vf)
    for t in (0, 10_000):
        keeper.start(t)
        keeper.stop(t + 5000)
    vf.files["rg/s00000001.rgs"][20] ^= 0xFF  # a bit rot in session 1
    store, _keeper, _log = boot(fw, vf)
    assert [sid for sid, *_ in store.listing()] == [2]
    assert any("session 1 is corrupt" in p for p in store.problems)
    assert "s00000001.bad" in vf.listdir("rg")
    assert store.read(1) is None


def test_checkpoint_2_s_in_then_every_30_s_and_clock_unknown_marked(fw):
    vf = VirtualFlash()
    store, keeper, _log = boot(fw, vf)
    app = App()
    keeper.start(0)
    for t in range(100, 65_000, 100):
        keeper.update(t, app.body, app.obstacle)
    ckp = fw["sessionfile"].decode(vf.files["rg/run.ckp"])[0]
    assert ckp["duration_ms"] == 62_000  # 2 s in, then every 30 s
    assert ckp["flags"] & fw["sessionfile"].FLAG_CHECKPOINT
    assert not ckp["flags"] & fw["sessionfile"].FLAG_CLOCK_KNOWN
    assert ckp["start_unix_s"] == 0
    keeper.stop(65_000)
    assert "run.ckp" not in vf.listdir("rg")


def test_power_cut_scenario_through_the_firmware_recovers_the_run():
    # The whole firmware on the virtual board; the battery connector bounces mid-run.
    from rearguard import sessionfile
    from sim.pty import LoopbackDevice, play_scenario

    vf = VirtualFlash()
    out = play_scenario(os.path.join(loader.ROOT, "sim", "scenarios", "power_cut.json"), vf)
    assert out["metrics"]["sim"]["resets"]  # the cut did happen
    dev = LoopbackDevice(vf)
    try:
        summaries = [sessionfile.decode(dev.store.read(sid))[0] for sid, *_ in dev.store.listing()]
    finally:
        dev.close()
    assert [s["session_id"] for s in summaries] == [1, 2]
    assert summaries[0]["flags"] & sessionfile.FLAG_RECOVERED and summaries[0]["duration_ms"] >= 2000
    assert not summaries[1]["flags"] & sessionfile.FLAG_RECOVERED
