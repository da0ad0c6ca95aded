// Backward rules of the neural-network ops: linear, matmul, conv, pooling, layer_norm,
// softmax, log-softmax and gelu. GEMMs go to OpenBLAS; the rest are plain loops in double
// where a sum is long.
#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>

#include "aimc/core/error.h"
#include "aimc/core/parallel.h"
#include "aimc/ir/conv_geometry.h"
#include "aimc/train/backward_rules.h"

namespace aimc::train {

namespace {

using detail::broadcast_to;
using detail::reduce_to_shape;

// c[m, n] (+)= op(a) * op(b), row-major, op(a) is [m, k].
void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, const float* a,
          const float* b, float beta, float* c) {
  if (m == 0 || n == 0) return;
  if (k == 0) {
    if (beta == 0.0f) std::fill(c, c + m * n, 0.0f);
    return;
  }
  cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
              trans_b ? CblasTrans : CblasNoTrans, static_cast<int>(m), static_cast<int>(n),
              static_cast<int>(k), 1.0f, a, static_cast<int>(trans_a ? m : k), b,
              static_cast<int>(trans_b ? k : n), beta, c, static_cast<int>(n));
}

// linear(x[..., K], W[K, N], b[N]) = x W + b.
std::vector<Tensor> linear_backward(const BackwardArgs& a) {
  const Tensor& x = a.inputs[0];
  const Tensor& w = a.inputs[1];
  const Tensor& g = a.grad_outputs[0];
  const int64_t k = w.dim(0), n = w.dim(1);
  const int64_t rows = k ? x.numel() / k : 0;
  std::vector<Tensor> grads(a.inputs.size());
  if (a.needs_grad[0]) {
    grads[0] = Tensor(DType::kF32, x.shape());
    gemm(false, true, rows, k, n, g.data<float>(), w.data<float>(), 0.0f, grads[0].data<float>());
  }
  if (a.needs_grad[1]) {
    grads[1] = Tensor(DType::kF32, w.shape());
    gemm(true, false, k, n, rows, x.data<float>(), g.data<float>(), 0.0f, grads[1].data<float>());
  }
  if (a.inputs.size() > 2 && a.inputs[2].is_valid() && a.needs_grad[2]) {
    std::vector<double> sum(static_cast<size_t>(n), 0.0);
    const float* pg = g.data<float>();
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t j = 0; j < n; ++j) sum[static_cast<size_t>(j)] += pg[r * n + j];
    Tensor db(DType::kF32, {n});
    for (int64_t j = 0; j < n; ++j)
      db.data<float>()[j] = static_cast<float>(sum[static_cast<size_t>(j)]);
    grads[2] = reduce_to_shape(db.reshaped(Shape{n}), a.inputs[2].shape());
  }
  return grads;
}

// matmul / MatMul with numpy semantics: 1-D operands gain a unit dimension (dropped from the
// result); batch dimensions broadcast.
std::vector<Tensor> matmul_backward(const BackwardArgs& args) {
  Tensor a = args.inputs[0], b = args.inputs[1];
  const Shape a_shape = a.shape(), b_shape = b.shape();
  if (a.rank() == 1) a = a.reshaped({1, a.dim(0)});
  if (b.rank() == 1) b = b.reshaped({b.dim(0), 1});
  const int64_t m = a.dim(-2), k = a.dim(-1), n = b.dim(-1);
  Shape batch_a(a.shape().begin(), a.shape().end() - 2);
  Shape batch_b(b.shape().begin(), b.shape().end() - 2);
  Shape batch = batch_a.size() >= batch_b.size() ? batch_a : batch_b;
  for (size_t i = 0; i < batch.size(); ++i) {
    auto at = [&](const Shape& s) {
      size_t lead = batch.size() - s.size();
      return i < lead ? int64_t{1} : s[i - lead];
    };
    batch[i] = std::max(at(batch_a), at(batch_b));
  }
  Shape full_a = batch, full_b = batch, full_g = batch;
  full_a.insert(full_a.end(), {m, k});
  full_b.insert(full_b.end(), {k, n});
  full_g.insert(full_g.end(), {m, n});
  Tensor fa = broadcast_to(a, full_a), fb = broadcast_to(b, full_b);
  Tensor g = args.grad_outputs[0].reshaped(full_g);
  const int64_t count = shape_numel(batch);
  std::vector<Tensor> grads(2);
  if (args.needs_grad[0]) {
    Tensor da(DType::kF32, full_a);
    for (int64_t i = 0; i < count; ++i)
      gemm(false, true, m, k, n, g.data<float>() + i * m * n, fb.data<float>() + i * k * n, 0.0f,
           da.data<float>() + i * m * k);
    Shape reduced = a.shape();
    grads[0] = reduce_to_shape(da, reduced).reshaped(a_shape);
  }
  if (args.needs_grad[1]) {
    Tensor db(DType::kF32, full_b);
    for (int64_t i = 0; i < count; ++i)
      gemm(true, false, k, n, m, fa.data<float>() + i * m * k, g.data<float>() + i * m * n, 0.0f,
           db.data<float>() + i * k * n);
    grads[1] = reduce_to_shape(db, b.shape()).reshaped(b_shape);
  }
  return grads;
}

// The window of a 1-D or 2-D conv or pool as 2-D geometry (1-D: a height of 1).
struct Window2d {
  int64_t h, w, kh, kw, sh, sw, dh, dw, ph, pw, oh, ow;
};

Window2d window_2d(const ir::Node& node, const Shape& x_shape, const Shape& kernel) {
  const size_t spatial = x_shape.size() - 2;
  if (spatial != 1 && spatial != 2)
    throw_bad_input("{}: backward supports 1-D and 2-D windows, got {} spatial axes",
                    node.describe(), spatial);
  Shape input(x_shape.begin() + 2, x_shape.end());
  ir::WindowGeometry g = ir::resolve_window(node, input, kernel);
  if (spatial == 1)
    return {1, g.input[0],     1, g.kernel[0], 1, g.strides[0],
            1, g.dilations[0], 0, g.pads[0],   1, g.output[0]};
  return {g.input[0],     g.input[1],     g.kernel[0], g.kernel[1], g.strides[0], g.strides[1],
          g.dilations[0], g.dilations[1], g.pads[0],   g.pads[1],   g.output[0],  g.output[1]};
}

// Column c = (channel, ky, kx), row o = (oy, ox) of one sample's channels.
void im2col(const float* x, int64_t channels, const Window2d& w, float* cols) {
  const int64_t spatial = w.oh * w.ow;
  for (int64_t c = 0; c < channels; ++c)
    for (int64_t ky = 0; ky < w.kh; ++ky)
      for (int64_t kx = 0; kx < w.kw; ++kx) {
        float* row = cols + ((c * w.kh + ky) * w.kw + kx) * spatial;
        for (int64_t oy = 0; oy < w.oh; ++oy) {
          int64_t iy = oy * w.sh - w.ph + ky * w.dh;
          for (int64_t ox = 0; ox < w.ow; ++ox) {
            int64_t ix = ox * w.sw - w.pw + kx * w.dw;
            bool inside = iy >= 0 && iy < w.h && ix >= 0 && ix < w.w;
            row[oy * w.ow + ox] = inside ? x[(c * w.h + iy) * w.w + ix] : 0.0f;
          }
        }
      }
}

void col2im(const float* cols, int64_t channels, const Window2d& w, float* dx) {
  const int64_t spatial = w.oh * w.ow;
  for (int64_t c = 0; c < channels; ++c)
    for (int64_t ky = 0; ky < w.kh; ++ky)
      for (int64_t kx = 0; kx < w.kw; ++kx) {
        const float* row = cols + ((c * w.kh + ky) * w.kw + kx) * spatial;
        for (int64_t oy = 0; oy < w.oh; ++oy) {
          int64_t iy = oy * w.sh - w.ph + ky * w.dh;
          if (iy < 0 || iy >= w.h) continue;
          for (int64_t ox = 0; ox < w.ow; ++ox) {
            int64_t ix = ox * w.sw - w.pw + kx * w.dw;
            if (ix >= 0 && ix < w.w) dx[(c * w.h + iy) * w.w + ix] += row[oy * w.ow + ox];
          }
        }
      }
}

// conv(x[N, C, ...], w[M, C/group, ...], b[M]).
std::vector<Tensor> conv_backward(const BackwardArgs& a) {
  const Tensor& x = a.inputs[0];
  const Tensor& w = a.inputs[1];
  const Tensor& g = a.grad_outputs[0];
  Window2d win = window_2d(a.node, x.shape(), Shape(w.shape().begin() + 2, w.shape().end()));
  const int64_t batch = x.dim(0), channels = x.dim(1), out_channels = w.dim(0);
  const int64_t group = a.node.attr_int("group", 1);
  const int64_t cg = channels / group, mg = out_channels / group;
  const int64_t patch = cg * win.kh * win.kw, spatial = win.oh * win.ow;
  std::vector<Tensor> grads(a.inputs.size());
  Tensor dx = a.needs_grad[0] ? Tensor(DType::kF32, x.shape()) : Tensor();
  Tensor dw = a.needs_grad[1] ? Tensor(DType::kF32, w.shape()) : Tensor();
  std::vector<float> cols(static_cast<size_t>(patch * spatial));
  const int64_t x_sample = channels * win.h * win.w, g_sample = out_channels * spatial;
  for (int64_t s = 0; s < batch; ++s) {
    for (int64_t gi = 0; gi < group; ++gi) {
      const float* gy = g.data<float>() + s * g_sample + gi * mg * spatial;
      const float* wg = w.data<float>() + gi * mg * patch;
      if (dw.is_valid()) {
        im2col(x.data<float>() + s * x_sample + gi * cg * win.h * win.w, cg, win, cols.data());
        gemm(false, true, mg, patch, spatial, gy, cols.data(), 1.0f,
             dw.data<float>() + gi * mg * patch);
      }
      if (dx.is_valid()) {
        gemm(true, false, patch, spatial, mg, wg, gy, 0.0f, cols.data());
        col2im(cols.data(), cg, win, dx.data<float>() + s * x_sample + gi * cg * win.h * win.w);
      }
    }
  }
  grads[0] = dx;
  grads[1] = dw;
  if (a.inputs.size() > 2 && a.inputs[2].is_valid() && a.needs_grad[2]) {
    Tensor db(DType::kF32, {out_channels});
    for (int64_t m = 0; m < out_channels; ++m) {
      double sum = 0.0;
      for (int64_t s = 0; s < batch; ++s)
        for (int64_t i = 0; i < spatial; ++i)
          sum += g.data<float>()[(s * out_channels + m) * spatial + i];
      db.data<float>()[m] = static_cast<float>(sum);
    }
    grads[2] = db;
  }
  return grads;
}

// MaxPool: the gradient goes to the first maximum of each window (scan order), as PyTorch's.
// AveragePool: spread over the window (divisor with or without the pads).
template <bool kMax>
std::vector<Tensor> pool_backward(const BackwardArgs& a) {
  const Tensor& x = a.inputs[0];
  const Tensor& g = a.grad_outputs[0];
  Window2d win = window_2d(a.node, x.shape(), {});
  const bool include_pad = a.node.attr_int("count_include_pad", 0) != 0;
  const int64_t planes = x.dim(0) * x.dim(1);
  Tensor dx(DType::kF32, x.shape());
  for (int64_t p = 0; p < planes; ++p) {
    const float* in = x.data<float>() + p * win.h * win.w;
    const float* gy = g.data<float>() + p * win.oh * win.ow;
    float* out = dx.data<float>() + p * win.h * win.w;
    for (int64_t oy = 0; oy < win.oh; ++oy)
      for (int64_t ox = 0; ox < win.ow; ++ox) {
        int64_t best = -1, count = 0;
        float best_value = -std::numeric_limits<float>::infinity();
        for (int pass = 0; pass < (kMax ? 1 : 2); ++pass)
          for (int64_t ky = 0; ky < win.kh; ++ky)
            for (int64_t kx = 0; kx < win.kw; ++kx) {
              int64_t iy = oy * win.sh - win.ph + ky * win.dh;
              int64_t ix = ox * win.sw - win.pw + kx * win.dw;
              bool inside = iy >= 0 && iy < win.h && ix >= 0 && ix < win.w;
              if constexpr (kMax) {
                if (inside && (best < 0 || in[iy * win.w + ix] > best_value)) {
                  best = iy * win.w + ix;
                  best_value = in[best];
                }
              } else if (pass == 0) {
                count += inside || (include_pad && iy < win.h + win.ph && ix < win.w + win.pw);
              } else if (inside) {
                out[iy * win.w + ix] += gy[oy * win.ow + ox] / static_cast<float>(count);
              }
            }
        if (kMax && best >= 0) out[best] += gy[oy * win.ow + ox];
      }
  }
  return {dx};
}

std::vector<Tensor> global_average_pool_backward(const BackwardArgs& a) {
  const Tensor& x = a.inputs[0];
  const int64_t planes = x.dim(0) * x.dim(1);
  const int64_t size = planes ? x.numel() / planes : 0;
  Tensor dx(DType::kF32, x.shape());
  for (int64_t p = 0; p < planes; ++p)
    for (int64_t i = 0; i < size; ++i)
      dx.data<float>()[p * size + i] =
          a.grad_outputs[0].data<float>()[p] / static_cast<float>(size);
  return {dx};
}

// layer_norm over axes [axis, rank): y = (x - mean) * r * scale + bias, r = 1/sqrt(var + eps).
std::vector<Tensor> layer_norm_backward(const BackwardArgs& a) {
  const Tensor& x = a.inputs[0];
  const Tensor& g = a.grad_outputs[0];
  const int64_t axis = a.node.attr_int("axis", -1) < 0 ? x.rank() + a.node.attr_int("axis", -1)
                                                       : a.node.attr_int("axis", -1);
  const double epsilon = a.node.attr_float("epsilon", 1e-5);
  Shape normalized(x.shape().begin() + axis, x.shape().end());
  const int64_t inner = shape_numel(normalized);
  const int64_t outer = inner ? x.numel() / inner : 0;
  Tensor scale = broadcast_to(a.inputs[1], normalized);
  const float* px = x.data<float>();
  const float* pg = g.data<float>();
  const float* ps = scale.data<float>();
  Tensor dx(DType::kF32, x.shape());
  std::vector<double> dscale(static_cast<size_t>(inner), 0.0),
      dbias(static_cast<size_t>(inner), 0.0);
  std::vector<double> xhat(static_cast<size_t>(inner));
  for (int64_t r = 0; r < outer; ++r) {
    const float* row = px + r * inner;
    const float* grow = pg + r * inner;
    double mean = 0.0, var = 0.0;
    for (int64_t i = 0; i < inner; ++i) mean += row[i];
    mean /= static_cast<double>(inner);
    for (int64_t i = 0; i < inner; ++i) var += (row[i] - mean) * (row[i] - mean);
    var /= static_cast<double>(inner);
    const double inv_std = 1.0 / std::sqrt(var + epsilon);
    double mean_d = 0.0, mean_dx = 0.0;
    for (int64_t i = 0; i < inner; ++i) {
      auto k = static_cast<size_t>(i);
      xhat[k] = (row[i] - mean) * inv_std;
      double d = double{grow[i]} * ps[i];
      mean_d += d;
      mean_dx += d * xhat[k];
      dscale[k] += double{grow[i]} * xhat[k];
      dbias[k] += grow[i];
    }
    mean_d /= static_cast<double>(inner);
    mean_dx /= static_cast<double>(inner);
    float* out = dx.data<float>() + r * inner;
    for (int64_t i = 0; i < inner; ++i) {
      auto k = static_cast<size_t>(i);
      out[i] = static_cast<float>(inv_std * (double{grow[i]} * ps[i] - mean_d - xhat[k] * mean_dx));
    }
  }
  auto to_tensor = [&](const std::vector<double>& v, const Shape& shape) {
    Tensor t(DType::kF32, normalized);
    for (int64_t i = 0; i < inner; ++i)
      t.data<float>()[i] = static_cast<float>(v[static_cast<size_t>(i)]);
    return reduce_to_shape(t, shape);
  };
  std::vector<Tensor> grads(a.inputs.size());
  grads[0] = dx;
  if (a.needs_grad[1]) grads[1] = to_tensor(dscale, a.inputs[1].shape());
  if (a.inputs.size() > 2 && a.inputs[2].is_valid() && a.needs_grad[2])
    grads[2] = to_tensor(dbias, a.inputs[2].shape());
  return grads;
}

// Softmax: dx = y (g - Σ g y); LogSoftmax: dx = g - softmax(x) Σ g; along `axis`.
template <bool kLog>
std::vector<Tensor> softmax_backward(const BackwardArgs& a) {
  const Tensor& y = a.outputs[0];
  const Tensor& g = a.grad_outputs[0];
  int64_t axis = a.node.attr_int("axis", -1);
  if (axis < 0) axis += y.rank();
  const int64_t n = y.dim(axis);
  const int64_t inner = shape_numel(Shape(y.shape().begin() + axis + 1, y.shape().end()));
  const int64_t outer = n * inner != 0 ? y.numel() / (n * inner) : 0;
  Tensor dx(DType::kF32, y.shape());
  const float* py = y.data<float>();
  const float* pg = g.data<float>();
  float* pd = dx.data<float>();
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      const int64_t base = o * n * inner + i;
      double sum = 0.0;
      for (int64_t j = 0; j < n; ++j)
        sum += kLog ? double{pg[base + j * inner]}
                    : double{pg[base + j * inner]} * py[base + j * inner];
      for (int64_t j = 0; j < n; ++j) {
        const int64_t at = base + j * inner;
        pd[at] = kLog ? static_cast<float>(pg[at] - std::exp(double{py[at]}) * sum)
                      : static_cast<float>(py[at] * (pg[at] - sum));
      }
    }
  return {dx};
}

// gelu: d/dx of 0.5 x (1 + erf(x/√2)) = Φ(x) + x φ(x); the tanh form's own derivative.
std::vector<Tensor> gelu_backward(const BackwardArgs& a) {
  const bool use_tanh = a.node.attr_string("approximate", "none") == "tanh";
  const Tensor& x = a.inputs[0];
  Tensor dx(DType::kF32, x.shape());
  const float* px = x.data<float>();
  const float* pg = a.grad_outputs[0].data<float>();
  const double c = std::numbers::sqrt2 * std::numbers::inv_sqrtpi;  // √(2/π)
  float* pd = dx.data<float>();
  parallel_for(0, x.numel(), 4096, [&](int64_t i) {
    const double v = px[i];
    double d;
    if (use_tanh) {
      double t = std::tanh(c * (v + 0.044715 * v * v * v));
      d = 0.5 * (1.0 + t) + 0.5 * v * (1.0 - t * t) * c * (1.0 + 3.0 * 0.044715 * v * v);
    } else {
      d = 0.5 * (1.0 + std::erf(v / std::numbers::sqrt2)) + v * std::exp(-0.5 * v * v) * 0.5 * c;
    }
    pd[i] = static_cast<float>(pg[i] * d);
  });
  return {dx};
}

}  // namespace

void register_nn_backward(BackwardRegistry& registry) {
  registry.add("linear", {linear_backward, {0, 1, 2}});
  registry.add("matmul", {matmul_backward, {0, 1}});
  registry.add("MatMul", {matmul_backward, {0, 1}});
  registry.add("conv", {conv_backward, {0, 1, 2}});
  registry.add("MaxPool", {pool_backward<true>, {0}});
  registry.add("AveragePool", {pool_backward<false>, {0}});
  registry.add("GlobalAveragePool", {global_average_pool_backward, {0}});
  registry.add("layer_norm", {layer_norm_backward, {0, 1, 2}});
  registry.add("LayerNormalization", {layer_norm_backward, {0, 1, 2}});
  registry.add("Softmax", {softmax_backward<false>, {0}});
  registry.add("LogSoftmax", {softmax_backward<true>, {0}});
  registry.add("gelu", {gelu_backward, {0}});
}

}  // namespace aimc::train
