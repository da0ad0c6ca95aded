#include "aimc/analog/executor.h"

#include <cmath>
#include <limits>

#include "aimc/runtime/kernel.h"

namespace aimc::analog {

double LayerError::snr_db() const {
  if (noise <= 0.0) return std::numeric_limits<double>::infinity();
  if (signal <= 0.0) return -std::numeric_limits<double>::infinity();
  return 10.0 * std::log10(signal / noise);
}

AnalogModel::AnalogModel(const ir::Graph& graph, const arch::Architecture& arch, uint64_t seed,
                         uint64_t trial)
    : graph_(graph), arch_(arch), seed_(seed), trial_(trial), executor_(graph) {
  const ChipInstance chip{&arch_, seed_, trial_};
  for (const auto& node_ptr : graph.nodes()) {
    const ir::Node& node = *node_ptr;
    const lowering::Decision decision = lowering::decide(node, arch_, &graph);
    if (!decision.lowering) continue;
    layers_.push_back({node.name, node.op, decision.placement, 0, 0, decision.lowering->name});
    engines_.emplace(&node, make_engine(decision, node, chip));
  }
  // A fused activation follows its producer's readout.
  for (auto& [node, engine] : engines_) {
    const ir::Node* consumer = engine->fused_consumer();
    if (!consumer) continue;
    auto it = engines_.find(consumer);
    AIMC_ASSERT(it != engines_.end() && it->second->takes_producer(),
                "{}: its readout fuses {}, which has no fused engine", node->name, consumer->name);
    it->second->set_producer(engine.get());
  }
}

AnalogModel::~AnalogModel() = default;

void AnalogModel::calibrate(const std::map<std::string, Tensor>& inputs) {
  // 1. A digital run that shows each lowered node what it sees.
  auto record = [&](const ir::Node& node, const std::vector<Tensor>& args, std::vector<Tensor>&) {
    auto it = engines_.find(&node);
    if (it != engines_.end()) it->second->record(node, args);
    return false;  // the digital kernel computes the output
  };
  executor_.run(inputs, nullptr, record);

  // 2. Program the chip instance.
  for (auto& [node, engine] : engines_) {
    engine->program(*node);
    for (AnalogLayer& layer : layers_) {
      if (layer.name != node->name) continue;
      layer.arrays += engine->arrays();
      layer.acam_rows += engine->acam_rows();
    }
  }
  calibrated_ = true;
}

bool AnalogModel::run_node(const ir::Node& node, const std::vector<Tensor>& args,
                           std::vector<Tensor>& results, int64_t first_sample, int64_t batch) {
  auto it = engines_.find(&node);
  if (it == engines_.end()) return false;
  if (args[0].dtype() != DType::kF32) {
    it->second->skipped();
    return false;
  }
  return it->second->run(node, args, results, first_sample, batch);
}

std::map<std::string, Tensor> AnalogModel::run(const std::map<std::string, Tensor>& inputs,
                                               int64_t first_sample,
                                               std::map<std::string, LayerError>* errors,
                                               const runtime::Executor::NodeObserver& observer) {
  AIMC_ASSERT(calibrated_, "AnalogModel::run before calibrate");
  int64_t batch = 1;
  if (!graph_.inputs.empty()) {
    auto it = inputs.find(graph_.inputs[0]->name);
    if (it != inputs.end() && it->second.rank() > 0) batch = it->second.dim(0);
  }
  auto runner = [&](const ir::Node& node, const std::vector<Tensor>& args,
                    std::vector<Tensor>& results) {
    if (!run_node(node, args, results, first_sample, batch)) return false;
    if (errors) {
      std::vector<Tensor> digital = runtime::evaluate_node(node, args);
      LayerError& e = (*errors)[node.name];
      const float* d = digital[0].data<float>();
      const float* a = results[0].data<float>();
      for (int64_t i = 0; i < digital[0].numel(); ++i) {
        if (!std::isfinite(d[i])) continue;
        e.signal += static_cast<double>(d[i]) * d[i];
        e.noise += (static_cast<double>(a[i]) - d[i]) * (static_cast<double>(a[i]) - d[i]);
      }
    }
    return true;
  };
  return executor_.run(inputs, observer, runner);
}

}  // namespace aimc::analog
