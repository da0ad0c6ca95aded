# Errors: the CLI's message, as aimc.BadInput (ValueError) or aimc.Error (RuntimeError).
import pytest

from conftest import MODELS, PRESETS, CliFailure, run_cli


def cli_error(*args):
    with pytest.raises(CliFailure) as failure:
        run_cli(*args)
    return failure.value


def test_missing_model_is_bad_input_with_the_cli_message(aimc):
    want = cli_error("eval", "/nonexistent.onnx", "--dataset", "fashion-mnist")
    assert want.code == 2
    with pytest.raises(aimc.BadInput) as got:
        aimc.load("/nonexistent.onnx")
    assert str(got.value) == want.message
    assert isinstance(got.value, ValueError) and isinstance(got.value, aimc.Error)


def test_bad_override_names_the_key(aimc):
    race = str(PRESETS / "race.yaml")
    want = cli_error("estimate", "--peak", "--arch", race, "--set", "adc.bitz=6")
    arch = aimc.Architecture.from_yaml(race)
    with pytest.raises(aimc.BadInput) as got:
        arch.set("adc.bitz", 6)
    assert str(got.value) == want.message
    assert "adc.bitz" in want.message
    assert arch.overrides == []  # a rejected override leaves the architecture as it was


def test_wrong_dataset_for_model(aimc):
    gpt = str(MODELS / "gpt-fortunes.onnx")
    want = cli_error("eval", gpt, "--dataset", "fashion-mnist", "--limit", 2)
    with pytest.raises(aimc.Error) as got:
        aimc.load(gpt).eval(dataset="fashion-mnist", limit=2)
    assert str(got.value) == want.message
    assert isinstance(got.value, aimc.BadInput) == (want.code == 2)


def test_run_input_names_are_checked(aimc):
    model = aimc.load(str(MODELS / "mlp-fmnist.onnx"))
    with pytest.raises(aimc.BadInput, match="no input named 'nope'"):
        model.run({"nope": None})


def test_threads(aimc):
    with pytest.raises(aimc.BadInput):
        aimc.set_threads(0)
    aimc.set_threads(1)
    aimc.set_threads(aimc.max_threads())
