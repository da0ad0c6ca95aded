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

void add_weight_lowerings(std::vector<Lowering>& registry, const WeightLowerings& family) {
  using arch::Placement;
  Lowering linear =
      make_lowering(family.prefix + ".linear", "linear", "linear", Placement::kCrossbar,
                    Placement::kCrossbar, family.linear_engine, family.linear_description);
  linear.needs_constant_weight = true;
  linear.readout = family.readout;
  registry.push_back(std::move(linear));

  Lowering conv = make_lowering(family.prefix + ".conv", "conv", "conv", Placement::kCrossbar,
                                Placement::kCrossbar, family.conv_engine, family.conv_description);
  conv.needs_constant_weight = true;
  conv.reject = reject_unless_2d_conv;
  conv.readout = family.readout;
  registry.push_back(std::move(conv));
}

void add_crossbar_lowerings(std::vector<Lowering>& registry) {
  using arch::Placement;
  add_weight_lowerings(registry,
                       {"crossbar", arch::ReadoutMode::kAdc, Engine::kCrossbarLinear,
                        Engine::kCrossbarConv, "y = x·W + b, W resident in crossbar arrays",
                        "2-D convolution as im2col x W per group, W resident in crossbar arrays"});

  Lowering matmul =
      make_lowering("crossbar.matmul", "matmul", "matmul", Placement::kAcam, Placement::kCrossbar,
                    Engine::kCrossbarMatmul,
                    "A·B with each matrix of B written into crossbar arrays per inference");
  matmul.dmmul = arch::DmmulMode::kCrossbar;
  matmul.reject = reject_unless_batched_matmul;
  registry.push_back(std::move(matmul));
}

}  // namespace aimc::lowering::detail
