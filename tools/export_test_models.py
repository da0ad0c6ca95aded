#!/usr/bin/python3
"""Exports the small PyTorch models the import/runtime tests use (random weights, fixed seed).

Each model is written as tests/data/models/<name>.onnx with one input batch
(<name>.input.npy) and PyTorch's output for it (<name>.output.npy). The models cover what
PyTorch 1.13 emits for a ViT, a GPT-style decoder, a small CNN with BatchNorm and an MLP, at
opset 17 (LayerNormalization as one op) and opset 13 (LayerNorm decomposed), with a symbolic
batch dimension.

Needs Debian's python3-torch, python3-onnx and python3-numpy (scripts/install_deps.sh with
AIMC_WITH_TORCH=1). Run: /usr/bin/python3 tools/export_test_models.py
"""
import math
import os

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "data", "models")


class Block(nn.Module):
    def __init__(self, dim, heads, causal, tanh_gelu=False, context=16):
        super().__init__()
        # A stored mask, as nanoGPT does, so the export needs no Trilu.
        self.register_buffer("mask", torch.tril(torch.ones(context, context, dtype=torch.bool)))
        self.heads, self.causal = heads, causal
        self.ln1 = nn.LayerNorm(dim)
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.ln2 = nn.LayerNorm(dim)
        self.fc1 = nn.Linear(dim, 2 * dim)
        self.fc2 = nn.Linear(2 * dim, dim)
        self.gelu = nn.GELU(approximate="tanh" if tanh_gelu else "none")

    def forward(self, x):
        b, t, c = x.shape
        h = self.ln1(x)
        q, k, v = self.qkv(h).split(c, dim=2)
        q = q.view(b, t, self.heads, c // self.heads).transpose(1, 2)
        k = k.view(b, t, self.heads, c // self.heads).transpose(1, 2)
        v = v.view(b, t, self.heads, c // self.heads).transpose(1, 2)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(c // self.heads))
        if self.causal:
            att = att.masked_fill(~self.mask[:t, :t], float("-inf"))
        att = F.softmax(att, dim=-1)
        y = (att @ v).transpose(1, 2).reshape(b, t, c)
        x = x + self.proj(y)
        return x + self.fc2(self.gelu(self.fc1(self.ln2(x))))


class TinyViT(nn.Module):
    def __init__(self, dim=32, depth=2, heads=4, patch=7, classes=10):
        super().__init__()
        self.patch = nn.Conv2d(1, dim, patch, stride=patch)
        n = (28 // patch) ** 2
        self.cls = nn.Parameter(torch.randn(1, 1, dim) * 0.02)
        self.pos = nn.Parameter(torch.randn(1, n + 1, dim) * 0.02)
        self.blocks = nn.Sequential(*[Block(dim, heads, causal=False) for _ in range(depth)])
        self.ln = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, classes)

    def forward(self, x):
        x = self.patch(x).flatten(2).transpose(1, 2)
        cls = self.cls.expand(x.shape[0], -1, -1)
        x = torch.cat([cls, x], dim=1) + self.pos
        x = self.blocks(x)
        return self.head(self.ln(x)[:, 0])


class TinyGPT(nn.Module):
    def __init__(self, vocab=64, dim=32, depth=2, heads=4, context=16):
        super().__init__()
        self.tok = nn.Embedding(vocab, dim)
        self.pos = nn.Embedding(context, dim)
        self.blocks = nn.Sequential(*[Block(dim, heads, causal=True, tanh_gelu=(i == 1))
                                      for i in range(depth)])
        self.ln = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, vocab, bias=False)

    def forward(self, idx):
        t = idx.shape[1]
        pos = torch.arange(0, t, dtype=torch.long).unsqueeze(0)
        x = self.tok(idx) + self.pos(pos)
        return self.head(self.ln(self.blocks(x)))


class TinyCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(1, 6, 5, padding=2)
        self.b1 = nn.BatchNorm2d(6)
        self.c2 = nn.Conv2d(6, 16, 5)
        self.b2 = nn.BatchNorm2d(16)
        self.dw = nn.Conv2d(16, 16, 3, padding=1, groups=16)
        self.fc1 = nn.Linear(16 * 5 * 5, 32)
        self.fc2 = nn.Linear(32, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.b1(self.c1(x))), 2)
        x = F.avg_pool2d(F.relu(self.b2(self.c2(x))), 2)
        x = F.relu(self.dw(x))
        x = torch.flatten(x, 1)
        return self.fc2(F.relu(self.fc1(x)))


class TinyMLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 64)
        self.fc2 = nn.Linear(64, 32)
        self.fc3 = nn.Linear(32, 10)

    def forward(self, x):
        x = torch.flatten(x, 1)
        return self.fc3(torch.sigmoid(self.fc2(torch.tanh(self.fc1(x)))))


def randomise_batchnorm(model):
    # Non-trivial running statistics so that BatchNorm folding is really tested.
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 2.0)
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.2, 0.2)


def export(name, model, example, input_name, opset, fold=True):
    model.eval()
    path = os.path.join(OUT, name + ".onnx")
    torch.onnx.export(model, (example,), path, opset_version=opset,
                      input_names=[input_name], output_names=["output"],
                      dynamic_axes={input_name: {0: "batch"}, "output": {0: "batch"}},
                      do_constant_folding=fold,
                      training=(torch.onnx.TrainingMode.EVAL if fold
                                else torch.onnx.TrainingMode.PRESERVE))
    with torch.no_grad():
        out = model(example).numpy()
    np.save(os.path.join(OUT, name + ".input.npy"), example.numpy())
    np.save(os.path.join(OUT, name + ".output.npy"), out.astype(np.float32))
    print(f"{name}: opset {opset}, {os.path.getsize(path)} bytes, output {out.shape}")


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(0)
    image = torch.randn(3, 1, 28, 28)
    tokens = torch.randint(0, 64, (3, 16))
    vit = TinyViT()
    gpt = TinyGPT()
    cnn = TinyCNN()
    randomise_batchnorm(cnn)
    mlp = TinyMLP()
    for opset in (17, 13):
        export(f"vit_tiny_op{opset}", vit, image, "image", opset)
        export(f"gpt_tiny_op{opset}", gpt, tokens, "tokens", opset)
    # Without PyTorch's own constant folding, BatchNormalization stays in the graph and
    # aimc's folding pass is what removes it.
    export("cnn_tiny_op17", cnn, image, "image", 17, fold=False)
    export("mlp_tiny_op17", mlp, image, "image", 17)
    write_special_models()



def write_special_models():
    """Small hand-made models for the command-line tests (tests/data/special/)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    out = os.path.join(OUT, "..", "special")
    os.makedirs(out, exist_ok=True)
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 4])

    # An output name that is not a valid file name.
    y = helper.make_tensor_value_info("out/put:0", TensorProto.FLOAT, ["batch", 4])
    g = helper.make_graph([helper.make_node("Relu", ["x"], ["out/put:0"], name="relu")],
                          "odd_names", [x], [y])
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]),
              os.path.join(out, "odd_output_name.onnx"))

    # A weight stored as external data in a file that is not there.
    w = numpy_helper.from_array(np.ones(4, dtype=np.float32), "w")
    w.data_location = TensorProto.EXTERNAL
    for key, value in (("location", "missing_weights.bin"), ("offset", "0"), ("length", "16")):
        entry = w.external_data.add()
        entry.key, entry.value = key, value
    w.ClearField("raw_data")
    y2 = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 4])
    g2 = helper.make_graph([helper.make_node("Add", ["x", "w"], ["y"], name="add_w")],
                           "external", [x], [y2], initializer=[w])
    onnx.save(helper.make_model(g2, opset_imports=[helper.make_opsetid("", 17)]),
              os.path.join(out, "external_missing.onnx"))

    # An op aimc does not support.
    g3 = helper.make_graph([helper.make_node("Unique", ["x"], ["y"], name="mystery_node")],
                           "unsupported", [x], [y2])
    onnx.save(helper.make_model(g3, opset_imports=[helper.make_opsetid("", 17)]),
              os.path.join(out, "unsupported_op.onnx"))
    print("special models written to", os.path.normpath(out))


if __name__ == "__main__":
    main()
