"""The run's track: one sample a second recorded by the clip's session keeper
(rearguard.session), appended to flash at each checkpoint, read by the desktop
tool (host_tools.track) as a coach would see it; and what an hour of it costs
the clip's flash."""

import pytest

from host_tools import track
from sim import loader, vtime
from sim.flash import VirtualFlash
from sim.vclock import Clock

FLASH_BUDGET_PER_HOUR = 40 * 1024


class Part:
    def __init__(self, **kw):
        self.__dict__.update(kw)


class Battery:
    def read_mv(self):
        return 4000


@pytest.fixture
def fw():
    vtime.bind(Clock())
    with loader.firmware_modules() as load:
        mods = {n: load("rearguard." + n) for n in ("store", "session", "events", "profile", "sessionfile")}
        mods["flash"] = VirtualFlash()
        store = mods["store"].Store(mods["store"].Flash(mods["flash"]))
        store.mount()
        mods["store_obj"] = store
        mods["keeper"] = mods["session"].SessionKeeper(store, mods["profile"].Profile(), "esp32_devkitc",
                                                       Battery(), mods["events"].Events())
        yield mods
    vtime.bind(None)


def sent(fw, session_id):
    """What the clip sends the host for a session: its file, then its track."""
    store = fw["store_obj"]
    blob = store.read(session_id)
    return bytes(blob) + store.read_track(session_id, 0, fw["sessionfile"].track_size(blob))


def run(fw, seconds, script, tick_ms=10, control=None):
    """Tick the keeper for `seconds`; script(ms, body, obstacle) sets what the
    monitors report. Returns the samples the host decodes."""
    keeper = fw["keeper"]
    body = Part(steps=0, cadence_spm=0, speed_mm_s=0, moving=True,
                balance=Part(near_falls=0, near_fall_pending=False, falls=0))
    ob = Part(level=0, ttc_ms=-1, distance_mm=-1, blind=False, too_fast=False, range_valid=True)
    keeper.start(0)
    for t in range(tick_ms, seconds * 1000 + 1, tick_ms):
        script(t, body, ob)
        keeper.update(t, body, ob)
        if control:
            control(t, keeper)
    keeper.stop(seconds * 1000)
    return track.samples(track.split(sent(fw, keeper.session_id))[1])


def test_each_second_of_the_run_is_one_sample_as_the_runner_lived_it(fw):
    ev = fw["events"]

    def script(ms, body, ob):
        body.speed_mm_s = 2500 if ms <= 6000 else 1000
        body.cadence_spm = 170
        ob.distance_mm = 3000 - (ms - 4000) if 4000 < ms <= 6000 else -1  # closing in, seconds 4-5
        ob.level = ev.CAUTION if 4000 < ms <= 5000 else ev.STOP if ms == 5500 else 0  # a STOP tick
        ob.too_fast = 2000 < ms <= 3500
        ob.blind = 7000 < ms <= 7020

    def control(ms, keeper):
        if ms == 8000:
            keeper.pause(ms)

    samples = run(fw, 10, script, control=control)
    assert len(samples) == 10  # one a second, pauses included
    assert [s.speed_mm_s for s in samples] == [2500] * 6 + [1000, 1000, 0, 0]
    assert [s.cadence_spm for s in samples] == [170] * 10
    assert [s.range_mm for s in samples] == [None] * 4 + [2000, 1000] + [None] * 4  # nearest that second
    assert [s.level for s in samples] == [0] * 4 + [1, 3] + [0] * 4  # the highest, even for one tick
    assert [s.too_fast for s in samples] == [False, False, True, True] + [False] * 6
    assert [s.blind for s in samples] == [False] * 7 + [True, False, False]
    assert [s.paused for s in samples] == [False] * 8 + [True, True]
    assert track.spans(samples, "too_fast") == [(2, 4)]


def test_a_range_beyond_the_byte_and_a_sprint_are_clamped_not_wrapped(fw):
    def script(ms, body, ob):
        body.speed_mm_s = 9000
        body.cadence_spm = 300
        ob.distance_mm = 6000

    samples = run(fw, 3, script)
    assert {(s.speed_mm_s, s.cadence_spm, s.range_mm) for s in samples} == {(255 * 25, 255, 254 * 20)}


def test_a_damaged_track_is_refused_by_the_host(fw):
    run(fw, 5, lambda ms, body, ob: None)
    raw = bytearray(sent(fw, 1))
    raw[-3] ^= 0x40
    with pytest.raises(track.SessionFileError, match="track"):
        track.split(raw)


def blocks(flash, names):
    return sum(flash._blocks_for(len(flash.files["rg/" + n])) for n in names if "rg/" + n in flash.files)


def test_an_hour_of_running_costs_the_flash_less_than_40_kb(fw):
    flash = fw["flash"]
    peak = [0]
    base = flash.used_blocks()

    def script(ms, body, ob):
        body.speed_mm_s = 2200 + ms // 1000 % 7 * 100
        body.cadence_spm = 160
        ob.distance_mm = 4000 - ms // 100 % 3000
        ob.level = ms // 60_000 % 4

    def control(ms, _keeper):
        if ms % 30_000 == 0:  # at each checkpoint: what the running session holds in flash
            peak[0] = max(peak[0], flash.used_blocks() - base)

    samples = run(fw, 3600, script, tick_ms=100, control=control)
    assert len(samples) == 3600
    session_bytes = blocks(flash, ["s00000001.rgs", "s00000001.trk"]) * flash.block_size
    print("\nflash per hour of running: %d bytes in blocks (track %d bytes of samples), "
          "%d bytes at most while running" % (session_bytes, 4 * len(samples), peak[0] * flash.block_size))
    assert session_bytes <= FLASH_BUDGET_PER_HOUR
    assert peak[0] * flash.block_size <= FLASH_BUDGET_PER_HOUR + flash.block_size  # + the checkpoint
