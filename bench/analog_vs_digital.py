#!/usr/bin/python3
"""End-to-end cost of analog simulation: `aimc eval` of vit-fmnist on the 10,000 test images
with an architecture (default presets/race.yaml, one chip instance), and the ratio of the
analog evaluation time to the digital one measured in the same process (the eval JSON holds
both). Goal (issue 4): at most 10x.

    /usr/bin/python3 bench/analog_vs_digital.py [--arch presets/race.yaml] [--threads 2]
"""
import argparse
import json
import os
import subprocess

REPO = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", nargs="+", default=["presets/race.yaml"])
    parser.add_argument("--model", default="models/vit-fmnist.onnx")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--limit", type=int, default=10000)
    args = parser.parse_args()
    print(f"{'arch':<24} {'digital s':>9} {'analog s':>9} {'analog/digital':>14}  accuracy "
          "digital / analog")
    for arch in args.arch:
        out = subprocess.run([os.path.join(REPO, "build", "aimc"), "--threads",
                              str(args.threads), "eval", os.path.join(REPO, args.model),
                              "--dataset", "fashion-mnist", "--limit", str(args.limit),
                              "--arch", os.path.join(REPO, arch), "--trials", "1", "--json"],
                             check=True, capture_output=True, text=True)
        r = json.loads(out.stdout)
        d, a = r["digital"]["seconds"], r["analog"]["seconds"]
        print(f"{arch:<24} {d:>9.2f} {a:>9.2f} {a / d:>14.2f}  "
              f"{r['digital']['accuracy']:.4f} / {r['analog']['accuracy']['mean']:.4f}")


if __name__ == "__main__":
    main()
