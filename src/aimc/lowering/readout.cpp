// NL-DPE's ADC-less readout (readout.mode acam; Zhao et al., "NL-DPE: An Analog In-memory
// Non-Linear Dot Product Engine for Efficient CNN and LLM Inference", arXiv 2511.13950):
// weight matrices stay in crossbar arrays, but each output column's analog value is read by an
// analog CAM tree instead of an ADC, and that tree may compute the layer's activation on the
// way (docs/analog-model.md, "ADC-less readout"). The activation node then has no work of its own.
#include "aimc/lowering/registry_parts.h"

namespace aimc::lowering::detail {

namespace {

// The activations a readout tree may compute, by IR op.
struct FusedRow {
  const char* op;
  const char* function;  // analog/acam.h name
};
constexpr FusedRow kFusedRows[] = {
    {"Relu", "relu"}, {"gelu", "gelu"}, {"silu", "silu"}, {"Sigmoid", "sigmoid"}, {"Tanh", "tanh"}};

}  // namespace

void add_readout_lowerings(std::vector<Lowering>& registry) {
  using arch::Placement;
  add_weight_lowerings(
      registry,
      {"readout", arch::ReadoutMode::kAcam, Engine::kReadoutLinear, Engine::kReadoutConv,
       "y = f(x·W + b), W resident in crossbar arrays, each output read by an ACAM tree (NL-DPE)",
       "2-D convolution on crossbar arrays, each output read by an ACAM tree (NL-DPE)"});

  for (const FusedRow& row : kFusedRows) {
    Lowering fused =
        make_lowering(std::string("readout.fused_") + row.function, row.op, "linear",
                      Placement::kCrossbar, Placement::kCrossbar, Engine::kReadoutFused,
                      std::string(row.function) +
                          " computed by the readout trees of the crossbar layer before it");
    fused.readout = arch::ReadoutMode::kAcam;
    fused.fused_readout = true;
    registry.push_back(std::move(fused));
  }
}

std::string fused_function_of(const std::string& op) {
  for (const FusedRow& row : kFusedRows)
    if (op == row.op) return row.function;
  return "";
}

}  // namespace aimc::lowering::detail
