#!/usr/bin/python3
"""Throughput of `aimc trees predict` on the 100-tree depth-6 model (tests/data/trees/
synthetic100.json, 20 features), on N threads (default 2).

    /usr/bin/python3 bench/trees_bench.py [--aimc build/aimc] [--samples 200000] [--threads 2]

Reports, per configuration, the end-to-end samples/s of the command (model load, CSV parse
and write included) and the samples/s of the prediction itself (from `-v`: compilation,
chip instance and prediction). The machine may be shared: compare binaries in one run.
"""
import argparse
import os
import re
import subprocess
import tempfile
import time

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
DATA = os.path.join(ROOT, "tests", "data", "trees")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--aimc", default=os.path.join(ROOT, "build", "aimc"))
    parser.add_argument("--samples", type=int, default=200000)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    with open(os.path.join(DATA, "synthetic100.test.csv")) as f:
        lines = f.read().splitlines()
    with tempfile.TemporaryDirectory() as tmp:
        data = os.path.join(tmp, "x.csv")
        with open(data, "w") as f:
            for i in range(args.samples):
                f.write(lines[i % len(lines)] + "\n")
        xtime = os.path.join(ROOT, "presets", "xtime.yaml")
        # (name, extra arguments, samples: None = all)
        configs = [
            ("digital reference", [], None),
            ("xtime ACAM, noise off (8-bit codes)", ["--arch", xtime], None),
            ("xtime ACAM, noise off (16-bit codes, exact)",
             ["--arch", xtime, "--set", "acam.in_bits=16"], None),
            ("xtime ACAM, threshold noise 0.005 (segments)",
             ["--arch", xtime, "--set", "acam.threshold_sigma=0.005"], None),
            ("xtime ACAM, threshold + input noise 0.005",
             ["--arch", xtime, "--set", "acam.threshold_sigma=0.005",
              "--set", "acam.input_sigma=0.005"], min(args.samples, 50000)),
        ]
        for name, extra, samples in configs:
            samples = samples or args.samples
            if samples != args.samples:
                small = os.path.join(tmp, "small.csv")
                with open(small, "w") as f:
                    for i in range(samples):
                        f.write(lines[i % len(lines)] + "\n")
                inp = small
            else:
                inp = data
            cmd = [args.aimc, "--threads", str(args.threads), "-v", "trees", "predict",
                   os.path.join(DATA, "synthetic100.json"), "--data", inp,
                   "-o", os.path.join(tmp, "p.csv")] + extra
            start = time.perf_counter()
            run = subprocess.run(cmd, capture_output=True, text=True)
            seconds = time.perf_counter() - start
            if run.returncode != 0:
                raise SystemExit(run.stderr)
            match = re.search(r"\(([0-9.e+]+) samples/s\)", run.stderr)
            kernel = float(match.group(1)) if match else float("nan")
            print("%-50s %8d samples: end-to-end %10.0f samples/s, predict %12.0f samples/s"
                  % (name, samples, samples / seconds, kernel))


if __name__ == "__main__":
    main()
