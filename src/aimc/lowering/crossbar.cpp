// The crossbar lowerings: weight matrices (linear, 2-D conv) resident in crossbar arrays, and
// the data-dependent products of attention written into arrays per inference (dmmul.mode
// crossbar). ANALOG_MODEL.md §1-§2; the counts are docs/cost-model.md §1's.
#include <fmt/format.h>

#include "aimc/lowering/registry_parts.h"

namespace aimc::lowering::detail {

namespace {

std::string reject_unless_2d_conv(const ir::Node& node) {
  const size_t dims = node.attr_ints("kernel_shape", {}).size();
  if (dims == 2) return "";
  return fmt::format("a {}-D convolution: crossbars take 2-D convolutions only", dims);
}

}  // namespace

void add_crossbar_lowerings(std::vector<Lowering>& registry) {
  using arch::Placement;
  Lowering linear;
  linear.name = "crossbar.linear";
  linear.op = "linear";
  linear.kind = "linear";
  linear.selected_by = Placement::kCrossbar;
  linear.placement = Placement::kCrossbar;
  linear.engine = Engine::kCrossbarLinear;
  linear.needs_constant_weight = true;
  linear.description = "y = x·W + b, W resident in crossbar arrays";
  registry.push_back(std::move(linear));

  Lowering conv;
  conv.name = "crossbar.conv";
  conv.op = "conv";
  conv.kind = "conv";
  conv.selected_by = Placement::kCrossbar;
  conv.placement = Placement::kCrossbar;
  conv.engine = Engine::kCrossbarConv;
  conv.needs_constant_weight = true;
  conv.reject = reject_unless_2d_conv;
  conv.description = "2-D convolution as im2col x W per group, W resident in crossbar arrays";
  registry.push_back(std::move(conv));

  Lowering matmul;
  matmul.name = "crossbar.matmul";
  matmul.op = "matmul";
  matmul.kind = "matmul";
  matmul.selected_by = Placement::kAcam;
  matmul.dmmul = arch::DmmulMode::kCrossbar;
  matmul.placement = Placement::kCrossbar;
  matmul.engine = Engine::kCrossbarMatmul;
  matmul.reject = reject_unless_batched_matmul;
  matmul.description = "A·B with each matrix of B written into crossbar arrays per inference";
  registry.push_back(std::move(matmul));
}

}  // namespace aimc::lowering::detail
