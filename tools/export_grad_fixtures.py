#!/usr/bin/python3
"""Writes PyTorch reference gradients of the bundled Fashion-MNIST models as test fixtures.

For each of models/vit-fmnist.onnx, models/cnn-fmnist.onnx and models/mlp-fmnist.onnx this
script loads the bundled ONNX weights into the torch model of tools/train_reference_models.py,
runs the first 8 Fashion-MNIST test images (preprocessed exactly as for training) through it in
eval mode, takes the mean cross-entropy against their labels (float32) and back-propagates.
It writes, under tests/data/train/<name>/:

  input.npy       float32 [8,1,28,28]  the preprocessed images
  labels.npy      int64 [8]            their labels
  logits.npy      float32 [8,10]       the model's logits
  loss.npy        float64 0-d          the float32 loss, widened
  grad_input.npy  float32 [8,1,28,28]  d loss / d input
  grads/NNN.npy   float32              d loss / d initializer, one per trainable ONNX
                                       initializer, in the initializer's own layout and shape,
                                       numbered 000, 001, ... in ONNX initializer order
  index.json      {"model", "batch", "loss", "torch", "grads": {initializer name: file}}

How the weights get into torch (the ONNX files hold only weights, no checkpoint): the model
is built from its recipe, every parameter and floating buffer is filled with distinct random
values, and it is exported with train_reference_models.export_onnx (the function that wrote
the bundled files) to a temporary file. That export must have the bundled file's initializer
names, order, shapes and dtypes. Each of its initializers is then attributed, by exact value,
to the torch tensor it came from, either as is or transposed (2-D), and the script fails on an
ambiguity or an initializer it cannot attribute. The one other origin it accepts is PyTorch's
eval-mode Conv+BatchNorm folding (cnn-fmnist): a Conv weight equal (to rounding) to
conv.weight * gamma / sqrt(running_var + eps) and a Conv bias equal to
(conv.bias - running_mean) * gamma / sqrt(running_var + eps) + beta. The ONNX file then only
holds the folded product, so that Conv is replaced in torch by a Conv with bias holding the
folded weight and bias and the BatchNorm by an identity; the gradients are those with respect
to the folded tensors, which are what the ONNX graph has. The bundled values are copied into
the attributed torch tensors (transposed back where needed), and the loaded model must
reproduce models/<name>.ref-logits.npy from models/<name>.ref-input.npy to 1e-4.
The float32 gradients are then checked against float64 autograd and against float64
central differences of the loss along random directions (weights; and the input, except for
cnn-fmnist, where tied MaxPool windows in the flat image background make the loss
non-differentiable along input directions: there d loss / d input follows torch's rule of
sending a tied window's gradient to its first maximal element in row-major order).

Needs what tools/train_reference_models.py needs: Debian's python3-torch (1.13),
python3-numpy, python3-onnx and dataset-fashion-mnist. CPU, one thread, about a minute.

Rerun (rewrites tests/data/train/<name>/ for the three models, or only the named ones):

  /usr/bin/python3 tools/export_grad_fixtures.py
  /usr/bin/python3 tools/export_grad_fixtures.py --only cnn-fmnist --out /tmp/fixtures
"""
import argparse
import copy
import json
import os
import shutil
import sys
import tempfile

sys.dont_write_bytecode = True  # no __pycache__ in tools/
os.environ["OPENBLAS_NUM_THREADS"] = "1"
TOOLS = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, TOOLS)

import numpy as np  # noqa: E402
import onnx  # noqa: E402
from onnx import numpy_helper  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

import train_reference_models as trm  # noqa: E402

REPO = trm.REPO
MODELS = ["vit-fmnist", "cnn-fmnist", "mlp-fmnist"]
BATCH = 8
LOGITS_TOLERANCE = 1e-4


def initializers(model_proto):
    return [(t.name, numpy_helper.to_array(t)) for t in model_proto.graph.initializer]


def fresh_export(model, example):
    """ONNX initializers of model exported exactly as the bundled files were."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "fresh.onnx")
        trm.export_onnx(model, example, "image", path)
        return onnx.load(path)


def fill_distinct(model, seed):
    """Gives every parameter and floating buffer distinct random values (for attribution)."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, tensor in list(model.named_parameters()) + list(model.named_buffers()):
            if not tensor.is_floating_point():
                continue
            values = torch.rand(tensor.shape, generator=generator, dtype=tensor.dtype)
            if name.endswith("running_var"):
                tensor.copy_(values + 0.5)  # positive
            else:
                tensor.copy_(values * 2.0 - 1.0)


def torch_tensors(model):
    params = dict(model.named_parameters())
    tensors = {name: (t, True) for name, t in params.items()}
    for name, t in model.named_buffers():
        tensors[name] = (t, False)
    return tensors


def fold_candidates(model):
    """(conv name, bn name) -> (folded weight, folded bias) for every channel-compatible pair."""
    modules = dict(model.named_modules())
    convs = {n: m for n, m in modules.items() if isinstance(m, nn.Conv2d)}
    bns = {n: m for n, m in modules.items() if isinstance(m, nn.BatchNorm2d)}
    out = {}
    with torch.no_grad():
        for cn, conv in convs.items():
            for bn_name, bn in bns.items():
                if bn.num_features != conv.out_channels:
                    continue
                scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
                weight = conv.weight * scale.reshape(-1, 1, 1, 1)
                bias = conv.bias if conv.bias is not None else torch.zeros_like(bn.running_mean)
                bias = (bias - bn.running_mean) * scale + bn.bias
                out[(cn, bn_name)] = (weight.numpy(), bias.numpy())
    return out


def attribute(model, fresh):
    """For each fresh initializer: ("tensor", torch name, transposed) or ("fold", conv, bn, part)
    or ("constant",). Raises on an ambiguity or an initializer with no origin."""
    tensors = {n: t.detach().numpy() for n, (t, _) in torch_tensors(model).items()}
    folds = fold_candidates(model)
    result = []
    for name, value in fresh:
        if not np.issubdtype(value.dtype, np.floating):
            result.append(("constant",))
            continue
        hits = []
        for tname, t in tensors.items():
            if t.dtype != value.dtype:
                continue
            if t.shape == value.shape and np.array_equal(t, value):
                hits.append(("tensor", tname, False))
            if t.ndim == 2 and t.T.shape == value.shape and np.array_equal(t.T, value):
                hits.append(("tensor", tname, True))
        if not hits:
            for (cn, bn_name), (weight, bias) in folds.items():
                for part, folded in (("weight", weight), ("bias", bias)):
                    if folded.shape == value.shape and np.allclose(folded, value, rtol=1e-5,
                                                                   atol=1e-6):
                        hits.append(("fold", cn, bn_name, part))
        if len(hits) != 1:
            raise RuntimeError(f"initializer {name} {value.shape}: "
                               f"{'no origin' if not hits else 'ambiguous: ' + repr(hits)}")
        result.append(hits[0])
    return result


def set_module(model, dotted, module):
    parent_name, _, leaf = dotted.rpartition(".")
    parent = model.get_submodule(parent_name) if parent_name else model
    setattr(parent, leaf, module)


def load_bundled(name, recipe, example, log):
    """Returns (torch model holding the bundled weights, [(initializer name, torch name or
    None, transposed)] in ONNX order); torch name None for non-trainable initializers."""
    bundled = initializers(onnx.load(os.path.join(REPO, "models", name + ".onnx")))
    torch.manual_seed(recipe["seed"])
    model = trm.build_model(name, recipe)
    fill_distinct(model, 1000 + recipe["seed"])
    model.eval()
    fresh = initializers(fresh_export(model, example))
    layout = lambda inits: [(n, v.shape, v.dtype) for n, v in inits]  # noqa: E731
    if layout(fresh) != layout(bundled):
        raise RuntimeError(f"{name}: a fresh export's initializers differ from the bundled "
                           f"file's:\n{layout(fresh)}\nvs\n{layout(bundled)}")
    origins = attribute(model, fresh)

    # Replace each folded Conv+BatchNorm by a Conv with bias holding the folded tensors.
    for conv_name, bn_name in sorted({(o[1], o[2]) for o in origins if o[0] == "fold"}):
        conv = model.get_submodule(conv_name)
        replacement = nn.Conv2d(conv.in_channels, conv.out_channels, conv.kernel_size,
                                stride=conv.stride, padding=conv.padding,
                                dilation=conv.dilation, groups=conv.groups, bias=True)
        set_module(model, conv_name, replacement)
        set_module(model, bn_name, nn.Identity())
        log(f"{name}: {conv_name}+{bn_name} are folded in the ONNX file; using a Conv with "
            f"bias holding the folded weight and bias")
    origins = [("tensor", f"{o[1]}.{o[3]}", False) if o[0] == "fold" else o for o in origins]

    tensors = torch_tensors(model)
    used, mapping = {}, []
    with torch.no_grad():
        for (init_name, value), origin in zip(bundled, origins):
            if origin[0] == "constant":
                mapping.append((init_name, None, False))
                continue
            _, tname, transposed = origin
            if tname in used:
                raise RuntimeError(f"{name}: {init_name} and {used[tname]} both come from "
                                   f"{tname}")
            used[tname] = init_name
            tensor, trainable = tensors[tname]
            tensor.copy_(torch.from_numpy(np.array(value.T if transposed else value)))
            mapping.append((init_name, tname if trainable else None, transposed))
            log(f"  {init_name:24s} <- {tname}{' (transposed)' if transposed else ''}"
                f"{'' if trainable else ' (buffer, no gradient)'}")
    missing = [n for n, (_, trainable) in tensors.items() if trainable and n not in used]
    if missing:
        raise RuntimeError(f"{name}: trainable parameters with no initializer: {missing}")
    model.eval()

    ref_input = torch.from_numpy(np.load(os.path.join(REPO, "models", name + ".ref-input.npy")))
    ref_logits = np.load(os.path.join(REPO, "models", name + ".ref-logits.npy"))
    with torch.no_grad():
        diff = float(np.abs(model(ref_input).numpy() - ref_logits).max())
    log(f"{name}: loaded model vs {name}.ref-logits.npy: max abs diff {diff:.3g}")
    if not diff < LOGITS_TOLERANCE:
        raise RuntimeError(f"{name}: loaded model does not reproduce the reference logits "
                           f"(max abs diff {diff:.3g})")
    return model, mapping


def loss_of(model, images, labels):
    return F.cross_entropy(model(images), labels, reduction="mean")


def check_maxpool_tie_rule():
    """The cnn-fmnist fixture depends on it: on a tie, torch's max_pool2d backward gives the
    whole gradient to the first maximal element of the window in row-major order."""
    x = torch.tensor([[[[1.0, 2.0], [2.0, 2.0]]], [[[3.0, 3.0], [3.0, 3.0]]]],
                     requires_grad=True)
    F.max_pool2d(x, 2).sum().backward()
    expected = torch.tensor([[[[0.0, 1.0], [0.0, 0.0]]], [[[1.0, 0.0], [0.0, 0.0]]]])
    if not torch.equal(x.grad, expected):
        raise RuntimeError(f"max_pool2d tie rule changed: {x.grad}")


def maxpool_ties(model, images):
    """Number of MaxPool windows in the forward pass whose maximum is tied and non-zero."""
    tied = [0]
    original = F.max_pool2d

    def counting(x, kernel_size, *args, **kwargs):
        k = kernel_size
        windows = F.unfold(x.reshape(-1, 1, *x.shape[-2:]), k, stride=k)
        top = windows.max(1, keepdim=True).values
        tied[0] += int((((windows == top).sum(1) > 1) & (top[:, 0] != 0)).sum())
        return original(x, kernel_size, *args, **kwargs)

    F.max_pool2d = counting
    try:
        with torch.no_grad():
            model(images)
    finally:
        F.max_pool2d = original
    return tied[0]


def check_gradients(model, images, labels, grads_by_param, grad_input, log, name):
    """Checks the float32 gradients against float64 autograd (same rules, less rounding) and
    against float64 central differences of the loss along random directions."""
    m64 = copy.deepcopy(model).double().eval()
    params = dict(m64.named_parameters())
    x64 = images.double().requires_grad_(True)
    m64.zero_grad(set_to_none=True)
    loss_of(m64, x64, labels).backward()
    worst = 0.0
    for n, p in list(params.items()) + [("input", x64)]:
        g32 = grad_input if n == "input" else grads_by_param[n]
        scale = float(p.grad.abs().max())
        worst = max(worst, float((g32.double() - p.grad).abs().max()) / max(scale, 1e-30))
    log(f"{name}: float32 vs float64 autograd: max error / max |gradient| {worst:.2g}")
    if not worst < 1e-3:
        raise RuntimeError(f"{name}: float32 gradients differ from float64 ones")

    generator = torch.Generator().manual_seed(7)
    directions = {n: torch.randn(p.shape, generator=generator, dtype=torch.float64)
                  for n, p in params.items()}
    d_input = torch.randn(images.shape, generator=generator, dtype=torch.float64)
    base = {n: p.detach().clone() for n, p in params.items()}
    x0 = images.double()

    def loss_at(eps_params, eps_input):
        with torch.no_grad():
            for n, p in params.items():
                p.copy_(base[n] + eps_params * directions[n])
            return float(loss_of(m64, x0 + eps_input * d_input, labels))

    # Moving the input breaks MaxPool ties (constant background regions give equal window
    # values), which makes the loss non-differentiable along input directions there; moving
    # only the weights keeps them (the tied values come from identical input patches).
    ties = maxpool_ties(model, images)
    checks = [("weights", 1.0, 0.0, sum(float((grads_by_param[n].double() * d).sum())
                                         for n, d in directions.items()))]
    if ties == 0:
        checks.append(("input", 0.0, 1.0, float((grad_input.double() * d_input).sum())))
    else:
        log(f"{name}: {ties} MaxPool windows have a tied non-zero maximum: d loss/d input "
            f"follows torch's rule (first maximal element, row-major) and is not checked "
            f"by finite differences")
    h = 1e-6
    for what, sp, si, predicted in checks:
        measured = (loss_at(sp * h, si * h) - loss_at(-sp * h, -si * h)) / (2 * h)
        rel = abs(measured - predicted) / max(abs(measured), 1e-12)
        log(f"{name}: finite differences along a random {what} direction: autograd "
            f"{predicted:.8g}, float64 central difference {measured:.8g}, relative error "
            f"{rel:.2g}")
        if not rel < 1e-4:
            raise RuntimeError(f"{name}: {what} gradients fail the finite-difference check")
    loss_at(0.0, 0.0)


def export(name, images, labels, out_root, log):
    recipe = trm.RECIPES[name]
    ref_input = torch.from_numpy(np.load(os.path.join(REPO, "models", name + ".ref-input.npy")))
    if not torch.equal(ref_input[:BATCH], images):
        raise RuntimeError(f"{name}: ref-input does not start with the first {BATCH} test "
                           "images")
    model, mapping = load_bundled(name, recipe, ref_input, log)

    x = images.clone().requires_grad_(True)
    model.zero_grad(set_to_none=True)
    logits = model(x)
    loss = F.cross_entropy(logits, labels, reduction="mean")
    loss.backward()
    params = dict(model.named_parameters())
    grads_by_param = {n: p.grad.detach().clone() for n, p in params.items()}
    check_gradients(model, images, labels, grads_by_param, x.grad, log, name)

    out = os.path.join(out_root, name)
    if os.path.isdir(out):
        shutil.rmtree(out)
    os.makedirs(os.path.join(out, "grads"))
    np.save(os.path.join(out, "input.npy"), images.numpy().astype(np.float32))
    np.save(os.path.join(out, "labels.npy"), labels.numpy().astype(np.int64))
    np.save(os.path.join(out, "logits.npy"), logits.detach().numpy().astype(np.float32))
    np.save(os.path.join(out, "loss.npy"), np.array(float(loss), dtype=np.float64))
    np.save(os.path.join(out, "grad_input.npy"), x.grad.numpy().astype(np.float32))
    index = {"model": f"models/{name}.onnx", "batch": BATCH, "loss": "mean cross-entropy",
             "torch": torch.__version__, "grads": {}}
    count = 0
    for init_name, tname, transposed in mapping:
        if tname is None:
            continue
        grad = grads_by_param[tname].numpy()
        grad = np.ascontiguousarray(grad.T if transposed else grad).astype(np.float32)
        rel = os.path.join("grads", f"{count:03d}.npy")
        np.save(os.path.join(out, rel), grad)
        index["grads"][init_name] = rel
        count += 1
    with open(os.path.join(out, "index.json"), "w") as f:
        json.dump(index, f, indent=2)
        f.write("\n")
    return float(loss), count


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", choices=MODELS, action="append",
                        help="only this model (may be repeated)")
    parser.add_argument("--out", default=os.path.join(REPO, "tests", "data", "train"),
                        help="output directory (default tests/data/train)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    trm.check_pixel_table()
    check_maxpool_tie_rule()

    def log(message):
        print(message, flush=True)

    test_x, test_y = trm.load_fmnist("test")
    images, labels = test_x[:BATCH].clone(), test_y[:BATCH].clone()
    results = {}
    for name in [n for n in MODELS if n in (args.only or MODELS)]:
        results[name] = export(name, images, labels, args.out, log)
    log("")
    for name, (loss, count) in results.items():
        log(f"{name:12s} loss {loss:.6f}  {count} gradients")


if __name__ == "__main__":
    main()
