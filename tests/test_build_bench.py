"""`make bench`: every provider's figures in one table and one last JSON line;
a provider that fails is shown failed and does not stop the others."""

import json
import sys
import types

from tools import bench, bench_core


def provider(figures=None, error=None):
    module = types.ModuleType("provider")

    def produce():
        print("chatter that must not reach the JSON line")
        if error:
            raise error
        return figures

    module.figures = produce
    return module


def test_a_failing_provider_is_reported_and_the_others_still_count(monkeypatch, capsys):
    monkeypatch.setattr(bench, "providers", lambda: ["broken", "good"])
    monkeypatch.setitem(sys.modules, "tools.bench_good", provider({"answer_ms": 42}))
    monkeypatch.setitem(sys.modules, "tools.bench_broken",
                        provider(error=RuntimeError("chip model missing")))

    assert bench.main([]) == 1

    out = capsys.readouterr().out
    last = json.loads(out.strip().splitlines()[-1])
    assert last == {"answer_ms": 42, "bench_errors": {"broken": "RuntimeError: chip model missing"}}
    assert "FAILED" in out and "chip model missing" in out
    assert "chatter" not in out


def test_all_providers_are_found_and_core_is_one_of_them():
    assert "core" in bench.providers()


def test_core_figures_are_the_ones_the_issue_names(monkeypatch):
    # The probe and the build have tests of their own; this checks the figures made of them.
    record = {"alloc_bytes": 30, "ticks": 1200, "heap_after_boot_bytes": 40000,
              "heap_running_bytes": 41000, "heap_with_host_bytes": 47000}
    probed = []
    monkeypatch.setattr(bench_core, "probe", lambda built: probed.append(built) or record)
    monkeypatch.setattr(bench_core.build, "build", lambda board, out_dir, quiet: types.SimpleNamespace(
        total_bytes=41000 if board == "esp32_devkitc" else 0))
    assert bench_core.figures() == {
        "alloc_bytes_per_tick": 0.03, "heap_after_boot_bytes": 40000, "heap_running_bytes": 41000,
        "heap_with_host_bytes": 47000, "mpy_total_bytes": 41000}
    assert probed and probed[0].endswith("esp32_devkitc")  # the probe ran on the build


def _run(lead_ms, available_ms, collided):
    """One bench row with one wall on the path (tools.bench_obstacle.run_one's shape)."""
    return {"scenario": "wall", "k": 0, "tags": [], "running_s": 30.0, "false_alerts": 0,
            "stops_receding": 0, "blind": [], "too_fast_due": False, "too_fast_ms": None,
            "too_fast_notices": 0, "sun_approaches": [], "stationary_alert_s": 0.0,
            "false_blind": 0, "speed_error_pct": {"before": [], "after": []},
            "obstacles": [{"id": "wall", "kind": "wall", "lead_ms": lead_ms,
                           "available_lead_ms": available_ms, "ratio": lead_ms / available_ms,
                           "avoidable": False, "collided": collided}]}


def test_the_obstacle_bench_reports_the_lead_itself_beside_the_ratio():
    # A clip that sees the wall later (available 800 ms, not 1000) and alerts at
    # its first sight scores the better ratio with the shorter lead and a hit.
    from tools import bench_obstacle

    full = bench_obstacle.summarise([_run(900, 1000, False)])
    narrow = bench_obstacle.summarise([_run(800, 800, True)])
    assert narrow["lead_ratio_min"] > full["lead_ratio_min"]
    assert (narrow["lead_total_s"], narrow["collisions"]) == (0.8, 1)
    assert (full["lead_total_s"], full["collisions"]) == (0.9, 0)
