// Conv -> conv: the canonical convolution spells out its window (kernel_shape, pads, strides,
// dilations, group) and never uses auto_pad, so later stages read one form only. A Conv whose
// SAME_* padding depends on spatial sizes unknown at compile time stays a Conv.
#include "aimc/ir/conv_geometry.h"
#include "aimc/passes/passes.h"
#include "aimc/passes/pattern.h"

namespace aimc::passes {

namespace {

// Spatial sizes of a [N, C, D...] value, -1 where unknown; nullopt when the rank is unknown.
std::optional<Shape> spatial_sizes(const ir::Value* v) {
  if (!v || !v->shape || v->shape->size() < 3) return std::nullopt;
  Shape sizes;
  for (size_t i = 2; i < v->shape->size(); ++i) sizes.push_back((*v->shape)[i].value);
  return sizes;
}

bool canonicalize(ir::Node& node) {
  std::optional<Shape> input = spatial_sizes(node.input(0));
  std::optional<Shape> kernel = spatial_sizes(node.input(1));
  if (!input || !kernel || input->size() != kernel->size()) return false;
  for (int64_t k : *kernel) {
    if (k < 0) return false;
  }
  ir::AutoPad auto_pad = ir::parse_auto_pad(node);
  if (auto_pad == ir::AutoPad::kSameUpper || auto_pad == ir::AutoPad::kSameLower) {
    for (int64_t size : *input) {
      if (size < 0) return false;
    }
  }
  ir::WindowGeometry window = ir::resolve_window(node, *input, *kernel);
  std::vector<int64_t> pads = ir::resolve_conv_pads(node, *input, *kernel);
  int64_t group = node.attr_int("group", 1);
  node.op = "conv";
  node.attrs.erase("auto_pad");
  node.attrs["kernel_shape"] = window.kernel;
  node.attrs["pads"] = pads;
  node.attrs["strides"] = window.strides;
  node.attrs["dilations"] = window.dilations;
  node.attrs["group"] = group;
  return true;
}

}  // namespace

int canonicalize_conv(ir::Graph& graph) {
  int rewrites = 0;
  for (const auto& node : graph.nodes()) {
    if (node->op == "Conv" && canonicalize(*node)) ++rewrites;
  }
  return rewrites;
}

}  // namespace aimc::passes
