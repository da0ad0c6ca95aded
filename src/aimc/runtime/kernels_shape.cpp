// Kernels of the shape and data-movement ops (ONNX semantics, opsets 13-17). Most of them only
// move elements, whatever their dtype, so they work on element sizes (1, 2, 4 or 8 bytes) rather
// than on types. Ops that only change the shape (Reshape, Flatten, Squeeze, Unsqueeze) return a
// view of their input: storage is never mutated in place, so sharing it is safe.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <optional>
#include <type_traits>

#include "aimc/core/parallel.h"
#include "aimc/runtime/kernel.h"

namespace aimc::runtime {
namespace {

using ir::Node;

// Bytes a thread should move at least per task: below this, threading costs more than it saves.
constexpr int64_t kBytesPerTask = int64_t{1} << 16;

// ---- helpers ----

int64_t normalize_axis(const Node& node, int64_t axis, int64_t rank, const char* what = "axis") {
  if (axis < -rank || axis >= rank)
    throw_bad_input("{}: {} {} is out of range for rank {}", node.describe(), what, axis, rank);
  return axis < 0 ? axis + rank : axis;
}

// Integer values of a shape-like input (shape, axes, pads, repeats...).
std::vector<int64_t> int_values(const Node& node, const Tensor& t, const char* what) {
  if (dtype_is_floating(t.dtype()))
    throw_bad_input("{}: {} must hold integers, not {}", node.describe(), what,
                    dtype_name(t.dtype()));
  return t.to_int_vector();
}

// Index tensors (Gather, GatherElements), converted fast: they can be large.
std::vector<int64_t> index_values(const Node& node, const Tensor& t) {
  std::vector<int64_t> out(static_cast<size_t>(t.numel()));
  if (t.dtype() == DType::kI64) {
    std::copy_n(t.data<int64_t>(), t.numel(), out.begin());
  } else if (t.dtype() == DType::kI32) {
    std::copy_n(t.data<int32_t>(), t.numel(), out.begin());
  } else {
    throw_bad_input("{}: indices must be i64 or i32, not {}", node.describe(),
                    dtype_name(t.dtype()));
  }
  return out;
}

// Replaces negative indices by their positive equivalent; any index outside [-size, size) is
// the user's error.
void normalize_indices(const Node& node, std::vector<int64_t>& indices, int64_t size,
                       int64_t axis) {
  for (int64_t& i : indices) {
    if (i < -size || i >= size)
      throw_bad_input("{}: index {} is out of range for axis {} of size {}", node.describe(), i,
                      axis, size);
    if (i < 0) i += size;
  }
}

int64_t checked_mul(const Node& node, int64_t a, int64_t b) {
  int64_t product = 0;
  if (__builtin_mul_overflow(a, b, &product))
    throw_bad_input("{}: output size overflows ({} x {})", node.describe(), a, b);
  return product;
}

// Element count of an output shape computed from user data, checked for overflow.
void check_output_shape(const Node& node, const Shape& shape) {
  int64_t numel = 1;
  for (int64_t d : shape) {
    if (d < 0)
      throw_bad_input("{}: output shape {} is negative", node.describe(), shape_str(shape));
    numel = checked_mul(node, numel, d);
  }
}

int64_t product(const Shape& shape, size_t begin, size_t end) {
  int64_t p = 1;
  for (size_t i = begin; i < end; ++i) p *= shape[i];
  return p;
}

// Calls fn(std::integral_constant<size_t, E>) with E the element size of dtype, so that
// element copies compile to single moves.
template <typename Fn>
void dispatch_element_size(DType dtype, Fn&& fn) {
  switch (dtype_size(dtype)) {
    case 1:
      fn(std::integral_constant<size_t, 1>{});
      return;
    case 2:
      fn(std::integral_constant<size_t, 2>{});
      return;
    case 4:
      fn(std::integral_constant<size_t, 4>{});
      return;
    case 8:
      fn(std::integral_constant<size_t, 8>{});
      return;
  }
  AIMC_ASSERT(false, "no kernel for element size {}", dtype_size(dtype));
}

template <size_t E>
inline void copy_element(std::byte* out, const std::byte* in) {
  std::memcpy(out, in, E);
}

// ---- strided copies ----

// A view of a tensor's storage: element (i0, ..., ik) is at offset + sum(i_k * strides[k])
// (in elements; a stride of 0 repeats, a negative one walks backwards).
struct StridedView {
  Shape dims;
  Shape strides;
  int64_t offset = 0;
};

// Drops dimensions of size 1 and merges neighbours that are contiguous with each other, so the
// inner loops run as long as possible.
StridedView coalesce(const StridedView& view) {
  StridedView out;
  out.offset = view.offset;
  for (size_t k = 0; k < view.dims.size(); ++k) {
    if (view.dims[k] == 1) continue;
    if (!out.dims.empty() && out.strides.back() == view.strides[k] * view.dims[k]) {
      out.dims.back() *= view.dims[k];
      out.strides.back() = view.strides[k];
    } else {
      out.dims.push_back(view.dims[k]);
      out.strides.push_back(view.strides[k]);
    }
  }
  return out;
}

template <size_t E>
void copy_row(std::byte* out, const std::byte* in, int64_t length, int64_t stride) {
  if (stride == 1) {
    std::memcpy(out, in, static_cast<size_t>(length) * E);
  } else {
    for (int64_t j = 0; j < length; ++j) copy_element<E>(out + j * E, in + j * stride * E);
  }
}

// out (contiguous, shape view.dims) = the view of `in`. Threads split the rows.
template <size_t E>
void copy_view(std::byte* out, const std::byte* in, const StridedView& full_view) {
  StridedView view = coalesce(full_view);
  if (view.dims.empty()) {
    copy_element<E>(out, in + view.offset * static_cast<int64_t>(E));
    return;
  }
  int64_t row_length = view.dims.back();
  int64_t row_stride = view.strides.back();
  int64_t rows = product(view.dims, 0, view.dims.size() - 1);
  size_t outer_rank = view.dims.size() - 1;
  int64_t rows_per_task = std::max<int64_t>(1, kBytesPerTask / (row_length * int64_t(E)));
  int64_t tasks = (rows + rows_per_task - 1) / rows_per_task;
  parallel_for(0, tasks, 1, [&](int64_t task) {
    int64_t first = task * rows_per_task, last = std::min(rows, first + rows_per_task);
    // Index of row `first`, then counters that step through the following rows.
    Shape index(outer_rank);
    int64_t in_offset = view.offset;
    int64_t rest = first;
    for (size_t k = outer_rank; k-- > 0;) {
      index[k] = rest % view.dims[k];
      rest /= view.dims[k];
      in_offset += index[k] * view.strides[k];
    }
    for (int64_t row = first; row < last; ++row) {
      copy_row<E>(out + row * row_length * int64_t(E), in + in_offset * int64_t(E), row_length,
                  row_stride);
      for (size_t k = outer_rank; k-- > 0;) {
        in_offset += view.strides[k];
        if (++index[k] < view.dims[k]) break;
        in_offset -= view.strides[k] * view.dims[k];
        index[k] = 0;
      }
    }
  });
}

// Copies a view of `in` into a new contiguous tensor of shape view.dims.
Tensor materialize(const Tensor& in, const StridedView& view) {
  Tensor out(in.dtype(), view.dims);
  if (out.numel() == 0) return out;
  dispatch_element_size(
      in.dtype(), [&](auto size) { copy_view<decltype(size)::value>(out.raw(), in.raw(), view); });
  return out;
}

// ---- Transpose ----

// Transpose whose input-contiguous axis is not the output's last: tiles of kTile x kTile
// elements are read along the input's contiguous axis and written along the output's, so both
// sides stay in cache. This is the [.., S, D] -> [.., D, S] of attention.
template <size_t E>
void transpose_blocked(std::byte* out, const std::byte* in, const StridedView& view,
                       size_t contiguous_axis) {
  constexpr int64_t kTile = 32;
  size_t last = view.dims.size() - 1;
  Shape out_strides = shape_strides(view.dims);
  int64_t rows = view.dims[contiguous_axis];  // walked with stride 1 in the input
  int64_t cols = view.dims[last];             // walked with stride 1 in the output
  int64_t in_col_stride = view.strides[last];
  int64_t out_row_stride = out_strides[contiguous_axis];
  std::vector<size_t> outer_axes;
  for (size_t k = 0; k < last; ++k) {
    if (k != contiguous_axis) outer_axes.push_back(k);
  }
  int64_t outer = 1;
  for (size_t k : outer_axes) outer *= view.dims[k];
  int64_t row_tiles = (rows + kTile - 1) / kTile;
  int64_t tasks_grain = std::max<int64_t>(1, kBytesPerTask / (kTile * cols * int64_t(E)));
  parallel_for(0, outer * row_tiles, tasks_grain, [&](int64_t task) {
    int64_t rest = task / row_tiles;
    int64_t row_begin = (task % row_tiles) * kTile;
    int64_t row_end = std::min(rows, row_begin + kTile);
    int64_t in_base = view.offset, out_base = 0;
    for (size_t i = outer_axes.size(); i-- > 0;) {
      size_t k = outer_axes[i];
      int64_t index = rest % view.dims[k];
      rest /= view.dims[k];
      in_base += index * view.strides[k];
      out_base += index * out_strides[k];
    }
    for (int64_t col_begin = 0; col_begin < cols; col_begin += kTile) {
      int64_t col_end = std::min(cols, col_begin + kTile);
      for (int64_t r = row_begin; r < row_end; ++r) {
        std::byte* out_row = out + (out_base + r * out_row_stride) * int64_t(E);
        const std::byte* in_col = in + (in_base + r) * int64_t(E);
        for (int64_t c = col_begin; c < col_end; ++c)
          copy_element<E>(out_row + c * int64_t(E), in_col + c * in_col_stride * int64_t(E));
      }
    }
  });
}

// Transpose(data, perm) of any rank: [d_0, ..., d_n-1] -> [d_perm[0], ..., d_perm[n-1]].
Tensor transpose(const Tensor& in, const std::vector<int64_t>& perm) {
  Shape in_strides = shape_strides(in.shape());
  StridedView view;
  for (int64_t p : perm) {
    view.dims.push_back(in.shape()[static_cast<size_t>(p)]);
    view.strides.push_back(in_strides[static_cast<size_t>(p)]);
  }
  StridedView merged = coalesce(view);
  // Only size-1 axes moved: the bytes are already in order.
  if (merged.dims.empty() || (merged.dims.size() == 1 && merged.strides[0] == 1))
    return in.reshaped(view.dims);
  Tensor out(in.dtype(), view.dims);
  if (out.numel() == 0) return out;
  auto unit = std::find(merged.strides.begin(), merged.strides.end(), 1);
  if (unit == merged.strides.end() || unit == merged.strides.end() - 1) {
    // The output's rows are contiguous in the input (or nothing is): plain row copies.
    dispatch_element_size(in.dtype(), [&](auto size) {
      copy_view<decltype(size)::value>(out.raw(), in.raw(), merged);
    });
  } else {
    size_t contiguous_axis = static_cast<size_t>(unit - merged.strides.begin());
    dispatch_element_size(in.dtype(), [&](auto size) {
      transpose_blocked<decltype(size)::value>(out.raw(), in.raw(), merged, contiguous_axis);
    });
  }
  return out;
}

std::vector<Tensor> transpose_kernel(const Node& node, const std::vector<Tensor>& inputs) {
  // data [d_0, ..., d_n-1] -> [d_perm[0], ..., d_perm[n-1]]
  const Tensor& data = inputs[0];
  int64_t rank = data.rank();
  std::vector<int64_t> perm = node.attr_ints("perm");
  if (!node.has_attr("perm")) {
    for (int64_t i = rank - 1; i >= 0; --i) perm.push_back(i);
  }
  if (static_cast<int64_t>(perm.size()) != rank)
    throw_bad_input("{}: perm has {} entries for an input of rank {}", node.describe(), perm.size(),
                    rank);
  std::vector<bool> seen(static_cast<size_t>(rank), false);
  for (int64_t& p : perm) {
    p = normalize_axis(node, p, rank, "perm entry");
    if (seen[static_cast<size_t>(p)])
      throw_bad_input("{}: perm repeats axis {}", node.describe(), p);
    seen[static_cast<size_t>(p)] = true;
  }
  return {transpose(data, perm)};
}

// ---- views: Reshape, Flatten, Squeeze, Unsqueeze ----

std::vector<Tensor> reshape_kernel(const Node& node, const std::vector<Tensor>& inputs) {
  // data [any], shape [k] -> [k dims] (0: copy the input's dim unless allowzero; -1: inferred)
  const Tensor& data = inputs[0];
  std::vector<int64_t> target = int_values(node, inputs[1], "shape");
  bool allowzero = node.attr_int("allowzero", 0) != 0;
  Shape shape(target.size());
  std::optional<size_t> infer_at;
  int64_t known = 1;
  for (size_t i = 0; i < target.size(); ++i) {
    int64_t v = target[i];
    if (v == -1) {
      if (infer_at)
        throw_bad_input("{}: shape {} has more than one -1", node.describe(), shape_str(target));
      infer_at = i;
      continue;
    }
    if (v < -1) throw_bad_input("{}: shape entry {} is negative", node.describe(), v);
    if (v == 0 && !allowzero) {
      if (static_cast<int64_t>(i) >= data.rank())
        throw_bad_input("{}: shape entry {} is 0 but the input {} has no dimension {}",
                        node.describe(), i, shape_str(data.shape()), i);
      v = data.shape()[i];
    }
    shape[i] = v;
    known = checked_mul(node, known, v);
  }
  if (infer_at) {
    if (known == 0 || data.numel() % known != 0)
      throw_bad_input("{}: cannot reshape {} into {} (-1 cannot be inferred)", node.describe(),
                      shape_str(data.shape()), shape_str(target));
    shape[*infer_at] = data.numel() / known;
  } else if (known != data.numel()) {
    throw_bad_input("{}: cannot reshape {} ({} elements) into {} ({} elements)", node.describe(),
                    shape_str(data.shape()), data.numel(), shape_str(shape), known);
  }
  return {data.reshaped(shape)};
}

std::vector<Tensor> flatten_kernel(const Node& node, const std::vector<Tensor>& inputs) {
  // data [d_0, ..., d_n-1] -> [d_0 * ... * d_axis-1, d_axis * ... * d_n-1]
  const Tensor& data = inputs[0];
  int64_t rank = data.rank();
  int64_t axis = node.attr_int("axis", 1);
  if (axis < -rank || axis > rank)
    throw_bad_input("{}: axis {} is out of range for rank {}", node.describe(), axis, rank);
  if (axis < 0) axis += rank;
  size_t split = static_cast<size_t>(axis);
  return {data.reshaped(
      {product(data.shape(), 0, split), product(data.shape(), split, data.shape().size())})};
}

// Squeeze's and Unsqueeze's axes: input 1 (opset 13+) or the attribute of older opsets.
std::vector<int64_t> axes_of(const Node& node, const std::vector<Tensor>& inputs) {
  if (inputs.size() > 1 && inputs[1].is_valid()) return int_values(node, inputs[1], "axes");
  return node.attr_ints("axes");
}

std::vector<Tensor> squeeze_kernel(const Node& node, const std::vector<Tensor>& inputs) {
  // data [.., 1, ..] -> [.., ..] (the given axes, or every dimension of size 1)
  const Tensor& data = inputs[0];
  std::vector<int64_t> axes = axes_of(node, inputs);
  std::vector<bool> drop(static_cast<size_t>(data.rank()), axes.empty());
  for (int64_t a : axes) {
    size_t axis = static_cast<size_t>(normalize_axis(node, a, data.rank()));
    if (data.shape()[axis] != 1)
      throw_bad_input("{}: cannot squeeze axis {} of size {}", node.describe(), a,
                      data.shape()[axis]);
    drop[axis] = true;
  }
  Shape shape;
  for (size_t i = 0; i < drop.size(); ++i) {
    if (!(drop[i] && data.shape()[i] == 1)) shape.push_back(data.shape()[i]);
  }
  return {data.reshaped(shape)};
}

std::vector<Tensor> unsqueeze_kernel(const Node& node, const std::vector<Tensor>& inputs) {
  // data [d..] -> [d.. with 1 inserted at each output axis in axes]
  const Tensor& data = inputs[0];
  std::vector<int64_t> axes = axes_of(node, inputs);
  if (axes.empty()) throw_bad_input("{}: axes must not be empty", node.describe());
  int64_t out_rank = data.rank() + static_cast<int64_t>(axes.size());
  std::vector<bool> inserted(static_cast<size_t>(out_rank), false);
  for (int64_t a : axes) {
    size_t axis = static_cast<size_t>(normalize_axis(node, a, out_rank));
    if (inserted[axis]) throw_bad_input("{}: axes repeat axis {}", node.describe(), a);
    inserted[axis] = true;
  }
  Shape shape;
  size_t next = 0;
  for (bool one : inserted) shape.push_back(one ? 1 : data.shape()[next++]);
  return {data.reshaped(shape)};
}

// ---- Concat, Split ----

std::vector<Tensor> concat_kernel(const Node& node, const std::vector<Tensor>& inputs) {
  // inputs [.., a_i, ..] -> [.., sum a_i, ..]
  const Tensor* first = nullptr;
  for (const Tensor& t : inputs) {
    if (t.is_valid()) {
      first = &t;
      break;
    }
  }
  if (!first) throw_bad_input("{}: no inputs", node.describe());
  int64_t rank = first->rank();
  if (rank == 0) throw_bad_input("{}: cannot concatenate scalars", node.describe());
  size_t axis = static_cast<size_t>(normalize_axis(node, node.require_int("axis"), rank));
  Shape shape = first->shape();
  shape[axis] = 0;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const Tensor& t = inputs[i];
    if (!t.is_valid()) continue;
    if (t.dtype() != first->dtype())
      throw_bad_input("{}: input {} is {}, input 0 is {}", node.describe(), i,
                      dtype_name(t.dtype()), dtype_name(first->dtype()));
    bool same = t.rank() == rank;
    for (size_t k = 0; same && k < shape.size(); ++k) {
      same = k == axis || t.shape()[k] == first->shape()[k];
    }
    if (!same)
      throw_bad_input("{}: input {} has shape {}, incompatible with {} along axis {}",
                      node.describe(), i, shape_str(t.shape()), shape_str(first->shape()), axis);
    shape[axis] += t.shape()[axis];
  }
  Tensor out(first->dtype(), shape);
  int64_t element = static_cast<int64_t>(dtype_size(out.dtype()));
  int64_t outer = product(shape, 0, axis);
  int64_t out_chunk = out.numel() / std::max<int64_t>(outer, 1) * element;
  int64_t out_offset = 0;  // bytes, within one outer slice
  for (const Tensor& t : inputs) {
    if (!t.is_valid() || t.numel() == 0) continue;
    int64_t chunk = t.numel() / outer * element;
    const std::byte* src = t.raw();
    std::byte* dst = out.raw() + out_offset;
    parallel_for(0, outer, std::max<int64_t>(1, kBytesPerTask / chunk), [&](int64_t o) {
      std::memcpy(dst + o * out_chunk, src + o * chunk, static_cast<size_t>(chunk));
    });
    out_offset += chunk;
  }
  return {out};
}

std::vector<Tensor> split_kernel(const Node& node, const std::vector<Tensor>& inputs) {
  // data [.., d, ..] -> outputs [.., s_i, ..] with sum s_i = d
  const Tensor& data = inputs[0];
  if (data.rank() == 0) throw_bad_input("{}: cannot split a scalar", node.describe());
  size_t axis = static_cast<size_t>(normalize_axis(node, node.attr_int("axis", 0), data.rank()));
  int64_t total = data.shape()[axis];
  int64_t count = static_cast<int64_t>(node.outputs.size());
  if (count == 0) throw_bad_input("{}: has no outputs", node.describe());
  std::vector<int64_t> sizes;
  if (inputs.size() > 1 && inputs[1].is_valid()) {
    sizes = int_values(node, inputs[1], "split");
  } else if (node.has_attr("split")) {
    sizes = node.attr_ints("split");
  } else {
    // Equal parts; when the axis does not divide evenly the last part is smaller (opset 18).
    int64_t chunk = (total + count - 1) / count;
    for (int64_t i = 0; i < count; ++i) {
      int64_t begin = std::min(total, chunk * i);
      sizes.push_back(std::min(total, begin + chunk) - begin);
    }
  }
  if (static_cast<int64_t>(sizes.size()) != count)
    throw_bad_input("{}: split has {} entries for {} outputs", node.describe(), sizes.size(),
                    count);
  int64_t sum = 0;
  for (int64_t s : sizes) {
    if (s < 0 || s > total)
      throw_bad_input("{}: split entry {} is out of range for axis {} of size {}", node.describe(),
                      s, axis, total);
    sum += s;
  }
  if (sum != total)
    throw_bad_input("{}: split sizes {} add up to {}, axis {} of {} has {}", node.describe(),
                    shape_str(sizes), sum, axis, shape_str(data.shape()), total);
  Shape strides = shape_strides(data.shape());
  std::vector<Tensor> outputs;
  int64_t begin = 0;
  for (int64_t size : sizes) {
    StridedView view{data.shape(), strides, begin * strides[axis]};
    view.dims[axis] = size;
    outputs.push_back(materialize(data, view));
    begin += size;
  }
  return outputs;
}

// ---- Slice ----

std::vector<Tensor> slice_kernel(const Node& node, const std::vector<Tensor>& inputs) {
  // data [d..] -> [len_i..] with len_i = ceil((end_i - start_i) / step_i) after clamping
  const Tensor& data = inputs[0];
  int64_t rank = data.rank();
  std::vector<int64_t> starts = int_values(node, inputs[1], "starts");
  std::vector<int64_t> ends = int_values(node, inputs[2], "ends");
  std::vector<int64_t> axes, steps;
  if (inputs.size() > 3 && inputs[3].is_valid()) {
    axes = int_values(node, inputs[3], "axes");
  } else {
    for (size_t i = 0; i < starts.size(); ++i) axes.push_back(static_cast<int64_t>(i));
  }
  if (inputs.size() > 4 && inputs[4].is_valid()) {
    steps = int_values(node, inputs[4], "steps");
  } else {
    steps.assign(starts.size(), 1);
  }
  if (ends.size() != starts.size() || axes.size() != starts.size() || steps.size() != starts.size())
    throw_bad_input("{}: starts, ends, axes and steps have lengths {}, {}, {}, {}", node.describe(),
                    starts.size(), ends.size(), axes.size(), steps.size());
  Shape strides = shape_strides(data.shape());
  StridedView view{data.shape(), strides, 0};
  std::vector<bool> seen(static_cast<size_t>(rank), false);
  for (size_t i = 0; i < starts.size(); ++i) {
    size_t axis = static_cast<size_t>(normalize_axis(node, axes[i], rank));
    if (seen[axis]) throw_bad_input("{}: axes repeat axis {}", node.describe(), axes[i]);
    seen[axis] = true;
    int64_t step = steps[i];
    if (step == 0) throw_bad_input("{}: steps must not be 0", node.describe());
    int64_t size = data.shape()[axis];
    int64_t start = starts[i], end = ends[i], length = 0;
    if (start < 0) start += size;
    if (end < 0) end += size;
    if (size == 0) {
      start = 0;
    } else if (step > 0) {
      start = std::clamp<int64_t>(start, 0, size);
      end = std::clamp<int64_t>(end, 0, size);
      if (end > start) length = 1 + (end - start - 1) / step;
    } else {
      start = std::clamp<int64_t>(start, 0, size - 1);
      end = std::clamp<int64_t>(end, -1, size - 1);
      // -step would overflow for INT64_MIN; any step past the axis takes one element anyway.
      int64_t magnitude = std::min(-(step + 1), size) + 1;
      if (start > end) length = 1 + (start - end - 1) / magnitude;
    }
    view.dims[axis] = length;
    view.offset += length ? start * strides[axis] : 0;
    // With two or more elements |step| < size, so the product cannot overflow.
    view.strides[axis] = length > 1 ? strides[axis] * step : strides[axis];
  }
  return {materialize(data, view)};
}

// ---- Gather, GatherElements ----

std::vector<Tensor> gather_kernel(const Node& node, const std::vector<Tensor>& inputs) {
  // data [a.., n, b..], indices [i..] -> [a.., i.., b..]
  const Tensor& data = inputs[0];
  if (data.rank() == 0) throw_bad_input("{}: cannot gather from a scalar", node.describe());
  size_t axis = static_cast<size_t>(normalize_axis(node, node.attr_int("axis", 0), data.rank()));
  std::vector<int64_t> indices = index_values(node, inputs[1]);
  int64_t size = data.shape()[axis];
  normalize_indices(node, indices, size, static_cast<int64_t>(axis));
  Shape shape(data.shape().begin(), data.shape().begin() + static_cast<int64_t>(axis));
  shape.insert(shape.end(), inputs[1].shape().begin(), inputs[1].shape().end());
  shape.insert(shape.end(), data.shape().begin() + static_cast<int64_t>(axis) + 1,
               data.shape().end());
  Tensor out(data.dtype(), shape);
  if (out.numel() == 0) return {out};
  int64_t outer = product(data.shape(), 0, axis);
  int64_t inner_bytes = product(data.shape(), axis + 1, data.shape().size()) *
                        static_cast<int64_t>(dtype_size(data.dtype()));
  int64_t count = static_cast<int64_t>(indices.size());
  const std::byte* src = data.raw();
  std::byte* dst = out.raw();
  parallel_for(0, outer * count, std::max<int64_t>(1, kBytesPerTask / inner_bytes),
               [&](int64_t task) {
                 int64_t o = task / count, i = task % count;
                 std::memcpy(dst + task * inner_bytes,
                             src + (o * size + indices[static_cast<size_t>(i)]) * inner_bytes,
                             static_cast<size_t>(inner_bytes));
               });
  return {out};
}

template <size_t E>
void gather_elements(std::byte* out, const std::byte* data, const Shape& data_shape,
                     const Shape& index_shape, const std::vector<int64_t>& indices, size_t axis) {
  Shape data_strides = shape_strides(data_shape);
  Shape index(index_shape.size(), 0);
  int64_t count = static_cast<int64_t>(indices.size());
  for (int64_t i = 0; i < count; ++i) {
    int64_t offset = 0;
    for (size_t k = 0; k < index.size(); ++k) {
      offset += (k == axis ? indices[static_cast<size_t>(i)] : index[k]) * data_strides[k];
    }
    copy_element<E>(out + i * int64_t(E), data + offset * int64_t(E));
    for (size_t k = index.size(); k-- > 0;) {
      if (++index[k] < index_shape[k]) break;
      index[k] = 0;
    }
  }
}

std::vector<Tensor> gather_elements_kernel(const Node& node, const std::vector<Tensor>& inputs) {
  // data [d..], indices [i..] (same rank) -> [i..]; out[i..] = data[i.. with axis <- index]
  const Tensor& data = inputs[0];
  const Tensor& index_tensor = inputs[1];
  if (data.rank() == 0) throw_bad_input("{}: cannot gather from a scalar", node.describe());
  if (index_tensor.rank() != data.rank())
    throw_bad_input("{}: indices {} must have the rank of data {}", node.describe(),
                    shape_str(index_tensor.shape()), shape_str(data.shape()));
  size_t axis = static_cast<size_t>(normalize_axis(node, node.attr_int("axis", 0), data.rank()));
  for (size_t k = 0; k < data.shape().size(); ++k) {
    if (k != axis && index_tensor.shape()[k] > data.shape()[k])
      throw_bad_input("{}: indices {} exceed data {} along axis {}", node.describe(),
                      shape_str(index_tensor.shape()), shape_str(data.shape()), k);
  }
  std::vector<int64_t> indices = index_values(node, index_tensor);
  normalize_indices(node, indices, data.shape()[axis], static_cast<int64_t>(axis));
  Tensor out(data.dtype(), index_tensor.shape());
  dispatch_element_size(data.dtype(), [&](auto size) {
    gather_elements<decltype(size)::value>(out.raw(), data.raw(), data.shape(),
                                           index_tensor.shape(), indices, axis);
  });
  return {out};
}

// ---- Shape, Size, Constant, ConstantOfShape, Range ----

std::vector<Tensor> shape_kernel(const Node& node, const std::vector<Tensor>& inputs) {
  // data [d_0, ..., d_n-1] -> [end - start] i64 (the dims in [start, end))
  const Shape& dims = inputs[0].shape();
  int64_t rank = static_cast<int64_t>(dims.size());
  auto clamp_index = [rank](int64_t i) {
    if (i < 0) i += rank;
    return std::clamp<int64_t>(i, 0, rank);
  };
  int64_t start = clamp_index(node.attr_int("start", 0));
  int64_t end = std::max(start, clamp_index(node.attr_int("end", rank)));
  return {Tensor::from_vector<int64_t>(
      {end - start}, std::vector<int64_t>(dims.begin() + start, dims.begin() + end))};
}

std::vector<Tensor> size_kernel(const Node&, const std::vector<Tensor>& inputs) {
  // data [any] -> [] i64
  return {Tensor::scalar<int64_t>(inputs[0].numel())};
}

std::vector<Tensor> constant_kernel(const Node& node, const std::vector<Tensor>&) {
  // () -> the attribute's tensor
  if (node.has_attr("value")) return {node.attr_tensor("value")};
  if (node.has_attr("value_float"))
    return {Tensor::scalar<float>(static_cast<float>(node.attr_float("value_float", 0)))};
  if (node.has_attr("value_floats")) {
    std::vector<double> values = node.attr_floats("value_floats");
    return {Tensor::from_vector<float>({static_cast<int64_t>(values.size())},
                                       std::vector<float>(values.begin(), values.end()))};
  }
  if (node.has_attr("value_int")) return {Tensor::scalar<int64_t>(node.attr_int("value_int", 0))};
  if (node.has_attr("value_ints")) {
    std::vector<int64_t> values = node.attr_ints("value_ints");
    return {Tensor::from_vector<int64_t>({static_cast<int64_t>(values.size())}, values)};
  }
  throw_bad_input(
      "{}: needs one of the attributes value, value_float(s), value_int(s) (string and sparse "
      "constants are not supported)",
      node.describe());
}

// Fills `count` elements of `out` with copies of the `element`-byte value at `value`.
void fill_bytes(std::byte* out, int64_t count, const std::byte* value, size_t element) {
  bool all_zero =
      std::all_of(value, value + element, [](std::byte b) { return b == std::byte{0}; });
  if (all_zero) {
    std::memset(out, 0, static_cast<size_t>(count) * element);
    return;
  }
  for (int64_t i = 0; i < count; ++i) std::memcpy(out + i * int64_t(element), value, element);
}

std::vector<Tensor> constant_of_shape_kernel(const Node& node, const std::vector<Tensor>& inputs) {
  // shape [k] -> [shape...] filled with value (default f32 0)
  Shape shape = int_values(node, inputs[0], "shape");
  if (inputs[0].rank() > 1)
    throw_bad_input("{}: shape must be 1-D, it is {}", node.describe(),
                    shape_str(inputs[0].shape()));
  check_output_shape(node, shape);
  if (!node.has_attr("value")) return {Tensor(DType::kF32, shape)};
  const Tensor& value = node.attr_tensor("value");
  if (value.numel() != 1)
    throw_bad_input("{}: value must hold one element, it holds {}", node.describe(), value.numel());
  Tensor out(value.dtype(), shape);
  fill_bytes(out.raw(), out.numel(), value.raw(), dtype_size(value.dtype()));
  return {out};
}

template <typename T>
Tensor range_values(const Tensor& start_t, const Tensor& limit_t, const Tensor& delta_t,
                    const Node& node) {
  T start = start_t.data<T>()[0], limit = limit_t.data<T>()[0], delta = delta_t.data<T>()[0];
  if (delta == T(0)) throw_bad_input("{}: delta must not be 0", node.describe());
  double count = std::ceil((static_cast<double>(limit) - static_cast<double>(start)) /
                           static_cast<double>(delta));
  if (!(count < static_cast<double>(std::numeric_limits<int32_t>::max())))
    throw_bad_input("{}: range({}, {}, {}) is too long", node.describe(), start, limit, delta);
  int64_t length = std::max<int64_t>(0, static_cast<int64_t>(count));
  Tensor out(dtype_of<T>(), {length});
  T* values = out.data<T>();
  if constexpr (std::is_floating_point_v<T>) {
    for (int64_t i = 0; i < length; ++i)
      values[i] = static_cast<T>(static_cast<double>(start) +
                                 static_cast<double>(i) * static_cast<double>(delta));
  } else {
    // Every value lies between start and limit, so stepping never overflows (i * delta could).
    T value = start;
    for (int64_t i = 0; i < length; ++i) {
      values[i] = value;
      if (i + 1 < length) value += delta;
    }
  }
  return out;
}

std::vector<Tensor> range_kernel(const Node& node, const std::vector<Tensor>& inputs) {
  // start [], limit [], delta [] -> [max(ceil((limit - start) / delta), 0)]
  for (size_t i = 0; i < 3; ++i) {
    if (inputs[i].numel() != 1)
      throw_bad_input("{}: input {} must be a scalar, it is {}", node.describe(), i,
                      shape_str(inputs[i].shape()));
    if (inputs[i].dtype() != inputs[0].dtype())
      throw_bad_input("{}: inputs must share a dtype ({} vs {})", node.describe(),
                      dtype_name(inputs[i].dtype()), dtype_name(inputs[0].dtype()));
  }
  switch (inputs[0].dtype()) {
    case DType::kF32:
      return {range_values<float>(inputs[0], inputs[1], inputs[2], node)};
    case DType::kF64:
      return {range_values<double>(inputs[0], inputs[1], inputs[2], node)};
    case DType::kI16:
      return {range_values<int16_t>(inputs[0], inputs[1], inputs[2], node)};
    case DType::kI64:
      return {range_values<int64_t>(inputs[0], inputs[1], inputs[2], node)};
    case DType::kI32:
      return {range_values<int32_t>(inputs[0], inputs[1], inputs[2], node)};
    default:
      throw_bad_input("{}: Range does not support {}", node.describe(),
                      dtype_name(inputs[0].dtype()));
  }
}

// ---- Expand, Tile ----

std::vector<Tensor> expand_kernel(const Node& node, const std::vector<Tensor>& inputs) {
  // data [d..], shape [k] -> broadcast(d.., shape)
  const Tensor& data = inputs[0];
  Shape target = int_values(node, inputs[1], "shape");
  size_t rank = std::max(target.size(), data.shape().size());
  size_t data_lead = rank - data.shape().size(), target_lead = rank - target.size();
  Shape in_strides = shape_strides(data.shape());
  StridedView view{Shape(rank), Shape(rank, 0), 0};
  for (size_t k = 0; k < rank; ++k) {
    int64_t d = k < data_lead ? 1 : data.shape()[k - data_lead];
    int64_t t = k < target_lead ? 1 : target[k - target_lead];
    if (t < 0) throw_bad_input("{}: shape entry {} is negative", node.describe(), t);
    if (d != t && d != 1 && t != 1)
      throw_bad_input("{}: cannot expand {} to {}", node.describe(), shape_str(data.shape()),
                      shape_str(target));
    view.dims[k] = d == 1 ? t : d;
    if (k >= data_lead && d != 1) view.strides[k] = in_strides[k - data_lead];
  }
  check_output_shape(node, view.dims);
  return {materialize(data, view)};
}

std::vector<Tensor> tile_kernel(const Node& node, const std::vector<Tensor>& inputs) {
  // data [d..], repeats [r..] -> [d_i * r_i..]
  const Tensor& data = inputs[0];
  std::vector<int64_t> repeats = int_values(node, inputs[1], "repeats");
  if (static_cast<int64_t>(repeats.size()) != data.rank())
    throw_bad_input("{}: repeats has {} entries for an input of rank {}", node.describe(),
                    repeats.size(), data.rank());
  // The output [r0 * d0, r1 * d1, ..] in row-major order is the view [r0, d0, r1, d1, ..] of
  // the input with stride 0 on the repeat axes.
  Shape in_strides = shape_strides(data.shape());
  StridedView view;
  Shape shape;
  for (size_t k = 0; k < repeats.size(); ++k) {
    if (repeats[k] < 0)
      throw_bad_input("{}: repeats entry {} is negative", node.describe(), repeats[k]);
    view.dims.insert(view.dims.end(), {repeats[k], data.shape()[k]});
    view.strides.insert(view.strides.end(), {0, in_strides[k]});
    shape.push_back(checked_mul(node, repeats[k], data.shape()[k]));
  }
  check_output_shape(node, shape);
  return {materialize(data, view).reshaped(shape)};
}

// ---- Pad ----

enum class PadMode { kConstant, kReflect, kEdge };

// Where output position `o` of a padded axis reads from in the input, -1 for the constant.
int64_t pad_source(int64_t o, int64_t begin, int64_t size, PadMode mode) {
  int64_t i = 0;
  // Pads near the int64 limits: a position that far out is simply past the end.
  if (__builtin_sub_overflow(o, begin, &i)) i = std::numeric_limits<int64_t>::max();
  if (i >= 0 && i < size) return i;
  if (mode == PadMode::kConstant || size == 0) return -1;
  if (mode == PadMode::kEdge) return i < 0 ? 0 : size - 1;
  if (size == 1) return 0;
  // Reflection without repeating the edge, folded as often as needed.
  int64_t period = 2 * (size - 1);
  i %= period;
  if (i < 0) i += period;
  return i < size ? i : period - i;
}

template <size_t E>
void pad_rows(std::byte* out, const std::byte* in, const Shape& in_shape, const Shape& out_shape,
              const std::vector<std::vector<int64_t>>& sources, const std::byte* fill) {
  size_t rank = out_shape.size();
  Shape in_strides = shape_strides(in_shape);
  int64_t row_length = out_shape[rank - 1];
  int64_t rows = product(out_shape, 0, rank - 1);
  const std::vector<int64_t>& last_sources = sources[rank - 1];
  parallel_for(0, rows, std::max<int64_t>(1, kBytesPerTask / (row_length * int64_t(E))),
               [&](int64_t row) {
                 std::byte* out_row = out + row * row_length * int64_t(E);
                 int64_t in_offset = 0;
                 int64_t rest = row;
                 for (size_t k = rank - 1; k-- > 0;) {
                   int64_t source = sources[k][static_cast<size_t>(rest % out_shape[k])];
                   rest /= out_shape[k];
                   if (source < 0) {
                     for (int64_t j = 0; j < row_length; ++j)
                       copy_element<E>(out_row + j * int64_t(E), fill);
                     return;
                   }
                   in_offset += source * in_strides[k];
                 }
                 const std::byte* in_row = in + in_offset * int64_t(E);
                 for (int64_t j = 0; j < row_length; ++j) {
                   int64_t source = last_sources[static_cast<size_t>(j)];
                   copy_element<E>(out_row + j * int64_t(E),
                                   source < 0 ? fill : in_row + source * int64_t(E));
                 }
               });
}

std::vector<Tensor> pad_kernel(const Node& node, const std::vector<Tensor>& inputs) {
  // data [d..], pads [begin.., end..], value [], axes [k] -> [d_i + begin_i + end_i..]
  const Tensor& data = inputs[0];
  int64_t rank = data.rank();
  std::string mode_name = node.attr_string("mode", "constant");
  PadMode mode = PadMode::kConstant;
  if (mode_name == "reflect") {
    mode = PadMode::kReflect;
  } else if (mode_name == "edge") {
    mode = PadMode::kEdge;
  } else if (mode_name != "constant") {
    throw_bad_input("{}: mode '{}' is not supported (constant, reflect, edge)", node.describe(),
                    mode_name);
  }
  std::vector<int64_t> pads = int_values(node, inputs[1], "pads");
  std::vector<int64_t> axes;
  if (inputs.size() > 3 && inputs[3].is_valid()) {
    axes = int_values(node, inputs[3], "axes");
  } else {
    for (int64_t i = 0; i < rank; ++i) axes.push_back(i);
  }
  if (pads.size() != 2 * axes.size())
    throw_bad_input("{}: pads has {} entries, expected {}", node.describe(), pads.size(),
                    2 * axes.size());
  std::vector<int64_t> begins(static_cast<size_t>(rank), 0), ends(static_cast<size_t>(rank), 0);
  for (size_t i = 0; i < axes.size(); ++i) {
    size_t axis = static_cast<size_t>(normalize_axis(node, axes[i], rank));
    begins[axis] = pads[i];
    ends[axis] = pads[i + axes.size()];
  }
  Tensor fill(data.dtype(), {});
  if (inputs.size() > 2 && inputs[2].is_valid() && inputs[2].numel() > 0) {
    if (inputs[2].dtype() != data.dtype())
      throw_bad_input("{}: constant_value is {}, data is {}", node.describe(),
                      dtype_name(inputs[2].dtype()), dtype_name(data.dtype()));
    fill = inputs[2];
  }
  Shape shape(static_cast<size_t>(rank));
  std::vector<std::vector<int64_t>> sources(static_cast<size_t>(rank));
  for (size_t k = 0; k < shape.size(); ++k) {
    int64_t size = data.shape()[k];
    if (__builtin_add_overflow(size, begins[k], &shape[k]) ||
        __builtin_add_overflow(shape[k], ends[k], &shape[k]) || shape[k] < 0)
      throw_bad_input("{}: pads {} and {} make axis {} of size {} negative or too large",
                      node.describe(), begins[k], ends[k], k, size);
    if (mode != PadMode::kConstant && size == 0 && shape[k] > 0)
      throw_bad_input("{}: cannot pad an empty axis {} in {} mode", node.describe(), k, mode_name);
  }
  check_output_shape(node, shape);
  for (size_t k = 0; k < shape.size(); ++k) {
    sources[k].resize(static_cast<size_t>(shape[k]));
    for (int64_t o = 0; o < shape[k]; ++o)
      sources[k][static_cast<size_t>(o)] = pad_source(o, begins[k], data.shape()[k], mode);
  }
  Tensor out(data.dtype(), shape);
  if (out.numel() == 0) return {out};
  if (rank == 0) return {data.clone()};
  dispatch_element_size(data.dtype(), [&](auto size) {
    pad_rows<decltype(size)::value>(out.raw(), data.raw(), data.shape(), shape, sources,
                                    fill.raw());
  });
  return {out};
}

// ---- Trilu, CumSum ----

std::vector<Tensor> trilu_kernel(const Node& node, const std::vector<Tensor>& inputs) {
  // data [.., n, m] -> [.., n, m], zero outside the triangle (upper: j - i >= k; lower: <= k)
  const Tensor& data = inputs[0];
  if (data.rank() < 2)
    throw_bad_input("{}: input must have rank 2 or more, it is {}", node.describe(),
                    shape_str(data.shape()));
  int64_t k = 0;
  if (inputs.size() > 1 && inputs[1].is_valid()) {
    if (inputs[1].numel() != 1) throw_bad_input("{}: k must be a scalar", node.describe());
    k = int_values(node, inputs[1], "k")[0];
  }
  bool upper = node.attr_int("upper", 1) != 0;
  int64_t rows = data.dim(-2), cols = data.dim(-1);
  k = std::clamp<int64_t>(k, -rows - 1, cols + 1);  // beyond these every k acts the same
  int64_t element = static_cast<int64_t>(dtype_size(data.dtype()));
  int64_t matrices = data.numel() / std::max<int64_t>(1, rows * cols);
  // All-zero bytes are 0 in every dtype (0.0f, false), so zeroing is dtype-agnostic.
  Tensor out(data.dtype(), data.shape());
  if (out.numel() == 0) return {out};
  const std::byte* src = data.raw();
  std::byte* dst = out.raw();
  parallel_for(0, matrices * rows, std::max<int64_t>(1, kBytesPerTask / (cols * element)),
               [&](int64_t row_index) {
                 int64_t i = row_index % rows;
                 int64_t keep_begin = upper ? std::clamp<int64_t>(i + k, 0, cols) : 0;
                 int64_t keep_end = upper ? cols : std::clamp<int64_t>(i + k + 1, 0, cols);
                 int64_t offset = row_index * cols * element;
                 if (keep_end > keep_begin)
                   std::memcpy(dst + offset + keep_begin * element,
                               src + offset + keep_begin * element,
                               static_cast<size_t>((keep_end - keep_begin) * element));
               });
  return {out};
}

template <typename T>
void cumsum(const T* in, T* out, int64_t outer, int64_t length, int64_t inner, bool exclusive,
            bool reverse) {
  parallel_for(0, outer, 1, [&](int64_t o) {
    std::vector<T> sum(static_cast<size_t>(inner), T(0));
    for (int64_t step = 0; step < length; ++step) {
      int64_t i = reverse ? length - 1 - step : step;
      const T* x = in + (o * length + i) * inner;
      T* y = out + (o * length + i) * inner;
      for (int64_t j = 0; j < inner; ++j) {
        if (exclusive) {
          y[j] = sum[static_cast<size_t>(j)];
          sum[static_cast<size_t>(j)] += x[j];
        } else {
          sum[static_cast<size_t>(j)] += x[j];
          y[j] = sum[static_cast<size_t>(j)];
        }
      }
    }
  });
}

std::vector<Tensor> cumsum_kernel(const Node& node, const std::vector<Tensor>& inputs) {
  // x [a.., n, b..], axis [] -> [a.., n, b..] running sums along axis
  const Tensor& x = inputs[0];
  if (inputs[1].numel() != 1) throw_bad_input("{}: axis must be a scalar", node.describe());
  if (x.rank() == 0) throw_bad_input("{}: input must have rank 1 or more", node.describe());
  size_t axis =
      static_cast<size_t>(normalize_axis(node, int_values(node, inputs[1], "axis")[0], x.rank()));
  bool exclusive = node.attr_int("exclusive", 0) != 0;
  bool reverse = node.attr_int("reverse", 0) != 0;
  int64_t outer = product(x.shape(), 0, axis);
  int64_t length = x.shape()[axis];
  int64_t inner = product(x.shape(), axis + 1, x.shape().size());
  Tensor out(x.dtype(), x.shape());
  if (out.numel() == 0) return {out};
  switch (x.dtype()) {
    case DType::kF32:
      cumsum(x.data<float>(), out.data<float>(), outer, length, inner, exclusive, reverse);
      break;
    case DType::kF64:
      cumsum(x.data<double>(), out.data<double>(), outer, length, inner, exclusive, reverse);
      break;
    case DType::kF16: {
      // Sums run in float; each output is rounded to f16 once.
      Tensor wide = x.cast(DType::kF32);
      Tensor wide_out(DType::kF32, x.shape());
      cumsum(wide.data<float>(), wide_out.data<float>(), outer, length, inner, exclusive, reverse);
      return {wide_out.cast(DType::kF16)};
    }
    case DType::kU64:
      cumsum(x.data<uint64_t>(), out.data<uint64_t>(), outer, length, inner, exclusive, reverse);
      break;
    case DType::kU32:
      cumsum(x.data<uint32_t>(), out.data<uint32_t>(), outer, length, inner, exclusive, reverse);
      break;
    case DType::kI64:
      cumsum(x.data<int64_t>(), out.data<int64_t>(), outer, length, inner, exclusive, reverse);
      break;
    case DType::kI32:
      cumsum(x.data<int32_t>(), out.data<int32_t>(), outer, length, inner, exclusive, reverse);
      break;
    default:
      throw_bad_input("{}: CumSum does not support {}", node.describe(), dtype_name(x.dtype()));
  }
  return {out};
}

}  // namespace

void register_shape_kernels(KernelRegistry& registry) {
  registry.add("Reshape", reshape_kernel);
  registry.add("Transpose", transpose_kernel);
  registry.add("Flatten", flatten_kernel);
  registry.add("Concat", concat_kernel);
  registry.add("Split", split_kernel);
  registry.add("Slice", slice_kernel);
  registry.add("Gather", gather_kernel);
  registry.add("GatherElements", gather_elements_kernel);
  registry.add("Unsqueeze", unsqueeze_kernel);
  registry.add("Squeeze", squeeze_kernel);
  registry.add("Shape", shape_kernel);
  registry.add("Size", size_kernel);
  registry.add("Constant", constant_kernel);
  registry.add("ConstantOfShape", constant_of_shape_kernel);
  registry.add("Expand", expand_kernel);
  registry.add("Range", range_kernel);
  registry.add("Tile", tile_kernel);
  registry.add("Pad", pad_kernel);
  registry.add("Trilu", trilu_kernel);
  registry.add("CumSum", cumsum_kernel);
}

}  // namespace aimc::runtime
