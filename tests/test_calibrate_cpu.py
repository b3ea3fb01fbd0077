"""tools/calibrate_cpu.py, which gives the power model its cost of a bytecode
operation: its workload is the same computation on both runtimes (else the
timing compares unlike things), it runs end to end, and it says what it needs.
pystone_lowmem itself is not in the repository: a stand-in program takes its
place here."""

import json

from tools import calibrate_cpu, micropython

STAND_IN = """
from utime import ticks_ms, ticks_diff

def Proc0(loops):
    total = 0
    for i in range(loops):
        total += (i * 7) // 3 - total // 2
    return total
"""


def test_the_workload_computes_the_same_under_micropython_and_cpython():
    _ops, expected = calibrate_cpu.workload_ops(calibrate_cpu.trace_lines(), 600)
    code = "import json, mp_cpu\nrows = mp_cpu.load(%r)\nprint('MPJSON ' + json.dumps(list(mp_cpu.run(rows, 600))))" % (
        micropython.DEVICE_TESTS_MP + "/" + calibrate_cpu.TRACE)
    got = micropython.run(code).check().records()[0]
    assert got == expected
    assert expected[0] > 10  # the jog's steps were found: the chain ran, not an idle path


def test_a_calibration_runs_end_to_end(tmp_path):
    stand_in = tmp_path / "pystone_lowmem.py"
    stand_in.write_text("# not pystone: a stand-in with its entry point\n" + STAND_IN)
    result = calibrate_cpu.calibrate(str(stand_in), samples=200, passes=200, timed_passes=50000,
                                    repeats=1)
    assert result["firmware_ops_per_sample"] > 1000  # the IMU chain's few thousand per sample
    assert result["micropython_us_per_sample"] > 0 and result["micropython_us_per_pass"] > 0
    assert result["esp32_us_per_firmware_op"] > 0
    json.dumps(result)


def test_it_asks_for_pystone_lowmem_by_name(tmp_path, capsys):
    assert calibrate_cpu.main([]) == 2
    assert "pystone_lowmem.py" in capsys.readouterr().err
    assert calibrate_cpu.main([str(tmp_path / "missing.py")]) == 1
    assert "pystone_lowmem.py" in capsys.readouterr().err
    other = tmp_path / "other.py"
    other.write_text("print('hello')\n")
    assert calibrate_cpu.main([str(other)]) == 1
    assert "no Proc0" in capsys.readouterr().err
