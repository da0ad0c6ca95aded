// The trainable weights of a canonical graph and the way back to the imported model: every
// float32 constant the outputs depend on through differentiable ops, that has more than one
// element and that can be written back into an initializer of the ONNX file (directly, or
// through the ir::ConstantOrigin a pass recorded when it derived the constant).
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "aimc/core/tensor.h"
#include "aimc/ir/graph.h"

namespace aimc::train {

struct Parameter {
  ir::Value* value = nullptr;  // the constant trained (its Tensor is replaced on update)
  ir::ConstantOrigin origin;   // how it derives from its initializer (identity: imported as is)
  // Weight decay applies: weight matrices and kernels (rank >= 2 with more than one row), not
  // biases, normalisation scales, position embeddings or class tokens (as the bundled models'
  // recipe, tools/train_reference_models.py make_optimizer).
  bool decay = false;
};

struct ParameterSet {
  std::vector<Parameter> trained;
  std::vector<std::string> frozen;  // "name: why" for constants left as they are
};

// `writable`: the initializer names of the ONNX file (frontend::onnx_weight_names).
ParameterSet find_parameters(const ir::Graph& graph, const std::set<std::string>& writable);

// The trained values in their initializers' layout (origin inverted), by initializer name.
std::map<std::string, Tensor> initializer_values(const std::vector<Parameter>& parameters);

// d/d(initializer) from d/d(value): the chain rule through the origin (for tests that
// compare with gradients recorded by PyTorch for the initializers).
Tensor initializer_gradient(const Parameter& parameter, const Tensor& value_gradient);

}  // namespace aimc::train
