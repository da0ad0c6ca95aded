// Internal to the runtime: the neural-network kernel families (one .cpp each) and the
// helpers they share. runtime::register_nn_kernels() (kernel.h) calls the three
// registrations.
#pragma once

#include <cstdint>
#include <vector>

#include "aimc/core/tensor.h"
#include "aimc/ir/graph.h"
#include "aimc/runtime/kernel.h"

namespace aimc::runtime::nn {

void register_linalg_kernels(KernelRegistry& registry);     // MatMul, matmul, Gemm, linear
void register_conv_kernels(KernelRegistry& registry);       // Conv, conv, pooling
void register_norm_kernels(KernelRegistry& registry);       // normalisations, softmax, gelu
void register_recurrent_kernels(KernelRegistry& registry);  // LSTM, GRU, RNN

// c[m, n] = alpha * op(a) * op(b) + beta * c with contiguous row-major operands
// (op(a) is [m, k]: a is [m, k], or [k, m] when trans_a). OpenBLAS sgemm; handles empty sizes.
void sgemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
           const float* b, float beta, float* c);

// inputs[i], or an invalid Tensor when the optional input i is omitted.
inline const Tensor& optional_input(const std::vector<Tensor>& inputs, size_t i) {
  static const Tensor kAbsent;
  return i < inputs.size() ? inputs[i] : kAbsent;
}

// inputs[i], which must be present and f32 (Error(kBadInput) naming the node otherwise).
const Tensor& f32_input(const ir::Node& node, const std::vector<Tensor>& inputs, size_t i);

// axis in [-rank, rank) made non-negative; Error(kBadInput) naming the node otherwise.
int64_t normalize_axis(const ir::Node& node, int64_t axis, int64_t rank);

}  // namespace aimc::runtime::nn
