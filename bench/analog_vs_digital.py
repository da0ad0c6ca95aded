#!/usr/bin/python3
"""End-to-end cost of analog simulation: `aimc eval` of vit-fmnist with an architecture (one chip
instance), and the ratio of the analog evaluation time to the digital one measured in the
same process (the eval JSON holds both). Goals (issue 12): presets/race.yaml at most 20x in
exact mode, at most 5x with `device.read.mode: aggregated` (2,000 images, 1 trial).

    /usr/bin/python3 bench/analog_vs_digital.py [--arch A.yaml ...] [--threads 2]
        [--limit 2000] [--breakdown] [--aimc build/aimc]

Each architecture runs in both read-noise modes. --breakdown adds race.yaml variants that
switch parts of the simulation off, so that the ratio can be split into its causes: the read
noise (device.read none), the ADC (ideal, so that noise-free reads merge into one product),
the ACAM units (their ops digital), every analog op digital (what is left is the analog
executor's own overhead), and a one-shot 8-bit DAC (one input step per phase instead of 7).
"""
import argparse
import json
import os
import subprocess

REPO = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

ACAM_DIGITAL = ["mapping.gelu=digital", "mapping.softmax=digital", "mapping.layer_norm=digital",
                "mapping.matmul=digital"]
BREAKDOWN = [
    ("race, read noise off", "presets/race.yaml", ["device.read=none"]),
    ("race, read off, ideal ADC", "presets/race.yaml", ["device.read=none", "adc.model=ideal"]),
    ("race, ACAM ops digital", "presets/race.yaml", ACAM_DIGITAL),
    ("race, all ops digital", "presets/race.yaml",
     ACAM_DIGITAL + ["mapping.linear=digital", "mapping.conv=digital"]),
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
    parser.add_argument("--limit", type=int, default=2000)
    parser.add_argument("--breakdown", action="store_true")
    parser.add_argument("--aimc", default=os.path.join(REPO, "build", "aimc"))
    args = parser.parse_args()
    configs = []
    for arch in args.arch:
        name = os.path.splitext(os.path.basename(arch))[0]
        configs += [(f"{name}, exact", arch, []),
                    (f"{name}, aggregated", arch, ["device.read.mode=aggregated"])]
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
