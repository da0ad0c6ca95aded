// Backward rules of the ops that only move elements (Reshape, Transpose, Gather, Slice,
// Split, Concat, ...). One rule serves them all: the forward kernel itself is run on a tensor
// of element numbers in place of the data, which tells for every output element the input
// element it came from; the output gradient is then added back into those elements. The
// rule thus follows every attribute and edge case of the kernel (negative axes, steps,
// broadcast Expand) without a second implementation of it.
#include <map>
#include <numeric>

#include "aimc/core/error.h"
#include "aimc/runtime/kernel.h"
#include "aimc/train/backward_rules.h"

namespace aimc::train {

namespace {

// Element numbers [offset, offset + numel) shaped like t, as i64.
Tensor element_numbers(const Tensor& t, int64_t offset) {
  Tensor out(DType::kI64, t.shape());
  int64_t* p = out.data<int64_t>();
  std::iota(p, p + out.numel(), offset);
  return out;
}

// `routed`: the inputs (by index) whose elements move into the outputs, empty for all of
// them; every other input (shapes, indices, axes) is passed to the kernel unchanged.
BackwardRule routing_rule(std::vector<size_t> only) {
  return {[only](const BackwardArgs& a) {
            std::vector<size_t> routed = only;
            if (routed.empty()) {
              routed.resize(a.inputs.size());
              std::iota(routed.begin(), routed.end(), 0);
            }
            std::vector<Tensor> numbered = a.inputs;
            std::vector<int64_t> offsets;
            int64_t total = 0;
            for (size_t input : routed) {
              if (input >= a.inputs.size() || !a.inputs[input].is_valid()) continue;
              offsets.push_back(total);
              numbered[input] = element_numbers(a.inputs[input], total);
              total += a.inputs[input].numel();
            }
            std::vector<Tensor> sources = runtime::evaluate_node(a.node, numbered);
            std::vector<double> flat(static_cast<size_t>(total), 0.0);
            for (size_t k = 0; k < sources.size() && k < a.grad_outputs.size(); ++k) {
              const int64_t* from = sources[k].data<int64_t>();
              const float* g = a.grad_outputs[k].data<float>();
              AIMC_ASSERT(sources[k].numel() == a.grad_outputs[k].numel(),
                          "{}: output {} has {} elements, its gradient {}", a.node.describe(), k,
                          sources[k].numel(), a.grad_outputs[k].numel());
              for (int64_t i = 0; i < sources[k].numel(); ++i)
                flat[static_cast<size_t>(from[i])] += g[i];
            }
            std::vector<Tensor> grads(a.inputs.size());
            size_t next = 0;
            for (size_t input : routed) {
              if (input >= a.inputs.size() || !a.inputs[input].is_valid()) continue;
              const int64_t offset = offsets[next++];
              if (!a.needs_grad[input]) continue;
              Tensor grad(DType::kF32, a.inputs[input].shape());
              float* p = grad.data<float>();
              for (int64_t i = 0; i < grad.numel(); ++i)
                p[i] = static_cast<float>(flat[static_cast<size_t>(offset + i)]);
              grads[input] = grad;
            }
            return grads;
          },
          only};
}

// Ops that keep the elements in order: the gradient is the output's, reshaped.
std::vector<Tensor> reshape_backward(const BackwardArgs& a) {
  std::vector<Tensor> grads(a.inputs.size());
  grads[0] = a.grad_outputs[0].reshaped(a.inputs[0].shape());
  return grads;
}

// The forward kernel of another op (same name, so errors name the node) on the gradients.
std::vector<Tensor> run_kernel(const ir::Node& like, const std::string& op,
                               std::map<std::string, ir::AttrValue> attrs,
                               const std::vector<Tensor>& inputs, size_t outputs) {
  ir::Node node;
  node.op = op;
  node.name = like.name;
  node.attrs = std::move(attrs);
  node.outputs.assign(outputs, nullptr);
  node.inputs.assign(inputs.size(), nullptr);
  return runtime::evaluate_node(node, inputs);
}

// Transpose: the gradient transposed by the inverse permutation.
std::vector<Tensor> transpose_backward(const BackwardArgs& a) {
  const int64_t rank = a.inputs[0].rank();
  std::vector<int64_t> perm = a.node.attr_ints("perm");
  if (perm.empty()) {
    for (int64_t i = rank - 1; i >= 0; --i) perm.push_back(i);
  }
  std::vector<int64_t> inverse(perm.size());
  for (size_t i = 0; i < perm.size(); ++i)
    inverse[static_cast<size_t>(perm[i])] = static_cast<int64_t>(i);
  std::vector<Tensor> grads(a.inputs.size());
  grads[0] = run_kernel(a.node, "Transpose", {{"perm", inverse}}, {a.grad_outputs[0]}, 1)[0];
  return grads;
}

// Split: the gradients of the parts, concatenated back along the axis.
std::vector<Tensor> split_backward(const BackwardArgs& a) {
  int64_t axis = a.node.attr_int("axis", 0);
  if (axis < 0) axis += a.inputs[0].rank();
  std::vector<Tensor> grads(a.inputs.size());
  grads[0] = run_kernel(a.node, "Concat", {{"axis", axis}}, a.grad_outputs, 1)[0];
  return grads;
}

}  // namespace

void register_shape_backward(BackwardRegistry& registry) {
  for (const char* op : {"Reshape", "Flatten", "Squeeze", "Unsqueeze"})
    registry.add(op, {reshape_backward, {0}});
  registry.add("Transpose", {transpose_backward, {0}});
  registry.add("Split", {split_backward, {0}});
  for (const char* op : {"Slice", "Gather", "GatherElements", "Expand", "Tile"})
    registry.add(op, routing_rule({0}));
  registry.add("Concat", routing_rule({}));
}

const BackwardRegistry& BackwardRegistry::instance() {
  static const BackwardRegistry registry = [] {
    BackwardRegistry r;
    register_elementwise_backward(r);
    register_nn_backward(r);
    register_shape_backward(r);
    return r;
  }();
  return registry;
}

const BackwardRule* BackwardRegistry::find(const std::string& op) const {
  auto it = rules_.find(op);
  return it == rules_.end() ? nullptr : &it->second;
}

std::vector<std::string> BackwardRegistry::names() const {
  std::vector<std::string> names;
  for (const auto& [name, rule] : rules_) names.push_back(name);
  return names;
}

void BackwardRegistry::add(const std::string& op, BackwardRule rule) {
  AIMC_ASSERT(rules_.emplace(op, std::move(rule)).second, "backward rule for '{}' added twice", op);
}

}  // namespace aimc::train
