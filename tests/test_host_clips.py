"""A coach with a squad: several clips pulled into one database, told apart,
named, filtered by clip and by date, with ids that never mean two runs; runs
dated from the clip's uptime when its clock was not set yet; and a new
database that gets back every session the clips still hold."""

import datetime
import json
import sqlite3
import struct
import time

import pytest

from host_tools import cli, track
from host_tools.db import SessionDB
from host_tools.link import DeviceLink
from host_tools.pull import pull
from sim.flash import VirtualFlash
from sim.pty import LoopbackDevice

ANA, BEN = "240ac4000001", "240ac4000002"
DAY = 86_400


def utc(text):
    return int(datetime.datetime.fromisoformat(text + "+00:00").timestamp())


MAY_6, MAY_14, MAY_21 = utc("2024-05-06T07:30:00"), utc("2024-05-14T18:00:00"), utc("2024-05-21T07:00:00")


@pytest.fixture(autouse=True)
def utc_local_time(monkeypatch):
    # Dates shown and filtered are local: pin the zone so the days are these.
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def record_run(dev, seconds=12):
    """One run on the clip, started and stopped as the runner would (the
    session's track fills a sample a second)."""
    dev.app.session_control.keep_active(dev.vb.clock.ticks_ms())
    dev.step(seconds * 100)
    dev.app.session.stop(dev.vb.clock.ticks_ms())


def clip(uid, flash=None):
    return LoopbackDevice(flash or VirtualFlash(), unique_id=bytes.fromhex(uid))


def runs_on_days(uid, days):
    """A clip whose clock a host set to each day before the run (as a pull does)."""
    dev = clip(uid)
    link = DeviceLink(dev.port, timeout_s=1.0)
    for day in days:
        link.set_time(day)
        record_run(dev)
    return dev


def rg(db, *argv):
    return cli.main(["--db", str(db)] + list(argv))


def as_json(capsys, db, *argv):
    assert rg(db, *argv, "--json") == 0
    return json.loads(capsys.readouterr().out)


def test_two_clips_one_database_named_filtered_and_never_ambiguous(tmp_path, capsys):
    db_path = tmp_path / "squad.db"
    db = SessionDB.open(str(db_path))
    for uid, days in ((ANA, (MAY_6, MAY_14)), (BEN, (MAY_6, MAY_21))):
        dev = runs_on_days(uid, days)
        try:
            assert pull(DeviceLink(dev.port, timeout_s=1.0), db).new == [1, 2]
        finally:
            dev.close()
    db.close()

    # Both clips have a session 1 and 2: the ids shown say whose.
    refs = [r["session"] for r in as_json(capsys, db_path, "sessions")]
    assert sorted(refs) == sorted(["%s/%d" % (u, n) for u in (ANA, BEN) for n in (1, 2)])
    assert rg(db_path, "show", "1") == cli.EXIT_FAIL
    err = capsys.readouterr().err
    assert "session 1 is on 2 clips" in err and ANA + "/1" in err and BEN + "/1" in err

    assert rg(db_path, "clips", "name", ANA, "Ana") == 0
    assert rg(db_path, "clips", "name", "240ac400", "Ben") == cli.EXIT_USAGE  # the start of both uids
    assert "names 2 clips" in capsys.readouterr().err
    assert rg(db_path, "clips", "name", BEN, "Ben") == 0
    capsys.readouterr()
    clips = {c["uid"]: c for c in as_json(capsys, db_path, "clips")}
    assert (clips[ANA]["name"], clips[BEN]["name"]) == ("Ana", "Ben")
    assert clips[ANA]["sessions"] == clips[BEN]["sessions"] == 2

    listed = as_json(capsys, db_path, "sessions")
    assert [(r["session"], r["athlete"], r["start_utc"]) for r in listed] == [
        ("Ana/1", "Ana", "2024-05-06T07:30:00Z"), ("Ben/1", "Ben", "2024-05-06T07:30:00Z"),
        ("Ana/2", "Ana", "2024-05-14T18:00:00Z"), ("Ben/2", "Ben", "2024-05-21T07:00:00Z")]
    assert [r["session"] for r in as_json(capsys, db_path, "sessions", "--clip", "ana")] == ["Ana/1", "Ana/2"]
    assert [r["session"] for r in as_json(capsys, db_path, "sessions", "--athlete", "Ben")] == ["Ben/1", "Ben/2"]
    assert [r["session"] for r in as_json(capsys, db_path, "sessions", "--since", "2024-05-07",
                                          "--until", "2024-05-21")] == ["Ana/2", "Ben/2"]
    assert [r["session"] for r in as_json(capsys, db_path, "sessions", "--until", "2024-05-06",
                                          "--clip", BEN)] == ["Ben/1"]

    assert rg(db_path, "show", "Ana/2") == 0
    assert capsys.readouterr().out.startswith("Ana/2 - Ana (clip %s" % ANA)
    assert rg(db_path, "show", "1", "--athlete", "Ben") == 0  # a bare id, made unique by a filter
    assert capsys.readouterr().out.startswith("Ben/1")
    assert rg(db_path, "export", "--athlete", "Ana", "--out", str(tmp_path / "ana.csv")) == 0
    lines = (tmp_path / "ana.csv").read_text().splitlines()
    assert len(lines) == 3 and all(line.startswith("Ana/") for line in lines[1:])


def test_unknown_clip_names_and_ids_are_one_line_errors(tmp_path, capsys):
    db_path = tmp_path / "s.db"
    dev = runs_on_days(ANA, (MAY_6,))
    try:
        pull(DeviceLink(dev.port, timeout_s=1.0), SessionDB.open(str(db_path)))
    finally:
        dev.close()
    for argv in (["sessions", "--clip", "nobody"], ["show", "Zoe/1"], ["show", "7"], ["show", "x/y"],
                 ["clips", "name", "nobody", "Zoe"], ["sessions", "--since", "May 6"]):
        assert rg(db_path, *argv) in (cli.EXIT_FAIL, cli.EXIT_USAGE), argv
        out, err = capsys.readouterr()
        assert out == "" and err.count("\n") == 1 and err.startswith("rearguard: "), (argv, err)


def test_runs_from_the_boot_the_host_talks_to_are_dated_from_uptime_the_rest_stay_undated(tmp_path, capsys):
    flash = VirtualFlash()
    earlier = clip(ANA, flash)
    record_run(earlier)  # boot 1, clock never set: nothing can date it now
    earlier.close()
    dev = clip(ANA, flash)  # the clip restarted (boot 2)
    record_run(dev, seconds=20)
    dev.step(3000)  # 30 s later the host talks to it
    db_path = tmp_path / "s.db"
    try:
        before = time.time()
        report = pull(DeviceLink(dev.port, timeout_s=1.0), SessionDB.open(str(db_path)))
    finally:
        dev.close()
    assert report.new == [1, 2] and report.dated == 1
    rows = {r["session_id"]: r for r in SessionDB.open(str(db_path)).sessions()}
    assert rows[1]["start_s"] is None and rows[1]["dated"] is None
    assert rows[2]["dated"] == "uptime"
    assert before - 52 - 2 <= rows[2]["start_s"] <= time.time() - 50 + 2  # 20 s run + 30 s ago
    assert rg(db_path, "sessions", "--since", "2000-01-01") == 0
    out = capsys.readouterr().out
    assert "1 undated run(s) left out by the date filter" in out
    assert rg(db_path, "show", "1") == 0
    assert "undated (boot 1" in capsys.readouterr().out


def test_a_new_database_gets_back_every_session_still_on_the_clip(tmp_path, capsys):
    dev = runs_on_days(ANA, (MAY_6, MAY_14, MAY_21))
    try:
        first = SessionDB.open(str(tmp_path / "laptop.db"))
        assert pull(DeviceLink(dev.port, timeout_s=1.0), first).acked == 3
        kept = sorted((r["session_id"], r["crc"]) for r in first.sessions())
        first.close()
        (tmp_path / "laptop.db").unlink()  # the laptop is lost

        fresh = SessionDB.open(str(tmp_path / "new-laptop.db"))
        plain = pull(DeviceLink(dev.port, timeout_s=1.0), fresh)
        assert plain.new == [] and plain.left_on_clip == 3  # ... and `pull` says how to get them
        everything = pull(DeviceLink(dev.port, timeout_s=1.0), fresh, everything=True)
        assert sorted(everything.new) == [1, 2, 3] and everything.acked == 0
        assert sorted((r["session_id"], r["crc"]) for r in fresh.sessions()) == kept
        assert all(fresh.track(ANA, sid) for sid, _crc in kept)  # the tracks came back too
        again = pull(DeviceLink(dev.port, timeout_s=1.0), fresh, everything=True)
        assert again.new == [] and sorted(again.already) == [1, 2, 3]  # known by content: no duplicates
        assert len(fresh.sessions()) == 3
    finally:
        dev.close()


def test_a_different_run_under_a_known_id_is_kept_apart_not_written_over(tmp_path):
    # The clip's flash was erased: its ids start again at 1, with other runs.
    db = SessionDB.open(str(tmp_path / "s.db"))
    old = runs_on_days(ANA, (MAY_6,))
    try:
        pull(DeviceLink(old.port, timeout_s=1.0), db)
    finally:
        old.close()
    stored = db.sessions()[0]
    erased = runs_on_days(ANA, (MAY_21,))
    try:
        report = pull(DeviceLink(erased.port, timeout_s=1.0), db)
        assert report.clashes == [1] and report.new == [] and report.acked == 0
        assert [e for e in erased.store.listing() if not e[3]]  # still unsynced on the clip: not lost
    finally:
        erased.close()
    assert [(r["session_id"], r["crc"], r["start_s"]) for r in db.sessions()] == [
        (1, stored["crc"], stored["start_s"])]


def format_1(blob):
    """A session file as firmware before the track wrote it (format 1)."""
    from rearguard import sessionfile

    at = 4 + struct.calcsize("<" + "".join(f[1] for f in sessionfile.summary_fields()))
    body = blob[:3] + b"\x01" + blob[4 : at - 8] + blob[at:-4]
    return body + struct.pack("<I", sessionfile.crc32(body))


def test_a_database_and_sessions_from_before_the_track_still_read(tmp_path, capsys):
    # A schema 1 database (no clips table, no track columns) holding a format 1
    # session, as the tool before this one made it.
    from rearguard import sessionfile

    dev = runs_on_days(ANA, (MAY_6,))
    try:
        old = format_1(bytes(dev.store.read(1)))
    finally:
        dev.close()
    summary = track.decode(old)[0]
    assert summary["session_id"] == 1 and summary["track_bytes"] == 0 and summary["start_unix_s"] == MAY_6
    path = tmp_path / "old.db"
    conn = sqlite3.connect(str(path))
    v1 = [n for n in sessionfile.summary_names() if not n.startswith("track_")]
    conn.executescript(
        "CREATE TABLE sessions (device TEXT NOT NULL, %s, firmware TEXT, board TEXT, crc INTEGER, "
        "size INTEGER, raw BLOB, pulled_unix_s INTEGER, PRIMARY KEY (device, session_id));"
        "CREATE TABLE events (device TEXT NOT NULL, session_id INTEGER NOT NULL, t_ms INTEGER, kind TEXT, "
        "level TEXT); CREATE TABLE staging (device TEXT NOT NULL, session_id INTEGER NOT NULL, crc INTEGER, "
        "size INTEGER, raw BLOB, PRIMARY KEY (device, session_id)); CREATE TABLE meta (key TEXT PRIMARY KEY, "
        "value TEXT); INSERT INTO meta VALUES ('schema', '1');" % ", ".join("%s INTEGER" % n for n in v1))
    conn.execute("INSERT INTO sessions VALUES (%s)" % ", ".join("?" * (len(v1) + 7)),
                 [ANA] + [summary[n] for n in v1] + ["0.1.0", "esp32_devkitc", sessionfile.check(old)[1],
                                                     len(old), old, MAY_6 + DAY])
    conn.commit()
    conn.close()
    assert rg(path, "show", "1") == 0
    shown = capsys.readouterr().out
    assert shown.startswith(ANA + "/1") and "2024-05-06 07:30" in shown and "track      none" in shown
    assert [c["uid"] for c in as_json(capsys, path, "clips")] == [ANA]
    assert rg(path, "plot", "1", "-o", str(tmp_path / "old.png")) == 0
