#include "aimc/ir/conv_geometry.h"
#include "aimc/core/int_math.h"

#include <fmt/ranges.h>

namespace aimc::ir {

AutoPad parse_auto_pad(const Node& node) {
  std::string auto_pad = node.attr_string("auto_pad", "NOTSET");
  if (auto_pad == "NOTSET") return AutoPad::kNotSet;
  if (auto_pad == "SAME_UPPER") return AutoPad::kSameUpper;
  if (auto_pad == "SAME_LOWER") return AutoPad::kSameLower;
  if (auto_pad == "VALID") return AutoPad::kValid;
  throw_bad_input("{}: auto_pad '{}' is not one of NOTSET, SAME_UPPER, SAME_LOWER, VALID",
                  node.describe(), auto_pad);
}

namespace {

// An attribute list of one value per spatial axis, or `fill` on every axis when absent.
Shape per_axis_attr(const Node& node, const char* key, size_t rank, int64_t fill,
                    int64_t min_value) {
  Shape values = node.attr_ints(key, Shape(rank, fill));
  if (values.size() != rank)
    throw_bad_input("{}: attribute '{}' has {} values, the input has {} spatial axes",
                    node.describe(), key, values.size(), rank);
  for (int64_t v : values) {
    if (v < min_value)
      throw_bad_input("{}: attribute '{}' = {} must hold values >= {}", node.describe(), key,
                      fmt::join(values, ","), min_value);
  }
  return values;
}

}  // namespace

WindowGeometry resolve_window(const Node& node, const Shape& input_spatial,
                              const Shape& kernel_spatial) {
  size_t rank = input_spatial.size();
  if (rank == 0) throw_bad_input("{}: the input has no spatial axes", node.describe());
  WindowGeometry g;
  g.input = input_spatial;
  if (node.has_attr("kernel_shape")) {
    g.kernel = per_axis_attr(node, "kernel_shape", rank, 1, 1);
    if (!kernel_spatial.empty() && kernel_spatial != g.kernel)
      throw_bad_input("{}: kernel_shape {} disagrees with the weight's spatial shape {}",
                      node.describe(), shape_str(g.kernel), shape_str(kernel_spatial));
  } else if (!kernel_spatial.empty()) {
    if (kernel_spatial.size() != rank)
      throw_bad_input("{}: the weight has {} spatial axes, the input {}", node.describe(),
                      kernel_spatial.size(), rank);
    g.kernel = kernel_spatial;
  } else {
    throw_bad_input("{}: missing required attribute 'kernel_shape'", node.describe());
  }
  for (int64_t k : g.kernel) {
    if (k < 1) throw_bad_input("{}: kernel size {} < 1", node.describe(), k);
  }
  g.strides = per_axis_attr(node, "strides", rank, 1, 1);
  g.dilations = per_axis_attr(node, "dilations", rank, 1, 1);
  AutoPad auto_pad = parse_auto_pad(node);
  Shape explicit_pads(2 * rank, 0);
  if (auto_pad == AutoPad::kNotSet) {
    explicit_pads = node.attr_ints("pads", explicit_pads);
    if (explicit_pads.size() != 2 * rank)
      throw_bad_input("{}: attribute 'pads' has {} values, expected {} (begin and end of {} axes)",
                      node.describe(), explicit_pads.size(), 2 * rank, rank);
    for (int64_t p : explicit_pads) {
      if (p < 0) throw_bad_input("{}: negative pad {}", node.describe(), p);
    }
  }
  bool ceil_mode = node.attr_int("ceil_mode", 0) != 0;

  g.pads.assign(2 * rank, 0);
  g.output.assign(rank, -1);
  for (size_t axis = 0; axis < rank; ++axis) {
    int64_t in = input_spatial[axis];
    int64_t stride = g.strides[axis];
    int64_t dilated_kernel = (g.kernel[axis] - 1) * g.dilations[axis] + 1;
    int64_t& pad_begin = g.pads[axis];
    int64_t& pad_end = g.pads[axis + rank];
    if (auto_pad == AutoPad::kSameUpper || auto_pad == AutoPad::kSameLower) {
      if (in < 0) {
        pad_begin = pad_end = -1;
        continue;
      }
      int64_t out = ceil_div(in, stride);
      int64_t total = std::max<int64_t>(0, (out - 1) * stride + dilated_kernel - in);
      // SAME_UPPER puts the odd pad at the end, SAME_LOWER at the beginning.
      pad_begin = auto_pad == AutoPad::kSameUpper ? total / 2 : total - total / 2;
      pad_end = total - pad_begin;
      g.output[axis] = out;
      continue;
    }
    pad_begin = explicit_pads[axis];
    pad_end = explicit_pads[axis + rank];
    if (in < 0) continue;
    int64_t span = in + pad_begin + pad_end - dilated_kernel;
    if (span < 0)
      throw_bad_input("{}: spatial axis {} of size {} (padded {}) is smaller than the kernel {}",
                      node.describe(), axis, in, in + pad_begin + pad_end, dilated_kernel);
    int64_t out = (ceil_mode ? ceil_div(span, stride) : span / stride) + 1;
    // As in PyTorch: with ceil_mode the last window must start inside the input or the
    // leading pad, never in the trailing pad alone.
    if (ceil_mode && (out - 1) * stride >= in + pad_begin) --out;
    g.output[axis] = out;
  }
  return g;
}

std::vector<int64_t> resolve_conv_pads(const Node& node, const Shape& input_spatial,
                                       const std::vector<int64_t>& kernel_spatial) {
  WindowGeometry g = resolve_window(node, input_spatial, kernel_spatial);
  for (int64_t p : g.pads) {
    if (p < 0)
      throw_bad_input("{}: auto_pad needs known spatial input sizes, got {}", node.describe(),
                      shape_str(input_spatial));
  }
  return g.pads;
}

}  // namespace aimc::ir
