// Plain-loop versions of the BLAS-backed neural-network kernels (matrix products and
// convolution): slow, checkable by eye, accumulating in double. Tests compare the fast
// kernels with these; nothing else should call them.
#pragma once

#include <cstdint>

#include "aimc/core/tensor.h"
#include "aimc/ir/conv_geometry.h"

namespace aimc::runtime::reference {

// c[m, n] = sum_k a[m, k] * b[k, n], all row-major and contiguous.
void gemm(const float* a, const float* b, float* c, int64_t m, int64_t n, int64_t k);

// ONNX MatMul of two f32 tensors: numpy semantics, 1-D operands, broadcast batch dimensions.
Tensor matmul(const Tensor& a, const Tensor& b);

// ONNX Gemm: alpha * op(a) * op(b) + beta * c, c (optional: invalid Tensor) broadcast to [M, N].
Tensor gemm_onnx(const Tensor& a, const Tensor& b, const Tensor& c, float alpha, float beta,
                 bool trans_a, bool trans_b);

// x[..., K] * w[K, N] + bias[N] (bias optional: invalid Tensor).
Tensor linear(const Tensor& x, const Tensor& w, const Tensor& bias);

// Direct N-d convolution (cross-correlation): x[N, C, D...] * w[M, C/group, k...] + bias[M]
// (bias optional) with the given window (pads explicit).
Tensor conv(const Tensor& x, const Tensor& w, const Tensor& bias, const ir::WindowGeometry& window,
            int64_t group);

}  // namespace aimc::runtime::reference
