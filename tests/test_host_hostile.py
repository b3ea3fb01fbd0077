"""A hostile or broken device cannot make the desktop tool crash, hang, or
write outside its data directory; and a database it cannot write to stops the
pull before anything is acknowledged."""

import os
import sqlite3
import time

import pytest

from host_tools import cli
from host_tools.db import DBError, SessionDB
from host_tools.link import DeviceLink, LinkError
from host_tools.pull import pull
from rearguard import protocol
from sim.flash import VirtualFlash
from sim.pty import LoopbackDevice, record_sessions

HELLO = "OK proto=1 fw=0.1.0 board=esp32_devkitc uid=abc123 bat_mv=3900 free=1000 clock=0"


class ScriptedPort:
    """A device that answers each request with whatever `answer(seq, words)` returns (bytes)."""

    def __init__(self, answer, endless=None):
        self.answer = answer
        self.endless = endless  # bytes returned by every read, forever
        self.out = bytearray()
        self.acked = []

    @property
    def in_waiting(self):
        return len(self.out) or (4096 if self.endless else 0)

    def write(self, data):
        seq, words = protocol.parse_frame(data)
        if words[0] == "ACK":
            self.acked += words[1:]
        self.out.extend(self.answer(seq, words))

    def flush(self):
        pass

    def read(self, n=1):
        if self.endless:
            return self.endless[:n]
        if not self.out:
            time.sleep(0.001)
        data = bytes(self.out[:n])
        del self.out[:n]
        return data

    def close(self):
        pass


def device(list_reply=None, get_reply=None):
    def answer(seq, words):
        cmd = words[0]
        if cmd == "HELLO":
            return protocol.encode_frame(seq, HELLO)
        if cmd == "TIME":
            return protocol.encode_frame(seq, "OK 1")
        if cmd == "LIST":
            return list_reply(seq) if callable(list_reply) else protocol.encode_frame(seq, list_reply)
        if cmd == "GET":
            return get_reply(seq)
        return protocol.encode_frame(seq, "OK 0")
    return answer


def frame_raw(seq, body):
    """A frame with a correct CRC over arbitrary bytes (the codec would refuse to make it)."""
    body = b"%d " % seq + body
    return b"@" + body + b"*" + b"%08x" % protocol.crc32(body) + b"\n"


@pytest.fixture
def home(tmp_path, monkeypatch):
    home = tmp_path / "home"
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.setenv("REARGUARD_HOME", str(home))
    monkeypatch.chdir(work)
    yield home
    outside = [os.path.join(d, f) for d, _, fs in os.walk(tmp_path) for f in fs
               if not os.path.join(d, f).startswith(str(home))]
    assert outside == []  # nothing written outside the data directory


HOSTILE = {
    "huge session length": device("OK 1 end 1:4000000000:deadbeef:u"),
    "id with path characters": device("OK 1 end ../../etc/passwd:10:deadbeef:u"),
    "list that never ends": device(lambda seq: protocol.encode_frame(seq, "OK 9 %d 1:10:deadbeef:u" % (seq * 0 + 1))),
    "invalid UTF-8 in frames": device(lambda seq: frame_raw(seq, b"OK 1 end \xff\xfe:\xc3(:u")),
    "more data than announced": device(
        "OK 1 end 7:8:deadbeef:u",
        lambda seq: protocol.encode_frame(seq, "D 7 0 " + "QUFB" * 60)),
    "data for another offset": device(
        "OK 1 end 7:300:deadbeef:u",
        lambda seq: protocol.encode_frame(seq, "D 7 123 QUFB")),
    "silence after the list": device("OK 1 end 7:300:deadbeef:u", lambda seq: b""),
    "floods of other replies": device(
        "OK 1 end 7:300:deadbeef:u",
        lambda seq: b"".join(protocol.encode_frame(s, "D 7 0 QUFB") for s in range(1, 400))),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_device_gives_a_clear_error_in_bounded_time(home, name):
    port = ScriptedPort(HOSTILE[name])
    db = SessionDB.open(str(home / "sessions.db"))
    started = time.monotonic()
    with pytest.raises(LinkError) as err:
        pull(DeviceLink(port, timeout_s=0.2, retries=3), db)
    assert time.monotonic() - started < 10
    assert str(err.value)  # a message a user can read
    assert port.acked == []
    assert db.sessions() == []


def test_endless_output_without_newlines_does_not_hang(home):
    port = ScriptedPort(device(), endless=b"\xff" * 4096)
    started = time.monotonic()
    with pytest.raises(LinkError, match="no valid answer"):
        DeviceLink(port, timeout_s=0.2, retries=2).hello()
    assert time.monotonic() - started < 5


def test_hostile_handshake_values_never_become_names(home):
    port = ScriptedPort(lambda seq, words: protocol.encode_frame(
        seq, "OK proto=1 fw=0.1.0 board=../../x uid=../../../tmp/evil"))
    with pytest.raises(LinkError, match="lacks"):
        DeviceLink(port, timeout_s=0.2).hello()


@pytest.fixture
def clip():
    flash = VirtualFlash()
    record_sessions(flash, 3)
    dev = LoopbackDevice(flash)
    yield dev
    dev.close()


def test_read_only_database_is_a_clear_error_and_nothing_is_acked(home, clip):
    db_path = home / "sessions.db"
    SessionDB.open(str(db_path)).close()
    os.chmod(db_path, 0o444)
    try:
        if os.access(db_path, os.W_OK):
            pytest.skip("running as root: files are never read-only")
        with pytest.raises(DBError, match="read-only"):
            pull(DeviceLink(clip.port, timeout_s=2.0), SessionDB.open(str(db_path)))
    finally:
        os.chmod(db_path, 0o644)
    assert not any(synced for *_rest, synced in clip.store.listing())


def test_database_opened_read_only_is_a_clear_error_and_nothing_is_acked(home, clip):
    db_path = home / "sessions.db"
    SessionDB.open(str(db_path)).close()
    with pytest.raises(DBError, match="read-only"):
        pull(DeviceLink(clip.port, timeout_s=2.0), SessionDB.open("file:%s?mode=ro" % db_path))
    assert not any(synced for *_rest, synced in clip.store.listing())


def test_locked_database_is_a_clear_error_and_nothing_is_acked(home, clip, capsys):
    db_path = home / "sessions.db"
    SessionDB.open(str(db_path)).close()
    other = sqlite3.connect(str(db_path))
    other.execute("BEGIN EXCLUSIVE")  # another program holds the database
    try:
        with pytest.raises(DBError, match="locked by another program"):
            pull(DeviceLink(clip.port, timeout_s=2.0), SessionDB.open(str(db_path)))
    finally:
        other.rollback()
        other.close()
    assert not any(synced for *_rest, synced in clip.store.listing())


def test_cli_reports_database_errors_without_a_traceback(home, capsys):
    (home).mkdir()
    bad = home / "not-a-db.db"
    bad.write_bytes(b"this is not sqlite" * 100)
    assert cli.main(["sessions", "--db", str(bad)]) == cli.EXIT_FAIL
    assert "not a RearGuard database" in capsys.readouterr().err
