#!/usr/bin/python3
"""Wall time of `aimc estimate` on a BERT-base-shaped model (12 blocks, width 768, 12 heads,
FFN 3072, 128 tokens; bench/make_bert_onnx.py writes it into a temporary folder), on the
bundled presets, with the GPU baseline. The issue's goal: under 2 s.

    /usr/bin/python3 bench/estimate_bench.py [--aimc build/aimc] [--runs 3] [--seq 128]
                                             [--presets isaac,puma,race] [--chips 64]

Prints, per preset, the median and best wall time of the command (ONNX load included) and
the chips, latency and throughput it reports. Exits 1 when a median exceeds --limit seconds.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--aimc", default=os.path.join(ROOT, "build", "aimc"))
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seq", type=int, default=128)
    parser.add_argument("--presets", default="isaac,puma,race")
    parser.add_argument("--chips", type=int, default=64)
    parser.add_argument("--limit", type=float, default=2.0)
    args = parser.parse_args()
    slow = False
    with tempfile.TemporaryDirectory() as tmp:
        model = os.path.join(tmp, "bert-base.onnx")
        start = time.perf_counter()
        subprocess.run([sys.executable, os.path.join(ROOT, "bench", "make_bert_onnx.py"), model,
                        "--seq", str(args.seq)], check=True)
        print(f"bert-base (seq {args.seq}): {os.path.getsize(model) / 1e6:.0f} MB written in "
              f"{time.perf_counter() - start:.1f} s")
        print(f"{'preset':<8} {'median s':>9} {'best s':>8} {'chips':>6} {'latency s':>10} "
              f"{'inf/s':>9} {'vs A100':>8}")
        for preset in args.presets.split(","):
            command = [args.aimc, "estimate", model, "--arch",
                       os.path.join(ROOT, "presets", preset + ".yaml"), "--chips",
                       str(args.chips), "--baseline", "gpu", "--json"]
            times, result = [], None
            for _ in range(args.runs):
                start = time.perf_counter()
                out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
                times.append(time.perf_counter() - start)
                result = json.loads(out)
            median = statistics.median(times)
            slow |= median > args.limit
            print(f"{preset:<8} {median:>9.3f} {min(times):>8.3f} {result['chips']:>6} "
                  f"{result['latency_s']:>10.4g} {result['throughput_inf_per_s']:>9.4g} "
                  f"{result['baseline']['speedup']:>7.3g}x")
    sys.exit(1 if slow else 0)


if __name__ == "__main__":
    main()
