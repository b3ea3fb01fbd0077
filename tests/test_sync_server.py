"""The clip's sync server as the desktop tool meets it: the firmware's code on a
virtual board in this process (sim.pty.LoopbackDevice), the host's link code
on the other end."""

import binascii
import random

import pytest

from host_tools.db import SessionDB
from host_tools.link import DeviceError, DeviceLink, LinkError
from host_tools.pull import pull
from rearguard import protocol, sessionfile
from sim.flash import VirtualFlash
from sim.pty import LoopbackDevice, record_sessions


@pytest.fixture
def flash():
    f = VirtualFlash()
    record_sessions(f, 5, seed=1)
    return f


@pytest.fixture
def dev(flash):
    d = LoopbackDevice(flash)
    yield d
    d.close()


def frames_out(dev):
    lines = bytes(dev.from_device).split(b"\n")
    dev.from_device.clear()
    return [protocol.parse_frame(line) for line in lines if line.startswith(b"@")]


def test_pull_stores_every_session_then_acks_and_a_second_pull_adds_nothing(dev, tmp_path):
    db = SessionDB.open(str(tmp_path / "s.db"))
    link = DeviceLink(dev.port, timeout_s=0.5)
    first = pull(link, db)
    assert first.new == [1, 2, 3, 4, 5] and first.acked == 5
    assert all(synced for *_rest, synced in dev.store.listing())
    again = pull(link, db)
    assert again.new == [] and again.acked == 0
    assert len(db.sessions()) == 5
    stored = db.sessions()[2]
    original = sessionfile.decode(dev.store.read(3))[0]
    assert all(stored[k] == v for k, v in original.items())


def test_get_resumes_at_an_offset(dev):
    # The session file, then its track, as one stream.
    file = dev.store.read(2)
    blob = file + dev.flash.files["rg/s00000002.trk"]
    assert len(blob) > len(file)
    dev.to_device.extend(protocol.encode_frame(8, "GET 2 %d" % (len(file) + 4)))  # inside the track
    dev.step(20)
    frames = frames_out(dev)
    assert binascii.a2b_base64(frames[0][1][3]) == bytes(blob[len(file) + 4 :])
    dev.to_device.extend(protocol.encode_frame(9, "GET 2 100"))
    dev.step(40)
    frames = frames_out(dev)
    data = b"".join(binascii.a2b_base64(w[3]) for _s, w in frames if w[0] in ("D", "L"))
    assert data == bytes(blob[100:])
    assert frames[0][1][1:3] == ["2", "100"]
    assert frames[-1][1][0] == "L"  # the last piece carries the size and checksum
    assert frames[-1][1][4:] == [str(len(blob)), "%08x" % sessionfile.check(file)[1]]


def test_get_streams_several_sessions_back_to_back(dev):
    dev.to_device.extend(protocol.encode_frame(9, "GET 1 0 2 3"))
    dev.step(40)
    ends = [w[1] for _s, w in frames_out(dev) if w[0] == "L"]
    assert ends == ["1", "2", "3"]


def test_noise_and_damaged_requests_are_ignored_or_rejected_with_a_code(dev):
    dev.to_device.extend(b"hello from the REPL\r\n>>> print(1)\n\x00\xff\xfe garbage\n")
    good = protocol.encode_frame(5, "HELLO 1")
    bad = bytearray(good)
    bad[3] ^= 0x01  # one bit flipped on the wire
    dev.to_device.extend(bad + good)
    dev.step(10)
    frames = frames_out(dev)
    assert frames[0] == (0, ["ERR", str(protocol.E_FRAME), "frame", "checksum", "mismatch"])
    assert frames[1][0] == 5 and frames[1][1][0] == "OK"
    assert len(frames) == 2  # the noise lines got no answer at all


def test_each_poll_reads_a_bounded_number_of_bytes(dev):
    dev.to_device.extend(b"x" * 10_000)
    dev.server.poll(0)
    assert len(dev.to_device) == 10_000 - 128
    dev.step(100)
    # The endless line swallows the next frame up to its newline; a retry gets through.
    dev.to_device.extend(protocol.encode_frame(6, "HELLO") + protocol.encode_frame(7, "HELLO"))
    dev.step(5)
    assert [(seq, words[0]) for seq, words in frames_out(dev)] == [(7, "OK")]


@pytest.mark.parametrize("request_text, code", [
    ("GET ../../etc/passwd 0", protocol.E_ARGUMENT),
    ("GET 99999999999999999999 0", protocol.E_ARGUMENT),
    ("GET 77 0", protocol.E_NO_SESSION),
    ("GET 1 999999", protocol.E_ARGUMENT),
    ("ACK", protocol.E_ARGUMENT),
    ("FORMAT", protocol.E_COMMAND),
    ("HELLO 2", protocol.E_VERSION),
    ("PSET reaction_ms 5", protocol.E_VALUE),
    ("PSET no_such_field 5", protocol.E_VALUE),
    ("TIME 12", protocol.E_ARGUMENT),
])
def test_bad_requests_get_error_codes(dev, request_text, code):
    dev.to_device.extend(protocol.encode_frame(3, request_text))
    dev.step(3)
    (seq, words), = frames_out(dev)
    assert (seq, words[0], words[1]) == (3, "ERR", str(code))


def test_ack_marks_synced_only_then(dev):
    link = DeviceLink(dev.port, timeout_s=0.5)
    entries = link.list_sessions()
    assert not any(e.synced for e in entries)
    link.fetch(entries[0])
    assert not dev.store.listing()[0][3]  # fetched is not acknowledged
    link.ack([entries[0].session_id])
    assert dev.store.listing()[0][3]


def test_profile_set_is_validated_and_survives_a_reboot(flash):
    dev = LoopbackDevice(flash)
    link = DeviceLink(dev.port, timeout_s=0.5)
    link.profile_set("reaction_ms", 650)
    with pytest.raises(DeviceError, match="reaction_ms must be 200..2000"):
        link.profile_set("reaction_ms", 9000)
    dev.close()
    dev = LoopbackDevice(flash)  # power cycle
    try:
        assert dev.app.profile.reaction_ms == 650
        assert DeviceLink(dev.port, timeout_s=0.5).profile_get()["reaction_ms"] == 650
    finally:
        dev.close()


def test_the_clip_refuses_thresholds_out_of_order_and_resets_to_defaults(flash):
    # caution > warning > stop, in time and in distance: the clip itself holds
    # the line, whatever a host sends.
    dev = LoopbackDevice(flash)
    link = DeviceLink(dev.port, timeout_s=0.5)
    with pytest.raises(DeviceError, match="ttc_warning_ms 2200 must be above ttc_stop_ms 3000"):
        link.profile_set("ttc_stop_ms", 3000)
    with pytest.raises(DeviceError, match="caution_distance_mm 1600 must be above warning_distance_mm 1700"):
        link.profile_set("warning_distance_mm", 1700)
    assert (dev.app.profile.ttc_stop_ms, dev.app.profile.warning_distance_mm) == (1200, 1000)
    link.profile_set("caution_distance_mm", 3000)
    link.profile_set("warning_distance_mm", 2500)  # in order once caution has moved up
    link.profile_set("reaction_ms", 800)
    values = link.profile_reset()
    assert values == {f[0]: f[1] for f in dev.modules["profile"].FIELDS}
    dev.close()
    dev = LoopbackDevice(flash)  # power cycle: the defaults were saved
    try:
        assert dev.app.profile.items() == [(f[0], f[1]) for f in dev.modules["profile"].FIELDS]
    finally:
        dev.close()


def test_a_saved_profile_out_of_order_is_not_used(flash):
    with flash.open("rg/profile", "wb") as f:
        f.write(b"ttc_stop_ms 4000\nreaction_ms 700\n_edits 3")  # edited by hand: stop above warning
    dev = LoopbackDevice(flash)
    try:
        assert dev.app.profile.ttc_stop_ms == 1200 and dev.app.profile.reaction_ms == 500
        assert "profile thresholds out of order; defaults used" in dev.store.problems
    finally:
        dev.close()


def test_the_host_sets_the_clock_and_later_sessions_have_a_start_time(dev, tmp_path):
    link = DeviceLink(dev.port, timeout_s=0.5)
    assert link.hello()["clock"] == "0"
    link.set_time(1_780_000_000)
    assert int(link.hello()["clock"]) >= 1_780_000_000
    keeper = dev.app.session
    keeper.start(dev.vb.clock.ticks_ms())
    dev.step(10)
    keeper.stop(dev.vb.clock.ticks_ms())
    summary = sessionfile.decode(dev.store.read(keeper.session_id))[0]
    assert summary["flags"] & sessionfile.FLAG_CLOCK_KNOWN
    assert 1_780_000_000 <= summary["start_unix_s"] < 1_780_000_100


def test_noisy_link_both_ways_loses_and_duplicates_nothing(dev, tmp_path):
    rng = random.Random(7)

    def tamper(data):
        data = bytearray(data)
        for i in range(len(data)):
            if rng.random() < 0.002:
                data[i] ^= 1 << rng.randrange(8)
        if rng.random() < 0.05:
            data[rng.randrange(len(data) + 1):0] = b"\r\nnoise! \x1b[31m\n"
        return bytes(data)

    dev.port.tamper = tamper
    db = SessionDB.open(str(tmp_path / "s.db"))
    # The timeout is wall time while the loopback device runs in this process:
    # generous enough that a loaded machine (CI, two workers) never mistakes a
    # slow tick for a lost frame; the noise alone must cause the retries.
    link = DeviceLink(dev.port, timeout_s=1.5, retries=8)
    new = []
    for _attempt in range(3):  # a session the noise kept garbling: the next pull resumes it
        try:
            new += pull(link, db).new
            break
        except LinkError:
            continue
    assert sorted(new) == [1, 2, 3, 4, 5]
    assert link.retried > 0  # the noise did hit
    for row in db.sessions():
        assert sessionfile.decode(dev.store.read(row["session_id"]))[0]["steps"] == row["steps"]
