#include "aimc/passes/pattern.h"

#include <algorithm>
#include <cmath>
#include <unordered_set>

namespace aimc::passes::detail {

ir::Node* single_user(const ir::Graph& graph, const ir::Value* v) {
  if (!v || graph.is_graph_output(v)) return nullptr;
  std::vector<ir::Node*> users = graph.users(v);
  return users.size() == 1 ? users[0] : nullptr;
}

bool is_unused(const ir::Graph& graph, const ir::Value* v) {
  return !graph.is_graph_output(v) && graph.users(v).empty();
}

ir::Value* other_operand(const ir::Node& node, const ir::Value* v) {
  if (node.inputs.size() != 2) return nullptr;
  if (node.inputs[0] == v && node.inputs[1] != v) return node.inputs[1];
  if (node.inputs[1] == v && node.inputs[0] != v) return node.inputs[0];
  return nullptr;
}

int64_t known_rank(const ir::Value* v) {
  return v && v->shape ? static_cast<int64_t>(v->shape->size()) : -1;
}

std::optional<double> scalar_constant(const ir::Value* v, int64_t max_rank) {
  if (!v || !v->is_constant() || v->constant.numel() != 1) return std::nullopt;
  if (v->constant.rank() > max_rank) return std::nullopt;
  return v->constant.item_as_double(0);
}

bool is_scalar_near(const ir::Value* v, double expected, int64_t max_rank, double rel_tol) {
  std::optional<double> value = scalar_constant(v, max_rank);
  return value && std::abs(*value - expected) <= rel_tol * std::abs(expected);
}

int64_t scalar_rank_limit(const ir::Value* x) {
  int64_t rank = known_rank(x);
  return rank >= 0 ? rank : 1;
}

std::optional<Tensor> last_axis_vector(const ir::Value* v, int64_t activation_rank,
                                       const ir::Dim& channels) {
  if (!v || !v->is_constant() || v->constant.dtype() != DType::kF32) return std::nullopt;
  const Tensor& c = v->constant;
  if (c.rank() > (activation_rank >= 0 ? activation_rank : 1)) return std::nullopt;
  for (int64_t axis = 0; axis + 1 < c.rank(); ++axis) {
    if (c.shape()[static_cast<size_t>(axis)] != 1) return std::nullopt;
  }
  int64_t size = c.rank() == 0 ? 1 : c.shape().back();
  int64_t wanted = channels.known() ? channels.value : size;
  if (size == 1 && !channels.known()) return std::nullopt;
  if (size != wanted && size != 1) return std::nullopt;
  Tensor out(DType::kF32, {wanted});
  const float* in = c.data<float>();
  float* dst = out.data<float>();
  for (int64_t i = 0; i < wanted; ++i) dst[i] = in[size == 1 ? 0 : i];
  return out;
}

std::optional<ir::ConstantOrigin> derived_origin(const ir::Value* source, int64_t numel,
                                                 bool transposed, std::vector<double> scale,
                                                 std::vector<double> shift) {
  if (!source || !source->is_constant() || source->constant.numel() != numel) return std::nullopt;
  bool identity =
      !transposed && scale == std::vector<double>{1.0} && shift == std::vector<double>{0.0};
  if (source->origin) {
    if (!identity) return std::nullopt;
    return source->origin;
  }
  return ir::ConstantOrigin{source->name, transposed, std::move(scale), std::move(shift)};
}

std::string fused_name(const std::vector<ir::Node*>& matched, const std::string& op) {
  AIMC_ASSERT(!matched.empty(), "fused_name of no node");
  std::string prefix = matched[0]->name;
  for (const ir::Node* node : matched) {
    size_t n = 0;
    while (n < prefix.size() && n < node->name.size() && prefix[n] == node->name[n]) ++n;
    prefix.resize(n);
  }
  size_t slash = prefix.rfind('/');
  if (slash == std::string::npos || slash == 0) return matched.back()->name;
  return prefix.substr(0, slash + 1) + op;
}

ir::Node* replace_with_node(ir::Graph& graph, const std::vector<ir::Node*>& matched,
                            const std::string& op, const std::string& name,
                            std::vector<ir::Value*> inputs, ir::Value* result) {
  graph.remove_nodes(matched);
  return graph.add_node(op, name, std::move(inputs), {result});
}

int remove_dead_keeping_live_outputs(ir::Graph& graph) {
  // Nodes are in topological order, so when a node is reached (walking backwards) every
  // reader of its outputs has been seen.
  std::unordered_set<const ir::Value*> live(graph.outputs.begin(), graph.outputs.end());
  std::vector<ir::Value*> unread_outputs;
  const auto& nodes = graph.nodes();
  for (size_t i = nodes.size(); i-- > 0;) {
    const ir::Node& node = *nodes[i];
    bool used = std::any_of(node.outputs.begin(), node.outputs.end(),
                            [&](const ir::Value* v) { return v && live.count(v); });
    if (!used) continue;
    for (ir::Value* out : node.outputs) {
      if (out && !live.count(out)) unread_outputs.push_back(out);
    }
    for (const ir::Value* in : node.inputs) {
      if (in) live.insert(in);
    }
  }
  size_t nodes_before = graph.nodes().size();
  size_t values_before = graph.values().size();
  std::vector<ir::Value*> real_outputs = graph.outputs;
  graph.outputs.insert(graph.outputs.end(), unread_outputs.begin(), unread_outputs.end());
  graph.remove_dead();
  graph.outputs = std::move(real_outputs);
  return static_cast<int>(nodes_before - graph.nodes().size() + values_before -
                          graph.values().size());
}

}  // namespace aimc::passes::detail
