// The analog engines behind the lowerings of lowering/lowering.h: one NodeEngine per lowered
// node of a chip instance. The analog executor records what each sees in a digital
// calibration run, programs it, then runs it in place of the node's digital kernel.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "aimc/arch/architecture.h"
#include "aimc/core/tensor.h"
#include "aimc/ir/graph.h"
#include "aimc/lowering/lowering.h"

namespace aimc::analog {

// Which chip instance an engine belongs to (noise streams are keyed by seed, trial, node).
struct ChipInstance {
  const arch::Architecture* arch = nullptr;
  uint64_t seed = 0, trial = 0;
};

class NodeEngine {
 public:
  virtual ~NodeEngine() = default;
  // Sees the node's operands in the digital calibration run (ANALOG_MODEL.md leaves ranges,
  // static input scales and the calibrated ADC to calibration).
  virtual void record(const ir::Node& node, const std::vector<Tensor>& args) = 0;
  // Programs the chip instance from what record() saw; called once, after the recording.
  virtual void program(const ir::Node& node) = 0;
  // One analog inference of the node on a batch whose first sample is `first_sample` of the
  // evaluation; returns false when the digital kernel must compute it instead.
  virtual bool run(const ir::Node& node, const std::vector<Tensor>& args,
                   std::vector<Tensor>& results, int64_t first_sample, int64_t batch) = 0;
  virtual int64_t arrays() const { return 0; }     // crossbar arrays programmed
  virtual int64_t acam_rows() const { return 0; }  // ACAM rows of its function units
};

// The engine of a node's lowering (lowering.engine).
std::unique_ptr<NodeEngine> make_engine(const lowering::Lowering& lowering, const ir::Node& node,
                                        const ChipInstance& chip);

}  // namespace aimc::analog
