#include "aimc/runtime/kernel.h"

namespace aimc::runtime {

const KernelRegistry& KernelRegistry::instance() {
  static const KernelRegistry registry = [] {
    KernelRegistry r;
    register_elementwise_kernels(r);
    register_shape_kernels(r);
    register_nn_kernels(r);
    register_indexing_kernels(r);
    return r;
  }();
  return registry;
}

const KernelFn* KernelRegistry::find(const std::string& op) const {
  auto it = kernels_.find(op);
  return it == kernels_.end() ? nullptr : &it->second;
}

std::vector<std::string> KernelRegistry::names() const {
  std::vector<std::string> out;
  for (const auto& [name, fn] : kernels_) out.push_back(name);
  return out;
}

void KernelRegistry::add(const std::string& op, KernelFn fn) {
  AIMC_ASSERT(!kernels_.count(op), "kernel '{}' registered twice", op);
  kernels_.emplace(op, std::move(fn));
}

std::vector<Tensor> evaluate_node(const ir::Node& node, const std::vector<Tensor>& inputs) {
  const KernelFn* kernel = KernelRegistry::instance().find(node.op);
  if (!kernel) throw_bad_input("{}: no kernel for op '{}'", node.describe(), node.op);
  std::vector<Tensor> outputs;
  try {
    outputs = (*kernel)(node, inputs);
  } catch (const Error& e) {
    std::string what = e.what();
    // Kernels usually name the node themselves; add it when they did not.
    if (what.find("'" + node.name + "'") != std::string::npos) throw;
    rethrow_with_context(e, node.describe());
  }
  AIMC_ASSERT(outputs.size() >= node.outputs.size() || outputs.size() == node.outputs.size(),
              "{}: kernel returned {} outputs for {}", node.describe(), outputs.size(),
              node.outputs.size());
  return outputs;
}

}  // namespace aimc::runtime
