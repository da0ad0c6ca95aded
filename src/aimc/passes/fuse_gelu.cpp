// GELU patterns -> gelu. PyTorch exports GELU (below opset 20) as elementary ops:
//   erf form : c = Add(Erf(Div(x, sqrt 2)), 1)            (or Mul(x, 1/sqrt 2) inside Erf)
//   tanh form: c = Add(Tanh(Mul(sqrt(2/pi), Add(x, Mul(0.044715, x^3)))), 1)
//              with x^3 = Pow(x, 3), Mul(Mul(x, x), x) or Mul(x, Mul(x, x))
// followed by the product 0.5 * x * c in any association: Mul(Mul(x, c), 0.5),
// Mul(Mul(x, 0.5), c) or Mul(x, Mul(c, 0.5)), each Mul with its operands in either order.
// Constants are recognised by value (relative tolerance 1e-4) and must be single numbers.
#include <cmath>
#include <numbers>

#include "aimc/passes/passes.h"
#include "aimc/passes/pattern.h"

namespace aimc::passes {

namespace {

using detail::other_operand;
using detail::single_user;

struct GeluMatch {
  std::vector<ir::Node*> nodes;
  ir::Value* x = nullptr;
  ir::Value* result = nullptr;
};

bool is_op(const ir::Node* node, const char* op) {
  return node && node->op == op;
}

// `v` is produced by a binary `op` whose operands are `a` and a constant ~`constant` (either
// order), and is read only by `reader`. Returns the producer.
ir::Node* binary_with_constant(const ir::Graph& graph, const ir::Value* v, const char* op,
                               const ir::Value* a, double constant, const ir::Node* reader) {
  if (!v || !is_op(v->producer, op) || single_user(graph, v) != reader) return nullptr;
  ir::Node* node = v->producer;
  const ir::Value* other = other_operand(*node, a);
  if (!other || !detail::is_scalar_near(other, constant, detail::scalar_rank_limit(a)))
    return nullptr;
  return node;
}

// The 0.5 * x * c product, starting from c (read by the first Mul). Appends its nodes and
// sets the result.
bool match_half_x_product(const ir::Graph& graph, ir::Value* c, GeluMatch& match) {
  ir::Value* x = match.x;
  int64_t limit = detail::scalar_rank_limit(x);
  ir::Node* first = single_user(graph, c);
  if (!is_op(first, "Mul")) return false;
  ir::Value* other = other_operand(*first, c);
  if (!other) return false;
  if (other == x || detail::is_scalar_near(other, 0.5, limit)) {
    // Mul(Mul(x, c), 0.5) or Mul(Mul(c, 0.5), x).
    ir::Node* second = single_user(graph, first->output(0));
    if (!is_op(second, "Mul")) return false;
    ir::Value* last = other_operand(*second, first->output(0));
    bool ok = other == x ? detail::is_scalar_near(last, 0.5, limit) : last == x;
    if (!ok) return false;
    match.nodes.push_back(first);
    match.nodes.push_back(second);
    match.result = second->output(0);
    return true;
  }
  // Mul(Mul(x, 0.5), c).
  ir::Node* half_x = binary_with_constant(graph, other, "Mul", x, 0.5, first);
  if (!half_x) return false;
  match.nodes.push_back(half_x);
  match.nodes.push_back(first);
  match.result = first->output(0);
  return true;
}

// The `Add(t, 1)` after Erf or Tanh output `t`; returns its output c.
ir::Value* plus_one(const ir::Graph& graph, const ir::Node& activation, GeluMatch& match) {
  ir::Node* add = single_user(graph, activation.output(0));
  if (!is_op(add, "Add")) return nullptr;
  const ir::Value* one = other_operand(*add, activation.output(0));
  if (!detail::is_scalar_near(one, 1.0, detail::scalar_rank_limit(match.x))) return nullptr;
  match.nodes.push_back(add);
  return add->output(0);
}

std::optional<GeluMatch> match_erf(const ir::Graph& graph, ir::Node* erf) {
  GeluMatch match;
  ir::Value* scaled = erf->input(0);
  if (!scaled || !scaled->producer || single_user(graph, scaled) != erf) return std::nullopt;
  ir::Node* scale = scaled->producer;
  if (scale->op == "Div") {
    match.x = scale->input(0);
    if (!match.x || !detail::is_scalar_near(scale->input(1), std::numbers::sqrt2,
                                            detail::scalar_rank_limit(match.x)))
      return std::nullopt;
  } else if (scale->op == "Mul" && scale->inputs.size() == 2) {
    for (ir::Value* candidate : scale->inputs) {
      ir::Value* other = other_operand(*scale, candidate);
      if (other && !candidate->is_constant() &&
          detail::is_scalar_near(other, 1.0 / std::numbers::sqrt2,
                                 detail::scalar_rank_limit(candidate)))
        match.x = candidate;
    }
    if (!match.x) return std::nullopt;
  } else {
    return std::nullopt;
  }
  match.nodes = {scale, erf};
  ir::Value* c = plus_one(graph, *erf, match);
  if (!c || !match_half_x_product(graph, c, match)) return std::nullopt;
  return match;
}

// `cube` is x^3 read only by `reader`; appends its nodes.
bool match_cube(const ir::Graph& graph, const ir::Value* cube, const ir::Value* x,
                const ir::Node* reader, std::vector<ir::Node*>& nodes) {
  if (!cube || !cube->producer || single_user(graph, cube) != reader) return false;
  ir::Node* node = cube->producer;
  if (node->op == "Pow") {
    if (node->input(0) != x ||
        !detail::is_scalar_near(node->input(1), 3.0, detail::scalar_rank_limit(x), 1e-6))
      return false;
    nodes.push_back(node);
    return true;
  }
  if (node->op != "Mul" || node->inputs.size() != 2) return false;
  // Mul(Mul(x, x), x) or Mul(x, Mul(x, x)).
  const ir::Value* square = other_operand(*node, x);
  if (!square || !square->producer || single_user(graph, square) != node) return false;
  const ir::Node* square_node = square->producer;
  if (!is_op(square_node, "Mul") || square_node->inputs.size() != 2 ||
      square_node->inputs[0] != x || square_node->inputs[1] != x)
    return false;
  nodes.push_back(square->producer);
  nodes.push_back(node);
  return true;
}

std::optional<GeluMatch> match_tanh(const ir::Graph& graph, ir::Node* tanh) {
  constexpr double kSqrt2OverPi = 0.7978845608028654;  // sqrt(2 / pi)
  constexpr double kCubicCoefficient = 0.044715;
  ir::Value* scaled = tanh->input(0);
  if (!scaled || !is_op(scaled->producer, "Mul") || single_user(graph, scaled) != tanh)
    return std::nullopt;
  ir::Node* scale = scaled->producer;
  if (scale->inputs.size() != 2) return std::nullopt;
  ir::Value* inner = nullptr;  // x + 0.044715 x^3
  for (ir::Value* candidate : scale->inputs) {
    ir::Value* other = other_operand(*scale, candidate);
    if (other && !candidate->is_constant() &&
        detail::is_scalar_near(other, kSqrt2OverPi, detail::scalar_rank_limit(candidate)))
      inner = candidate;
  }
  if (!inner || !is_op(inner->producer, "Add") || single_user(graph, inner) != scale ||
      inner->producer->inputs.size() != 2)
    return std::nullopt;
  ir::Node* add = inner->producer;
  for (ir::Value* x : add->inputs) {
    ir::Value* cubic = other_operand(*add, x);  // 0.044715 x^3
    if (!cubic || !is_op(cubic->producer, "Mul") || single_user(graph, cubic) != add) continue;
    ir::Node* cubic_node = cubic->producer;
    if (cubic_node->inputs.size() != 2) continue;
    for (ir::Value* cube : cubic_node->inputs) {
      const ir::Value* coefficient = other_operand(*cubic_node, cube);
      if (!coefficient ||
          !detail::is_scalar_near(coefficient, kCubicCoefficient, detail::scalar_rank_limit(x)))
        continue;
      GeluMatch match;
      match.x = x;
      if (!match_cube(graph, cube, x, cubic_node, match.nodes)) continue;
      match.nodes.insert(match.nodes.end(), {cubic_node, add, scale, tanh});
      ir::Value* c = plus_one(graph, *tanh, match);
      if (c && match_half_x_product(graph, c, match)) return match;
    }
  }
  return std::nullopt;
}

}  // namespace

int fuse_gelu(ir::Graph& graph) {
  std::vector<ir::Node*> candidates;
  for (const auto& node : graph.nodes()) {
    if (node->op == "Erf" || node->op == "Tanh") candidates.push_back(node.get());
  }
  // Each pattern holds one Erf or Tanh, and a fusion deletes only its own nodes, so the other
  // candidates stay valid.
  int rewrites = 0;
  for (ir::Node* node : candidates) {
    bool is_erf = node->op == "Erf";
    std::optional<GeluMatch> match = is_erf ? match_erf(graph, node) : match_tanh(graph, node);
    if (!match) continue;
    if (match->x->dtype_known && match->x->dtype != DType::kF32) continue;
    std::string name = detail::fused_name(match->nodes, "gelu");
    ir::Node* gelu =
        detail::replace_with_node(graph, match->nodes, "gelu", name, {match->x}, match->result);
    gelu->attrs["approximate"] = std::string(is_erf ? "none" : "tanh");
    ++rewrites;
  }
  if (rewrites) graph.topo_sort();
  return rewrites;
}

}  // namespace aimc::passes
