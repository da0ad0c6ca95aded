// The parts the registry (lowering.cpp) is assembled from, one per file, so that a family of
// lowerings lives in one place. Internal to lowering/.
#pragma once

#include <string>
#include <vector>

#include "aimc/lowering/lowering.h"

namespace aimc::lowering::detail {

void add_crossbar_lowerings(std::vector<Lowering>& registry);        // crossbar.cpp
void add_acam_unary_lowerings(std::vector<Lowering>& registry);      // acam_unary.cpp
void add_acam_composite_lowerings(std::vector<Lowering>& registry);  // acam_composite.cpp
void add_dmmul_lowerings(std::vector<Lowering>& registry);           // dmmul.cpp
void add_readout_lowerings(std::vector<Lowering>& registry);         // readout.cpp

// A lowering's identity: the fields every one sets; the caller adds conditions, tables and
// schedules.
Lowering make_lowering(std::string name, std::string op, std::string kind,
                       arch::Placement selected_by, arch::Placement placement, Engine engine,
                       std::string description);

// Why a node with a `axis` attribute does not reduce over its input's last axis ("" when it
// does): softmax and layer norm on ACAM work row by row.
std::string reject_unless_last_axis(const ir::Node& node);
// The function a readout tree computes for an activation op ("" when none): readout.cpp.
std::string fused_function_of(const std::string& op);
// The lowerings of a weight matrix resident in crossbar arrays, `prefix`.linear and
// `prefix`.conv, for one readout.mode: their conditions are the same whatever reads the
// columns (crossbar.cpp).
struct WeightLowerings {
  std::string prefix;  // "crossbar", "readout"
  arch::ReadoutMode readout = arch::ReadoutMode::kAdc;
  Engine linear_engine = Engine::kCrossbarLinear, conv_engine = Engine::kCrossbarConv;
  std::string linear_description, conv_description;
};
void add_weight_lowerings(std::vector<Lowering>& registry, const WeightLowerings& family);
// Why an attention-style product A·B cannot run as one product per matrix ("" when it can):
// both operands of the same rank >= 2, the same batch dimensions, A's last = B's second last.
std::string reject_unless_batched_matmul(const ir::Node& node);

}  // namespace aimc::lowering::detail
