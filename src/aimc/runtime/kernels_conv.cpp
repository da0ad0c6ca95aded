// Convolution and pooling kernels for 1-, 2- and 3-d inputs. Every window is handled as 3-d:
// missing leading spatial axes have size 1, so one loop nest serves all ranks.
// Convolution is im2col + OpenBLAS sgemm per (sample, group), or a direct loop for depthwise
// convolution where a GEMM would have a single row.
#include <algorithm>
#include <array>
#include <cmath>
#include <limits>

#include "aimc/core/parallel.h"
#include "aimc/ir/conv_geometry.h"
#include "aimc/runtime/nn_kernels.h"

namespace aimc::runtime::nn {

namespace {

constexpr size_t kMaxSpatialRank = 3;

// A window over [D, H, W]; axes the input lacks have size 1, kernel 1, stride 1 and no pads.
struct Window3d {
  std::array<int64_t, 3> in{1, 1, 1}, kernel{1, 1, 1}, stride{1, 1, 1}, dilation{1, 1, 1};
  std::array<int64_t, 3> pad_begin{0, 0, 0}, pad_end{0, 0, 0}, out{1, 1, 1};

  int64_t in_volume() const { return in[0] * in[1] * in[2]; }
  int64_t out_volume() const { return out[0] * out[1] * out[2]; }
  int64_t kernel_volume() const { return kernel[0] * kernel[1] * kernel[2]; }
  // Input coordinate along `axis` read by output position o and kernel tap k (may be outside).
  int64_t input_pos(size_t axis, int64_t o, int64_t k) const {
    return o * stride[axis] - pad_begin[axis] + k * dilation[axis];
  }
  bool inside(size_t axis, int64_t pos) const { return pos >= 0 && pos < in[axis]; }
};

Window3d to_3d(const ir::Node& node, const ir::WindowGeometry& g) {
  size_t rank = g.rank();
  if (rank > kMaxSpatialRank)
    throw_bad_input("{}: {} spatial axes; at most {} are supported", node.describe(), rank,
                    kMaxSpatialRank);
  Window3d w;
  size_t lead = kMaxSpatialRank - rank;
  for (size_t i = 0; i < rank; ++i) {
    w.in[lead + i] = g.input[i];
    w.kernel[lead + i] = g.kernel[i];
    w.stride[lead + i] = g.strides[i];
    w.dilation[lead + i] = g.dilations[i];
    w.pad_begin[lead + i] = g.pads[i];
    w.pad_end[lead + i] = g.pads[rank + i];
    w.out[lead + i] = g.output[i];
  }
  return w;
}

Shape spatial_of(const Shape& shape) {
  return Shape(shape.begin() + 2, shape.end());
}

// [N, C] followed by the window's output sizes.
Shape pooled_shape(const Tensor& x, const ir::WindowGeometry& g) {
  Shape out = {x.dim(0), x.dim(1)};
  out.insert(out.end(), g.output.begin(), g.output.end());
  return out;
}

const Tensor& spatial_input(const ir::Node& node, const std::vector<Tensor>& inputs) {
  const Tensor& x = f32_input(node, inputs, 0);
  if (x.rank() < 3)
    throw_bad_input("{}: input must be [N, C, D1, ...], got {}", node.describe(),
                    shape_str(x.shape()));
  return x;
}

// x[samples][channels, D, H, W] (samples `sample_stride` apart) ->
// cols[samples][channels * kd * kh * kw, od * oh * ow]
void im2col(const float* x, int64_t sample_stride, int64_t samples, const Window3d& w,
            int64_t channels, float* cols) {
  int64_t kernel_volume = w.kernel_volume();
  int64_t in_volume = w.in_volume();
  int64_t out_volume = w.out_volume();
  int64_t rows = channels * kernel_volume;
  parallel_for(0, rows * samples, 8, [&](int64_t task) {
    int64_t row = task / samples, sample = task % samples;
    int64_t kx = row % w.kernel[2];
    int64_t ky = row / w.kernel[2] % w.kernel[1];
    int64_t kz = row / (w.kernel[2] * w.kernel[1]) % w.kernel[0];
    const float* xc = x + sample * sample_stride + row / kernel_volume * in_volume;
    float* out = cols + (sample * rows + row) * out_volume;
    for (int64_t oz = 0; oz < w.out[0]; ++oz) {
      int64_t iz = w.input_pos(0, oz, kz);
      for (int64_t oy = 0; oy < w.out[1]; ++oy) {
        int64_t iy = w.input_pos(1, oy, ky);
        float* out_row = out + (oz * w.out[1] + oy) * w.out[2];
        if (!w.inside(0, iz) || !w.inside(1, iy)) {
          std::fill(out_row, out_row + w.out[2], 0.0f);
          continue;
        }
        const float* x_row = xc + (iz * w.in[1] + iy) * w.in[2];
        for (int64_t ox = 0; ox < w.out[2]; ++ox) {
          int64_t ix = w.input_pos(2, ox, kx);
          out_row[ox] = w.inside(2, ix) ? x_row[ix] : 0.0f;
        }
      }
    }
  });
}

// One output plane of a convolution with a single input channel:
// x[D, H, W] * kernel[kd, kh, kw] -> y[od, oh, ow]. Each output row accumulates the taps in
// (kz, ky, kx) order, a tap at a time over the run of outputs whose input lies inside the
// plane, so the inner loop is a contiguous (stride 1) or strided multiply-add the compiler
// vectorises (8 lanes where the CPU has AVX2); every output element sums its taps in the same
// order as a per-element loop, so both clones give the same bits.
__attribute__((target_clones("avx2", "default"))) void direct_conv_plane(const float* x,
                                                                         const float* kernel,
                                                                         const Window3d& w,
                                                                         float* y) {
  const int64_t sx = w.stride[2], dx = w.dilation[2], px = w.pad_begin[2];
  for (int64_t oz = 0; oz < w.out[0]; ++oz) {
    for (int64_t oy = 0; oy < w.out[1]; ++oy) {
      float* y_row = y + (oz * w.out[1] + oy) * w.out[2];
      std::fill(y_row, y_row + w.out[2], 0.0f);
      for (int64_t kz = 0; kz < w.kernel[0]; ++kz) {
        int64_t iz = w.input_pos(0, oz, kz);
        if (!w.inside(0, iz)) continue;
        for (int64_t ky = 0; ky < w.kernel[1]; ++ky) {
          int64_t iy = w.input_pos(1, oy, ky);
          if (!w.inside(1, iy)) continue;
          const float* x_row = x + (iz * w.in[1] + iy) * w.in[2];
          const float* k_row = kernel + (kz * w.kernel[1] + ky) * w.kernel[2];
          for (int64_t kx = 0; kx < w.kernel[2]; ++kx) {
            // Outputs ox with 0 <= ox * sx - px + kx * dx < in: [lo, hi).
            int64_t offset = kx * dx - px;
            int64_t lo = offset >= 0 ? 0 : (-offset + sx - 1) / sx;
            int64_t hi = w.in[2] - offset <= 0 ? 0 : (w.in[2] - offset + sx - 1) / sx;
            hi = std::min(hi, w.out[2]);
            const float k = k_row[kx];
            if (sx == 1) {
              for (int64_t ox = lo; ox < hi; ++ox) y_row[ox] += x_row[ox + offset] * k;
            } else {
              for (int64_t ox = lo; ox < hi; ++ox) y_row[ox] += x_row[ox * sx + offset] * k;
            }
          }
        }
      }
    }
  }
}

// Target size of the im2col buffer, in floats (4 MiB): a chunk of samples whose columns stay
// in cache; a larger sample gets a buffer of its own.
constexpr int64_t kColumnBufferFloats = int64_t{1} << 20;

// x[N, C, D...] * w[M, C/group, k...] -> y[N, M, O...] without bias: per group, im2col of a
// chunk of samples in one parallel region, then per sample
// y[Mg, O] = w_g[Mg, Cg * k] * cols[Cg * k, O] with OpenBLAS. Parallel regions are kept few:
// each costs a wake-up of the pool's threads.
void conv_im2col(const float* x, const float* w, int64_t batch, int64_t in_channels,
                 int64_t out_channels, int64_t group, const Window3d& win, float* y) {
  int64_t channels_per_group = in_channels / group;
  int64_t outputs_per_group = out_channels / group;
  int64_t col_rows = channels_per_group * win.kernel_volume();
  int64_t in_volume = win.in_volume();
  int64_t out_volume = win.out_volume();
  int64_t sample_cols = col_rows * out_volume;
  int64_t chunk = std::clamp<int64_t>(kColumnBufferFloats / std::max<int64_t>(1, sample_cols), 1,
                                      std::max<int64_t>(1, batch));
  std::vector<float> cols(static_cast<size_t>(sample_cols * chunk));
  for (int64_t start = 0; start < batch; start += chunk) {
    int64_t samples = std::min(chunk, batch - start);
    for (int64_t g = 0; g < group; ++g) {
      im2col(x + (start * in_channels + g * channels_per_group) * in_volume,
             in_channels * in_volume, samples, win, channels_per_group, cols.data());
      for (int64_t s = 0; s < samples; ++s) {
        sgemm(false, false, outputs_per_group, out_volume, col_rows, 1.0f,
              w + g * outputs_per_group * col_rows, cols.data() + s * sample_cols, 0.0f,
              y + ((start + s) * out_channels + g * outputs_per_group) * out_volume);
      }
    }
  }
}

// x[N, C, D...] * w[M, C/group, k...] + bias[M] -> y[N, M, O...]
std::vector<Tensor> conv_forward(const ir::Node& node, const std::vector<Tensor>& inputs) {
  const Tensor& x = spatial_input(node, inputs);
  const Tensor& w = f32_input(node, inputs, 1);
  const Tensor& bias = optional_input(inputs, 2);
  int64_t group = node.attr_int("group", 1);
  int64_t batch = x.dim(0), in_channels = x.dim(1);
  if (w.rank() != x.rank())
    throw_bad_input("{}: weight {} and input {} differ in rank", node.describe(),
                    shape_str(w.shape()), shape_str(x.shape()));
  int64_t out_channels = w.dim(0);
  if (group < 1 || in_channels % group != 0 || out_channels % group != 0 ||
      w.dim(1) != in_channels / group)
    throw_bad_input(
        "{}: input {} and weight {} do not fit group = {} (weight must be [M, C/group, k...])",
        node.describe(), shape_str(x.shape()), shape_str(w.shape()), group);
  if (bias.is_valid() &&
      (bias.dtype() != DType::kF32 || bias.rank() != 1 || bias.dim(0) != out_channels))
    throw_bad_input("{}: bias must be f32 [{}], got {} {}", node.describe(), out_channels,
                    dtype_name(bias.dtype()), shape_str(bias.shape()));
  ir::WindowGeometry geometry =
      ir::resolve_window(node, spatial_of(x.shape()), spatial_of(w.shape()));
  Window3d win = to_3d(node, geometry);
  Shape out_shape = {batch, out_channels};
  out_shape.insert(out_shape.end(), geometry.output.begin(), geometry.output.end());
  Tensor y(DType::kF32, out_shape);

  const float* px = x.data<float>();
  const float* pw = w.data<float>();
  float* py = y.data<float>();
  int64_t channels_per_group = in_channels / group;
  int64_t outputs_per_group = out_channels / group;
  int64_t in_volume = win.in_volume();
  int64_t out_volume = win.out_volume();
  int64_t kernel_volume = win.kernel_volume();

  if (channels_per_group == 1 && group > 1) {
    // Depthwise: each output plane reads one input plane; a GEMM would have one row.
    parallel_for(0, batch * out_channels, 1, [&](int64_t plane) {
      int64_t n = plane / out_channels, m = plane % out_channels;
      const float* x_plane = px + (n * in_channels + m / outputs_per_group) * in_volume;
      direct_conv_plane(x_plane, pw + m * kernel_volume, win, py + plane * out_volume);
    });
  } else if (kernel_volume == 1 && win.out == win.in &&
             win.pad_begin == std::array<int64_t, 3>{0, 0, 0} &&
             win.pad_end == std::array<int64_t, 3>{0, 0, 0}) {
    // A 1x1 convolution with stride 1 and no pads is a GEMM on the input as it is.
    for (int64_t n = 0; n < batch; ++n) {
      for (int64_t g = 0; g < group; ++g) {
        sgemm(false, false, outputs_per_group, out_volume, channels_per_group, 1.0f,
              pw + g * outputs_per_group * channels_per_group,
              px + (n * in_channels + g * channels_per_group) * in_volume, 0.0f,
              py + (n * out_channels + g * outputs_per_group) * out_volume);
      }
    }
  } else {
    conv_im2col(px, pw, batch, in_channels, out_channels, group, win, py);
  }
  if (bias.is_valid()) {
    const float* pb = bias.data<float>();
    parallel_for(0, batch * out_channels, 16, [&](int64_t plane) {
      float b = pb[plane % out_channels];
      float* out = py + plane * out_volume;
      for (int64_t i = 0; i < out_volume; ++i) out[i] += b;
    });
  }
  return {y};
}

// Window maxima of every [D, H, W] plane of x (planes of y follow in the same order); indices
// (optional, may be null) gets the flat index of each maximum in x, its spatial part
// column-major when storage_order = 1.
template <typename T>
void max_pool_planes(const T* x, int64_t planes, const Window3d& win, int64_t storage_order, T* y,
                     int64_t* indices) {
  int64_t in_volume = win.in_volume(), out_volume = win.out_volume();
  parallel_for(0, planes, 1, [&](int64_t plane) {
    const T* x_plane = x + plane * in_volume;
    for (int64_t oz = 0; oz < win.out[0]; ++oz) {
      for (int64_t oy = 0; oy < win.out[1]; ++oy) {
        for (int64_t ox = 0; ox < win.out[2]; ++ox) {
          // A window lying wholly in the pads (possible with dilation) gives the lowest value.
          T best = std::numeric_limits<T>::has_infinity ? -std::numeric_limits<T>::infinity()
                                                        : std::numeric_limits<T>::lowest();
          bool found = false;
          int64_t best_z = 0, best_y = 0, best_x = 0;
          for (int64_t kz = 0; kz < win.kernel[0]; ++kz) {
            int64_t iz = win.input_pos(0, oz, kz);
            if (!win.inside(0, iz)) continue;
            for (int64_t ky = 0; ky < win.kernel[1]; ++ky) {
              int64_t iy = win.input_pos(1, oy, ky);
              if (!win.inside(1, iy)) continue;
              for (int64_t kx = 0; kx < win.kernel[2]; ++kx) {
                int64_t ix = win.input_pos(2, ox, kx);
                if (!win.inside(2, ix)) continue;
                T v = x_plane[(iz * win.in[1] + iy) * win.in[2] + ix];
                if (!found || v > best) best = v, best_z = iz, best_y = iy, best_x = ix;
                found = true;
              }
            }
          }
          int64_t out_index = plane * out_volume + (oz * win.out[1] + oy) * win.out[2] + ox;
          y[out_index] = best;
          if (indices) {
            int64_t spatial = storage_order == 0
                                  ? (best_z * win.in[1] + best_y) * win.in[2] + best_x
                                  : best_z + win.in[0] * (best_y + win.in[1] * best_x);
            indices[out_index] = plane * in_volume + spatial;
          }
        }
      }
    }
  });
}

// x[N, C, D...] (f32, i8 or u8) -> y[N, C, O...] max over each window, indices[N, C, O...]
// (i64, when the node asks for it)
std::vector<Tensor> max_pool_forward(const ir::Node& node, const std::vector<Tensor>& inputs) {
  if (inputs.empty() || !inputs[0].is_valid())
    throw_bad_input("{}: required input 0 is missing", node.describe());
  const Tensor& x = inputs[0];
  if (x.rank() < 3)
    throw_bad_input("{}: input must be [N, C, D1, ...], got {}", node.describe(),
                    shape_str(x.shape()));
  ir::WindowGeometry geometry = ir::resolve_window(node, spatial_of(x.shape()), {});
  Window3d win = to_3d(node, geometry);
  int64_t storage_order = node.attr_int("storage_order", 0);
  if (storage_order != 0 && storage_order != 1)
    throw_bad_input("{}: storage_order must be 0 or 1, got {}", node.describe(), storage_order);
  bool want_indices = node.outputs.size() > 1 && node.outputs[1] != nullptr;
  Tensor y(x.dtype(), pooled_shape(x, geometry));
  Tensor indices = want_indices ? Tensor(DType::kI64, y.shape()) : Tensor();
  int64_t* pi = want_indices ? indices.data<int64_t>() : nullptr;
  int64_t planes = x.dim(0) * x.dim(1);
  switch (x.dtype()) {
    case DType::kF32:
      max_pool_planes(x.data<float>(), planes, win, storage_order, y.data<float>(), pi);
      break;
    case DType::kI8:
      max_pool_planes(x.data<int8_t>(), planes, win, storage_order, y.data<int8_t>(), pi);
      break;
    case DType::kU8:
      max_pool_planes(x.data<uint8_t>(), planes, win, storage_order, y.data<uint8_t>(), pi);
      break;
    default:
      throw_bad_input("{}: dtype {} is not supported (f32, i8, u8)", node.describe(),
                      dtype_name(x.dtype()));
  }
  if (want_indices) return {y, indices};
  return {y};
}

// Number of taps of a window along one axis that fall inside [lo_bound, hi_bound).
int64_t taps_within(const Window3d& w, size_t axis, int64_t o, int64_t lo_bound, int64_t hi_bound) {
  int64_t count = 0;
  for (int64_t k = 0; k < w.kernel[axis]; ++k) {
    int64_t pos = w.input_pos(axis, o, k);
    count += pos >= lo_bound && pos < hi_bound;
  }
  return count;
}

// x[N, C, D...] -> y[N, C, O...] mean over each window; pads count in the divisor only with
// count_include_pad (and never the overhang ceil_mode adds past the end pads).
std::vector<Tensor> average_pool_forward(const ir::Node& node, const std::vector<Tensor>& inputs) {
  const Tensor& x = spatial_input(node, inputs);
  ir::WindowGeometry geometry = ir::resolve_window(node, spatial_of(x.shape()), {});
  Window3d win = to_3d(node, geometry);
  bool count_include_pad = node.attr_int("count_include_pad", 0) != 0;
  Tensor y(DType::kF32, pooled_shape(x, geometry));
  // Divisor per output position, a product of per-axis tap counts since windows are boxes.
  std::array<std::vector<int64_t>, 3> axis_counts;
  for (size_t axis = 0; axis < 3; ++axis) {
    for (int64_t o = 0; o < win.out[axis]; ++o) {
      axis_counts[axis].push_back(
          count_include_pad
              ? taps_within(win, axis, o, -win.pad_begin[axis], win.in[axis] + win.pad_end[axis])
              : taps_within(win, axis, o, 0, win.in[axis]));
    }
  }
  const float* px = x.data<float>();
  float* py = y.data<float>();
  int64_t in_volume = win.in_volume(), out_volume = win.out_volume();
  parallel_for(0, x.dim(0) * x.dim(1), 1, [&](int64_t plane) {
    const float* x_plane = px + plane * in_volume;
    for (int64_t oz = 0; oz < win.out[0]; ++oz) {
      for (int64_t oy = 0; oy < win.out[1]; ++oy) {
        for (int64_t ox = 0; ox < win.out[2]; ++ox) {
          float sum = 0.0f;
          for (int64_t kz = 0; kz < win.kernel[0]; ++kz) {
            int64_t iz = win.input_pos(0, oz, kz);
            if (!win.inside(0, iz)) continue;
            for (int64_t ky = 0; ky < win.kernel[1]; ++ky) {
              int64_t iy = win.input_pos(1, oy, ky);
              if (!win.inside(1, iy)) continue;
              for (int64_t kx = 0; kx < win.kernel[2]; ++kx) {
                int64_t ix = win.input_pos(2, ox, kx);
                if (win.inside(2, ix)) sum += x_plane[(iz * win.in[1] + iy) * win.in[2] + ix];
              }
            }
          }
          auto divisor = static_cast<float>(axis_counts[0][static_cast<size_t>(oz)] *
                                            axis_counts[1][static_cast<size_t>(oy)] *
                                            axis_counts[2][static_cast<size_t>(ox)]);
          py[plane * out_volume + (oz * win.out[1] + oy) * win.out[2] + ox] = sum / divisor;
        }
      }
    }
  });
  return {y};
}

// x[N, C, D...] -> y[N, C, 1...] mean (or max) over all spatial positions
template <bool kMax>
std::vector<Tensor> global_pool_forward(const ir::Node& node, const std::vector<Tensor>& inputs) {
  const Tensor& x = spatial_input(node, inputs);
  Shape out_shape(static_cast<size_t>(x.rank()), 1);
  out_shape[0] = x.dim(0);
  out_shape[1] = x.dim(1);
  Tensor y(DType::kF32, out_shape);
  int64_t volume = shape_numel(spatial_of(x.shape()));
  if (volume == 0)
    throw_bad_input("{}: empty spatial input {}", node.describe(), shape_str(x.shape()));
  const float* px = x.data<float>();
  float* py = y.data<float>();
  parallel_for(0, x.dim(0) * x.dim(1), 16, [&](int64_t plane) {
    const float* x_plane = px + plane * volume;
    if constexpr (kMax) {
      py[plane] = *std::max_element(x_plane, x_plane + volume);
    } else {
      double sum = 0.0;
      for (int64_t i = 0; i < volume; ++i) sum += x_plane[i];
      py[plane] = static_cast<float>(sum / static_cast<double>(volume));
    }
  });
  return {y};
}

}  // namespace

void register_conv_kernels(KernelRegistry& registry) {
  registry.add("Conv", conv_forward);
  registry.add("conv", conv_forward);
  registry.add("MaxPool", max_pool_forward);
  registry.add("AveragePool", average_pool_forward);
  registry.add("GlobalAveragePool", global_pool_forward<false>);
  registry.add("GlobalMaxPool", global_pool_forward<true>);
}

}  // namespace aimc::runtime::nn
