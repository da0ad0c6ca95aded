// Matrix products -> linear (a constant weight: what the crossbars hold) or matmul (two
// activations: the data-dependent products of attention).
// - MatMul(x, W) with W a constant 2-D f32 matrix -> linear(x, W), taking the following
//   Add of a constant bias along the last axis ([N] or [1, ..., 1, N]) when the MatMul's
//   output is read by that Add only. linear(x, W) without bias takes a following bias Add
//   the same way.
// - Gemm(A, B, C) with constant B (and C constant or absent) and transA = 0 -> linear with
//   W = alpha * B (transposed first when transB = 1) and b = beta * C, when C broadcast to
//   [M, N] is constant down the columns (shape [N], [1, N] or a single number).
// - every other MatMul -> matmul. That includes a constant first operand (W * x) and a
//   constant weight of rank other than 2 (a batch of matrices): they are still products
//   the compiler maps as matmul, with the constant operand as it is.
// The replacing node keeps the MatMul's (Gemm's) name.
#include "aimc/passes/passes.h"
#include "aimc/passes/pattern.h"

namespace aimc::passes {

namespace {

bool is_f32_matrix(const ir::Value* v) {
  return v && v->is_constant() && v->constant.dtype() == DType::kF32 && v->constant.rank() == 2;
}

// The Add of a constant bias that can fold into the product `node` (linear or MatMul with a
// 2-D constant weight): its only reader.
ir::Node* bias_add(const ir::Graph& graph, const ir::Node& node, Tensor& bias) {
  ir::Value* product = node.output(0);
  ir::Node* add = detail::single_user(graph, product);
  if (!add || add->op != "Add") return nullptr;
  int64_t columns = node.input(1)->constant.shape()[1];
  std::optional<Tensor> vector = detail::last_axis_vector(
      detail::other_operand(*add, product), detail::known_rank(product), ir::Dim::of(columns));
  if (!vector) return nullptr;
  bias = *vector;
  return add;
}

// MatMul(x, W) [+ b], or linear(x, W) + b.
bool to_linear(ir::Graph& graph, ir::Node* node) {
  ir::Value* x = node->input(0);
  ir::Value* weight = node->input(1);
  if (!is_f32_matrix(weight) || !x || x->is_constant()) return false;
  if (node->op == "linear" && node->input(2)) return false;
  Tensor bias;
  ir::Node* add = bias_add(graph, *node, bias);
  if (node->op == "linear" && !add) return false;
  std::string name = node->name;
  std::vector<ir::Value*> inputs = {x, weight};
  if (add) {
    ir::Value* bias_value = graph.add_constant(graph.make_unique_name(name + "_bias"), bias);
    bias_value->origin =
        detail::derived_origin(detail::other_operand(*add, node->output(0)), bias.numel());
    inputs.push_back(bias_value);
  }
  std::vector<ir::Node*> matched = {node};
  if (add) matched.push_back(add);
  ir::Value* result = add ? add->output(0) : node->output(0);
  detail::replace_with_node(graph, matched, "linear", name, inputs, result);
  return true;
}

// alpha * op(B) as a [K, N] weight, op = transpose when transB.
Tensor gemm_weight(const Tensor& b, bool trans_b, float alpha) {
  int64_t rows = b.shape()[0], cols = b.shape()[1];
  Shape shape = trans_b ? Shape{cols, rows} : Shape{rows, cols};
  Tensor w(DType::kF32, shape);
  const float* in = b.data<float>();
  float* out = w.data<float>();
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < cols; ++c) {
      float value = alpha * in[r * cols + c];
      if (trans_b) {
        out[c * rows + r] = value;
      } else {
        out[r * cols + c] = value;
      }
    }
  }
  return w;
}

bool gemm_to_linear(ir::Graph& graph, ir::Node* node) {
  ir::Value* a = node->input(0);
  ir::Value* b = node->input(1);
  ir::Value* c = node->input(2);
  if (node->attr_int("transA", 0) != 0 || !is_f32_matrix(b) || !a || a->is_constant()) return false;
  bool trans_b = node->attr_int("transB", 0) != 0;
  auto alpha = static_cast<float>(node->attr_float("alpha", 1.0));
  auto beta = static_cast<float>(node->attr_float("beta", 1.0));
  int64_t columns = b->constant.shape()[trans_b ? 0 : 1];
  std::optional<Tensor> bias;
  if (c) {
    bias = detail::last_axis_vector(c, 2, ir::Dim::of(columns));
    if (!bias) return false;
    float* values = bias->data<float>();
    for (int64_t i = 0; i < bias->numel(); ++i) values[i] *= beta;
  }
  std::string name = node->name;
  ir::Value* weight = graph.add_constant(graph.make_unique_name(b->name + "_linear"),
                                         gemm_weight(b->constant, trans_b, alpha));
  weight->origin = detail::derived_origin(b, b->constant.numel(), trans_b, {alpha});
  std::vector<ir::Value*> inputs = {a, weight};
  if (bias) {
    ir::Value* bias_value = graph.add_constant(graph.make_unique_name(name + "_bias"), *bias);
    bias_value->origin = detail::derived_origin(c, bias->numel(), false, {beta});
    inputs.push_back(bias_value);
  }
  detail::replace_with_node(graph, {node}, "linear", name, inputs, node->output(0));
  return true;
}

}  // namespace

int canonicalize_matmul(ir::Graph& graph) {
  std::vector<ir::Node*> candidates;
  for (const auto& node : graph.nodes()) {
    if (node->op == "MatMul" || node->op == "matmul" || node->op == "Gemm" || node->op == "linear")
      candidates.push_back(node.get());
  }
  // A rewrite deletes its product node and at most one Add, never another candidate.
  int rewrites = 0;
  for (ir::Node* node : candidates) {
    if (node->op == "Gemm") {
      rewrites += gemm_to_linear(graph, node) ? 1 : 0;
      continue;
    }
    bool is_matmul = node->op == "MatMul" || node->op == "matmul";
    if (is_matmul || node->op == "linear") {
      if (to_linear(graph, node)) {
        ++rewrites;
      } else if (node->op == "MatMul") {
        node->op = "matmul";
        ++rewrites;
      }
    }
  }
  if (rewrites) graph.topo_sort();
  return rewrites;
}

}  // namespace aimc::passes
