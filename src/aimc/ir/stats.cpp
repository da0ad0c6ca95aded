#include "aimc/ir/stats.h"

#include <set>

namespace aimc::ir {

namespace {

bool known_shape(const Value* v) {
  return v && v->shape && sym_shape_known(*v->shape);
}

int64_t numel_of(const Value* v) {
  return shape_numel(to_shape(*v->shape));
}

}  // namespace

int64_t node_macs(const Node& node) {
  const std::string& op = node.op;
  if (op == "linear" || op == "Gemm") {
    // y[..., N] = x[..., K]·W: one MAC per output element per K.
    const Value* x = node.input(0);
    const Value* y = node.output(0);
    if (!known_shape(x) || !known_shape(y) || x->shape->empty()) return -1;
    int64_t k = x->shape->back().value;
    if (op == "Gemm" && node.attr_int("transA", 0) != 0) k = x->shape->front().value;
    return numel_of(y) * k;
  }
  if (op == "matmul" || op == "MatMul") {
    const Value* a = node.input(0);
    const Value* y = node.output(0);
    if (!known_shape(a) || !known_shape(y) || a->shape->empty()) return -1;
    return numel_of(y) * a->shape->back().value;
  }
  if (op == "conv" || op == "Conv") {
    // Each output element sums over C/group input channels times the kernel window.
    const Value* w = node.input(1);
    const Value* y = node.output(0);
    if (!known_shape(w) || !known_shape(y)) return -1;
    Shape ws = to_shape(*w->shape);
    int64_t per_output = 1;
    for (size_t i = 1; i < ws.size(); ++i) per_output *= ws[i];
    return numel_of(y) * per_output;
  }
  return 0;
}

GraphStats compute_stats(const Graph& graph) {
  GraphStats stats;
  std::set<const Value*> weights;
  for (const auto& node : graph.nodes()) {
    ++stats.op_histogram[node->op];
    for (const Value* in : node->inputs) {
      if (in && in->is_constant() && in->constant.dtype() == DType::kF32) weights.insert(in);
    }
    int64_t macs = node_macs(*node);
    if (macs == 0) continue;
    LayerMacs layer{
        node->name, node->op, macs,
        node->output(0) && node->output(0)->shape ? sym_shape_str(*node->output(0)->shape) : "[*]"};
    if (macs < 0) {
      stats.macs_complete = false;
    } else {
      stats.total_macs += macs;
    }
    stats.layers.push_back(std::move(layer));
  }
  for (const Value* w : weights) stats.parameters += w->constant.numel();
  return stats;
}

}  // namespace aimc::ir
