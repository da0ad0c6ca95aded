// Reverse-mode automatic differentiation over the canonical IR.
//
// A forward pass (digital, or the analog executor of a chip instance) records the value of
// every tensor it computes; backward() then walks the nodes in reverse order and applies each
// op's backward rule (backward_rules.h) to turn the gradients of a node's outputs into the
// gradients of its inputs, summing where a value has several readers. Only the nodes between
// the requested values (the trainable constants) and the graph outputs are visited.
//
// The backward rules are those of the digital op. Run after an analog forward pass this is the
// straight-through estimator of hardware-aware training: the forward values carry the chip's
// noise and quantisation, the backward pass treats each analog op as the ideal op it
// approximates (docs/finetune.md).
#pragma once

#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "aimc/core/tensor.h"
#include "aimc/ir/graph.h"

namespace aimc::train {

// The tensors of one forward pass, by IR value (graph inputs, constants and node outputs).
class ForwardRecord {
 public:
  void set(const ir::Value* value, Tensor tensor) { values_[value] = std::move(tensor); }
  // The recorded tensor, or the value's constant; Error when neither exists.
  const Tensor& get(const ir::Value* value) const;
  bool has(const ir::Value* value) const;
  void clear() { values_.clear(); }

 private:
  std::unordered_map<const ir::Value*, Tensor> values_;
};

// Runs the graph digitally on `inputs` (by graph input name), recording every value.
// Returns the graph outputs by name.
std::map<std::string, Tensor> forward_recorded(const ir::Graph& graph,
                                               const std::map<std::string, Tensor>& inputs,
                                               ForwardRecord& record);

// The nodes whose backward rule a gradient of `wanted` needs, in graph order: those on a path
// from a wanted value to a graph output.
std::vector<const ir::Node*> nodes_to_differentiate(const ir::Graph& graph,
                                                    const std::set<const ir::Value*>& wanted);

// Throws Error(kBadInput) naming the first node on a path from `wanted` to an output whose op
// has no backward rule (or whose rule cannot differentiate the input on that path).
void check_differentiable(const ir::Graph& graph, const std::set<const ir::Value*>& wanted);

// Gradients of a scalar loss with respect to `wanted`, given the gradients of the loss with
// respect to (some of) the graph outputs. A wanted value the outputs do not depend on gets a
// zero gradient. f32 values only.
std::map<const ir::Value*, Tensor> backward(const ir::Graph& graph, const ForwardRecord& record,
                                            const std::map<const ir::Value*, Tensor>& output_grads,
                                            const std::set<const ir::Value*>& wanted);

}  // namespace aimc::train
