// Registration of the neural-network kernels and the helpers their families share.
#include "aimc/runtime/nn_kernels.h"

namespace aimc::runtime {

namespace nn {

const Tensor& f32_input(const ir::Node& node, const std::vector<Tensor>& inputs, size_t i) {
  if (i >= inputs.size() || !inputs[i].is_valid())
    throw_bad_input("{}: required input {} is missing", node.describe(), i);
  const Tensor& t = inputs[i];
  if (t.dtype() != DType::kF32)
    throw_bad_input("{}: input {} must be f32, got {}", node.describe(), i, dtype_name(t.dtype()));
  return t;
}

int64_t normalize_axis(const ir::Node& node, int64_t axis, int64_t rank) {
  if (axis < -rank || axis >= rank)
    throw_bad_input("{}: axis {} is out of range for rank {}", node.describe(), axis, rank);
  return axis < 0 ? axis + rank : axis;
}

}  // namespace nn

void register_nn_kernels(KernelRegistry& registry) {
  nn::register_linalg_kernels(registry);
  nn::register_conv_kernels(registry);
  nn::register_norm_kernels(registry);
  nn::register_recurrent_kernels(registry);
}

}  // namespace aimc::runtime
