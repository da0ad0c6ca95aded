// Window geometry of Conv and the pooling ops: per spatial axis the kernel extent, stride,
// dilation, explicit pads and output size, with ONNX's auto_pad resolved into explicit pads.
// Shared by the shape functions, the runtime kernels and the pass that canonicalises
// Conv -> conv (which must write explicit pads).
#pragma once

#include <cstdint>
#include <vector>

#include "aimc/core/tensor.h"
#include "aimc/ir/graph.h"

namespace aimc::ir {

enum class AutoPad { kNotSet, kSameUpper, kSameLower, kValid };

// Reads the node's auto_pad attribute (default NOTSET); throws Error(kBadInput) on an
// unknown value.
AutoPad parse_auto_pad(const Node& node);

struct WindowGeometry {
  Shape input;   // spatial input sizes; -1 for a size unknown at compile time
  Shape kernel;  // spatial kernel sizes (before dilation)
  Shape strides;
  Shape dilations;
  Shape pads;    // ONNX order: begins of every axis, then ends; -1 where unknown
  Shape output;  // spatial output sizes; -1 where unknown
  size_t rank() const { return kernel.size(); }
};

// Resolves the window of `node` (Conv, conv, MaxPool, AveragePool) from its attributes
// kernel_shape, strides, dilations, pads, auto_pad and ceil_mode. `kernel_spatial` is the
// kernel taken from Conv's weight; pass it empty for pooling ops (then kernel_shape is
// required). When both are given they must agree. `input_spatial` may hold -1 for unknown
// sizes: their outputs are -1, and so are their pads under SAME_UPPER/SAME_LOWER.
// Throws Error(kBadInput) naming the node for inconsistent attributes or an input smaller
// than the dilated kernel.
WindowGeometry resolve_window(const Node& node, const Shape& input_spatial,
                              const Shape& kernel_spatial);

// The explicit pads (ONNX order, 2 * spatial rank values) equivalent to the node's auto_pad,
// for rewriting Conv into the canonical conv. Input sizes must be known when auto_pad is
// SAME_UPPER/SAME_LOWER (Error(kBadInput) otherwise).
std::vector<int64_t> resolve_conv_pads(const Node& node, const Shape& input_spatial,
                                       const std::vector<int64_t>& kernel_spatial);

}  // namespace aimc::ir
