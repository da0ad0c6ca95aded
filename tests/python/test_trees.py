# Tree ensembles: predict, eval and estimate against `aimc trees ... --json`.
import numpy as np

from conftest import PRESETS, TREES, cli_json, run_cli

XTIME = str(PRESETS / "xtime.yaml")


def features(name):
    return np.loadtxt(TREES / f"{name}.test.csv", delimiter=",", dtype=np.float32, ndmin=2)


def test_predict_matches_cli(aimc, tmp_path):
    for name in ["breast_cancer", "digits", "diabetes"]:
        model = str(TREES / f"{name}.json")
        trees = aimc.load_trees(model)
        x = features(name)
        for arch_args, arch in [((), None), (("--arch", XTIME, "--seed", 4, "--trial", 2),
                                             aimc.Architecture.from_yaml(XTIME))]:
            out = tmp_path / f"{name}.csv"
            run_cli("trees", "predict", model, "--data", TREES / f"{name}.test.csv", "-o", out,
                    *arch_args)
            want = np.loadtxt(out, delimiter=",", dtype=np.float32, ndmin=2)
            got = trees.predict(x, arch=arch, trial=2, seed=4)
            assert got.shape == (x.shape[0], trees.num_outputs)
            np.testing.assert_allclose(got.reshape(want.shape), want, rtol=1e-6, atol=1e-7)


def test_eval_matches_cli(aimc):
    model = str(TREES / "breast_cancer.json")
    labels = np.loadtxt(TREES / "breast_cancer.labels.csv", delimiter=",")
    arch = aimc.Architecture.from_yaml(XTIME).set("acam.threshold_sigma", 0.02)
    got = aimc.load_trees(model).eval(features("breast_cancer"), labels, arch=arch, trials=3,
                                      seed=5)
    want = cli_json("trees", "eval", model, "--data", TREES / "breast_cancer.test.csv",
                    "--labels", TREES / "breast_cancer.labels.csv", "--arch", XTIME, "--set",
                    "acam.threshold_sigma=0.02", "--trials", 3, "--seed", 5)
    assert got == want
    assert len(got["acam"]["trials"]) == 3 and 0 < got["digital"] <= 1


def test_estimate_matches_cli(aimc):
    model = str(TREES / "digits.json")
    got = aimc.load_trees(model).estimate(aimc.Architecture.from_yaml(XTIME))
    assert got == cli_json("trees", "estimate", model, "--arch", XTIME)
    assert got["rows"] > 0
