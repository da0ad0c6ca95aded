#!/usr/bin/python3
"""Trains the reference models bundled in models/ and exports them to ONNX.

Models (each written as models/<name>.onnx with <name>.md, <name>.json, <name>.ref-input.npy
and <name>.ref-logits.npy):
  vit-fmnist    Vision Transformer on Fashion-MNIST
  cnn-fmnist    LeNet-style CNN with BatchNorm on Fashion-MNIST
  mlp-fmnist    two-hidden-layer MLP on Fashion-MNIST
  gpt-fortunes  character-level decoder-only Transformer on the Debian fortunes text

The data definitions (files, preprocessing, vocabulary, split, bits-per-character protocol)
are in docs/datasets.md; this script is their executable form, and aimc's C++ loaders must
reproduce it exactly.

Needs Debian's python3-torch (1.13), python3-numpy and python3-onnx, the data packages
dataset-fashion-mnist, fortunes and fortunes-min, and nothing else. CPU only, fixed seeds,
one thread per model (two models train at once, in separate processes), so a re-run
reproduces the same files bit for bit. All four take about 19 minutes on two cores
(vit-fmnist ~10 min, gpt-fortunes ~19 min, cnn-fmnist ~2 min, mlp-fmnist ~0.5 min).

  /usr/bin/python3 tools/train_reference_models.py               # all four, into models/
  /usr/bin/python3 tools/train_reference_models.py --only vit-fmnist
  /usr/bin/python3 tools/train_reference_models.py --quick       # smoke run, into a temp dir
"""
import argparse
import gzip
import hashlib
import json
import math
import os
import sys
import tempfile
import time

# Each model trains in one thread (see THREADS). OpenBLAS keeps its own thread pool, which
# torch.set_num_threads does not limit; its idle threads spin and yield, which made training
# several times slower on a machine shared with other processes. Forced, not defaulted: the
# BLAS thread count can change the summation order and so the trained weights.
os.environ["OPENBLAS_NUM_THREADS"] = "1"
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

REPO = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
FMNIST_DIR = "/usr/share/datasets/fashion-mnist"
FORTUNES_DIR = "/usr/share/games/fortunes"
THREADS = 1
OPSET = 17

# ---------------------------------------------------------------------------------------------
# Fashion-MNIST
# ---------------------------------------------------------------------------------------------

# Mean and standard deviation of the 60k training pixels after /255 (0.28604, 0.35302),
# rounded to 4 decimals; these decimal values, converted to float32, are the definition.
FMNIST_MEAN = 0.2860
FMNIST_STD = 0.3530
FMNIST_CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                  "Sneaker", "Bag", "Ankle boot"]


def read_idx(path, expected_magic):
    """Reads a gzip-compressed IDX file (big-endian header) into a uint8 array."""
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic = int.from_bytes(data[0:4], "big")
    if magic != expected_magic:
        raise ValueError(f"{path}: magic {magic:#010x}, expected {expected_magic:#010x}")
    ndim = magic & 0xFF
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    header = 4 + 4 * ndim
    array = np.frombuffer(data, dtype=np.uint8, offset=header)
    if array.size != int(np.prod(dims)):
        raise ValueError(f"{path}: {array.size} bytes of data, header says {dims}")
    return array.reshape(dims)


def pixel_table():
    """float32 value of each byte 0..255: ((p / 255.0f) - mean) / std, each step in float32."""
    p = np.arange(256, dtype=np.float32)
    return ((p / np.float32(255.0)) - np.float32(FMNIST_MEAN)) / np.float32(FMNIST_STD)


def load_fmnist(split):
    """Returns (images float32 [n,1,28,28] preprocessed, labels int64 [n])."""
    prefix = "train" if split == "train" else "t10k"
    raw = read_idx(os.path.join(FMNIST_DIR, f"{prefix}-images-idx3-ubyte.gz"), 0x00000803)
    labels = read_idx(os.path.join(FMNIST_DIR, f"{prefix}-labels-idx1-ubyte.gz"), 0x00000801)
    images = pixel_table()[raw].reshape(-1, 1, 28, 28)
    return torch.from_numpy(np.ascontiguousarray(images)), torch.from_numpy(labels.astype(np.int64))


def check_pixel_table():
    # The table must equal the element-wise float32 arithmetic the C++ loader does.
    p = np.arange(256, dtype=np.float32)
    step = np.float32(p / np.float32(255.0))
    step = np.float32(step - np.float32(FMNIST_MEAN))
    step = np.float32(step / np.float32(FMNIST_STD))
    assert np.array_equal(step.view(np.uint32), pixel_table().view(np.uint32))
    for byte in (0, 1, 128, 254, 255):
        value = np.float32(np.float32(np.float32(byte) / np.float32(255.0)) - np.float32(FMNIST_MEAN))
        assert np.float32(value / np.float32(FMNIST_STD)) == pixel_table()[byte]


# ---------------------------------------------------------------------------------------------
# Fortunes text
# ---------------------------------------------------------------------------------------------

# The plain text files of Debian's fortunes package (1:1.99.1-7.3), in byte-wise name order.
# Not included: the *.dat index files, the *.u8 symlinks and anything else in the directory.
FORTUNES_FILES = [
    "art", "ascii-art", "computers", "cookie", "debian", "definitions", "disclaimer", "drugs",
    "education", "ethnic", "food", "fortunes", "goedel", "humorists", "kids", "knghtbrd", "law",
    "linux", "linuxcookie", "literature", "love", "magic", "medicine", "men-women",
    "miscellaneous", "news", "paradoxum", "people", "perl", "pets", "platitudes", "politics",
    "pratchett", "riddles", "science", "songs-poems", "sports", "startrek", "tao",
    "translate-me", "wisdom", "work", "zippy",
]
CONTEXT = 128
# Token ids: bytes 32..126 (printable ASCII) -> byte - 32 (0..94); '\n' -> 95; '\t' -> 96;
# every other byte (0..8, 11..31, 127..255) -> 97 ("unknown").
VOCAB_SIZE = 98
TOKEN_NEWLINE, TOKEN_TAB, TOKEN_UNKNOWN = 95, 96, 97


def byte_to_token_table():
    table = np.full(256, TOKEN_UNKNOWN, dtype=np.int64)
    table[32:127] = np.arange(95)
    table[10] = TOKEN_NEWLINE
    table[9] = TOKEN_TAB
    return table


def load_fortunes_bytes():
    files = sorted(FORTUNES_FILES)
    assert files == FORTUNES_FILES, "FORTUNES_FILES must be in byte-wise sorted order"
    present = sorted(name for name in os.listdir(FORTUNES_DIR)
                     if not name.endswith(".dat")
                     and not os.path.islink(os.path.join(FORTUNES_DIR, name))
                     and os.path.isfile(os.path.join(FORTUNES_DIR, name)))
    if present != FORTUNES_FILES:
        print(f"warning: {FORTUNES_DIR} holds {present}, expected {FORTUNES_FILES}",
              file=sys.stderr)
    chunks = []
    for name in FORTUNES_FILES:
        with open(os.path.join(FORTUNES_DIR, name), "rb") as f:
            chunks.append(f.read())
    return b"".join(chunks)


def load_fortunes():
    """Returns dict with train/validation token tensors and facts about the text."""
    text = load_fortunes_bytes()
    tokens = byte_to_token_table()[np.frombuffer(text, dtype=np.uint8)]
    n_train = len(tokens) * 9 // 10
    return {
        "bytes": len(text),
        "sha256": hashlib.sha256(text).hexdigest(),
        "train": torch.from_numpy(tokens[:n_train].copy()),
        "validation": torch.from_numpy(tokens[n_train:].copy()),
        "unknown": int((tokens == TOKEN_UNKNOWN).sum()),
    }


def validation_windows(validation):
    """Inputs and targets [K,128] of the bpc protocol: window k starts at 128*k."""
    count = (len(validation) - 1) // CONTEXT
    starts = torch.arange(count) * CONTEXT
    offsets = torch.arange(CONTEXT)
    inputs = validation[starts[:, None] + offsets[None, :]]
    targets = validation[starts[:, None] + offsets[None, :] + 1]
    return inputs, targets


# ---------------------------------------------------------------------------------------------
# Models
# ---------------------------------------------------------------------------------------------


class Block(nn.Module):
    """Pre-LayerNorm Transformer block: multi-head self-attention and a GELU MLP."""

    def __init__(self, dim, heads, mlp_ratio, causal, context):
        super().__init__()
        # A stored mask sliced [:t, :t], as nanoGPT does: torch 1.13 cannot export tril.
        self.register_buffer("mask", torch.tril(torch.ones(context, context, dtype=torch.bool)))
        self.heads, self.causal = heads, causal
        self.ln1 = nn.LayerNorm(dim)
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.ln2 = nn.LayerNorm(dim)
        self.fc1 = nn.Linear(dim, mlp_ratio * dim)
        self.fc2 = nn.Linear(mlp_ratio * dim, dim)

    def forward(self, x):
        b, t, c = x.shape
        d = c // self.heads
        q, k, v = self.qkv(self.ln1(x)).split(c, dim=2)
        q = q.view(b, t, self.heads, d).transpose(1, 2)
        k = k.view(b, t, self.heads, d).transpose(1, 2)
        v = v.view(b, t, self.heads, d).transpose(1, 2)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(d))
        if self.causal:
            att = att.masked_fill(~self.mask[:t, :t], float("-inf"))
        att = F.softmax(att, dim=-1)
        y = (att @ v).transpose(1, 2).reshape(b, t, c)
        x = x + self.proj(y)
        return x + self.fc2(F.gelu(self.fc1(self.ln2(x))))


class ViT(nn.Module):
    def __init__(self, dim, depth, heads, patch, mlp_ratio, classes=10):
        super().__init__()
        self.patch = nn.Conv2d(1, dim, patch, stride=patch)
        tokens = (28 // patch) ** 2 + 1
        self.cls = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos = nn.Parameter(torch.randn(1, tokens, dim) * 0.02)
        self.blocks = nn.Sequential(*[Block(dim, heads, mlp_ratio, False, tokens)
                                      for _ in range(depth)])
        self.ln = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, classes)

    def forward(self, image):
        x = self.patch(image).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls.expand(x.shape[0], -1, -1), x], dim=1) + self.pos
        return self.head(self.ln(self.blocks(x))[:, 0])


class LeNet(nn.Module):
    def __init__(self, c1, c2, hidden, classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(1, c1, 5, padding=2, bias=False)
        self.bn1 = nn.BatchNorm2d(c1)
        self.conv2 = nn.Conv2d(c1, c2, 5, bias=False)
        self.bn2 = nn.BatchNorm2d(c2)
        self.fc1 = nn.Linear(c2 * 5 * 5, hidden)
        self.fc2 = nn.Linear(hidden, classes)

    def forward(self, image):
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(image))), 2)  # [b,c1,14,14]
        x = F.max_pool2d(F.relu(self.bn2(self.conv2(x))), 2)  # [b,c2,5,5]
        return self.fc2(F.relu(self.fc1(torch.flatten(x, 1))))


class MLP(nn.Module):
    def __init__(self, hidden1, hidden2, classes=10):
        super().__init__()
        self.fc1 = nn.Linear(784, hidden1)
        self.fc2 = nn.Linear(hidden1, hidden2)
        self.fc3 = nn.Linear(hidden2, classes)

    def forward(self, image):
        x = torch.flatten(image, 1)
        return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x)))))


class GPT(nn.Module):
    def __init__(self, vocab, dim, depth, heads, mlp_ratio, context):
        super().__init__()
        self.tok = nn.Embedding(vocab, dim)
        self.pos = nn.Embedding(context, dim)
        self.blocks = nn.Sequential(*[Block(dim, heads, mlp_ratio, True, context)
                                      for _ in range(depth)])
        self.ln = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, vocab, bias=False)
        self.apply(self._init)

    @staticmethod
    def _init(module):
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)
            if isinstance(module, nn.Linear) and module.bias is not None:
                nn.init.zeros_(module.bias)

    def forward(self, tokens):
        t = tokens.shape[1]
        pos = torch.arange(0, t, dtype=torch.long).unsqueeze(0)
        return self.head(self.ln(self.blocks(self.tok(tokens) + self.pos(pos))))


# ---------------------------------------------------------------------------------------------
# Recipes
# ---------------------------------------------------------------------------------------------

RECIPES = {
    "vit-fmnist": {
        "kind": "image", "seed": 1,
        "arch": {"dim": 64, "depth": 4, "heads": 4, "patch": 7, "mlp_ratio": 2},
        "epochs": 10, "batch": 128, "lr": 2e-3, "weight_decay": 0.05, "warmup_steps": 200,
    },
    "cnn-fmnist": {
        "kind": "image", "seed": 2,
        "arch": {"c1": 16, "c2": 32, "hidden": 128},
        "epochs": 5, "batch": 128, "lr": 2e-3, "weight_decay": 1e-4, "warmup_steps": 0,
    },
    "mlp-fmnist": {
        "kind": "image", "seed": 3,
        "arch": {"hidden1": 256, "hidden2": 128},
        "epochs": 8, "batch": 256, "lr": 1e-3, "weight_decay": 1e-4, "warmup_steps": 0,
    },
    "gpt-fortunes": {
        "kind": "text", "seed": 4,
        "arch": {"dim": 128, "depth": 4, "heads": 4, "mlp_ratio": 4, "context": CONTEXT},
        "steps": 2000, "batch": 16, "lr": 3e-3, "weight_decay": 0.1, "warmup_steps": 100,
    },
}


def build_model(name, recipe):
    arch = recipe["arch"]
    if name == "vit-fmnist":
        return ViT(**arch)
    if name == "cnn-fmnist":
        return LeNet(**arch)
    if name == "mlp-fmnist":
        return MLP(**arch)
    if name == "gpt-fortunes":
        return GPT(vocab=VOCAB_SIZE, **arch)
    raise KeyError(name)


def make_optimizer(model, recipe):
    # No weight decay on biases, LayerNorm/BatchNorm parameters, embeddings' positions or
    # the CLS token: only on weight matrices and convolution kernels.
    decay, no_decay = [], []
    for param in model.parameters():
        (decay if param.dim() >= 2 and param.shape[0] > 1 else no_decay).append(param)
    return torch.optim.AdamW([{"params": decay, "weight_decay": recipe["weight_decay"]},
                              {"params": no_decay, "weight_decay": 0.0}], lr=recipe["lr"])


def lr_at(step, total, recipe):
    """Linear warm-up, then cosine decay to 0."""
    warmup = recipe["warmup_steps"]
    if step < warmup:
        return recipe["lr"] * (step + 1) / warmup
    progress = (step - warmup) / max(1, total - warmup)
    return recipe["lr"] * 0.5 * (1.0 + math.cos(math.pi * progress))


def count_parameters(model):
    return sum(p.numel() for p in model.parameters())


@torch.no_grad()
def image_accuracy(model, images, labels, batch=500):
    model.eval()
    correct = 0
    for i in range(0, len(images), batch):
        correct += int((model(images[i:i + batch]).argmax(1) == labels[i:i + batch]).sum())
    return correct / len(images)


def train_image_model(name, recipe, quick, log):
    train_x, train_y = load_fmnist("train")
    test_x, test_y = load_fmnist("test")
    if quick:
        train_x, train_y = train_x[:2048], train_y[:2048]
    epochs = 1 if quick else recipe["epochs"]
    torch.manual_seed(recipe["seed"])
    model = build_model(name, recipe)
    optimizer = make_optimizer(model, recipe)
    shuffle = torch.Generator().manual_seed(recipe["seed"])
    batch = recipe["batch"]
    steps_per_epoch = math.ceil(len(train_x) / batch)
    total = epochs * steps_per_epoch
    step = 0
    for epoch in range(epochs):
        model.train()
        order = torch.randperm(len(train_x), generator=shuffle)
        loss_sum, correct = 0.0, 0
        start = time.time()
        for i in range(0, len(train_x), batch):
            for group in optimizer.param_groups:
                group["lr"] = lr_at(step, total, recipe)
            index = order[i:i + batch]
            logits = model(train_x[index])
            loss = F.cross_entropy(logits, train_y[index])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            loss_sum += float(loss) * len(index)
            correct += int((logits.argmax(1) == train_y[index]).sum())
            step += 1
        log(f"{name}: epoch {epoch + 1}/{epochs} train loss {loss_sum / len(train_x):.4f} "
            f"train accuracy {100 * correct / len(train_x):.2f} % ({time.time() - start:.0f} s)")
    model.eval()
    accuracy = image_accuracy(model, test_x, test_y)
    ref_input = test_x[:64].clone()
    with torch.no_grad():
        ref_logits = model(ref_input)
    return model, {
        "metric": "accuracy", "value": round(accuracy, 6), "samples": len(test_x),
        "correct": int(round(accuracy * len(test_x))),
        "epochs": epochs, "steps": total,
    }, ref_input, ref_logits


@torch.no_grad()
def bits_per_char(model, validation, batch=64):
    model.eval()
    inputs, targets = validation_windows(validation)
    total = 0.0
    for i in range(0, len(inputs), batch):
        logits = model(inputs[i:i + batch])
        losses = F.cross_entropy(logits.reshape(-1, logits.shape[-1]),
                                 targets[i:i + batch].reshape(-1), reduction="none")
        total += float(losses.double().sum())
    mean_ce = total / targets.numel()
    return mean_ce / math.log(2.0), math.exp(mean_ce), len(inputs), targets.numel()


def train_text_model(name, recipe, quick, log):
    text = load_fortunes()
    train, validation = text["train"], text["validation"]
    steps = 20 if quick else recipe["steps"]
    torch.manual_seed(recipe["seed"])
    model = build_model(name, recipe)
    optimizer = make_optimizer(model, recipe)
    sampler = torch.Generator().manual_seed(recipe["seed"])
    batch, offsets = recipe["batch"], torch.arange(CONTEXT)
    start, loss_sum, loss_count = time.time(), 0.0, 0
    report_every = 10 if quick else 100
    for step in range(steps):
        model.train()
        for group in optimizer.param_groups:
            group["lr"] = lr_at(step, steps, recipe)
        # Windows start anywhere in the training text so every position is seen.
        starts = torch.randint(0, len(train) - CONTEXT, (batch,), generator=sampler)
        x = train[starts[:, None] + offsets[None, :]]
        y = train[starts[:, None] + offsets[None, :] + 1]
        logits = model(x)
        loss = F.cross_entropy(logits.reshape(-1, VOCAB_SIZE), y.reshape(-1))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        loss_sum, loss_count = loss_sum + float(loss), loss_count + 1
        if (step + 1) % report_every == 0:
            log(f"{name}: step {step + 1}/{steps} train bpc "
                f"{loss_sum / loss_count / math.log(2.0):.4f} ({time.time() - start:.0f} s)")
            loss_sum, loss_count = 0.0, 0
    val = validation[:CONTEXT * 16 + 1] if quick else validation
    bpc, perplexity, windows, predictions = bits_per_char(model, val)
    log(f"{name}: validation bpc {bpc:.4f} perplexity {perplexity:.4f} "
        f"({windows} windows, {predictions} predictions)")
    inputs, _ = validation_windows(validation)
    ref_input = inputs[:8].clone()
    with torch.no_grad():
        ref_logits = model(ref_input)
    return model, {
        "metric": "bits_per_char", "value": round(bpc, 6), "perplexity": round(perplexity, 6),
        "samples": windows, "predictions": predictions, "steps": steps,
        "text_bytes": text["bytes"], "text_sha256": text["sha256"],
        "train_chars": len(train), "validation_chars": len(validation),
        "unknown_chars": text["unknown"],
    }, ref_input, ref_logits


# ---------------------------------------------------------------------------------------------
# Export and model cards
# ---------------------------------------------------------------------------------------------


def export_onnx(model, example, input_name, path):
    model.eval()
    torch.onnx.export(model, (example,), path, opset_version=OPSET,
                      input_names=[input_name], output_names=["logits"],
                      dynamic_axes={input_name: {0: "batch"}, "logits": {0: "batch"}},
                      do_constant_folding=True, training=torch.onnx.TrainingMode.EVAL)
    import onnx

    loaded = onnx.load(path)
    onnx.checker.check_model(loaded)
    dims = loaded.graph.input[0].type.tensor_type.shape.dim
    assert dims[0].dim_param == "batch", dims
    return sorted({node.op_type for node in loaded.graph.node})


ARCH_TEXT = {
    "vit-fmnist": (
        "Vision Transformer. Patch embedding: Conv2d(1, {dim}, kernel {patch}, stride {patch}) "
        "gives {patches} patch tokens of width {dim}; a learned CLS token is prepended and a "
        "learned position embedding [1, {tokens}, {dim}] added. {depth} pre-LayerNorm blocks: "
        "LayerNorm, multi-head self-attention ({heads} heads of {head_dim}, fused QKV Linear, "
        "softmax(QK^T/sqrt({head_dim}))V, output projection), residual; LayerNorm, MLP "
        "Linear({dim}, {hidden}), exact (erf) GELU, Linear({hidden}, {dim}), residual. Final "
        "LayerNorm on the CLS token, Linear({dim}, 10)."),
    "cnn-fmnist": (
        "LeNet-style CNN. Conv2d(1, {c1}, 5, padding 2, no bias), BatchNorm2d, ReLU, "
        "MaxPool 2 -> [{c1},14,14]; Conv2d({c1}, {c2}, 5, no bias), BatchNorm2d, ReLU, "
        "MaxPool 2 -> [{c2},5,5]; flatten ({flat}), Linear({flat}, {hidden}), ReLU, "
        "Linear({hidden}, 10). In the ONNX file the BatchNorms are folded into the "
        "convolutions by PyTorch's exporter (eval mode)."),
    "mlp-fmnist": (
        "Multi-layer perceptron. Flatten (784), Linear(784, {hidden1}), ReLU, "
        "Linear({hidden1}, {hidden2}), ReLU, Linear({hidden2}, 10)."),
    "gpt-fortunes": (
        "Character-level decoder-only Transformer (GPT). Token embedding [{vocab}, {dim}] plus "
        "learned position embedding [{context}, {dim}]; {depth} pre-LayerNorm blocks: "
        "LayerNorm, causal multi-head self-attention ({heads} heads of {head_dim}, fused QKV "
        "Linear, scores masked to -inf above the diagonal by a stored boolean mask sliced "
        "[:t, :t]), output projection, residual; LayerNorm, MLP Linear({dim}, {hidden}), exact "
        "(erf) GELU, Linear({hidden}, {dim}), residual. Final LayerNorm, Linear({dim}, {vocab}, "
        "no bias). Context {context}."),
}


def arch_description(name, recipe):
    arch = dict(recipe["arch"])
    if name in ("vit-fmnist", "gpt-fortunes"):
        arch["head_dim"] = arch["dim"] // arch["heads"]
        arch["hidden"] = arch["dim"] * arch["mlp_ratio"]
    if name == "vit-fmnist":
        arch["patches"] = (28 // arch["patch"]) ** 2
        arch["tokens"] = arch["patches"] + 1
    if name == "cnn-fmnist":
        arch["flat"] = arch["c2"] * 25
    if name == "gpt-fortunes":
        arch["vocab"] = VOCAB_SIZE
    return ARCH_TEXT[name].format(**arch)


def write_card(name, recipe, facts, out_dir):
    image = recipe["kind"] == "image"
    lines = [f"# {name}", ""]
    lines += [arch_description(name, recipe), ""]
    lines += ["| | |", "|---|---|"]
    lines.append(f"| File | `{name}.onnx` ({facts['onnx_bytes']:,} bytes), ONNX opset {OPSET}, "
                 f"symbolic batch dimension `batch`, exported by Debian's python3-torch "
                 f"{torch.__version__.split('a')[0]} with constant folding |")
    if image:
        lines.append("| Input | `image` float32 [batch, 1, 28, 28]: each pixel byte p becomes "
                     f"((p / 255) - {FMNIST_MEAN:.4f}) / {FMNIST_STD:.4f}, every step in "
                     "float32 (docs/datasets.md) |")
        lines.append("| Output | `logits` float32 [batch, 10] (class order of the labels) |")
    else:
        lines.append(f"| Input | `tokens` int64 [batch, {CONTEXT}]: one token per byte, "
                     f"{VOCAB_SIZE} ids (bytes 32..126 -> byte - 32, newline 95, tab 96, "
                     "any other byte 97; docs/datasets.md) |")
        lines.append(f"| Output | `logits` float32 [batch, {CONTEXT}, {VOCAB_SIZE}]: position i "
                     "predicts the token after input position i |")
    lines.append(f"| Parameters | {facts['parameters']:,} |")
    lines.append(f"| ONNX operators | {', '.join(facts['onnx_ops'])} |")
    if image:
        lines.append("| Data | Fashion-MNIST, 60,000 training images, no augmentation |")
        lines.append(f"| Training | {facts['epochs']} epochs, batch {recipe['batch']} "
                     f"({facts['steps']} steps), shuffled each epoch |")
    else:
        lines.append(f"| Data | fortunes, first 90 % ({facts['train_chars']:,} characters) |")
        lines.append(f"| Training | {facts['steps']} steps, batch {recipe['batch']} windows of "
                     f"{CONTEXT} drawn at uniformly random offsets, gradient clipping 1.0 |")
    warmup = (f"linear warm-up over {recipe['warmup_steps']} steps, then "
              if recipe["warmup_steps"] else "")
    lines.append(f"| Optimiser | AdamW, lr {recipe['lr']:g}, {warmup}cosine decay to 0; weight "
                 f"decay {recipe['weight_decay']:g} on weight matrices and kernels only |")
    lines.append(f"| Seed | {recipe['seed']} (torch.manual_seed; data order from a "
                 f"torch.Generator seeded the same); {THREADS} PyTorch thread |")
    lines.append(f"| Training wall time | {facts['train_seconds']:.0f} s (including the final "
                 f"evaluation) on a 2-core machine shared with other builds |")
    if image:
        lines.append(f"| **Test accuracy (PyTorch)** | **{100 * facts['value']:.2f} %** "
                     f"({facts['correct']} of {facts['samples']} test images) |")
    else:
        lines.append(f"| **Validation bits per character (PyTorch)** | **{facts['value']:.4f}** "
                     f"({facts['predictions']:,} predictions in {facts['samples']} windows) |")
        lines.append(f"| Validation perplexity (per character) | {facts['perplexity']:.4f} |")
        lines.append(f"| Evaluation | the last 10 % of the text ({facts['validation_chars']:,} "
                     f"characters) in windows of {CONTEXT} inputs starting {CONTEXT} apart, "
                     "targets shifted by one, mean cross-entropy / ln 2 (docs/datasets.md) |")
    lines.append("")
    lines.append("## Reference outputs")
    lines.append("")
    if image:
        lines.append(f"`{name}.ref-input.npy`: float32 [64, 1, 28, 28], the first 64 test "
                     "images after preprocessing. `" + name + ".ref-logits.npy`: float32 "
                     "[64, 10], PyTorch's logits for them.")
    else:
        lines.append(f"`{name}.ref-input.npy`: int64 [8, {CONTEXT}], the inputs of the first "
                     f"8 validation windows. `{name}.ref-logits.npy`: float32 [8, {CONTEXT}, "
                     f"{VOCAB_SIZE}], PyTorch's logits for them. (Only 8 windows: 64 would make "
                     "a 3.2 MB file.)")
    lines.append("")
    lines.append(f"Re-train: `/usr/bin/python3 tools/train_reference_models.py --only {name}`.")
    lines.append("")
    with open(os.path.join(out_dir, name + ".md"), "w") as f:
        f.write("\n".join(lines))


def write_sidecar(name, recipe, facts, out_dir):
    image = recipe["kind"] == "image"
    sidecar = {
        "model": name + ".onnx",
        "dataset": "fashion-mnist" if image else "fortunes",
        "split": "test" if image else "validation",
        "metric": facts["metric"],
        "value": facts["value"],
        "samples": facts["samples"],
        "input": {"name": "image" if image else "tokens",
                  "dtype": "float32" if image else "int64",
                  "shape": ["batch", 1, 28, 28] if image else ["batch", CONTEXT]},
        "output": {"name": "logits", "dtype": "float32",
                   "shape": ["batch", 10] if image else ["batch", CONTEXT, VOCAB_SIZE]},
        "parameters": facts["parameters"],
        "train_seconds": round(facts["train_seconds"], 1),
        "seed": recipe["seed"],
        "opset": OPSET,
        "ref_samples": 64 if image else 8,
    }
    if image:
        sidecar["correct"] = facts["correct"]
        sidecar["normalize"] = {"mean": FMNIST_MEAN, "std": FMNIST_STD}
    else:
        for key in ("perplexity", "predictions", "text_bytes", "text_sha256", "train_chars",
                    "validation_chars"):
            sidecar[key] = facts[key]
        sidecar["vocab_size"] = VOCAB_SIZE
        sidecar["context"] = CONTEXT
    with open(os.path.join(out_dir, name + ".json"), "w") as f:
        json.dump(sidecar, f, indent=2)
        f.write("\n")


def run(name, out_dir, quick, log):
    recipe = RECIPES[name]
    start = time.time()
    if recipe["kind"] == "image":
        model, facts, ref_input, ref_logits = train_image_model(name, recipe, quick, log)
        input_name = "image"
    else:
        model, facts, ref_input, ref_logits = train_text_model(name, recipe, quick, log)
        input_name = "tokens"
    facts["train_seconds"] = time.time() - start
    facts["parameters"] = count_parameters(model)
    path = os.path.join(out_dir, name + ".onnx")
    facts["onnx_ops"] = export_onnx(model, ref_input, input_name, path)
    facts["onnx_bytes"] = os.path.getsize(path)
    np.save(os.path.join(out_dir, name + ".ref-input.npy"), ref_input.numpy())
    np.save(os.path.join(out_dir, name + ".ref-logits.npy"),
            ref_logits.numpy().astype(np.float32))
    write_card(name, recipe, facts, out_dir)
    write_sidecar(name, recipe, facts, out_dir)
    shown = (f"{100 * facts['value']:.2f} % accuracy" if facts["metric"] == "accuracy"
             else f"{facts['value']:.4f} bpc, perplexity {facts['perplexity']:.4f}")
    log(f"{name}: {shown}, {facts['parameters']:,} parameters, "
        f"{facts['onnx_bytes']:,} bytes, {facts['train_seconds']:.0f} s wall")
    return facts


def train_in_parallel(names, out_dir, quick, jobs, log):
    """Trains each model in its own single-threaded process, `jobs` at a time.

    Separate processes use both cores without the per-op thread synchronisation that makes
    a two-threaded PyTorch several times slower when other processes share the cores; each
    model's result does not depend on which others run beside it.
    """
    import subprocess

    pending, running, failed = list(names), [], []
    while pending or running:
        while pending and len(running) < jobs:
            name = pending.pop(0)
            command = [sys.executable, os.path.abspath(__file__), "--only", name, "--out",
                       out_dir] + (["--quick"] if quick else [])
            running.append((name, subprocess.Popen(command)))
        time.sleep(1)
        for entry in list(running):
            name, process = entry
            if process.poll() is not None:
                running.remove(entry)
                if process.returncode != 0:
                    failed.append(name)
                    log(f"{name}: training failed with exit status {process.returncode}")
    if failed:
        sys.exit(1)
    results = {}
    for name in names:
        with open(os.path.join(out_dir, name + ".json")) as f:
            sidecar = json.load(f)
        results[name] = {"metric": sidecar["metric"], "value": sidecar["value"],
                         "train_seconds": sidecar["train_seconds"],
                         "onnx_bytes": os.path.getsize(os.path.join(out_dir, name + ".onnx"))}
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", choices=list(RECIPES), action="append",
                        help="train only this model (may be repeated)")
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: a tiny fraction of the training, into a temp dir")
    parser.add_argument("--out", help="output directory (default models/, or a temp dir "
                        "with --quick)")
    parser.add_argument("--jobs", type=int, default=2,
                        help="models trained at once, each in its own process (default 2)")
    args = parser.parse_args()
    out_dir = os.path.abspath(args.out or (
        os.path.join(tempfile.gettempdir(), "aimc-reference-models-quick") if args.quick
        else os.path.join(REPO, "models")))
    os.makedirs(out_dir, exist_ok=True)
    # One thread per model: the result of a model does not depend on how many run at once.
    torch.set_num_threads(THREADS)
    torch.use_deterministic_algorithms(True)
    check_pixel_table()

    def log(message):
        print(message, flush=True)

    # Longest first, so that the two processes finish at about the same time.
    order = ["vit-fmnist", "gpt-fortunes", "cnn-fmnist", "mlp-fmnist"]
    names = [name for name in order if name in (args.only or order)]
    total_start = time.time()
    if len(names) > 1 and args.jobs > 1:
        log(f"training {', '.join(names)} into {out_dir}, {args.jobs} at a time "
            f"(torch {torch.__version__}, {THREADS} thread each)")
        results = train_in_parallel(names, out_dir, args.quick, args.jobs, log)
    else:
        log(f"training {', '.join(names)} into {out_dir} (torch {torch.__version__}, "
            f"{THREADS} thread)")
        results = {name: run(name, out_dir, args.quick, log) for name in names}
    if len(names) > 1:
        log("")
        for name, facts in results.items():
            log(f"{name:14s} {facts['metric']:13s} {facts['value']:.6f} "
                f"{facts['train_seconds']:7.0f} s {facts['onnx_bytes']:>10,} bytes")
        log(f"total wall time {time.time() - total_start:.0f} s")


if __name__ == "__main__":
    main()
