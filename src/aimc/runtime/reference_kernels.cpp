#include "aimc/runtime/reference_kernels.h"

#include <algorithm>

namespace aimc::runtime::reference {

namespace {

// Row-major multi-index of flat index `flat` in `shape`.
Shape unravel(int64_t flat, const Shape& shape) {
  Shape index(shape.size());
  for (size_t i = shape.size(); i-- > 0;) {
    index[i] = flat % shape[i];
    flat /= shape[i];
  }
  return index;
}

// Flat offset in `shape` of the trailing part of `index` (numpy broadcasting: a dimension of
// size 1 always reads index 0).
int64_t broadcast_offset(const Shape& index, const Shape& shape) {
  int64_t offset = 0;
  size_t lead = index.size() - shape.size();
  for (size_t i = 0; i < shape.size(); ++i) {
    offset = offset * shape[i] + (shape[i] == 1 ? 0 : index[lead + i]);
  }
  return offset;
}

}  // namespace

void gemm(const float* a, const float* b, float* c, int64_t m, int64_t n, int64_t k) {
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      double sum = 0.0;
      for (int64_t p = 0; p < k; ++p) sum += double(a[i * k + p]) * double(b[p * n + j]);
      c[i * n + j] = static_cast<float>(sum);
    }
  }
}

Tensor matmul(const Tensor& a, const Tensor& b) {
  Shape a_shape = a.shape();
  Shape b_shape = b.shape();
  bool a_vector = a_shape.size() == 1;
  bool b_vector = b_shape.size() == 1;
  if (a_vector) a_shape.insert(a_shape.begin(), 1);
  if (b_vector) b_shape.push_back(1);
  int64_t m = a_shape[a_shape.size() - 2];
  int64_t k = a_shape.back();
  int64_t n = b_shape.back();
  AIMC_ASSERT(b_shape[b_shape.size() - 2] == k, "reference::matmul: K mismatch");
  Shape a_batch(a_shape.begin(), a_shape.end() - 2);
  Shape b_batch(b_shape.begin(), b_shape.end() - 2);
  size_t rank = std::max(a_batch.size(), b_batch.size());
  Shape batch(rank, 1);
  for (size_t i = 0; i < rank; ++i) {
    int64_t da = i < rank - a_batch.size() ? 1 : a_batch[i - (rank - a_batch.size())];
    int64_t db = i < rank - b_batch.size() ? 1 : b_batch[i - (rank - b_batch.size())];
    AIMC_ASSERT(da == db || da == 1 || db == 1, "reference::matmul: batch mismatch");
    batch[i] = std::max(da, db);
  }
  Shape out_shape = batch;
  if (!a_vector) out_shape.push_back(m);
  if (!b_vector) out_shape.push_back(n);
  Tensor y(DType::kF32, out_shape);
  const float* pa = a.data<float>();
  const float* pb = b.data<float>();
  float* py = y.data<float>();
  int64_t batches = shape_numel(batch);
  for (int64_t t = 0; t < batches; ++t) {
    Shape index = unravel(t, batch);
    const float* at = pa + broadcast_offset(index, a_batch) * m * k;
    const float* bt = pb + broadcast_offset(index, b_batch) * k * n;
    gemm(at, bt, py + t * m * n, m, n, k);
  }
  return y;
}

Tensor gemm_onnx(const Tensor& a, const Tensor& b, const Tensor& c, float alpha, float beta,
                 bool trans_a, bool trans_b) {
  int64_t m = trans_a ? a.dim(1) : a.dim(0);
  int64_t k = trans_a ? a.dim(0) : a.dim(1);
  int64_t n = trans_b ? b.dim(0) : b.dim(1);
  Tensor y(DType::kF32, {m, n});
  const float* pa = a.data<float>();
  const float* pb = b.data<float>();
  float* py = y.data<float>();
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      double sum = 0.0;
      for (int64_t p = 0; p < k; ++p) {
        double av = trans_a ? pa[p * m + i] : pa[i * k + p];
        double bv = trans_b ? pb[j * k + p] : pb[p * n + j];
        sum += av * bv;
      }
      double value = alpha * sum;
      if (c.is_valid()) value += beta * c.data<float>()[broadcast_offset({i, j}, c.shape())];
      py[i * n + j] = static_cast<float>(value);
    }
  }
  return y;
}

Tensor linear(const Tensor& x, const Tensor& w, const Tensor& bias) {
  int64_t k = w.dim(0);
  int64_t n = w.dim(1);
  int64_t rows = x.numel() / k;
  Shape out_shape = x.shape();
  out_shape.back() = n;
  Tensor y(DType::kF32, out_shape);
  gemm(x.data<float>(), w.data<float>(), y.data<float>(), rows, n, k);
  if (bias.is_valid()) {
    float* py = y.data<float>();
    for (int64_t r = 0; r < rows; ++r) {
      for (int64_t j = 0; j < n; ++j) py[r * n + j] += bias.data<float>()[j];
    }
  }
  return y;
}

Tensor conv(const Tensor& x, const Tensor& w, const Tensor& bias, const ir::WindowGeometry& window,
            int64_t group) {
  size_t rank = window.rank();
  int64_t batch = x.dim(0);
  int64_t in_channels = x.dim(1);
  int64_t out_channels = w.dim(0);
  int64_t channels_per_group = in_channels / group;
  int64_t outputs_per_group = out_channels / group;
  Shape in_spatial(x.shape().begin() + 2, x.shape().end());
  Shape out_shape = {batch, out_channels};
  out_shape.insert(out_shape.end(), window.output.begin(), window.output.end());
  Tensor y(DType::kF32, out_shape);
  int64_t out_volume = shape_numel(window.output);
  int64_t kernel_volume = shape_numel(window.kernel);
  int64_t in_volume = shape_numel(in_spatial);
  const float* px = x.data<float>();
  const float* pw = w.data<float>();
  float* py = y.data<float>();
  for (int64_t n = 0; n < batch; ++n) {
    for (int64_t m = 0; m < out_channels; ++m) {
      int64_t g = m / outputs_per_group;
      for (int64_t o = 0; o < out_volume; ++o) {
        Shape out_index = unravel(o, window.output);
        double sum = bias.is_valid() ? bias.data<float>()[m] : 0.0;
        for (int64_t c = 0; c < channels_per_group; ++c) {
          for (int64_t kk = 0; kk < kernel_volume; ++kk) {
            Shape kernel_index = unravel(kk, window.kernel);
            int64_t in_offset = 0;
            bool inside = true;
            for (size_t axis = 0; axis < rank && inside; ++axis) {
              int64_t pos = out_index[axis] * window.strides[axis] - window.pads[axis] +
                            kernel_index[axis] * window.dilations[axis];
              inside = pos >= 0 && pos < in_spatial[axis];
              in_offset = in_offset * in_spatial[axis] + pos;
            }
            if (!inside) continue;
            double xv = px[(n * in_channels + g * channels_per_group + c) * in_volume + in_offset];
            double wv = pw[(m * channels_per_group + c) * kernel_volume + kk];
            sum += xv * wv;
          }
        }
        py[(n * out_channels + m) * out_volume + o] = static_cast<float>(sum);
      }
    }
  }
  return y;
}

}  // namespace aimc::runtime::reference
