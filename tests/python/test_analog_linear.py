# aimc.AnalogLinear against the analog executor: one Gemm layer in an ONNX file, run by
# Model.run(arch=...) (the executor, as `aimc run --arch`), gives the same numbers bit for bit.
import numpy as np
import pytest

from conftest import PRESETS

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

OUT, IN, ROWS = 20, 37, 6


@pytest.fixture(scope="module")
def layer_data():
    rng = np.random.default_rng(0)
    weight = rng.standard_normal((OUT, IN)).astype(np.float32)  # PyTorch's [out, in]
    bias = rng.standard_normal(OUT).astype(np.float32)
    x = rng.standard_normal((ROWS, IN)).astype(np.float32)
    return weight, bias, x


def gemm_model(path, weight, bias):
    node = helper.make_node("Gemm", ["x", "W", "b"], ["y"], name="fc", transB=1)
    graph = helper.make_graph(
        [node], "fc", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [ROWS, IN])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [ROWS, OUT])],
        [numpy_helper.from_array(weight, "W"), numpy_helper.from_array(bias, "b")])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), path)
    return str(path)


def arch(aimc, preset):
    return aimc.Architecture.from_yaml(str(PRESETS / f"{preset}.yaml"))


@pytest.mark.parametrize("preset", ["race", "isaac", "nldpe"])
def test_same_numbers_as_the_executor(aimc, tmp_path, layer_data, preset):
    weight, bias, x = layer_data
    model = aimc.load(gemm_model(tmp_path / "fc.onnx", weight, bias))
    want = model.run({"x": x}, arch=arch(aimc, preset), seed=3, trial=1)["y"]
    layer = aimc.AnalogLinear(weight, bias, arch=arch(aimc, preset), seed=3, trial=1, name="fc")
    layer.calibrate(x)  # the executor calibrates on the inputs it runs, as `aimc run --arch`
    np.testing.assert_array_equal(layer.forward(x), want)
    assert (layer.in_features, layer.out_features) == (IN, OUT) and layer.arrays > 0


def test_numpy_loop_is_batch_independent(aimc, layer_data):
    weight, bias, x = layer_data
    layer = aimc.AnalogLinear(weight, bias, arch=arch(aimc, "race"), seed=1)
    whole = layer.forward(x)
    # Read noise is keyed by the row's index in the whole run, not by the batch.
    parts = [layer.forward(x[i:i + 2], first_row=i) for i in range(0, ROWS, 2)]
    np.testing.assert_array_equal(np.concatenate(parts), whole)
    # Another chip instance, or the same rows read as other rows, draws other noise.
    assert not np.array_equal(aimc.AnalogLinear(weight, bias, arch=arch(aimc, "race"),
                                                seed=2).forward(x), whole)
    assert not np.array_equal(layer.forward(x, first_row=ROWS), whole)


def test_ideal_is_the_product_within_quantisation(aimc, layer_data):
    weight, bias, x = layer_data
    y = aimc.AnalogLinear(weight, bias, arch=arch(aimc, "ideal")).forward(x.astype(np.float64))
    exact = x.astype(np.float64) @ weight.T.astype(np.float64) + bias
    # int8 inputs and weights: each product is off by at most about 1/127 of its terms' size.
    bound = np.abs(x) @ np.abs(weight.T) * (2 / 127)
    assert np.all(np.abs(y - exact) <= bound)
    assert np.abs(y - exact).max() > 0  # quantised, not the float product
    no_bias = aimc.AnalogLinear(weight, arch=arch(aimc, "ideal")).forward(x)
    np.testing.assert_allclose(y - no_bias, np.broadcast_to(bias, y.shape), atol=1e-4)


def test_shapes_are_checked(aimc, layer_data):
    weight, bias, x = layer_data
    layer = aimc.AnalogLinear(weight, bias, arch=arch(aimc, "race"))
    with pytest.raises(aimc.BadInput, match=r"expected \[batch, 37\]"):
        layer.forward(x[:, :10])
    with pytest.raises(aimc.BadInput, match="bias"):
        aimc.AnalogLinear(weight, bias[:3], arch=arch(aimc, "race"))


def test_readout_layer_needs_calibration_first(aimc, layer_data):
    # nldpe.yaml reads every column through a tree calibrated on data.
    weight, bias, x = layer_data
    layer = aimc.AnalogLinear(weight, bias, arch=arch(aimc, "nldpe"), seed=1)
    with pytest.raises(aimc.BadInput, match="calibrate"):
        layer.forward(x)
    layer.calibrate(x)
    y = layer.forward(x)
    assert y.shape == (ROWS, OUT) and layer.arrays > 0
    # Identity trees of depth 8 over each column's range, after noisy crossbars: close to
    # the product, but not equal to it.
    exact = x @ weight.T + bias
    assert np.corrcoef(y.ravel(), exact.ravel())[0, 1] > 0.99
    assert not np.array_equal(y, exact)

