#!/usr/bin/python3
"""End-to-end cost of analog simulation: `aimc eval` of vit-fmnist on the 10,000 test images
with an architecture (one chip instance), and the ratio of the analog evaluation time to the
digital one measured in the same process (the eval JSON holds both). Goal (issue 4): at most
10x for presets/race.yaml.

    /usr/bin/python3 bench/analog_vs_digital.py [--arch A.yaml ...] [--threads 2]
        [--limit 10000] [--breakdown] [--aimc build/aimc]

--breakdown adds race.yaml variants that switch parts of the simulation off, so that the
ratio can be split into its causes: the per-read Gaussian draws and read-variance products
(device.read off), the ACAM units (their ops digital), both (what is left is the crossbar
reads themselves: 7 input steps x 2 phases x 4 weight slices, each read through the ADC),
and a one-shot 8-bit DAC (one step per phase instead of 7).
"""
import argparse
import json
import os
import subprocess

REPO = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

BREAKDOWN = [
    ("race, read noise off", "presets/race.yaml", ["device.read=none"]),
    ("race, ACAM ops digital", "presets/race.yaml",
     ["mapping.gelu=digital", "mapping.softmax=digital", "mapping.layer_norm=digital",
      "mapping.matmul=digital"]),
    ("race, read off, ACAM digital", "presets/race.yaml",
     ["device.read=none", "mapping.gelu=digital", "mapping.softmax=digital",
      "mapping.layer_norm=digital", "mapping.matmul=digital"]),
    ("race, one-shot 8-bit DAC", "presets/race.yaml", ["input.dac_bits=7"]),
]


def run(aimc, threads, model, limit, arch, sets):
    command = [aimc, "--threads", str(threads), "eval", os.path.join(REPO, model), "--dataset",
               "fashion-mnist", "--limit", str(limit), "--arch", os.path.join(REPO, arch),
               "--trials", "1", "--json"]
    for s in sets:
        command += ["--set", s]
    out = subprocess.run(command, check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", nargs="+", default=["presets/race.yaml"])
    parser.add_argument("--model", default="models/vit-fmnist.onnx")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--limit", type=int, default=10000)
    parser.add_argument("--breakdown", action="store_true")
    parser.add_argument("--aimc", default=os.path.join(REPO, "build", "aimc"))
    args = parser.parse_args()
    configs = [(arch, arch, []) for arch in args.arch]
    if args.breakdown:
        configs += BREAKDOWN
    print(f"{'configuration':<28} {'digital s':>9} {'analog s':>9} {'analog/digital':>14}  "
          "accuracy digital / analog")
    for label, arch, sets in configs:
        r = run(args.aimc, args.threads, args.model, args.limit, arch, sets)
        d, a = r["digital"]["seconds"], r["analog"]["seconds"]
        print(f"{label:<28} {d:>9.2f} {a:>9.2f} {a / d:>14.2f}  "
              f"{r['digital']['accuracy']:.4f} / {r['analog']['accuracy']['mean']:.4f}",
              flush=True)


if __name__ == "__main__":
    main()
