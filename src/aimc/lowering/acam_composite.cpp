// Softmax and layer norm on ACAM units with their digital glue (ANALOG_MODEL.md §3,
// docs/analog-model.md "ACAM function units").
#include <cmath>

#include "aimc/lowering/registry_parts.h"

namespace aimc::lowering::detail {

namespace {

using Kind = AcamStep::Kind;
using isa::AluOp;

AcamStep search(int64_t unit, int64_t elements) {
  return {Kind::kSearch, unit, AluOp::kAdd, elements};
}
AcamStep alu(AluOp op, int64_t elements) {
  return {Kind::kAlu, 0, op, elements};
}

// Rows of a row-wise op: its output elements over the row length.
int64_t rows_of(const NodeSizes& sizes) {
  return sizes.output / sizes.row;
}

std::string reject_layer_norm(const ir::Node& node) {
  std::string axis = reject_unless_last_axis(node);
  if (!axis.empty()) return axis;
  if (node.inputs.size() < 2 || !node.inputs[1] || !node.inputs[1]->is_constant())
    return "its scale is not a constant";
  if (node.inputs.size() >= 3 && node.inputs[2] && !node.inputs[2]->is_constant())
    return "its bias is not a constant";
  return "";
}

}  // namespace

std::string reject_unless_last_axis(const ir::Node& node) {
  const int64_t axis = node.attr_int("axis", -1);
  if (axis == -1) return "";
  const ir::Value* x = node.input(0);
  if (x && x->shape && axis == static_cast<int64_t>(x->shape->size()) - 1) return "";
  return "it does not work over the last axis";
}

void add_acam_composite_lowerings(std::vector<Lowering>& registry) {
  Lowering softmax =
      make_lowering("acam.softmax", "Softmax", "softmax", arch::Placement::kAcam,
                    arch::Placement::kAcam, Engine::kAcamSoftmax,
                    "exp unit per element, reciprocal unit per row; max, sum, scale digital");
  softmax.acam_functions = {"exp", "reciprocal"};
  softmax.reject = reject_unless_last_axis;
  softmax.schedule = [](const NodeSizes& sizes) {
    const int64_t elements = sizes.output;
    return std::vector<AcamStep>{alu(AluOp::kReduceMax, elements),
                                 alu(AluOp::kSub, elements),
                                 search(0, elements),  // exp(x - max)
                                 alu(AluOp::kReduceSum, elements),
                                 search(1, rows_of(sizes)),  // 1 / Σ per row
                                 alu(AluOp::kMul, elements)};
  };
  softmax.default_range = [](int64_t unit, const NodeSizes& sizes, const arch::AcamConfig& acam) {
    // exp below -(out_bits + 1)·ln 2 is under one output step; Σ exp(x - max) over a row of n
    // lies in [1, n].
    if (unit == 0) return std::pair<double, double>{-(acam.out_bits + 1) * std::log(2.0), 0.0};
    const int64_t rows = std::max<int64_t>(1, rows_of(sizes));
    const double n = static_cast<double>(sizes.output) / static_cast<double>(rows);
    return std::pair<double, double>{1.0, std::max(2.0, n)};
  };
  registry.push_back(std::move(softmax));

  Lowering layer_norm = make_lowering(
      "acam.layer_norm", "layer_norm", "layer_norm", arch::Placement::kAcam, arch::Placement::kAcam,
      Engine::kAcamLayerNorm, "rsqrt unit per row; mean, variance, scale and shift digital");
  layer_norm.acam_functions = {"rsqrt"};
  layer_norm.reject = reject_layer_norm;
  layer_norm.schedule = [](const NodeSizes& sizes) {
    const int64_t elements = sizes.output;
    return std::vector<AcamStep>{
        alu(AluOp::kReduceSum, elements),                              // mean
        alu(AluOp::kSub, elements),       alu(AluOp::kMac, elements),  // variance
        search(0, rows_of(sizes)),  // rsqrt of each row's variance
        alu(AluOp::kMul, elements),       alu(AluOp::kAdd, elements)};
  };
  layer_norm.default_range = [](int64_t, const NodeSizes&, const arch::AcamConfig&) {
    return std::pair<double, double>{1.0 / 256.0, 16.0};
  };
  registry.push_back(std::move(layer_norm));
}

}  // namespace aimc::lowering::detail
