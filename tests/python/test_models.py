# Every model call of the Python module against the CLI's --json on the bundled models.
import numpy as np
import pytest

from conftest import MODELS, PRESETS, cli_json, run_cli, without_timing

MLP = str(MODELS / "mlp-fmnist.onnx")
CNN = str(MODELS / "cnn-fmnist.onnx")
RACE = str(PRESETS / "race.yaml")
PUMA = str(PRESETS / "puma.yaml")
NLDPE = str(PRESETS / "nldpe.yaml")


def test_run_digital_matches_reference_and_cli(aimc, tmp_path):
    model = aimc.load(MLP)
    x = np.load(MODELS / "mlp-fmnist.ref-input.npy")
    (name,) = model.inputs
    (out,) = model.outputs
    got = model.run({name: x})[out]
    np.testing.assert_allclose(got, np.load(MODELS / "mlp-fmnist.ref-logits.npy"), atol=1e-4)
    run_cli("run", MLP, "--input", MODELS / "mlp-fmnist.ref-input.npy", "-o", tmp_path)
    (written,) = tmp_path.glob("*.npy")
    np.testing.assert_array_equal(got, np.load(written))
    # Not C-contiguous and float64: converted, same numbers.
    again = model.run({name: np.asfortranarray(x.astype(np.float64)).astype(np.float32)})[out]
    np.testing.assert_array_equal(got, again)


def test_run_analog_matches_cli(aimc, tmp_path):
    model = aimc.load(MLP)
    x = np.load(MODELS / "mlp-fmnist.ref-input.npy")
    arch = aimc.Architecture.from_yaml(RACE)
    got = model.run({model.inputs[0]: x}, arch=arch, seed=7, trial=1)[model.outputs[0]]
    run_cli("run", MLP, "--input", MODELS / "mlp-fmnist.ref-input.npy", "-o", tmp_path,
            "--arch", RACE, "--seed", 7, "--trial", 1)
    (written,) = tmp_path.glob("*.npy")
    np.testing.assert_array_equal(got, np.load(written))
    other = model.run({model.inputs[0]: x}, arch=arch, seed=8, trial=1)[model.outputs[0]]
    assert not np.array_equal(got, other)


def test_eval_digital(aimc):
    got = aimc.load(MLP).eval(dataset="fashion-mnist", limit=40, batch=16)
    want = cli_json("eval", MLP, "--dataset", "fashion-mnist", "--limit", 40, "--batch", 16)
    assert without_timing(got) == without_timing(want)
    assert got["samples"] == 40 and 0 < got["digital"]["accuracy"] <= 1


def test_eval_analog_with_set(aimc):
    arch = aimc.Architecture.from_yaml(RACE).set("adc.bits", 6)
    assert arch.overrides == ["adc.bits=6"]
    got = aimc.load(MLP).eval(dataset="fashion-mnist", arch=arch, trials=2, seed=3, limit=30)
    want = cli_json("eval", MLP, "--dataset", "fashion-mnist", "--arch", RACE, "--set",
                    "adc.bits=6", "--trials", 2, "--seed", 3, "--limit", 30)
    assert without_timing(got) == without_timing(want)
    assert len(got["analog"]["per_trial"]) == 2 and got["layers"]
    # The override matters: 10-bit ADCs (race.yaml's) give other numbers.
    plain = aimc.load(MLP).eval(dataset="fashion-mnist", arch=aimc.Architecture.from_yaml(RACE),
                                trials=2, seed=3, limit=30)
    assert without_timing(plain["layers"]) != without_timing(got["layers"])


@pytest.mark.parametrize("model,preset", [(MLP, RACE), (CNN, PUMA), (CNN, NLDPE)])
def test_estimate(aimc, model, preset):
    arch = aimc.Architecture.from_yaml(preset)
    got = aimc.estimate(model, arch, batch=4, baseline="gpu")
    want = cli_json("estimate", model, "--arch", preset, "--batch", 4, "--baseline", "gpu")
    assert got == want
    assert got["batch"] == 4 and got["energy_j"] > 0 and "baseline" in got
    assert aimc.estimate(aimc.load(model), arch) == cli_json("estimate", model, "--arch", preset)


def test_nldpe_readout_eval_matches_cli_and_fuses(aimc):
    # readout.mode acam: the CNN's first ReLU runs in its convolution's readout trees.
    arch = aimc.Architecture.from_yaml(NLDPE).set("readout.depth_relu", 6)
    got = aimc.load(CNN).eval(dataset="fashion-mnist", arch=arch, trials=1, limit=20)
    want = cli_json("eval", CNN, "--dataset", "fashion-mnist", "--arch", NLDPE, "--set",
                    "readout.depth_relu=6", "--trials", 1, "--limit", 20)
    assert without_timing(got) == without_timing(want)
    placements = {layer["name"]: layer["placement"] for layer in got["layers"]}
    assert placements["/Relu"] == "crossbar"
    assert "/Relu_1" not in placements  # after a 4-row-block convolution: digital
    cost = aimc.estimate(CNN, arch)
    assert cost["breakdown"]["by_component"]["adc"]["actions"] == 0
    assert cost["breakdown"]["by_component"]["acam_readout"]["actions"] > 0


def test_estimate_peak(aimc):
    assert aimc.estimate_peak(aimc.Architecture.from_yaml(PUMA)) == cli_json(
        "estimate", "--peak", "--arch", PUMA)


def test_compile(aimc, tmp_path):
    arch = aimc.Architecture.from_yaml(RACE).set("array.rows", 64)
    got = aimc.compile(MLP, arch, chips=1)
    want = cli_json("compile", MLP, "--arch", RACE, "--set", "array.rows=64", "-o", tmp_path)
    assert got == want
    assert got["model"] == MLP


def test_simulate(aimc):
    got = aimc.simulate(MLP, aimc.Architecture.from_yaml(RACE), batch=2)
    want = cli_json("simulate", MLP, "--arch", RACE, "--batch", 2)
    assert without_timing(got) == without_timing(want)
    assert got["cycles"] > 0


def test_arrays_in_place_and_threads(aimc):
    model = aimc.load(MLP)
    x = np.load(MODELS / "mlp-fmnist.ref-input.npy")
    before = x.copy()
    out = model.run({model.inputs[0]: x})[model.outputs[0]]
    np.testing.assert_array_equal(x, before)  # wrapped without a copy, never written
    assert out.base is not None and out.flags.c_contiguous  # aimc's buffer, handed over
    # Calls release the GIL: several Python threads at once give the numbers one gives.
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(4) as pool:
        runs = list(pool.map(lambda _: model.run({model.inputs[0]: x})[model.outputs[0]],
                             range(4)))
    for r in runs:
        np.testing.assert_array_equal(r, out)
