"""The coach's flow without a clip, as the README and docs/host.md write it:
the same lines in both, and they work when typed (the virtual clip started
in the background, `rearguard` against its port)."""

import os
import re
import shlex
import subprocess
import sys

import pytest

from sim.loader import ROOT

BIN = os.path.dirname(sys.executable)
FIRST = ".venv/bin/python -m sim board --pty"


def flow(doc):
    """The command lines of the doc's code block that starts the virtual clip."""
    with open(os.path.join(ROOT, doc)) as f:
        blocks = re.findall(r"```\n(.*?)```", f.read(), re.S)
    (block,) = [b for b in blocks if b.startswith(FIRST)]
    return [line.split("  #")[0].strip() for line in block.strip().splitlines()]


def test_the_readme_and_the_host_guide_tell_the_same_flow():
    assert flow("README.md") == flow("docs/host.md")


def command(line, device):
    argv = shlex.split(line.replace("/dev/pts/N", device))
    assert argv[0].startswith(".venv/bin/"), line
    return [os.path.join(BIN, argv[0][len(".venv/bin/"):])] + argv[1:]


@pytest.fixture
def virtual_clip():
    start = flow("docs/host.md")[0]
    assert start.endswith("&")
    child = subprocess.Popen(command(start[:-1], ""), cwd=ROOT, stdout=subprocess.PIPE, text=True,
                             start_new_session=True)
    try:
        line = child.stdout.readline()
        assert line.startswith("device: "), "the virtual clip did not start: %r" % line
        yield line.split()[1]
    finally:
        child.terminate()
        child.wait(timeout=10)
        child.stdout.close()


def test_the_flow_runs_as_written(virtual_clip, tmp_path):
    outputs = []
    for line in flow("docs/host.md")[1:]:
        proc = subprocess.run(command(line, virtual_clip), cwd=tmp_path, capture_output=True, text=True,
                              timeout=60, env=dict(os.environ, REARGUARD_HOME=str(tmp_path), COLUMNS="160"))
        assert proc.returncode == 0, (line, proc.stdout, proc.stderr)
        outputs.append(proc.stdout)
    pulled, named, listed, shown, plotted = outputs
    assert "clip 240ac45a1001" in pulled and "1 new session(s)" in pulled
    assert "h of running left" in pulled  # the battery, at every pull
    assert "is now 'Ana'" in named
    assert "Ana/1" in listed
    assert shown.startswith("Ana/1 - Ana") and "too fast" in shown
    assert (tmp_path / "run.png").read_bytes()[:4] == b"\x89PNG"
