// Normalisation kernels (BatchNormalization, InstanceNormalization, LayerNormalization),
// Softmax / LogSoftmax and GELU. Statistics accumulate in double with a two-pass variance,
// and softmax subtracts the maximum first, so results match ONNX's and PyTorch's closely.
#include <immintrin.h>

#include <cmath>
#include <numbers>

#include "aimc/core/parallel.h"
#include "aimc/runtime/nn_kernels.h"

namespace aimc::runtime::nn {

namespace {

// Below this many elements of work a loop stays on one thread.
constexpr int64_t kSerialWork = 16384;

int64_t grain_for(int64_t work_per_item) {
  return std::max<int64_t>(1, kSerialWork / std::max<int64_t>(1, work_per_item));
}

// A per-channel parameter of shape [channels].
const Tensor& channel_param(const ir::Node& node, const std::vector<Tensor>& inputs, size_t i,
                            int64_t channels) {
  const Tensor& p = f32_input(node, inputs, i);
  if (p.rank() != 1 || p.dim(0) != channels)
    throw_bad_input("{}: input {} must have shape [{}] (one value per channel), got {}",
                    node.describe(), i, channels, shape_str(p.shape()));
  return p;
}

// Mean and 1 / sqrt(variance + epsilon) of n values with stride 1, two-pass in double.
struct Moments {
  double mean;
  double inv_std;
};
Moments moments(const float* x, int64_t n, double epsilon) {
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) sum += x[i];
  double mean = sum / static_cast<double>(n);
  double squares = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    double d = x[i] - mean;
    squares += d * d;
  }
  double variance = squares / static_cast<double>(n);
  return {mean, 1.0 / std::sqrt(variance + epsilon)};
}

// x[N, C, ...], scale/bias/mean/var [C] -> y[N, C, ...] (inference)
std::vector<Tensor> batch_norm_forward(const ir::Node& node, const std::vector<Tensor>& inputs) {
  if (node.attr_int("training_mode", 0) != 0)
    throw_bad_input("{}: training_mode=1 is not supported (inference only)", node.describe());
  const Tensor& x = f32_input(node, inputs, 0);
  if (x.rank() < 2)
    throw_bad_input("{}: input must be [N, C, ...], got {}", node.describe(), shape_str(x.shape()));
  int64_t channels = x.dim(1);
  const float* scale = channel_param(node, inputs, 1, channels).data<float>();
  const float* bias = channel_param(node, inputs, 2, channels).data<float>();
  const float* mean = channel_param(node, inputs, 3, channels).data<float>();
  const float* var = channel_param(node, inputs, 4, channels).data<float>();
  double epsilon = node.attr_float("epsilon", 1e-5);
  Tensor y(DType::kF32, x.shape());
  int64_t plane_size = x.numel() / std::max<int64_t>(1, x.dim(0) * channels);
  const float* px = x.data<float>();
  float* py = y.data<float>();
  parallel_for(0, x.dim(0) * channels, grain_for(plane_size), [&](int64_t plane) {
    int64_t c = plane % channels;
    auto gain = static_cast<float>(scale[c] / std::sqrt(static_cast<double>(var[c]) + epsilon));
    const float* in = px + plane * plane_size;
    float* out = py + plane * plane_size;
    for (int64_t i = 0; i < plane_size; ++i) out[i] = (in[i] - mean[c]) * gain + bias[c];
  });
  return {y};
}

// x[N, C, D...], scale/bias [C] -> y: each (n, c) plane normalised over its D... values
std::vector<Tensor> instance_norm_forward(const ir::Node& node, const std::vector<Tensor>& inputs) {
  const Tensor& x = f32_input(node, inputs, 0);
  if (x.rank() < 3)
    throw_bad_input("{}: input must be [N, C, D1, ...], got {}", node.describe(),
                    shape_str(x.shape()));
  int64_t channels = x.dim(1);
  const float* scale = channel_param(node, inputs, 1, channels).data<float>();
  const float* bias = channel_param(node, inputs, 2, channels).data<float>();
  double epsilon = node.attr_float("epsilon", 1e-5);
  Tensor y(DType::kF32, x.shape());
  int64_t plane_size = x.numel() / std::max<int64_t>(1, x.dim(0) * channels);
  if (plane_size == 0) return {y};
  const float* px = x.data<float>();
  float* py = y.data<float>();
  parallel_for(0, x.dim(0) * channels, grain_for(plane_size), [&](int64_t plane) {
    int64_t c = plane % channels;
    const float* in = px + plane * plane_size;
    float* out = py + plane * plane_size;
    Moments m = moments(in, plane_size, epsilon);
    for (int64_t i = 0; i < plane_size; ++i)
      out[i] = static_cast<float>((in[i] - m.mean) * m.inv_std * scale[c] + bias[c]);
  });
  return {y};
}

// The values of p broadcast (one way, numpy rules) to `target`, flattened row-major.
std::vector<float> expand_to(const ir::Node& node, const Tensor& p, const Shape& target,
                             const char* what) {
  const Shape& shape = p.shape();
  bool fits = shape.size() <= target.size();
  size_t lead = target.size() - std::min(shape.size(), target.size());
  for (size_t i = 0; fits && i < shape.size(); ++i)
    fits = shape[i] == 1 || shape[i] == target[lead + i];
  if (p.dtype() != DType::kF32 || !fits)
    throw_bad_input("{}: {} ({} {}) does not broadcast to the normalised shape {}", node.describe(),
                    what, dtype_name(p.dtype()), shape_str(shape), shape_str(target));
  Shape own = shape_strides(shape);
  Shape strides(target.size(), 0);
  for (size_t i = 0; i < shape.size(); ++i) strides[lead + i] = shape[i] == 1 ? 0 : own[i];
  int64_t count = shape_numel(target);
  std::vector<float> out(static_cast<size_t>(count));
  const float* pp = p.data<float>();
  for (int64_t flat = 0; flat < count; ++flat) {
    int64_t rest = flat, offset = 0;
    for (size_t i = target.size(); i-- > 0;) {
      offset += rest % target[i] * strides[i];
      rest /= target[i];
    }
    out[static_cast<size_t>(flat)] = pp[offset];
  }
  return out;
}

// x[outer..., inner...] (split at axis), scale/bias broadcast to [inner...] ->
// y like x; mean, inv_std_dev [outer..., 1...] when the node asks for them
std::vector<Tensor> layer_norm_forward(const ir::Node& node, const std::vector<Tensor>& inputs) {
  const Tensor& x = f32_input(node, inputs, 0);
  if (x.rank() < 1) throw_bad_input("{}: input must have rank >= 1", node.describe());
  int64_t axis = normalize_axis(node, node.attr_int("axis", -1), x.rank());
  double epsilon = node.attr_float("epsilon", 1e-5);
  Shape normalized(x.shape().begin() + axis, x.shape().end());
  int64_t inner = shape_numel(normalized);
  int64_t outer = shape_numel(Shape(x.shape().begin(), x.shape().begin() + axis));
  std::vector<float> scale = expand_to(node, f32_input(node, inputs, 1), normalized, "scale");
  const Tensor& bias_input = optional_input(inputs, 2);
  std::vector<float> bias = bias_input.is_valid()
                                ? expand_to(node, bias_input, normalized, "bias")
                                : std::vector<float>(static_cast<size_t>(inner), 0.0f);
  Tensor y(DType::kF32, x.shape());
  Shape stats_shape(x.shape().begin(), x.shape().begin() + axis);
  stats_shape.resize(x.shape().size(), 1);
  Tensor mean(DType::kF32, stats_shape);
  Tensor inv_std(DType::kF32, stats_shape);
  std::vector<Tensor> outputs = {y, mean, inv_std};
  outputs.resize(std::max<size_t>(1, std::min<size_t>(3, node.outputs.size())));
  if (inner == 0) return outputs;
  const float* px = x.data<float>();
  float* py = y.data<float>();
  float* pmean = mean.data<float>();
  float* pinv = inv_std.data<float>();
  parallel_for(0, outer, grain_for(inner), [&](int64_t row) {
    const float* in = px + row * inner;
    float* out = py + row * inner;
    Moments m = moments(in, inner, epsilon);
    for (int64_t i = 0; i < inner; ++i) {
      auto normalized_value = static_cast<float>((in[i] - m.mean) * m.inv_std);
      out[i] = normalized_value * scale[static_cast<size_t>(i)] + bias[static_cast<size_t>(i)];
    }
    pmean[row] = static_cast<float>(m.mean);
    pinv[row] = static_cast<float>(m.inv_std);
  });
  return outputs;
}

// x[outer, n, inner] -> y: softmax (or log-softmax) along the middle axis
template <bool kLog>
std::vector<Tensor> softmax_forward(const ir::Node& node, const std::vector<Tensor>& inputs) {
  const Tensor& x = f32_input(node, inputs, 0);
  if (x.rank() < 1) throw_bad_input("{}: input must have rank >= 1", node.describe());
  int64_t axis = normalize_axis(node, node.attr_int("axis", -1), x.rank());
  int64_t n = x.dim(axis);
  int64_t inner = shape_numel(Shape(x.shape().begin() + axis + 1, x.shape().end()));
  int64_t outer = shape_numel(Shape(x.shape().begin(), x.shape().begin() + axis));
  Tensor y(DType::kF32, x.shape());
  if (n == 0) return {y};
  const float* px = x.data<float>();
  float* py = y.data<float>();
  parallel_for(0, outer * inner, grain_for(n), [&](int64_t line) {
    // One line of n values, `inner` apart.
    const float* in = px + line / inner * n * inner + line % inner;
    float* out = py + (in - px);
    float max = in[0];
    for (int64_t i = 1; i < n; ++i) max = std::max(max, in[i * inner]);
    if constexpr (kLog) {
      double sum = 0.0;
      for (int64_t i = 0; i < n; ++i) sum += std::exp(static_cast<double>(in[i * inner] - max));
      double log_sum = std::log(sum);
      for (int64_t i = 0; i < n; ++i)
        out[i * inner] = static_cast<float>(static_cast<double>(in[i * inner] - max) - log_sum);
    } else {
      // exp once per element in float (glibc's expf is correctly rounded in practice), the
      // sum in double.
      double sum = 0.0;
      for (int64_t i = 0; i < n; ++i) {
        const float e = std::exp(in[i * inner] - max);
        out[i * inner] = e;
        sum += e;
      }
      const float inv_sum = static_cast<float>(1.0 / sum);
      for (int64_t i = 0; i < n; ++i) out[i * inner] *= inv_sum;
    }
  });
  return {y};
}

// GELU's erf, 8 floats at a time, through glibc's vector math library (libmvec's
// _ZGVdN8v_erff, the AVX2 variant of erff; glibc documents its error as a few ulp). Returns
// the index where it stopped: `begin` when the CPU has no AVX2, else after the last full
// group of 8. Results still never depend on the thread count: chunks are fixed.
extern "C" __attribute__((target("avx2"))) __m256 _ZGVdN8v_erff(__m256 x);

__attribute__((target("avx2"))) int64_t gelu_erf_avx2_impl(const float* x, float* y, int64_t begin,
                                                           int64_t end) {
  const __m256 inv_sqrt2 = _mm256_set1_ps(static_cast<float>(1.0 / std::numbers::sqrt2));
  const __m256 half = _mm256_set1_ps(0.5f), one = _mm256_set1_ps(1.0f);
  int64_t i = begin;
  for (; i + 8 <= end; i += 8) {
    __m256 v = _mm256_loadu_ps(x + i);
    __m256 e = _ZGVdN8v_erff(_mm256_mul_ps(v, inv_sqrt2));
    _mm256_storeu_ps(y + i, _mm256_mul_ps(_mm256_mul_ps(half, v), _mm256_add_ps(one, e)));
  }
  return i;
}

int64_t gelu_erf_avx2(const float* x, float* y, int64_t begin, int64_t end) {
  static const bool has_avx2 = __builtin_cpu_supports("avx2");
  return has_avx2 ? gelu_erf_avx2_impl(x, y, begin, end) : begin;
}

// x -> 0.5 x (1 + erf(x / sqrt 2)), or with approximate = "tanh"
// 0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3)))
std::vector<Tensor> gelu_forward(const ir::Node& node, const std::vector<Tensor>& inputs) {
  const Tensor& x = f32_input(node, inputs, 0);
  std::string approximate = node.attr_string("approximate", "none");
  if (approximate != "none" && approximate != "tanh")
    throw_bad_input("{}: approximate must be 'none' or 'tanh', got '{}'", node.describe(),
                    approximate);
  bool use_tanh = approximate == "tanh";
  Tensor y(DType::kF32, x.shape());
  const float* px = x.data<float>();
  float* py = y.data<float>();
  constexpr int64_t kChunk = 4096;
  int64_t numel = x.numel();
  parallel_for(0, (numel + kChunk - 1) / kChunk, 4, [&](int64_t chunk) {
    int64_t end = std::min(numel, (chunk + 1) * kChunk);
    constexpr float kInvSqrt2 = static_cast<float>(1.0 / std::numbers::sqrt2);
    constexpr float kSqrt2OverPi =
        static_cast<float>(std::numbers::sqrt2 * std::numbers::inv_sqrtpi);
    int64_t i = chunk * kChunk;
    if (!use_tanh) i = gelu_erf_avx2(px, py, i, end);  // the whole chunk where AVX2 exists
    for (; i < end; ++i) {
      float v = px[i];
      float inner = use_tanh ? std::tanh(kSqrt2OverPi * (v + 0.044715f * v * v * v))
                             : std::erf(v * kInvSqrt2);
      py[i] = 0.5f * v * (1.0f + inner);
    }
  });
  return {y};
}

}  // namespace

void register_norm_kernels(KernelRegistry& registry) {
  registry.add("BatchNormalization", batch_norm_forward);
  registry.add("InstanceNormalization", instance_norm_forward);
  registry.add("LayerNormalization", layer_norm_forward);
  registry.add("layer_norm", layer_norm_forward);
  registry.add("Softmax", softmax_forward<false>);
  registry.add("LogSoftmax", softmax_forward<true>);
  registry.add("gelu", gelu_forward);
}

}  // namespace aimc::runtime::nn
