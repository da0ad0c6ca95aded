#!/usr/bin/python3
"""Generates docs/results/nldpe.md from the aimc command line (no Python packages needed).

    /usr/bin/python3 tools/nldpe_results.py [--images 10000] [--trials 3] [--slow-images 2000]
        [--ablation-images 2000] [--ablation-trials 3] [--threads 2]

Puts the NL-DPE-style preset (presets/nldpe.yaml: no ADCs, every crossbar output read by an
analog CAM tree that may compute the layer's activation) next to race.yaml (the same crossbars
and ACAM function units, read through 10-bit ADCs) and isaac.yaml (16-bit ISAAC), for the two
fashion-mnist models the issue names: accuracy over chip instances (`aimc eval`), and latency,
throughput, energy and area (`aimc estimate`, batch 1). Then ablations of the readout on
nldpe.yaml: tree depth, no fusion, and threshold and input noise. Every row lists the command
that reproduces it. isaac (4.3x the reads of race) takes `--slow-images`.
"""
import argparse
import datetime
import json
import os
import subprocess
import time

REPO = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
AIMC = os.path.join(REPO, "build", "aimc")
MODELS = ["vit-fmnist", "cnn-fmnist"]
PRESETS = ["race", "isaac", "nldpe"]
# The readout's functions (readout.depth_<f>).
FUNCTIONS = ["identity", "relu", "gelu", "silu", "sigmoid", "tanh"]


def shown(cmd):
    return " ".join(os.path.relpath(c, REPO) if c.startswith(REPO) else c for c in cmd[1:])


def run_json(cmd):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def evaluate(args, model, preset, images, trials, sets=()):
    cmd = [AIMC, "--threads", str(args.threads), "eval",
           os.path.join(REPO, "models", model + ".onnx"), "--dataset", "fashion-mnist",
           "--limit", str(images), "--arch", os.path.join(REPO, "presets", preset + ".yaml"),
           "--trials", str(trials), "--seed", "0", "--json",
           "--set", "device.read.mode=aggregated"]
    for s in sets:
        cmd += ["--set", s]
    return run_json(cmd), shown(cmd)


def estimate(args, model, preset, sets=()):
    cmd = [AIMC, "--threads", str(args.threads), "estimate",
           os.path.join(REPO, "models", model + ".onnx"),
           "--arch", os.path.join(REPO, "presets", preset + ".yaml"), "--json"]
    for s in sets:
        cmd += ["--set", s]
    return run_json(cmd), shown(cmd)


def accuracy(result):
    a = result["analog"]["accuracy"]
    return (f"{100 * result['digital']['accuracy']:.2f} %",
            f"{100 * a['mean']:.2f} ± {100 * a['std']:.2f} %")


def si(value, unit):
    for scale, prefix in [(1e-12, "p"), (1e-9, "n"), (1e-6, "µ"), (1e-3, "m"), (1, "")]:
        if abs(value) < scale * 1000:
            return f"{value / scale:.3g} {prefix}{unit}"
    return f"{value:.3g} {unit}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=10000)
    parser.add_argument("--trials", type=int, default=3)
    parser.add_argument("--slow-images", type=int, default=2000)
    parser.add_argument("--ablation-images", type=int, default=2000)
    parser.add_argument("--ablation-trials", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", default=os.path.join(REPO, "docs", "results", "nldpe.md"))
    args = parser.parse_args()
    start = time.time()

    side = []  # (model, preset, images, digital, analog, estimate, eval cmd, estimate cmd)
    for model in MODELS:
        for preset in PRESETS:
            images = args.slow_images if preset == "isaac" else args.images
            result, eval_cmd = evaluate(args, model, preset, images, args.trials)
            cost, cost_cmd = estimate(args, model, preset)
            side.append((model, preset, images, *accuracy(result), cost, eval_cmd, cost_cmd))
            print(f"{model} {preset}: {accuracy(result)[1]}", flush=True)

    ablations = []  # (model, what, digital, analog, energy, eval cmd)
    no_fusion = [f"readout.depth_{f}=0" for f in FUNCTIONS if f != "identity"]
    variants = [("preset (depth 8, noise-free trees)", []),
                ("depth 6", [f"readout.depth_{f}=6" for f in FUNCTIONS]),
                ("depth 5", [f"readout.depth_{f}=5" for f in FUNCTIONS]),
                ("depth 4", [f"readout.depth_{f}=4" for f in FUNCTIONS]),
                ("no fusion (activations digital or on ACAM units)", no_fusion),
                ("readout.threshold_sigma 0.005", ["readout.threshold_sigma=0.005"]),
                ("readout.input_sigma 0.005", ["readout.input_sigma=0.005"])]
    for model in MODELS:
        for what, sets in variants:
            result, eval_cmd = evaluate(args, model, "nldpe", args.ablation_images,
                                        args.ablation_trials, sets)
            cost, _ = estimate(args, model, "nldpe", sets)
            ablations.append((model, what, *accuracy(result), cost["energy_j"], eval_cmd))
            print(f"{model} {what}: {accuracy(result)[1]}", flush=True)

    breakdown = {}
    for preset in ["race", "nldpe"]:
        cost, _ = estimate(args, "vit-fmnist", preset)
        breakdown[preset] = cost["breakdown"]["by_component"]

    elapsed = time.time() - start
    lines = [
        "# NL-DPE readout next to race.yaml and isaac.yaml",
        "",
        f"Generated by `/usr/bin/python3 tools/nldpe_results.py` on "
        f"{datetime.date.today().isoformat()} ({elapsed / 60:.0f} min on {args.threads} "
        "threads). `presets/nldpe.yaml` is race.yaml without ADCs: every crossbar output is "
        "read by an analog CAM tree of depth 8 that also computes the layer's activation where "
        "the graph allows (docs/analog-model.md, section \"ADC-less readout\"). Accuracy is the mean ± sample standard "
        f"deviation over {args.trials} chip instances (seed 0, `device.read.mode: aggregated`), "
        "on the first N Fashion-MNIST test images; costs are `aimc estimate` at batch 1.",
        "",
        "## Side by side",
        "",
        "| model | preset | images | digital | analog | latency | throughput | energy / "
        "inference (dynamic + leakage) | area |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for model, preset, images, digital, analog, cost, _, _ in side:
        lines.append(
            f"| {model} | {preset} | {images} | {digital} | {analog} | "
            f"{si(cost['latency_s'], 's')} | {cost['throughput_inf_per_s']:.3g} /s | "
            f"{si(cost['energy_j'], 'J')} ({si(cost['dynamic_j'], 'J')} + "
            f"{si(cost['leakage_j'], 'J')}) | {cost['area_m2'] * 1e6:.3g} mm² |")
    lines += ["", "Commands:", ""]
    for model, preset, _, _, _, _, eval_cmd, cost_cmd in side:
        lines.append(f"- {model} on {preset}: `aimc {eval_cmd}`; `aimc {cost_cmd}`")
    lines += [
        "",
        "## Energy by component (vit-fmnist, per inference)",
        "",
        "| component | race dynamic | race leakage | nldpe dynamic | nldpe leakage | "
        "nldpe instances |",
        "|---|---|---|---|---|---|",
    ]
    for name in breakdown["race"]:
        r, n = breakdown["race"][name], breakdown["nldpe"][name]
        if r["energy_j"] == 0 and n["energy_j"] == 0:
            continue
        lines.append(f"| {name} | {si(r['dynamic_j'], 'J')} | {si(r['leakage_j'], 'J')} | "
                     f"{si(n['dynamic_j'], 'J')} | {si(n['leakage_j'], 'J')} | "
                     f"{n['instances']:.0f} |")
    lines += [
        "",
        f"## Ablations of the readout on nldpe.yaml ({args.ablation_images} images × "
        f"{args.ablation_trials} chips)",
        "",
        "| model | readout | digital | analog | energy / inference |",
        "|---|---|---|---|---|",
    ]
    for model, what, digital, analog, energy, _ in ablations:
        lines.append(f"| {model} | {what} | {digital} | {analog} | {si(energy, 'J')} |")
    lines += ["", "Commands:", ""]
    for model, what, _, _, _, cmd in ablations:
        lines.append(f"- {model}, {what}: `aimc {cmd}`")
    lines.append("")
    with open(args.out, "w", encoding="utf-8") as f:
        f.write("\n".join(lines))
    print(f"wrote {args.out} in {elapsed:.0f} s")


if __name__ == "__main__":
    main()
