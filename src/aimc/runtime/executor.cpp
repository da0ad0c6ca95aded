#include "aimc/runtime/executor.h"

#include <unordered_map>

#include "aimc/runtime/kernel.h"

namespace aimc::runtime {

Executor::Executor(const ir::Graph& graph) : graph_(graph) {
  const KernelRegistry& kernels = KernelRegistry::instance();
  std::unordered_map<const ir::Value*, size_t> last_reader;
  const auto& nodes = graph.nodes();
  for (size_t i = 0; i < nodes.size(); ++i) {
    if (!kernels.find(nodes[i]->op))
      throw_bad_input("{}: op '{}' has no kernel", nodes[i]->describe(), nodes[i]->op);
    for (const ir::Value* in : nodes[i]->inputs) {
      if (in && !in->is_constant()) last_reader[in] = i;
    }
  }
  last_use_.resize(nodes.size());
  for (const auto& [value, index] : last_reader) {
    if (!graph.is_graph_output(value)) last_use_[index].push_back(value);
  }
}

void check_input(const ir::Value& declared, const Tensor& given) {
  if (declared.dtype_known && given.dtype() != declared.dtype)
    throw_bad_input("input '{}': expected dtype {}, got {}", declared.name,
                    dtype_name(declared.dtype), dtype_name(given.dtype()));
  if (!declared.shape) return;
  const ir::SymShape& want = *declared.shape;
  bool ok = static_cast<int64_t>(want.size()) == given.rank();
  for (size_t i = 0; ok && i < want.size(); ++i) {
    if (want[i].known() && want[i].value != given.shape()[i]) ok = false;
  }
  // Equal symbols must bind to equal sizes.
  for (size_t i = 0; ok && i < want.size(); ++i) {
    for (size_t j = i + 1; ok && j < want.size(); ++j) {
      if (!want[i].known() && !want[i].symbol.empty() && want[i].symbol == want[j].symbol &&
          given.shape()[i] != given.shape()[j])
        ok = false;
    }
  }
  if (!ok)
    throw_bad_input("input '{}': expected shape {}, got {}", declared.name, ir::sym_shape_str(want),
                    shape_str(given.shape()));
}

std::map<std::string, Tensor> Executor::run(const std::map<std::string, Tensor>& inputs) const {
  return run(inputs, nullptr);
}

std::map<std::string, Tensor> Executor::run(const std::map<std::string, Tensor>& inputs,
                                            const NodeObserver& observer) const {
  return run(inputs, observer, nullptr);
}

std::map<std::string, Tensor> Executor::run(const std::map<std::string, Tensor>& inputs,
                                            const NodeObserver& observer,
                                            const NodeRunner& runner) const {
  std::unordered_map<const ir::Value*, Tensor> env;
  for (const ir::Value* in : graph_.inputs) {
    auto it = inputs.find(in->name);
    if (it == inputs.end()) throw_bad_input("missing graph input '{}'", in->name);
    check_input(*in, it->second);
    env[in] = it->second;
  }
  for (const auto& [name, tensor] : inputs) {
    const ir::Value* v = graph_.find_value(name);
    bool is_input = false;
    for (const ir::Value* in : graph_.inputs) is_input |= in == v;
    if (!is_input) throw_bad_input("'{}' is not an input of the model", name);
  }
  const auto& nodes = graph_.nodes();
  std::vector<Tensor> args;
  for (size_t i = 0; i < nodes.size(); ++i) {
    const ir::Node& node = *nodes[i];
    args.clear();
    for (const ir::Value* in : node.inputs) {
      if (!in) {
        args.emplace_back();
      } else if (in->is_constant()) {
        args.push_back(in->constant);
      } else {
        auto it = env.find(in);
        AIMC_ASSERT(it != env.end(), "{}: input '{}' not computed", node.describe(), in->name);
        args.push_back(it->second);
      }
    }
    std::vector<Tensor> results;
    if (!runner || !runner(node, args, results)) results = evaluate_node(node, args);
    for (size_t k = 0; k < node.outputs.size() && k < results.size(); ++k) {
      if (node.outputs[k]) env[node.outputs[k]] = results[k];
    }
    if (observer) observer(node, results);
    for (const ir::Value* dead : last_use_[i]) env.erase(dead);
  }
  std::map<std::string, Tensor> outputs;
  for (const ir::Value* out : graph_.outputs) {
    if (out->is_constant()) {
      outputs[out->name] = out->constant;
      continue;
    }
    auto it = env.find(out);
    AIMC_ASSERT(it != env.end(), "graph output '{}' not computed", out->name);
    outputs[out->name] = it->second;
  }
  return outputs;
}

}  // namespace aimc::runtime
