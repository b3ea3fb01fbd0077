"""The desktop tool against the real firmware on the virtual board, through a
pseudo-terminal and pyserial, as `rearguard pull --port <path>` would be used:
`python -m sim.pty` runs in a child process that every test kills."""

import json
import os

import pytest
import serial

from host_tools import cli
from host_tools.db import SessionDB
from host_tools.link import DeviceLink, LinkError
from host_tools.pull import pull
from sim.pty import board_process


@pytest.fixture
def clip(request):
    args = getattr(request, "param", ["--sessions", "12", "--no-default-run"])
    with board_process(args) as path:
        yield path


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("REARGUARD_HOME", str(tmp_path))
    return tmp_path


class Unplug(Exception):
    pass


def test_unplugged_mid_transfer_then_pulled_again_loses_and_duplicates_nothing(clip, home):
    db = SessionDB.open(str(home / "s.db"))
    link = DeviceLink.open(clip, timeout_s=1.0)
    moved = [0]

    def progress(total):
        def advance(n):
            moved[0] += n
            if moved[0] > total // 2:
                link.port.close()  # the cable comes out half-way
        return advance

    with pytest.raises(LinkError):
        pull(link, db, progress=progress)
    assert db.sessions() == []  # nothing stored half-way, so nothing acknowledged either
    staged = db.conn.execute("SELECT COUNT(*) FROM staging").fetchone()[0]
    assert staged >= 1  # what did arrive is kept: the next pull resumes, not restarts
    with DeviceLink.open(clip, timeout_s=1.0) as again:
        report = pull(again, db)
        assert sorted(report.new) == list(range(1, 13))
        assert report.acked == 12
        assert not [e for e in again.list_sessions() if not e.synced]
    assert sorted(r["session_id"] for r in db.sessions()) == list(range(1, 13))
    with DeviceLink.open(clip, timeout_s=1.0) as third:
        assert pull(third, db).new == []
    assert len(db.sessions()) == 12


def test_garbage_on_the_line_is_ignored(clip, home):
    with serial.Serial(clip, 115200, timeout=0.05) as raw:
        raw.write(b"\x00\xffgarbage\r\nimport os\r\n@1 HELLO*00000000\n")
    db = SessionDB.open(str(home / "s.db"))
    with DeviceLink.open(clip, timeout_s=1.0) as link:
        link.port.write(b"more noise\n")
        assert len(pull(link, db).new) == 12


@pytest.mark.parametrize("clip", [[]], indirect=True)  # the default run, as `make demo` uses it
def test_cli_pull_list_export_plot_and_config(clip, home, capsys, tmp_path):
    assert cli.main(["pull", "--port", clip]) == 0
    assert "1 new session(s)" in capsys.readouterr().out
    assert os.path.exists(home / "sessions.db")
    assert cli.main(["sessions", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["session_id"] for r in rows] == [1] and rows[0]["duration_ms"] > 0
    assert cli.main(["show", "1"]) == 0
    shown = capsys.readouterr().out
    assert "session 1 from clip" in shown and "session_start" in shown
    assert cli.main(["export", "--format", "json"]) == 0
    exported = json.loads(capsys.readouterr().out)
    assert exported[0]["events"][0]["kind"] == "session_start"
    assert cli.main(["export", "--format", "csv", "--out", str(tmp_path / "s.csv")]) == 0
    assert (tmp_path / "s.csv").read_text().splitlines()[0].startswith("device,session_id,")
    assert cli.main(["plot", "1", "-o", str(tmp_path / "run.png")]) == 0
    assert cli.main(["plot", "--trend", "-o", str(tmp_path / "trend.png")]) == 0
    for png in ("run.png", "trend.png"):
        assert (tmp_path / png).read_bytes()[:4] == b"\x89PNG"
    capsys.readouterr()
    assert cli.main(["config", "set", "reaction_ms", "700", "--port", clip, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["reaction_ms"] == 700
    assert cli.main(["config", "set", "reaction_ms", "7", "--port", clip]) == cli.EXIT_USAGE
    assert "reaction_ms must be 200..2000 ms" in capsys.readouterr().out


def test_ctrl_c_on_the_line_still_stops_the_firmware(clip):
    with serial.Serial(clip, 115200, timeout=0.2) as port:
        port.reset_input_buffer()
        port.write(b"\x03")
        seen = b""
        for _ in range(50):
            seen += port.read(4096)
            if b"stopped (Ctrl-C)" in seen:
                break
    assert b"stopped (Ctrl-C)" in seen  # motor off, session closed, back at the REPL
