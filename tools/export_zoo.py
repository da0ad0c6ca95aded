#!/usr/bin/python3
"""Exports the model zoo aimc is checked against: torchvision classifiers and standard
Transformer/recurrent blocks, with random weights (fixed seed, no downloads).

Each model NAME at opset N is written to OUT/NAME_opN.onnx with a dynamic batch dimension,
one input batch (NAME_opN.input.npy) and PyTorch's output for it (NAME_opN.output.npy).
tools/zoo_check.py runs aimc and onnxruntime on them; `--small` writes the reduced fixtures
tests/data/zoo/ keeps for ctest (the same architectures at small widths and input sizes).

Needs Debian's python3-torch, python3-torchvision and python3-numpy.
Run: /usr/bin/python3 tools/export_zoo.py [--out DIR] [--small] [--opsets 13,17] [--models a,b]
"""
import argparse
import math
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torchvision.models as tvm

HERE = os.path.dirname(os.path.abspath(__file__))


class TransformerEncoderClassifier(nn.Module):
    """torch.nn.TransformerEncoder (batch_first) over token embeddings, mean-pooled."""

    def __init__(self, vocab, dim, heads, layers, classes, context):
        super().__init__()
        self.tok = nn.Embedding(vocab, dim)
        self.pos = nn.Parameter(torch.randn(1, context, dim) * 0.02)
        layer = nn.TransformerEncoderLayer(dim, heads, dim_feedforward=2 * dim, dropout=0.0,
                                           activation="gelu", batch_first=True,
                                           norm_first=False)
        self.encoder = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.head = nn.Linear(dim, classes)

    def forward(self, tokens):
        x = self.tok(tokens) + self.pos[:, : tokens.shape[1]]
        return self.head(self.encoder(x).mean(dim=1))


class CausalBlock(nn.Module):
    def __init__(self, dim, heads, trilu):
        super().__init__()
        self.heads, self.trilu = heads, trilu
        self.ln1 = nn.LayerNorm(dim)
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.ln2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, 4 * dim), nn.GELU(approximate="tanh"),
                                 nn.Linear(4 * dim, dim))

    def forward(self, x):
        b, t, c = x.shape
        q, k, v = self.qkv(self.ln1(x)).split(c, dim=2)
        shape = (b, t, self.heads, c // self.heads)
        q, k, v = (z.reshape(shape).transpose(1, 2) for z in (q, k, v))
        att = (q @ k.transpose(-2, -1)) / math.sqrt(c // self.heads)
        # The causal mask is computed in the graph, as many GPT exports do: with Trilu from
        # opset 14 on, from a Range comparison before.
        if self.trilu:
            mask = torch.triu(torch.ones(t, t, dtype=torch.bool), diagonal=1)
        else:
            i = torch.arange(t)
            mask = i.unsqueeze(0) > i.unsqueeze(1)
        att = att.masked_fill(mask, float("-inf")).softmax(dim=-1)
        y = (att @ v).transpose(1, 2).reshape(b, t, c)
        x = x + self.proj(y)
        return x + self.mlp(self.ln2(x))


class GPTDecoder(nn.Module):
    """A GPT-2-style decoder: token + position embeddings, pre-norm causal blocks."""

    def __init__(self, vocab, dim, heads, layers, context, trilu):
        super().__init__()
        self.tok = nn.Embedding(vocab, dim)
        self.pos = nn.Embedding(context, dim)
        self.blocks = nn.Sequential(*[CausalBlock(dim, heads, trilu) for _ in range(layers)])
        self.ln = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, vocab, bias=False)

    def forward(self, tokens):
        t = tokens.shape[1]
        x = self.tok(tokens) + self.pos(torch.arange(t).unsqueeze(0))
        return self.head(self.ln(self.blocks(x)))


class RecurrentClassifier(nn.Module):
    """A 2-layer (bidirectional first layer) LSTM or GRU over a sequence of feature vectors."""

    def __init__(self, cell, features, hidden, classes):
        super().__init__()
        rnn = nn.LSTM if cell == "lstm" else nn.GRU
        self.rnn1 = rnn(features, hidden, batch_first=True, bidirectional=True)
        self.rnn2 = rnn(2 * hidden, hidden, batch_first=True)
        self.head = nn.Linear(hidden, classes)

    def forward(self, x):
        y, _ = self.rnn1(x)
        y, _ = self.rnn2(y)
        return self.head(y[:, -1])


class SmallResNet(nn.Module):
    """torchvision's ResNet layout (stem, max pool, four stages, average pool, fc) with
    torchvision's own BasicBlock/Bottleneck at 8-64 channels."""

    def __init__(self, block, classes=10):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 8, 7, 2, 3, bias=False), nn.BatchNorm2d(8),
                                  nn.ReLU(inplace=True), nn.MaxPool2d(3, 2, 1))
        layers, inplanes = [], 8
        for planes, stride in ((8, 1), (16, 2), (24, 2), (32, 2)):
            down = None
            if stride != 1 or inplanes != planes * block.expansion:
                down = nn.Sequential(
                    nn.Conv2d(inplanes, planes * block.expansion, 1, stride, bias=False),
                    nn.BatchNorm2d(planes * block.expansion))
            layers.append(block(inplanes, planes, stride, down))
            inplanes = planes * block.expansion
        self.layers = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(inplanes, classes)

    def forward(self, x):
        return self.fc(torch.flatten(self.pool(self.layers(self.stem(x))), 1))


class SmallSqueezeNet(nn.Module):
    """SqueezeNet 1.1's layout with torchvision's Fire module at small widths."""

    def __init__(self, classes=10):
        super().__init__()
        from torchvision.models.squeezenet import Fire
        self.features = nn.Sequential(
            nn.Conv2d(3, 16, 3, 2), nn.ReLU(inplace=True),
            nn.MaxPool2d(3, 2, ceil_mode=True), Fire(16, 4, 8, 8), Fire(16, 4, 8, 8),
            nn.MaxPool2d(3, 2, ceil_mode=True), Fire(16, 8, 16, 16))
        self.classifier = nn.Sequential(nn.Dropout(0.5), nn.Conv2d(32, classes, 1),
                                        nn.ReLU(inplace=True), nn.AdaptiveAvgPool2d((1, 1)))

    def forward(self, x):
        return torch.flatten(self.classifier(self.features(x)), 1)


def torchvision_model(name, small):
    if not small:
        return getattr(tvm, name)(), (2, 3, 224, 224)
    # The same architecture families at small widths and input sizes (fixtures for ctest).
    if name == "resnet18":
        return SmallResNet(tvm.resnet.BasicBlock), (2, 3, 32, 32)
    if name == "resnet50":
        return SmallResNet(tvm.resnet.Bottleneck), (2, 3, 32, 32)
    if name == "mobilenet_v2":
        blocks = [[1, 16, 1, 1], [6, 24, 2, 2], [6, 32, 1, 2]]
        model = tvm.mobilenet_v2(width_mult=0.5, num_classes=10,
                                 inverted_residual_setting=blocks)
        return model, (2, 3, 32, 32)
    if name == "mobilenet_v3_small":
        from torchvision.models.mobilenetv3 import MobileNetV3, _mobilenet_v3_conf
        settings, _ = _mobilenet_v3_conf("mobilenet_v3_small", width_mult=0.25)
        return MobileNetV3(settings, last_channel=64, num_classes=10), (2, 3, 32, 32)
    if name == "efficientnet_b0":
        from torchvision.models.efficientnet import _efficientnet_conf, EfficientNet
        settings, _ = _efficientnet_conf("efficientnet_b0", width_mult=0.25, depth_mult=0.34)
        return EfficientNet(settings, 0.2, num_classes=10, last_channel=64), (2, 3, 32, 32)
    if name == "squeezenet1_1":
        return SmallSqueezeNet(), (2, 3, 48, 48)
    if name == "shufflenet_v2_x0_5":
        return tvm.shufflenetv2.ShuffleNetV2([1, 1, 1], [8, 16, 32, 64, 128],
                                             num_classes=10), (2, 3, 32, 32)
    if name == "regnet_x_400mf":
        from torchvision.models.regnet import BlockParams, RegNet
        params = BlockParams.from_init_params(depth=4, w_0=8, w_a=8.0, w_m=2.0, group_width=8)
        return RegNet(params, num_classes=10, stem_width=8), (2, 3, 32, 32)
    if name == "convnext_tiny":
        from torchvision.models.convnext import CNBlockConfig, ConvNeXt
        cfg = [CNBlockConfig(8, 16, 1), CNBlockConfig(16, 32, 1), CNBlockConfig(32, None, 1)]
        return ConvNeXt(cfg, stochastic_depth_prob=0.0, num_classes=10), (2, 3, 32, 32)
    if name == "vit_b_16":
        from torchvision.models.vision_transformer import VisionTransformer
        return VisionTransformer(32, 8, num_layers=2, num_heads=2, hidden_dim=16,
                                 mlp_dim=32, num_classes=10), (2, 3, 32, 32)
    if name == "swin_t":
        from torchvision.models.swin_transformer import SwinTransformer
        return SwinTransformer([4, 4], 8, [2, 2], [2, 4], [4, 4], num_classes=10,
                               stochastic_depth_prob=0.0), (2, 3, 32, 32)
    raise KeyError(name)


TORCHVISION = ["resnet18", "resnet50", "mobilenet_v2", "mobilenet_v3_small", "efficientnet_b0",
               "squeezenet1_1", "shufflenet_v2_x0_5", "regnet_x_400mf", "convnext_tiny",
               "vit_b_16", "swin_t"]
BLOCKS = ["transformer_encoder", "gpt_decoder", "lstm", "gru"]
ALL = TORCHVISION + BLOCKS


def build(name, small, opset):
    """Returns (model, example input, input name)."""
    if name in TORCHVISION:
        model, shape = torchvision_model(name, small)
        return model, torch.randn(*shape), "image"
    if name == "transformer_encoder":
        dim, layers, t = (16, 2, 12) if small else (256, 4, 64)
        model = TransformerEncoderClassifier(100, dim, 4, layers, 5, t)
        return model, torch.randint(0, 100, (2, t)), "tokens"
    if name == "gpt_decoder":
        dim, layers, t = (16, 2, 12) if small else (256, 4, 64)
        model = GPTDecoder(100, dim, 4, layers, t, trilu=opset >= 14)
        return model, torch.randint(0, 100, (2, t)), "tokens"
    if name in ("lstm", "gru"):
        features, hidden, t = (6, 8, 5) if small else (64, 128, 32)
        model = RecurrentClassifier(name, features, hidden, 10)
        return model, torch.randn(2, t, features), "sequence"
    raise KeyError(name)


def randomise_norms(model):
    # Non-trivial BatchNorm statistics and LayerNorm affine terms, so that folding is tested;
    # weight matrices torchvision initialises to zero (the ViT head) get random values, or
    # the output would not depend on the input.
    for p in model.parameters():
        if p.dim() >= 2 and not p.detach().abs().max() > 0:
            p.data.normal_(0.0, 0.05)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-0.2, 0.2)
            m.running_var.uniform_(0.5, 2.0)
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.2, 0.2)
        elif isinstance(m, nn.LayerNorm) and m.elementwise_affine:
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.2, 0.2)


def export(name, opset, out, small):
    torch.manual_seed(0)
    model, example, input_name = build(name, small, opset)
    randomise_norms(model)
    model.eval()
    stem = f"{name}_op{opset}"
    path = os.path.join(out, stem + ".onnx")
    with torch.no_grad():
        want = model(example).numpy().astype(np.float32)
    # Exported with gradients enabled: under no_grad, nn.MultiheadAttention and
    # nn.TransformerEncoderLayer take fused fast paths the exporter does not know.
    torch.onnx.export(model, (example,), path, opset_version=opset,
                      input_names=[input_name], output_names=["output"],
                      dynamic_axes={input_name: {0: "batch"}, "output": {0: "batch"}},
                      do_constant_folding=True)
    np.save(os.path.join(out, stem + ".input.npy"), example.numpy())
    np.save(os.path.join(out, stem + ".output.npy"), want)
    print(f"{stem}: {os.path.getsize(path)} bytes, input {tuple(example.shape)}, "
          f"output {want.shape}", flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=None, help="output folder (default build/zoo, or "
                    "tests/data/zoo with --small)")
    ap.add_argument("--small", action="store_true", help="the reduced ctest fixtures")
    ap.add_argument("--opsets", default="13,17", help="comma-separated opsets (13-17)")
    ap.add_argument("--models", default=",".join(ALL), help="comma-separated subset of: "
                    + ", ".join(ALL))
    args = ap.parse_args()
    out = args.out or os.path.join(HERE, "..", "tests/data/zoo" if args.small else "build/zoo")
    os.makedirs(out, exist_ok=True)
    failed = []
    for name in args.models.split(","):
        if name not in ALL:
            sys.exit(f"export_zoo: unknown model '{name}' (known: {', '.join(ALL)})")
        for opset in (int(o) for o in args.opsets.split(",")):
            try:
                export(name, opset, out, args.small)
            except Exception as e:  # report every model that does not export, then fail
                print(f"{name}_op{opset}: export failed: {type(e).__name__}: {e}",
                      file=sys.stderr)
                failed.append(f"{name}_op{opset}")
    if failed:
        sys.exit("export_zoo: failed: " + ", ".join(failed))


if __name__ == "__main__":
    main()
