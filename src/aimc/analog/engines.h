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

  // readout.mode acam (docs/analog-model.md, "ADC-less readout"). A crossbar layer whose readout
  // trees compute the activation after it names that node; its run() then outputs the analog values
  // the trees search, and read_fused() searches them for the activation's engine (false when its
  // last batch ran digitally instead).
  virtual const ir::Node* fused_consumer() const { return nullptr; }
  virtual bool read_fused(const Tensor& /*analog*/, Tensor& /*out*/, int64_t /*first_sample*/,
                          int64_t /*batch*/) {
    return false;
  }
  // Called instead of run() when the executor leaves the node to its digital kernel.
  virtual void skipped() {}
  // The fused activation's engine, given its producer's.
  virtual bool takes_producer() const { return false; }
  virtual void set_producer(NodeEngine* /*producer*/) {}
};

// The engine of a node's placement (decision.lowering's engine, with the readout function
// and fusion partner the decision names).
std::unique_ptr<NodeEngine> make_engine(const lowering::Decision& decision, const ir::Node& node,
                                        const ChipInstance& chip);

}  // namespace aimc::analog
