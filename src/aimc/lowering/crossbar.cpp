// The crossbar lowerings: weight matrices (linear, 2-D conv) resident in crossbar arrays, and
// the data-dependent products of attention written into arrays per inference (dmmul.mode
// crossbar). ANALOG_MODEL.md §1-§2; the counts are docs/cost-model.md §1's.
#include <fmt/format.h>

#include "aimc/lowering/registry_parts.h"

namespace aimc::lowering::detail {

std::string reject_unless_2d_conv(const ir::Node& node) {
  const size_t dims = node.attr_ints("kernel_shape", {}).size();
  if (dims == 2) return "";
  return fmt::format("a {}-D convolution: crossbars take 2-D convolutions only", dims);
}

void add_crossbar_lowerings(std::vector<Lowering>& registry) {
  using arch::Placement;
  Lowering linear = make_lowering("crossbar.linear", "linear", "linear", Placement::kCrossbar,
                                  Placement::kCrossbar, Engine::kCrossbarLinear,
                                  "y = x·W + b, W resident in crossbar arrays");
  linear.needs_constant_weight = true;
  linear.readout = arch::ReadoutMode::kAdc;
  registry.push_back(std::move(linear));

  Lowering conv =
      make_lowering("crossbar.conv", "conv", "conv", Placement::kCrossbar, Placement::kCrossbar,
                    Engine::kCrossbarConv,
                    "2-D convolution as im2col x W per group, W resident in crossbar arrays");
  conv.needs_constant_weight = true;
  conv.reject = reject_unless_2d_conv;
  conv.readout = arch::ReadoutMode::kAdc;
  registry.push_back(std::move(conv));

  Lowering matmul =
      make_lowering("crossbar.matmul", "matmul", "matmul", Placement::kAcam, Placement::kCrossbar,
                    Engine::kCrossbarMatmul,
                    "A·B with each matrix of B written into crossbar arrays per inference");
  matmul.dmmul = arch::DmmulMode::kCrossbar;
  matmul.reject = reject_unless_batched_matmul;
  registry.push_back(std::move(matmul));
}

}  // namespace aimc::lowering::detail
