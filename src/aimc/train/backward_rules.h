// The backward rules of autodiff.h: for each differentiable op, a function from the
// gradients of a node's outputs to the gradients of its inputs. One table keyed by the op
// names of ir::OpRegistry, filled by one registration function per family of ops.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "aimc/core/tensor.h"
#include "aimc/ir/graph.h"

namespace aimc::train {

struct BackwardArgs {
  const ir::Node& node;
  const std::vector<Tensor>& inputs;        // the forward operands (invalid where omitted)
  const std::vector<Tensor>& outputs;       // the forward results
  const std::vector<Tensor>& grad_outputs;  // dL/d(output i); zeros where nothing flows back
  const std::vector<bool>& needs_grad;      // per input: whether its gradient is wanted
};

// Returns one tensor per input: dL/d(input), or an invalid Tensor where it is not wanted.
using BackwardFn = std::function<std::vector<Tensor>(const BackwardArgs& args)>;

struct BackwardRule {
  BackwardFn fn;
  // The inputs a gradient can flow into (data operands; not shapes, indices or conditions);
  // empty: all of them.
  std::vector<size_t> differentiable;
};

class BackwardRegistry {
 public:
  static const BackwardRegistry& instance();
  const BackwardRule* find(const std::string& op) const;
  std::vector<std::string> names() const;  // sorted
  void add(const std::string& op, BackwardRule rule);

 private:
  std::map<std::string, BackwardRule> rules_;
};

void register_elementwise_backward(BackwardRegistry& registry);
void register_nn_backward(BackwardRegistry& registry);
void register_shape_backward(BackwardRegistry& registry);

// Shared by the rule families.
namespace detail {
// Sums `grad` (shaped like the broadcast output) down to `shape` (an operand's shape).
Tensor reduce_to_shape(const Tensor& grad, const Shape& shape);
// `t` broadcast to `shape` (a contiguous copy).
Tensor broadcast_to(const Tensor& t, const Shape& shape);
Tensor zeros_like(const Tensor& t);
}  // namespace detail

}  // namespace aimc::train
