#include "aimc/train/autodiff.h"

#include <algorithm>

#include <fmt/ranges.h>

#include "aimc/core/error.h"
#include "aimc/runtime/executor.h"
#include "aimc/train/backward_rules.h"

namespace aimc::train {

const Tensor& ForwardRecord::get(const ir::Value* value) const {
  auto it = values_.find(value);
  if (it != values_.end()) return it->second;
  AIMC_ASSERT(value->is_constant(), "autodiff: value '{}' was not recorded", value->name);
  return value->constant;
}

bool ForwardRecord::has(const ir::Value* value) const {
  return values_.count(value) != 0 || value->is_constant();
}

std::map<std::string, Tensor> forward_recorded(const ir::Graph& graph,
                                               const std::map<std::string, Tensor>& inputs,
                                               ForwardRecord& record) {
  for (const ir::Value* in : graph.inputs) {
    auto it = inputs.find(in->name);
    if (it != inputs.end()) record.set(in, it->second);
  }
  runtime::Executor executor(graph);
  return executor.run(inputs, [&](const ir::Node& node, const std::vector<Tensor>& outputs) {
    for (size_t i = 0; i < node.outputs.size() && i < outputs.size(); ++i) {
      if (node.outputs[i]) record.set(node.outputs[i], outputs[i]);
    }
  });
}

namespace {

// Values that depend differentiably on a wanted value (forward reachability), wanted ones
// included. Integer and boolean results (Shape, Size, comparisons) carry no gradient, so
// the path stops there.
std::set<const ir::Value*> dependents(const ir::Graph& graph,
                                      const std::set<const ir::Value*>& wanted) {
  std::set<const ir::Value*> reached = wanted;
  for (const auto& node : graph.nodes()) {
    bool any = std::any_of(node->inputs.begin(), node->inputs.end(),
                           [&](const ir::Value* v) { return v && reached.count(v); });
    if (!any) continue;
    for (const ir::Value* out : node->outputs) {
      if (out && (!out->dtype_known || dtype_is_floating(out->dtype))) reached.insert(out);
    }
  }
  return reached;
}

// Values a graph output depends on (backward reachability).
std::set<const ir::Value*> ancestors_of_outputs(const ir::Graph& graph) {
  std::set<const ir::Value*> needed(graph.outputs.begin(), graph.outputs.end());
  const auto& nodes = graph.nodes();
  for (auto it = nodes.rbegin(); it != nodes.rend(); ++it) {
    const ir::Node& node = **it;
    bool feeds = std::any_of(node.outputs.begin(), node.outputs.end(),
                             [&](const ir::Value* v) { return v && needed.count(v); });
    if (!feeds) continue;
    for (const ir::Value* in : node.inputs) {
      if (in) needed.insert(in);
    }
  }
  return needed;
}

bool is_differentiable_input(const BackwardRule& rule, size_t index) {
  return rule.differentiable.empty() ||
         std::find(rule.differentiable.begin(), rule.differentiable.end(), index) !=
             rule.differentiable.end();
}

}  // namespace

std::vector<const ir::Node*> nodes_to_differentiate(const ir::Graph& graph,
                                                    const std::set<const ir::Value*>& wanted) {
  std::set<const ir::Value*> reached = dependents(graph, wanted);
  std::set<const ir::Value*> needed = ancestors_of_outputs(graph);
  std::vector<const ir::Node*> nodes;
  for (const auto& node : graph.nodes()) {
    bool on_path = false;
    for (const ir::Value* in : node->inputs) on_path |= in && reached.count(in) != 0;
    bool feeds = false;  // a result that carries gradient and that an output depends on
    for (const ir::Value* out : node->outputs)
      feeds |= out && needed.count(out) != 0 && reached.count(out) != 0;
    if (on_path && feeds) nodes.push_back(node.get());
  }
  return nodes;
}

void check_differentiable(const ir::Graph& graph, const std::set<const ir::Value*>& wanted) {
  std::set<const ir::Value*> reached = dependents(graph, wanted);
  for (const ir::Node* node : nodes_to_differentiate(graph, wanted)) {
    const BackwardRule* rule = BackwardRegistry::instance().find(node->op);
    if (!rule)
      throw_bad_input(
          "{}: op '{}' has no backward rule, so the weights before it cannot be "
          "trained (differentiable ops: {})",
          node->describe(), node->op, fmt::join(BackwardRegistry::instance().names(), ", "));
    for (size_t i = 0; i < node->inputs.size(); ++i) {
      const ir::Value* in = node->inputs[i];
      if (in && reached.count(in) && !is_differentiable_input(*rule, i))
        throw_bad_input(
            "{}: input {} ('{}') depends on a trained weight but op '{}' is not "
            "differentiable in it",
            node->describe(), i, in->name, node->op);
    }
  }
}

namespace {

void accumulate(std::unordered_map<const ir::Value*, Tensor>& grads, const ir::Value* value,
                Tensor grad) {
  auto it = grads.find(value);
  if (it == grads.end()) {
    grads.emplace(value, std::move(grad));
    return;
  }
  AIMC_ASSERT(it->second.shape() == grad.shape(), "autodiff: gradient of '{}' is {} and {}",
              value->name, shape_str(it->second.shape()), shape_str(grad.shape()));
  // The first gradient may share storage with a forward tensor or another gradient: add
  // into a copy of it the first time.
  Tensor sum = it->second.clone();
  float* out = sum.data<float>();
  const float* add = grad.data<float>();
  for (int64_t i = 0; i < sum.numel(); ++i) out[i] += add[i];
  it->second = std::move(sum);
}

}  // namespace

std::map<const ir::Value*, Tensor> backward(const ir::Graph& graph, const ForwardRecord& record,
                                            const std::map<const ir::Value*, Tensor>& output_grads,
                                            const std::set<const ir::Value*>& wanted) {
  check_differentiable(graph, wanted);
  std::set<const ir::Value*> reached = dependents(graph, wanted);
  std::unordered_map<const ir::Value*, Tensor> grads;
  for (const auto& [value, grad] : output_grads) grads[value] = grad;
  std::vector<const ir::Node*> nodes = nodes_to_differentiate(graph, wanted);
  for (auto it = nodes.rbegin(); it != nodes.rend(); ++it) {
    const ir::Node& node = **it;
    std::vector<Tensor> inputs, outputs, grad_outputs;
    bool any_grad = false;
    for (const ir::Value* out : node.outputs) {
      outputs.push_back(out && record.has(out) ? record.get(out) : Tensor());
      auto g = out ? grads.find(out) : grads.end();
      if (g != grads.end()) {
        grad_outputs.push_back(g->second);
        any_grad = true;
      } else {
        grad_outputs.push_back(outputs.back().is_valid() ? detail::zeros_like(outputs.back())
                                                         : Tensor());
      }
    }
    if (!any_grad) continue;
    std::vector<bool> needs_grad;
    for (const ir::Value* in : node.inputs) {
      inputs.push_back(in ? record.get(in) : Tensor());
      needs_grad.push_back(in && reached.count(in) != 0);
    }
    const BackwardRule* rule = BackwardRegistry::instance().find(node.op);
    std::vector<Tensor> input_grads;
    try {
      input_grads = rule->fn(BackwardArgs{node, inputs, outputs, grad_outputs, needs_grad});
    } catch (const Error& e) {
      if (e.kind() != ErrorKind::kBadInput) throw;
      throw_bad_input("{}: backward: {}", node.describe(), e.what());
    }
    for (size_t i = 0; i < node.inputs.size() && i < input_grads.size(); ++i) {
      if (needs_grad[i] && input_grads[i].is_valid())
        accumulate(grads, node.inputs[i], std::move(input_grads[i]));
    }
    // Gradients of this node's outputs are no longer needed.
    for (const ir::Value* out : node.outputs) {
      if (out && !wanted.count(out)) grads.erase(out);
    }
  }
  std::map<const ir::Value*, Tensor> result;
  for (const ir::Value* value : wanted) {
    auto it = grads.find(value);
    if (it != grads.end()) {
      result[value] = it->second;
    } else {
      result[value] = Tensor(DType::kF32, record.get(value).shape());
    }
  }
  return result;
}

}  // namespace aimc::train
