"""The desktop tool against the real firmware on the virtual board, through a
pseudo-terminal and pyserial, as `rearguard pull --port <path>` would be used:
`python -m sim.pty` runs in a child process that every test kills."""

import json
import os
import subprocess
import sys
import time

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
def test_cli_pull_list_show_export_plot(clip, home, capsys, tmp_path):
    assert cli.main(["pull", "--port", clip]) == 0
    assert "1 new session(s)" in capsys.readouterr().out
    assert os.path.exists(home / "sessions.db")
    assert cli.main(["sessions", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["session_id"] for r in rows] == [1] and rows[0]["duration_s"] > 0
    ref = rows[0]["session"]  # "<uid>/1": the clip is unnamed
    assert ref == rows[0]["clip"] + "/1"
    assert cli.main(["show", "1"]) == 0
    shown = capsys.readouterr().out
    assert shown.startswith(ref) and "session_start" in shown and "pace" in shown
    assert "too fast" in shown  # the default run's sun: a highlight of its track
    assert cli.main(["export", "--format", "json"]) == 0
    exported = json.loads(capsys.readouterr().out)
    assert exported[0]["events"][0]["kind"] == "session_start"
    assert cli.main(["export", "--out", str(tmp_path / "s.csv")]) == 0
    assert (tmp_path / "s.csv").read_text().splitlines()[0].startswith("session,clip,athlete,")
    assert cli.main(["plot", ref, "-o", str(tmp_path / "run.png")]) == 0
    assert cli.main(["plot", "--trend", "-o", str(tmp_path / "trend.png")]) == 0
    for png in ("run.png", "trend.png"):
        assert (tmp_path / png).read_bytes()[:4] == b"\x89PNG"


def one_error_line(capsys):
    out, err = capsys.readouterr()
    assert err.count("\n") == 1 and err.startswith("rearguard: "), err
    assert "Traceback" not in out + err
    return err


@pytest.mark.parametrize("clip", [["--no-default-run"]], indirect=True)
def test_config_keeps_the_thresholds_in_order_confirms_changes_and_resets(clip, home, capsys):
    assert cli.main(["config", "set", "reaction_ms", "700", "--port", clip]) == 0
    assert capsys.readouterr().out.strip() == "reaction_ms: 500 -> 700 ms"
    assert cli.main(["config", "get", "reaction_ms", "--port", clip, "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"reaction_ms": 700}
    assert cli.main(["config", "get", "ttc_stop_ms", "--port", clip]) == 0
    shown = capsys.readouterr().out
    assert "ttc_stop_ms" in shown and "reaction_ms" not in shown
    # STOP above WARNING would make every alert a STOP: refused, both values named.
    assert cli.main(["config", "set", "ttc_stop_ms", "3000", "--port", clip]) == cli.EXIT_USAGE
    assert "ttc_warning_ms 2200 must be above ttc_stop_ms 3000" in one_error_line(capsys)
    assert cli.main(["config", "set", "stop_distance_mm", "2000", "--port", clip]) == cli.EXIT_USAGE
    assert "must be above stop_distance_mm 2000" in one_error_line(capsys)
    assert cli.main(["config", "set", "reaction_ms", "7", "--port", clip]) == cli.EXIT_USAGE
    assert "reaction_ms must be 200..2000 ms" in one_error_line(capsys)
    assert cli.main(["config", "get", "nosuchkey", "--port", clip]) == cli.EXIT_USAGE
    assert "unknown setting 'nosuchkey'" in one_error_line(capsys)
    assert cli.main(["config", "get", "--port", clip, "--json"]) == 0
    values = json.loads(capsys.readouterr().out)
    assert (values["ttc_stop_ms"], values["stop_distance_mm"]) == (1200, 600)  # nothing was changed
    assert cli.main(["config", "reset", "--port", clip]) == 0
    assert capsys.readouterr().out.strip() == "reaction_ms: 700 -> 500 ms"
    assert cli.main(["config", "reset", "--port", clip]) == 0
    assert "already at its default" in capsys.readouterr().out


@pytest.mark.parametrize("clip", [["--no-default-run"]], indirect=True)
def test_a_port_held_by_another_program_is_named_as_such(clip, home, capsys):
    with serial.Serial(clip, 115200, exclusive=True):  # as `mpremote repl` holds it
        started = time.monotonic()
        assert cli.main(["pull", "--port", clip]) == cli.EXIT_FAIL
        assert "held by another program" in one_error_line(capsys)
        assert time.monotonic() - started < 5, "it should not wait for the device"
    assert cli.main(["pull", "--port", clip]) == 0  # closed: the clip answers


@pytest.mark.parametrize("clip", [["--no-default-run"]], indirect=True)
def test_a_clip_at_the_repl_is_named_at_once_with_what_to_do(clip, home, capsys):
    with serial.Serial(clip, 115200, timeout=0.2) as port:
        port.write(b"\x03")  # the firmware stops; the clip now sits at the prompt
        seen = b""
        for _ in range(50):
            seen += port.read(4096)
            if b">>> " in seen:
                break
    started = time.monotonic()
    assert cli.main(["pull", "--port", clip]) == cli.EXIT_FAIL
    err = one_error_line(capsys)
    assert "MicroPython prompt" in err and "mpremote connect PORT reset" in err
    assert time.monotonic() - started < 3, "the REPL's echo names it at once, no retries"


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


@pytest.mark.parametrize("clip", [["--no-default-run"]], indirect=True)
def test_mpremote_is_told_plainly_that_this_board_answers_rearguard_only(clip):
    mpremote = os.path.join(os.path.dirname(sys.executable), "mpremote")
    for args in (["fs", "ls"], ["resume", "exec", "print(1)"]):
        proc = subprocess.run([mpremote, "connect", clip, *args], capture_output=True, text=True, timeout=30)
        assert proc.returncode != 0
        assert "no MicroPython REPL: for mpremote use `python -m sim mpboard`" in proc.stdout + proc.stderr
