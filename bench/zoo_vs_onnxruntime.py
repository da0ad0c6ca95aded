#!/usr/bin/python3
"""aimc's fp32 run time against onnxruntime-node's on the full-size model zoo, 1 and 2 threads.

For every DIR/NAME.onnx (tools/export_zoo.py writes build/zoo), both runtimes run the stored
input batch --repeat times in one process each (`aimc run --repeat`, tools/ort/run.js
--repeat); the fastest run of each is compared, so model loading and warm-up are left out.
Prints the ratio aimc / onnxruntime (below 1: aimc is faster) per model and thread count, and
the geometric mean. Both runtimes run in this process's machine at the same time of day, one
after the other: compare ratios, not absolute times.

Run: /usr/bin/python3 bench/zoo_vs_onnxruntime.py [DIR] [--repeat 5] [--threads 1,2]
     [--models a,b]   (needs tools/ort: cd tools/ort && npm install --ignore-scripts)
"""
import argparse
import json
import math
import os
import subprocess
import sys

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
sys.path.insert(0, os.path.join(ROOT, "tools"))
from zoo_check import zoo_models  # noqa: E402  (the same model selection as the check)


def input_name(aimc, model):
    info = json.loads(subprocess.run([aimc, "inspect", model, "--json"], check=True,
                                     capture_output=True, text=True).stdout)
    return info["inputs"][0]["name"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("dir", nargs="?", default=os.path.join(ROOT, "build/zoo"))
    ap.add_argument("--aimc", default=os.path.join(ROOT, "build/aimc"))
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--models", default="")
    args = ap.parse_args()
    models = zoo_models(args.dir, args.models, "zoo_vs_onnxruntime")
    threads = [int(t) for t in args.threads.split(",")]
    print("| model | " + " | ".join(f"aimc / onnxruntime, {t} thread{'s' if t > 1 else ''}"
                                     for t in threads) + " |")
    print("|---|" + "---|" * len(threads))
    logs = {t: [] for t in threads}
    for model in models:
        stem = model[: -len(".onnx")]
        feed = f"{input_name(args.aimc, model)}={stem}.input.npy"
        cells = []
        for t in threads:
            a = subprocess.run([args.aimc, "--threads", str(t), "run", model, "--input", feed,
                                "--output-dir", "/tmp/aimc-zoo-bench", "--repeat",
                                str(args.repeat), "--json"], capture_output=True, text=True)
            o = subprocess.run(["node", os.path.join(ROOT, "tools/ort/run.js"), model, "--input",
                                feed, "--threads", str(t), "--repeat", str(args.repeat)],
                               capture_output=True, text=True)
            if a.returncode != 0 or o.returncode != 0:
                cells.append("error: " + (a.stderr or o.stderr).strip()[-120:])
                continue
            aimc_s = json.loads(a.stdout)["seconds"]
            ort_s = min(json.loads(o.stdout)["seconds"])
            ratio = aimc_s / ort_s
            logs[t].append(math.log(ratio))
            cells.append(f"{ratio:.2f} ({aimc_s * 1e3:.1f} / {ort_s * 1e3:.1f} ms)")
        print(f"| {os.path.basename(stem)} | " + " | ".join(cells) + " |", flush=True)
    print("| geometric mean | " + " | ".join(
        f"{math.exp(sum(v) / len(v)):.2f}" if v else "–" for v in logs.values()) + " |")


if __name__ == "__main__":
    main()
