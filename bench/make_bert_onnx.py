#!/usr/bin/python3
"""Writes a BERT-base-shaped ONNX model (no PyTorch needed): token and position embeddings,
12 post-LayerNorm encoder blocks of width 768 with 12 heads and an FFN of 3072 (GELU, erf
form), then the pooler (first token, dense, tanh), for sequences of --seq tokens. Weights are
zeros: `aimc estimate` reads shapes only. The graph uses the ops PyTorch 1.13 exports at
opset 17 (MatMul + Add, LayerNormalization, Div/Erf/Mul GELU, Reshape/Transpose heads).

    /usr/bin/python3 bench/make_bert_onnx.py OUT.onnx [--seq 128] [--layers 12]

Needs python3-onnx and python3-numpy. The file is ~440 MB: write it to a temporary folder.
"""
import argparse

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

WIDTH, HEADS, FFN, VOCAB = 768, 12, 3072, 30522


class Builder:
    def __init__(self):
        self.nodes, self.inits, self.count = [], [], 0

    def name(self, base):
        self.count += 1
        return f"{base}_{self.count}"

    def const(self, base, array):
        n = self.name(base)
        self.inits.append(numpy_helper.from_array(np.asarray(array), n))
        return n

    def op(self, op_type, inputs, node_name=None, **attrs):
        out = self.name(op_type.lower())
        self.nodes.append(helper.make_node(op_type, inputs, [out], name=node_name or out, **attrs))
        return out

    def linear(self, x, fan_in, fan_out, prefix):
        w = self.const(prefix + ".weight", np.zeros((fan_in, fan_out), np.float32))
        b = self.const(prefix + ".bias", np.zeros(fan_out, np.float32))
        return self.op("Add", [self.op("MatMul", [x, w], node_name=prefix + "/MatMul"), b])

    def layer_norm(self, x, prefix):
        scale = self.const(prefix + ".weight", np.ones(WIDTH, np.float32))
        bias = self.const(prefix + ".bias", np.zeros(WIDTH, np.float32))
        return self.op("LayerNormalization", [x, scale, bias], node_name=prefix, axis=-1,
                       epsilon=1e-12)

    def gelu(self, x):
        inner = self.op("Erf", [self.op("Div", [x, self.const("sqrt2", np.float32(np.sqrt(2)))])])
        plus_one = self.op("Add", [inner, self.const("one", np.float32(1))])
        return self.op("Mul", [self.op("Mul", [x, plus_one]), self.const("half", np.float32(0.5))])

    def heads(self, x, perm):
        split = self.op("Reshape", [x, self.const("shape", np.array([0, 0, HEADS, WIDTH // HEADS],
                                                                      np.int64))])
        return self.op("Transpose", [split], perm=perm)

    def block(self, x, i):
        p = f"/encoder/layer.{i}"
        q = self.heads(self.linear(x, WIDTH, WIDTH, p + "/attention/query"), [0, 2, 1, 3])
        k = self.heads(self.linear(x, WIDTH, WIDTH, p + "/attention/key"), [0, 2, 3, 1])
        v = self.heads(self.linear(x, WIDTH, WIDTH, p + "/attention/value"), [0, 2, 1, 3])
        scores = self.op("Div", [self.op("MatMul", [q, k]),
                                 self.const("scale", np.float32(np.sqrt(WIDTH // HEADS)))])
        context = self.op("MatMul", [self.op("Softmax", [scores], axis=-1), v])
        merged = self.op("Reshape", [self.op("Transpose", [context], perm=[0, 2, 1, 3]),
                                     self.const("shape", np.array([0, 0, WIDTH], np.int64))])
        attn = self.linear(merged, WIDTH, WIDTH, p + "/attention/output")
        h = self.layer_norm(self.op("Add", [attn, x]), p + "/attention/LayerNorm")
        ffn = self.linear(self.gelu(self.linear(h, WIDTH, FFN, p + "/intermediate")), FFN, WIDTH,
                          p + "/output")
        return self.layer_norm(self.op("Add", [ffn, h]), p + "/output/LayerNorm")


def build(seq, layers):
    b = Builder()
    words = b.op("Gather", [b.const("word_embeddings", np.zeros((VOCAB, WIDTH), np.float32)),
                            "input_ids"], axis=0)
    positions = b.const("position_embeddings", np.zeros((seq, WIDTH), np.float32))
    x = b.layer_norm(b.op("Add", [words, positions]), "/embeddings/LayerNorm")
    for i in range(layers):
        x = b.block(x, i)
    first = b.op("Gather", [x, b.const("first", np.array(0, np.int64))], axis=1)
    pooled = b.op("Tanh", [b.linear(first, WIDTH, WIDTH, "/pooler/dense")])
    graph = helper.make_graph(
        b.nodes, "bert-base",
        [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", seq])],
        [helper.make_tensor_value_info(pooled, TensorProto.FLOAT, ["batch", WIDTH])],
        b.inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--seq", type=int, default=128)
    parser.add_argument("--layers", type=int, default=12)
    args = parser.parse_args()
    model = build(args.seq, args.layers)
    onnx.checker.check_model(model, full_check=False)
    onnx.save(model, args.out)


if __name__ == "__main__":
    main()
