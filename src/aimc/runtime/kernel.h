// Kernels: one function per op that computes a node's outputs from its input tensors.
// The table is keyed by the op names of ir::OpRegistry. A kernel reads its attributes from
// the node, may assume the node passed ir::verify(), and must check what depends on data
// (shapes, index ranges) and throw Error(kBadInput) naming the node when it is wrong.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "aimc/core/tensor.h"
#include "aimc/ir/graph.h"

namespace aimc::runtime {

// inputs[i] is an invalid Tensor() for an omitted optional input. Returns one tensor per
// node output.
using KernelFn =
    std::function<std::vector<Tensor>(const ir::Node& node, const std::vector<Tensor>& inputs)>;

class KernelRegistry {
 public:
  static const KernelRegistry& instance();
  const KernelFn* find(const std::string& op) const;
  std::vector<std::string> names() const;
  void add(const std::string& op, KernelFn fn);

 private:
  std::map<std::string, KernelFn> kernels_;
};

// One function per family; KernelRegistry::instance() calls them all.
void register_elementwise_kernels(KernelRegistry& registry);
void register_shape_kernels(KernelRegistry& registry);
void register_nn_kernels(KernelRegistry& registry);
void register_indexing_kernels(KernelRegistry& registry);

// Evaluates one node on concrete inputs (used by the executor and by constant folding).
// Errors are rethrown with the node's name in front.
std::vector<Tensor> evaluate_node(const ir::Node& node, const std::vector<Tensor>& inputs);

}  // namespace aimc::runtime
