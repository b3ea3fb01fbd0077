"""Every failure a user can meet is one line on stderr and a non-zero exit
(docs/host.md, Exit status): output files that cannot be written, a damaged
database, and the virtual boards' bad options. The port held by another
program and the clip at the REPL are in tests/test_host_pty.py."""

import sqlite3
import subprocess
import sys

import pytest

from host_tools import cli
from host_tools.db import SessionDB
from host_tools.link import DeviceLink
from host_tools.pull import pull
from sim.flash import VirtualFlash
from sim.loader import ROOT
from sim.pty import LoopbackDevice, record_sessions


@pytest.fixture(scope="module")
def pulled(tmp_path_factory):
    """A database with three sessions pulled from a virtual clip."""
    path = tmp_path_factory.mktemp("errors") / "sessions.db"
    flash = VirtualFlash()
    record_sessions(flash, 3)
    dev = LoopbackDevice(flash)
    try:
        pull(DeviceLink(dev.port, timeout_s=1.0), SessionDB.open(str(path)))
    finally:
        dev.close()
    return path


def one_line(capsys):
    out, err = capsys.readouterr()
    assert err.count("\n") == 1 and err.startswith("rearguard: "), err
    assert "Traceback" not in out + err
    return err


@pytest.mark.parametrize("argv, says", [
    (["export", "--out", "/missing/dir/x.csv"], "cannot write /missing/dir/x.csv: No such file or directory"),
    (["export", "--events", "--out", "/missing/dir/x.json"], "cannot write /missing/dir/x.json"),
    (["plot", "1", "-o", "/missing/x.png"], "cannot write /missing/x.png: No such file or directory"),
    (["plot", "--trend", "-o", "/missing/x.png"], "cannot write /missing/x.png"),
    (["plot", "-o", "x.png"], "plot needs a session"),
    (["show", "99"], "no session 99"),
    (["plot", "99", "-o", "x.png"], "no session 99"),
])
def test_output_and_lookup_failures_are_one_line(pulled, capsys, argv, says):
    assert cli.main(["--db", str(pulled)] + argv) in (cli.EXIT_FAIL, cli.EXIT_USAGE)
    assert says in one_line(capsys)


@pytest.fixture
def damaged(pulled, tmp_path):
    """The database with the sessions table's first page overwritten: its
    schema still reads, its rows do not (a disk error, a bad copy)."""
    path = tmp_path / "damaged.db"
    path.write_bytes(pulled.read_bytes())
    conn = sqlite3.connect(str(path))
    page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name='sessions'").fetchone()[0]
    conn.close()
    with open(path, "r+b") as f:
        f.seek((root - 1) * page_size)
        f.write(b"\x0d\xff" * (page_size // 2))
    return path


@pytest.mark.parametrize("argv", [["sessions"], ["show", "1"], ["export"], ["export", "--events"],
                                  ["plot", "--trend", "-o", "t.png"], ["clips"]])
def test_a_damaged_database_is_one_line_that_says_what_to_do(damaged, capsys, argv, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    assert cli.main(["--db", str(damaged)] + argv) == cli.EXIT_FAIL
    err = one_line(capsys)
    assert "is damaged" in err and "pull --all" in err


def sim(*argv):
    proc = subprocess.run([sys.executable, "-m", "sim", *argv], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)
    return proc.returncode, proc.stdout, proc.stderr


@pytest.mark.parametrize("argv, says", [
    (["mpboard", "--trace", "missing.csv"], "no trace file missing.csv"),
    (["mpboard", "--board", "nosuch"], "unknown board 'nosuch'"),
    (["board", "--board", "nosuch"], "unknown board 'nosuch'"),
    (["board", "--pty", "--board", "nosuch"], "unknown board 'nosuch'"),
])
def test_the_virtual_boards_bad_options_are_one_line(argv, says):
    status, out, err = sim(*argv)
    assert status == 2
    assert err.count("\n") == 1 and says in err, err
    assert "Traceback" not in out + err and "at " not in err.split(":", 1)[0]


def test_sim_board_ends_without_reporting_a_ctrl_c_nobody_pressed():
    status, out, err = sim("board", "--seconds", "1")
    assert status == 0, err
    assert "rearguard 0.1.0 on esp32_devkitc" in out  # the firmware booted
    assert "stopped (Ctrl-C)" not in out and "1 s of board time done" in out


def test_sim_help_lists_every_virtual_board():
    status, out, _err = sim("--help")
    assert status == 0
    for board in ("board", "mpboard"):
        assert "\n    %s " % board in out
    assert "--pty" in out
