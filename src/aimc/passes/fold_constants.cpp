// Constant folding: a node whose inputs are all constants is evaluated once, here, and its
// outputs become constants. Shape and Size fold as soon as the dimensions they return are
// static, which lets the Shape -> Gather -> Concat -> Reshape chains of PyTorch exports
// collapse.
//
// A folded output keeps its Value (name included), so graph outputs that become constant
// keep their names and the executor returns them as they are.
//
// Not folded:
// - random ops (their value must change from run to run) and Dropout in training mode;
// - nodes whose outputs would be much larger than their inputs (ConstantOfShape, Expand,
//   Tile, Range...): more than kMaxGrownElements elements and more than kMaxGrowth times the
//   elements of their constant inputs. Folding those would bloat the model for no gain;
//   they are computed at run time instead;
// - nodes whose evaluation fails on bad input: the error is then reported when the model
//   runs, as it would be without this pass.
#include <algorithm>
#include <set>

#include "aimc/ir/op_registry.h"
#include "aimc/passes/passes.h"
#include "aimc/passes/pattern.h"

namespace aimc::passes {

namespace {

constexpr int64_t kMaxGrownElements = int64_t{1} << 20;
constexpr int64_t kMaxGrowth = 4;

bool is_random(const std::string& op) {
  static const std::set<std::string> kRandomOps = {"RandomNormal",     "RandomUniform",
                                                   "RandomNormalLike", "RandomUniformLike",
                                                   "Multinomial",      "Bernoulli"};
  return kRandomOps.count(op) != 0;
}

bool inputs_constant(const ir::Node& node) {
  for (const ir::Value* in : node.inputs) {
    if (in && !in->is_constant()) return false;
  }
  return true;
}

bool dropout_in_training(const ir::Node& node) {
  const ir::Value* training_mode = node.input(2);
  return node.op == "Dropout" && training_mode && training_mode->constant.numel() > 0 &&
         training_mode->constant.item_as_int(0) != 0;
}

// Elements the node's outputs will hold when shape inference knows them all, else -1.
int64_t predicted_output_elements(const ir::Node& node) {
  int64_t total = 0;
  for (const ir::Value* out : node.outputs) {
    if (!out) continue;
    if (!out->shape || !ir::sym_shape_known(*out->shape)) return -1;
    total += shape_numel(ir::to_shape(*out->shape));
  }
  return total;
}

bool grows_too_much(const ir::Node& node, int64_t output_elements) {
  if (node.op == "Constant") return false;  // its value is already stored in the model
  int64_t input_elements = 0;
  for (const ir::Value* in : node.inputs) {
    if (in) input_elements += in->constant.numel();
  }
  return output_elements > kMaxGrownElements &&
         output_elements > kMaxGrowth * std::max<int64_t>(1, input_elements);
}

// Shape / Size of a value whose shape is static (for Shape, the dimensions it returns);
// invalid Tensor when not foldable.
Tensor fold_shape_query(const ir::Node& node) {
  const ir::Value* in = node.input(0);
  if (!in || !in->shape) return {};
  const ir::SymShape& shape = *in->shape;
  if (node.op == "Size") {
    if (!ir::sym_shape_known(shape)) return {};
    return Tensor::scalar<int64_t>(shape_numel(ir::to_shape(shape)));
  }
  auto rank = static_cast<int64_t>(shape.size());
  auto clamp_index = [rank](int64_t i) {
    return std::clamp<int64_t>(i < 0 ? i + rank : i, 0, rank);
  };
  int64_t start = clamp_index(node.attr_int("start", 0));
  int64_t end = std::max(start, clamp_index(node.attr_int("end", rank)));
  std::vector<int64_t> dims;
  for (int64_t axis = start; axis < end; ++axis) {
    const ir::Dim& dim = shape[static_cast<size_t>(axis)];
    if (!dim.known()) return {};
    dims.push_back(dim.value);
  }
  return Tensor::from_vector<int64_t>({end - start}, dims);
}

// Evaluates the node; empty when it must not be folded (may refresh its output shapes).
std::vector<Tensor> try_evaluate(ir::Node& node, const NodeEvaluator& evaluate) {
  if ((node.op == "Shape" || node.op == "Size") && node.inputs.size() == 1) {
    Tensor folded = fold_shape_query(node);
    if (folded.is_valid()) return {folded};
  }
  if (!inputs_constant(node) || is_random(node.op) || dropout_in_training(node)) return {};
  int64_t predicted = predicted_output_elements(node);
  if (predicted < 0) {
    // Its inputs became constants in this pass (a shape computed just before): run its
    // shape function again, so that a huge Expand or ConstantOfShape (a bound batch of
    // millions) is refused before it is evaluated, not after.
    if (const ir::OpSchema* schema = ir::OpRegistry::instance().find(node.op);
        schema && schema->infer) {
      try {
        schema->infer(node);
      } catch (const Error& e) {
        if (e.kind() == ErrorKind::kBadInput) return {};
        throw;
      }
      predicted = predicted_output_elements(node);
    }
  }
  if (predicted >= 0 && grows_too_much(node, predicted)) return {};
  std::vector<Tensor> args;
  for (const ir::Value* in : node.inputs) args.push_back(in ? in->constant : Tensor());
  std::vector<Tensor> results;
  try {
    results = evaluate(node, args);
  } catch (const Error& e) {
    if (e.kind() == ErrorKind::kBadInput) return {};
    throw;
  }
  int64_t produced = 0;
  for (size_t i = 0; i < node.outputs.size(); ++i) {
    if (!node.outputs[i]) continue;
    if (i >= results.size() || !results[i].is_valid()) return {};
    produced += results[i].numel();
  }
  if (grows_too_much(node, produced)) return {};
  return results;
}

}  // namespace

int fold_constants(ir::Graph& graph, const NodeEvaluator& evaluate) {
  std::vector<ir::Node*> folded;
  for (const auto& node_ptr : graph.nodes()) {
    ir::Node& node = *node_ptr;
    std::vector<Tensor> results = try_evaluate(node, evaluate);
    if (results.empty()) continue;
    // The outputs become constants now so that the nodes after this one see them.
    for (size_t i = 0; i < node.outputs.size(); ++i) {
      ir::Value* out = node.outputs[i];
      if (!out) continue;
      out->constant = results[i];
      out->dtype = results[i].dtype();
      out->dtype_known = true;
      out->shape = ir::to_sym_shape(results[i].shape());
    }
    folded.push_back(&node);
  }
  graph.remove_nodes(folded);
  return static_cast<int>(folded.size());
}

}  // namespace aimc::passes
