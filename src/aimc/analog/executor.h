// The analog executor: runs a canonical graph as one chip instance of an architecture would.
// The nodes the lowering registry (lowering/lowering.h) places on crossbars or ACAM units (or
// on int8 digital MACs) run on the engines of analog/engines.h; everything else runs on the
// digital kernels (runtime/).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "aimc/analog/engines.h"
#include "aimc/arch/architecture.h"
#include "aimc/ir/graph.h"
#include "aimc/runtime/executor.h"

namespace aimc::analog {

// One node that runs on analog hardware.
struct AnalogLayer {
  std::string name;  // node name
  std::string op;    // IR op
  arch::Placement placement = arch::Placement::kDigital;
  int64_t arrays = 0;     // crossbar arrays programmed for it
  int64_t acam_rows = 0;  // ACAM rows of its function units
  std::string lowering;   // the registry's lowering (lowering/lowering.h)
};

// Signal and error energy of an analog node's outputs against the digital op on the same
// inputs, summed over the samples seen.
struct LayerError {
  double signal = 0.0;  // Σ digital²
  double noise = 0.0;   // Σ (analog - digital)²
  double snr_db() const;
};

class AnalogModel {
 public:
  // Plans which nodes run where; throws Error(kBadInput) naming the node when a node mapped
  // to analog hardware cannot be (e.g. a non-constant weight). The graph must outlive this.
  AnalogModel(const ir::Graph& graph, const arch::Architecture& arch, uint64_t seed,
              uint64_t trial);
  ~AnalogModel();

  // Runs the model digitally on calibration inputs (by graph input name) to fix the ranges
  // that ANALOG_MODEL.md leaves to calibration (ACAM input ranges, static input scales,
  // calibrated ADC, drift compensation), then programs the chip instance. Must be called
  // once before run().
  void calibrate(const std::map<std::string, Tensor>& inputs);

  // One analog inference of a batch whose first sample is sample `first_sample` of the whole
  // evaluation (noise is keyed by sample). With `errors`, adds each analog node's error
  // against its digital op on the same inputs.
  // With `observer`, it is told every node's outputs as computed (analog or digital): the
  // record the backward pass of hardware-aware training needs (train/).
  std::map<std::string, Tensor> run(const std::map<std::string, Tensor>& inputs,
                                    int64_t first_sample,
                                    std::map<std::string, LayerError>* errors = nullptr,
                                    const runtime::Executor::NodeObserver& observer = nullptr);

  const std::vector<AnalogLayer>& layers() const { return layers_; }

 private:
  bool run_node(const ir::Node& node, const std::vector<Tensor>& args, std::vector<Tensor>& results,
                int64_t first_sample, int64_t batch);

  const ir::Graph& graph_;
  arch::Architecture arch_;
  uint64_t seed_, trial_;
  runtime::Executor executor_;
  std::map<const ir::Node*, std::unique_ptr<NodeEngine>> engines_;
  std::vector<AnalogLayer> layers_;
  bool calibrated_ = false;
};

}  // namespace aimc::analog
