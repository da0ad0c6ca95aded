// The digital fp32 executor: the golden reference every analog result is compared with.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "aimc/core/tensor.h"
#include "aimc/ir/graph.h"

namespace aimc::runtime {

class Executor {
 public:
  // The graph must outlive the executor. Throws Error(kBadInput) when an op has no kernel.
  explicit Executor(const ir::Graph& graph);

  // Checks every graph input is given, with the declared dtype and a shape compatible with the
  // declared one (symbolic dimensions match anything, but equal symbols must be equal), then
  // runs the graph. Returns the graph outputs by name.
  std::map<std::string, Tensor> run(const std::map<std::string, Tensor>& inputs) const;

  // Observer called after each node with its outputs (for per-layer statistics, MAC counts).
  using NodeObserver =
      std::function<void(const ir::Node& node, const std::vector<Tensor>& outputs)>;
  std::map<std::string, Tensor> run(const std::map<std::string, Tensor>& inputs,
                                    const NodeObserver& observer) const;

  // Lets a caller run some nodes itself (the analog executor): called before each node with
  // its arguments; returns true when it has filled `results`, false to run the digital kernel.
  using NodeRunner = std::function<bool(const ir::Node& node, const std::vector<Tensor>& args,
                                        std::vector<Tensor>& results)>;
  std::map<std::string, Tensor> run(const std::map<std::string, Tensor>& inputs,
                                    const NodeObserver& observer, const NodeRunner& runner) const;

 private:
  const ir::Graph& graph_;
  // last_use_[i]: values whose last reader is node i (freed after it runs).
  std::vector<std::vector<const ir::Value*>> last_use_;
};

// Checks one input tensor against the graph input's declared dtype and shape.
void check_input(const ir::Value& declared, const Tensor& given);

}  // namespace aimc::runtime
