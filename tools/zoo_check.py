#!/usr/bin/python3
"""Checks aimc on the exported model zoo (tools/export_zoo.py) against PyTorch and
onnxruntime, and that every command a researcher would run works on each model.

For every DIR/NAME.onnx with NAME.input.npy and NAME.output.npy (PyTorch's output):
  - `aimc run` in fp32: max relative error against PyTorch and against onnxruntime-node
    (tools/ort/run.js), where the relative error is max|a - b| / max|b| over the output;
  - `aimc inspect --json`, `aimc estimate --arch`, `aimc run --arch` (analog simulation) and
    `aimc compile` on the architecture (default presets/race.yaml) must exit 0.
Prints a Markdown table (or --json) and exits 1 if any model fails a check.

Run: /usr/bin/python3 tools/zoo_check.py [DIR] [--aimc build/aimc] [--arch presets/race.yaml]
     [--tolerance 1e-4] [--no-ort] [--no-arch] [--json]
"""
import argparse
import glob
import json
import os
import re
import subprocess
import sys
import tempfile

import numpy as np

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))


def zoo_models(folder, names, tool):
    """The .onnx files in `folder` whose name contains one of the comma-separated `names`
    (all when empty); exits naming `tool` when there are none."""
    models = sorted(glob.glob(os.path.join(folder, "*.onnx")))
    if names:
        keep = names.split(",")
        models = [m for m in models if any(k in os.path.basename(m) for k in keep)]
    if not models:
        sys.exit(f"{tool}: no .onnx files in {folder} (run tools/export_zoo.py)")
    return models


def run(cmd, timeout=1800):
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def rel_err(a, b):
    if a.shape != b.shape:
        return float("inf")
    scale = float(np.max(np.abs(b))) if b.size else 0.0
    return float(np.max(np.abs(a.astype(np.float64) - b))) / max(scale, 1e-30)


def check(model, args, tmp):
    stem = model[: -len(".onnx")]
    name = os.path.basename(stem)
    want = np.load(stem + ".output.npy")
    row = {"model": name, "ok": True, "notes": []}

    def fail(note):
        row["ok"] = False
        row["notes"].append(note)

    rc, out, err = run([args.aimc, "inspect", model, "--json"])
    if rc != 0:
        fail(f"inspect exit {rc}: {err.strip().splitlines()[-1] if err.strip() else ''}")
        return row
    info = json.loads(out)
    row["inputs"] = [i["name"] for i in info["inputs"]]
    row["ops"] = sorted(info.get("op_histogram", info.get("ops", {})))
    row["params"] = info.get("parameters")
    feed = f"{row['inputs'][0]}={stem}.input.npy"

    digital = os.path.join(tmp, name, "aimc")
    rc, out, err = run([args.aimc, "--threads", str(args.threads), "run", model, "--input", feed,
                        "--output-dir", digital])
    if rc != 0:
        fail(f"run exit {rc}: {err.strip().splitlines()[-1] if err.strip() else ''}")
        return row
    got = np.load(os.path.join(digital, "output.npy"))
    row["err_torch"] = rel_err(got, want)
    if row["err_torch"] > args.tolerance:
        fail(f"error vs PyTorch {row['err_torch']:.2e}")

    if not args.no_ort:
        ref = os.path.join(tmp, name, "ort")
        rc, out, err = run(["node", os.path.join(ROOT, "tools/ort/run.js"), model, "--input",
                            feed, "--output-dir", ref])
        if rc != 0:
            row["notes"].append(f"onnxruntime exit {rc}: {err.strip()[-200:]}")
        else:
            row["err_ort"] = rel_err(got, np.load(os.path.join(ref, "output.npy")))
            if row["err_ort"] > args.tolerance:
                fail(f"error vs onnxruntime {row['err_ort']:.2e}")

    if not args.no_arch:
        arch = ["--arch", args.arch]
        for what, cmd in (
                ("estimate", [args.aimc, "estimate", model, *arch, "--json"]),
                ("run --arch", [args.aimc, "--threads", str(args.threads), "run", model, *arch,
                                "--input", feed, "--output-dir", os.path.join(tmp, name, "an")]),
                ("compile", [args.aimc, "compile", model, *arch, "-o",
                             os.path.join(tmp, name, "prog")])):
            rc, out, err = run(cmd)
            chips = re.search(r"--chips (\d+)", err) if rc == 2 else None
            if chips and what in ("estimate", "compile"):
                # The model needs more chips than one: what `aimc` suggests is what a user runs.
                row["chips"] = int(chips.group(1))
                rc, out, err = run(cmd + ["--chips", chips.group(1)])
            if rc != 0:
                fail(f"{what} exit {rc}: {err.strip().splitlines()[-1] if err.strip() else ''}")
            elif what == "estimate":
                est = json.loads(out)
                row["estimate"] = est
            elif what == "run --arch":
                analog = np.load(os.path.join(tmp, name, "an", "output.npy"))
                row["err_analog"] = rel_err(analog, want)
    return row


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("dir", nargs="?", default=os.path.join(ROOT, "build/zoo"))
    ap.add_argument("--aimc", default=os.path.join(ROOT, "build/aimc"))
    ap.add_argument("--arch", default=os.path.join(ROOT, "presets/race.yaml"))
    ap.add_argument("--tolerance", type=float, default=1e-4)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--no-ort", action="store_true", help="skip onnxruntime")
    ap.add_argument("--no-arch", action="store_true", help="skip estimate/run --arch/compile")
    ap.add_argument("--models", default="", help="comma-separated name filter")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--write", default="", help="also write the table, with how it was made, "
                    "to this Markdown file (docs/results/zoo.md)")
    args = ap.parse_args()
    models = zoo_models(args.dir, args.models, "zoo_check")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for m in models:
            row = check(m, args, tmp)
            rows.append(row)
            print(f"{row['model']}: {'ok' if row['ok'] else 'FAIL'} {'; '.join(row['notes'])}",
                  file=sys.stderr, flush=True)
    if args.json:
        print(json.dumps(rows, indent=1))
        lines = []
    else:
        lines = []
        lines.append("| model | parameters | aimc vs PyTorch | aimc vs onnxruntime | "
                     f"analog ({os.path.basename(args.arch)}) vs PyTorch | chips | result |")
        lines.append("|---|---|---|---|---|---|---|")
        f = lambda r, k: f"{r[k]:.1e}" if k in r else "–"
        for r in rows:
            result = "pass" if r["ok"] else "; ".join(n[:160] for n in r["notes"])
            lines.append(f"| {r['model']} | {r.get('params', '–')} | {f(r, 'err_torch')} | "
                         f"{f(r, 'err_ort')} | {f(r, 'err_analog')} | {r.get('chips', 1)} | "
                         f"{result} |")
        print("\n".join(lines))
    if args.write and lines:
        rel = os.path.relpath(args.dir, ROOT)
        head = [f"Models in `{rel}`, checked by `/usr/bin/python3 tools/zoo_check.py {rel}`.",
                "Errors are max |a - b| / max |b| over the output, for the stored input batch; "
                "the analog column is one chip instance (seed 0) of the architecture, calibrated "
                "on that batch, and shows how far device noise moves the output. `chips` is "
                "the chip count `aimc estimate` and `aimc compile` needed (they say so and exit 2 "
                "with fewer).", ""]
        with open(args.write, "w") as out:
            out.write("\n".join(head + lines) + "\n")
    sys.exit(0 if all(r["ok"] for r in rows) else 1)


if __name__ == "__main__":
    main()
