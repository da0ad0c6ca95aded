# aimc.sweep, aimc.pareto and aimc.report_html against `aimc sweep` and `aimc report`.
import json

import aimc
import pytest

from conftest import MODELS, PRESETS, run_cli


def write_sweep(tmp_path, body):
    path = tmp_path / "sweep.yaml"
    path.write_text(f"model: {MODELS / 'vit-fmnist.onnx'}\narch: {PRESETS / 'race.yaml'}\n" + body)
    return path


GRID = "axes:\n  adc.bits: [6, 8]\n  array.rows: [64, 128]\nobjectives: [energy, latency]\n"


def test_sweep_equals_the_cli(tmp_path):
    sweep = write_sweep(tmp_path, GRID)
    ours = aimc.sweep(str(sweep), str(tmp_path / "py.jsonl"), jobs=2)
    cli = json.loads(run_cli("sweep", sweep, "-o", tmp_path / "cli.jsonl", "--json", "--pareto"))
    assert (tmp_path / "py.jsonl").read_bytes() == (tmp_path / "cli.jsonl").read_bytes()
    for key in ("points", "computed", "failed", "feasible", "pareto"):
        assert ours[key] == cli[key], key
    assert ours["points"] == 4
    # A second call resumes: nothing left to run.
    again = aimc.sweep(str(sweep), str(tmp_path / "py.jsonl"))
    assert again["computed"] == 0 and again["resumed"] == 4


def test_pareto_and_report_equal_the_cli(tmp_path):
    sweep = write_sweep(tmp_path, GRID)
    results = tmp_path / "r.jsonl"
    run_cli("sweep", sweep, "-o", results)
    cli = json.loads(run_cli("report", results, "--pareto", "--json"))
    assert aimc.pareto(str(results)) == cli["pareto"]
    run_cli("report", results, "-o", tmp_path / "r.html")
    assert aimc.report_html(str(results)) == (tmp_path / "r.html").read_text()


def test_bad_sweep_raises_bad_input(tmp_path):
    sweep = write_sweep(tmp_path, "axes:\n  adc.bitz: [6]\nobjectives: [energy]\n")
    with pytest.raises(aimc.BadInput, match="axes.adc.bitz"):
        aimc.sweep(str(sweep), str(tmp_path / "r.jsonl"))
    assert not (tmp_path / "r.jsonl").exists()
