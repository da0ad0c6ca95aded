#!/usr/bin/python3
"""Times `aimc eval` of models/vit-fmnist.onnx on the 10,000 Fashion-MNIST test images against
PyTorch running the same model (same weights, same batch size, same thread count), in one run,
and prints the ratio. Not a test: the machine is shared, so only the ratios mean something.

    /usr/bin/python3 bench/eval_vs_pytorch.py [--threads 1 2] [--repeat 3] [--batch 100]

Needs python3-torch and python3-onnx (AIMC_WITH_TORCH=1 scripts/install_deps.sh) and a built
build/aimc. PyTorch runs in a child process per thread count so that OpenBLAS, which reads
OPENBLAS_NUM_THREADS once when it loads, gets the same thread count as aimc.
"""
import argparse
import json
import os
import subprocess
import sys
import time

REPO = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
MODEL = os.path.join(REPO, "models", "vit-fmnist.onnx")


def torch_worker(threads, repeat, batch):
    os.environ["OPENBLAS_NUM_THREADS"] = str(threads)
    os.environ["OMP_NUM_THREADS"] = str(threads)
    import numpy as np
    import onnx
    import torch
    from onnx import numpy_helper

    sys.path.insert(0, os.path.join(REPO, "tools"))
    import train_reference_models as trm  # imports torch first: the env above stands

    torch.set_num_threads(threads)
    recipe = trm.RECIPES["vit-fmnist"]
    model = trm.build_model("vit-fmnist", recipe)
    # Load the ONNX initializers. The exporter kept parameter names except for the weights of
    # Linear layers applied to 3-D activations, which it stored transposed as onnx::MatMul_*
    # in block order (qkv, proj, fc1, fc2 per block).
    weights = {i.name: numpy_helper.to_array(i) for i in onnx.load(MODEL).graph.initializer}
    matmuls = [weights[n] for n in weights if n.startswith("onnx::MatMul_")]
    state = {}
    for name, param in model.state_dict().items():
        if name in weights:
            array = weights[name]
        elif name.endswith(".weight") and matmuls and matmuls[0].T.shape == tuple(param.shape):
            array = matmuls.pop(0).T
        elif name.endswith(".mask"):
            array = param.numpy()
        else:
            raise SystemExit(f"no ONNX initializer for {name} {tuple(param.shape)}")
        state[name] = torch.from_numpy(np.ascontiguousarray(array))
    assert not matmuls, "unused MatMul initializers"
    model.load_state_dict(state)
    model.eval()

    ref_in = torch.from_numpy(np.load(os.path.join(REPO, "models", "vit-fmnist.ref-input.npy")))
    ref_out = np.load(os.path.join(REPO, "models", "vit-fmnist.ref-logits.npy"))
    images, labels = trm.load_fmnist("test")
    with torch.inference_mode():
        got = model(ref_in).numpy()
        assert np.abs(got - ref_out).max() <= 1e-4 * np.abs(ref_out).max(), "weights mismatch"
        best = float("inf")
        for _ in range(repeat):
            start = time.perf_counter()
            correct = 0
            for b in range(0, len(images), batch):
                logits = model(images[b:b + batch])
                correct += int((logits.argmax(1) == labels[b:b + batch]).sum())
            best = min(best, time.perf_counter() - start)
    print(json.dumps({"seconds": best, "accuracy": correct / len(images)}))


def run_aimc(threads, repeat, batch):
    best, best_wall, accuracy = float("inf"), float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        out = subprocess.run([os.path.join(REPO, "build", "aimc"), "--threads", str(threads),
                              "eval", MODEL, "--dataset", "fashion-mnist", "--batch",
                              str(batch), "--json"], check=True, capture_output=True, text=True)
        wall = time.perf_counter() - start
        result = json.loads(out.stdout)
        best = min(best, result["digital"]["seconds"])
        best_wall = min(best_wall, wall)
        accuracy = result["digital"]["accuracy"]
    return best, best_wall, accuracy


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--torch-worker", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.torch_worker:
        torch_worker(args.torch_worker, args.repeat, args.batch)
        return
    print(f"vit-fmnist, 10,000 test images, batch {args.batch}, best of {args.repeat}")
    print(f"{'threads':>7} {'aimc eval s':>11} {'(process s)':>11} {'pytorch s':>10} "
          f"{'pytorch/aimc':>12}  accuracy aimc / pytorch")
    for threads in args.threads:
        aimc_s, aimc_wall, aimc_acc = run_aimc(threads, args.repeat, args.batch)
        out = subprocess.run([sys.executable, os.path.abspath(__file__), "--torch-worker",
                              str(threads), "--repeat", str(args.repeat), "--batch",
                              str(args.batch)], check=True, capture_output=True, text=True)
        torch_result = json.loads(out.stdout)
        print(f"{threads:>7} {aimc_s:>11.3f} {aimc_wall:>11.3f} {torch_result['seconds']:>10.3f} "
              f"{torch_result['seconds'] / aimc_s:>12.2f}  {aimc_acc:.4f} / "
              f"{torch_result['accuracy']:.4f}")


if __name__ == "__main__":
    main()
