// LayerNorm -> layer_norm, from two sources:
// - ONNX LayerNormalization (opset 17+) whose Mean and InvStdDev outputs nobody reads;
// - the decomposition PyTorch exports below opset 17, over the last axis:
//     m = ReduceMean(x, axes=[-1]); d = Sub(x, m); p = Pow(d, 2); v = ReduceMean(p, axes=[-1])
//     e = Add(v, eps); s = Sqrt(e); n = Div(d, s); y = Mul(n, gamma); z = Add(y, beta)
//   with gamma and beta constant, on either side, and optional (gamma = 1, beta = 0).
// An intermediate value read outside the pattern (or a graph output) prevents the fusion.
#include <algorithm>

#include "aimc/passes/passes.h"
#include "aimc/passes/pattern.h"

namespace aimc::passes {

namespace {

using detail::other_operand;
using detail::single_user;

// ReduceMean over the last axis only, keeping it (axes [-1] or [rank - 1], as attribute or,
// from opset 18, as a constant input).
bool is_last_axis_mean(const ir::Node* node, const ir::Value* x) {
  if (!node || node->op != "ReduceMean" || node->input(0) != x) return false;
  if (node->attr_int("keepdims", 1) != 1) return false;
  std::vector<int64_t> axes = node->attr_ints("axes");
  if (const ir::Value* axes_input = node->input(1)) {
    if (!axes_input->is_constant()) return false;
    axes = axes_input->constant.to_int_vector();
  }
  if (axes.size() != 1) return false;
  int64_t rank = detail::known_rank(x);
  return axes[0] == -1 || (rank > 0 && axes[0] == rank - 1);
}

bool is_square_of(const ir::Node* node, const ir::Value* d) {
  if (!node) return false;
  if (node->op == "Pow")
    return node->input(0) == d &&
           detail::is_scalar_near(node->input(1), 2.0, detail::scalar_rank_limit(d), 1e-6);
  return node->op == "Mul" && node->inputs.size() == 2 && node->inputs[0] == d &&
         node->inputs[1] == d;
}

struct LayerNormMatch {
  std::vector<ir::Node*> nodes;
  ir::Value* x = nullptr;
  double epsilon = 0;
  Tensor gamma, beta;                       // [C]; invalid when absent
  const ir::Value* gamma_source = nullptr;  // the constants they were read from
  const ir::Value* beta_source = nullptr;
  ir::Value* result = nullptr;
};

// Matches the decomposed pattern starting at its first ReduceMean.
std::optional<LayerNormMatch> match_decomposed(const ir::Graph& graph, ir::Node* mean) {
  LayerNormMatch match;
  match.x = mean->input(0);
  const ir::Value* x = match.x;
  if (!is_last_axis_mean(mean, x)) return std::nullopt;
  if (x->dtype_known && x->dtype != DType::kF32) return std::nullopt;

  ir::Node* sub = single_user(graph, mean->output(0));
  if (!sub || sub->op != "Sub" || sub->input(0) != x || sub->input(1) != mean->output(0))
    return std::nullopt;
  ir::Value* d = sub->output(0);
  if (graph.is_graph_output(d)) return std::nullopt;
  std::vector<ir::Node*> d_users = graph.users(d);
  if (d_users.size() != 2) return std::nullopt;
  ir::Node* square = is_square_of(d_users[0], d) ? d_users[0] : d_users[1];
  ir::Node* div = square == d_users[0] ? d_users[1] : d_users[0];
  if (!is_square_of(square, d)) return std::nullopt;

  ir::Node* variance = single_user(graph, square->output(0));
  if (!is_last_axis_mean(variance, square->output(0))) return std::nullopt;
  ir::Node* add_eps = single_user(graph, variance->output(0));
  if (!add_eps || add_eps->op != "Add") return std::nullopt;
  std::optional<double> epsilon = detail::scalar_constant(
      other_operand(*add_eps, variance->output(0)), detail::scalar_rank_limit(x));
  if (!epsilon || *epsilon < 0) return std::nullopt;
  match.epsilon = *epsilon;
  ir::Node* sqrt = single_user(graph, add_eps->output(0));
  if (!sqrt || sqrt->op != "Sqrt") return std::nullopt;
  if (single_user(graph, sqrt->output(0)) != div) return std::nullopt;
  if (div->op != "Div" || div->input(0) != d || div->input(1) != sqrt->output(0))
    return std::nullopt;
  match.nodes = {mean, sub, square, variance, add_eps, sqrt, div};
  match.result = div->output(0);

  // Optional affine tail: Mul(gamma), then Add(beta).
  int64_t rank = detail::known_rank(x);
  ir::Dim channels = rank > 0 ? x->shape->back() : ir::Dim{};
  if (ir::Node* mul = single_user(graph, match.result); mul && mul->op == "Mul") {
    if (auto gamma = detail::last_axis_vector(other_operand(*mul, match.result), rank, channels)) {
      match.gamma = *gamma;
      match.gamma_source = other_operand(*mul, match.result);
      match.nodes.push_back(mul);
      match.result = mul->output(0);
    }
  }
  if (ir::Node* add = single_user(graph, match.result); add && add->op == "Add") {
    if (auto beta = detail::last_axis_vector(other_operand(*add, match.result), rank, channels)) {
      match.beta = *beta;
      match.beta_source = other_operand(*add, match.result);
      match.nodes.push_back(add);
      match.result = add->output(0);
    }
  }
  if (!match.gamma.is_valid()) {
    // layer_norm needs a scale: ones of the normalised size, which must then be known.
    int64_t size = match.beta.is_valid() ? match.beta.numel() : channels.value;
    if (size < 0) return std::nullopt;
    match.gamma =
        Tensor::from_vector<float>({size}, std::vector<float>(static_cast<size_t>(size), 1.0f));
  }
  return match;
}

void fuse_decomposed(ir::Graph& graph, LayerNormMatch& match) {
  std::string name = detail::fused_name(match.nodes, "layer_norm");
  ir::Value* gamma = graph.add_constant(graph.make_unique_name(name + "_scale"), match.gamma);
  gamma->origin = detail::derived_origin(match.gamma_source, match.gamma.numel());
  std::vector<ir::Value*> inputs = {match.x, gamma};
  if (match.beta.is_valid()) {
    ir::Value* beta = graph.add_constant(graph.make_unique_name(name + "_bias"), match.beta);
    beta->origin = detail::derived_origin(match.beta_source, match.beta.numel());
    inputs.push_back(beta);
  }
  ir::Node* fused =
      detail::replace_with_node(graph, match.nodes, "layer_norm", name, inputs, match.result);
  fused->attrs["axis"] = int64_t{-1};
  fused->attrs["epsilon"] = match.epsilon;
}

// LayerNormalization -> layer_norm in place, when only its first output is read.
bool canonicalize_onnx(ir::Graph& graph, ir::Node& node) {
  for (size_t i = 1; i < node.outputs.size(); ++i) {
    if (node.outputs[i] && !detail::is_unused(graph, node.outputs[i])) return false;
  }
  for (size_t i = 1; i < node.outputs.size(); ++i) {
    if (node.outputs[i]) node.outputs[i]->producer = nullptr;
  }
  node.outputs.resize(1);
  node.op = "layer_norm";
  node.attrs.erase("stash_type");
  return true;
}

}  // namespace

int fuse_layer_norm(ir::Graph& graph) {
  std::vector<ir::Node*> candidates;
  for (const auto& node : graph.nodes()) {
    if (node->op == "ReduceMean" || node->op == "LayerNormalization")
      candidates.push_back(node.get());
  }
  // A fusion deletes the pattern's second ReduceMean, itself a later candidate: candidates
  // deleted that way are skipped (their pointers are compared, never followed).
  std::vector<const ir::Node*> removed;
  int rewrites = 0;
  for (ir::Node* node : candidates) {
    if (std::find(removed.begin(), removed.end(), node) != removed.end()) continue;
    if (node->op == "LayerNormalization") {
      rewrites += canonicalize_onnx(graph, *node) ? 1 : 0;
      continue;
    }
    std::optional<LayerNormMatch> match = match_decomposed(graph, node);
    if (!match) continue;
    removed.insert(removed.end(), match->nodes.begin(), match->nodes.end());
    fuse_decomposed(graph, *match);
    ++rewrites;
  }
  if (rewrites) graph.topo_sort();
  return rewrites;
}

}  // namespace aimc::passes
