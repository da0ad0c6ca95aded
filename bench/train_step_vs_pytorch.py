#!/usr/bin/python3
"""Times one training step of models/vit-fmnist.onnx in aimc (forward, cross-entropy,
backward, AdamW update; build/bench/aimc_train_step_bench) against PyTorch doing the same
step on the same model definition (tools/train_reference_models.py), same batch and thread
count, in one run, and prints the ratio aimc / PyTorch (goal: <= 1.0). Also prints the
hardware-aware step on race.yaml (a fresh chip instance per step) against aimc's digital
step. Not a test: the machine is shared, so only ratios mean something.

    /usr/bin/python3 bench/train_step_vs_pytorch.py [--batch 64] [--steps 10] [--threads 1 2]

Needs python3-torch (with libopenblas0-pthread, see DESIGN.md) and a build with the benchmarks
(build/bench/aimc_train_step_bench). PyTorch runs in a child process per thread count so that
OpenBLAS reads the same thread count as aimc.
"""
import argparse
import json
import os
import subprocess
import sys
import time

REPO = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
MODEL = os.path.join(REPO, "models", "vit-fmnist.onnx")
BENCH = os.path.join(REPO, "build", "bench", "aimc_train_step_bench")


def torch_worker(threads, batch, steps):
    os.environ["OPENBLAS_NUM_THREADS"] = str(threads)
    os.environ["OMP_NUM_THREADS"] = str(threads)
    import torch
    import torch.nn.functional as F
    sys.path.insert(0, os.path.join(REPO, "tools"))
    import train_reference_models as trm

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = trm.build_model("vit-fmnist", trm.RECIPES["vit-fmnist"])
    model.train()
    images, labels = trm.load_fmnist("train")
    x = images[:batch].float()
    y = labels[:batch].long()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        times.append(time.perf_counter() - start)
    times.sort()
    print(json.dumps({"median_s": times[len(times) // 2]}))


def aimc_step(threads, batch, steps, arch=None):
    cmd = [BENCH, MODEL, str(batch), str(steps), str(threads)] + ([arch] if arch else [])
    return json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        torch_worker(args.worker, args.batch, args.steps)
        return
    for threads in args.threads:
        torch_out = subprocess.run(
            [sys.executable, __file__, "--worker", str(threads), "--batch", str(args.batch),
             "--steps", str(args.steps)], check=True, capture_output=True, text=True).stdout
        torch_s = json.loads(torch_out.strip().splitlines()[-1])["median_s"]
        digital = aimc_step(threads, args.batch, args.steps)["median_s"]
        analog = aimc_step(threads, args.batch, max(2, args.steps // 3),
                           os.path.join(REPO, "presets", "race.yaml"))["median_s"]
        print(f"threads {threads}, batch {args.batch}: aimc / PyTorch training step "
              f"{digital / torch_s:.2f}x; hardware-aware step on race.yaml / aimc digital "
              f"step {analog / digital:.1f}x")


if __name__ == "__main__":
    main()
