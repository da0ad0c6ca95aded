// Canonicalisation passes over the IR. Each pass does one thing, can run alone, and returns
// how many rewrites it made. canonicalize() runs them all in order, verifying in between.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "aimc/core/tensor.h"
#include "aimc/ir/graph.h"

namespace aimc::passes {

// Computes a node's outputs from constant inputs. Passes do not depend on the runtime; the
// caller hands its kernels in (runtime::evaluate_node).
using NodeEvaluator =
    std::function<std::vector<Tensor>(const ir::Node& node, const std::vector<Tensor>& inputs)>;

// Evaluates every node whose inputs are all constants (Constant nodes included) and replaces
// its outputs with constants; Shape of a fully static input folds too, so Shape->Gather->
// Concat->Reshape chains disappear when shapes are static.
int fold_constants(ir::Graph& graph, const NodeEvaluator& evaluate);
// Identity and inference-mode Dropout are removed (their output replaced by their input).
int remove_identities(ir::Graph& graph);
// BatchNormalization after a Conv with constant weights is folded into the Conv's weights/bias.
int fold_batchnorm(ir::Graph& graph);
// Conv -> conv with explicit pads (auto_pad resolved) and kernel_shape.
int canonicalize_conv(ir::Graph& graph);
// LayerNormalization, and its decomposed pattern (ReduceMean, Sub, Pow 2, ReduceMean, Add eps,
// Sqrt, Div, Mul gamma, Add beta) -> layer_norm.
int fuse_layer_norm(ir::Graph& graph);
// x * 0.5 * (1 + Erf(x / sqrt 2)) in the orders PyTorch emits -> gelu{approximate = "none"};
// the tanh form -> gelu{approximate = "tanh"}.
int fuse_gelu(ir::Graph& graph);
// MatMul with a constant 2-D weight (+ a following Add of a constant bias vector) and Gemm with
// constant B -> linear(x, W[K,N], b); MatMul of two activations -> matmul.
int canonicalize_matmul(ir::Graph& graph);
// Removes nodes and values that do not contribute to a graph output.
int eliminate_dead_code(ir::Graph& graph);

struct PassInfo {
  std::string name;
  std::string description;
};
// The passes canonicalize() runs, in order.
std::vector<PassInfo> pipeline();

// Runs every pass above to a fixed point, verifying the graph after each, then re-infers shapes.
void canonicalize(ir::Graph& graph, const NodeEvaluator& evaluate);

}  // namespace aimc::passes
