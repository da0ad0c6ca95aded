// Numpy-style multidirectional broadcasting for runtime kernels: the broadcast shape of
// operands, and a loop that walks the output row by row with each operand's offsets.
// Header-only so that any kernel family (elementwise, nn bias adds) can use it.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <vector>

#include "aimc/core/parallel.h"
#include "aimc/core/tensor.h"

namespace aimc::runtime {

// The shape numpy broadcasting gives to operands of shapes a and b; nullopt when they do not
// broadcast (two dimensions differ and neither is 1).
inline std::optional<Shape> broadcast_shapes(const Shape& a, const Shape& b) {
  size_t rank = std::max(a.size(), b.size());
  Shape out(rank);
  for (size_t i = 0; i < rank; ++i) {
    // Align from the right: missing leading dimensions count as 1.
    int64_t da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    int64_t db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    if (da == db || db == 1) {
      out[i] = da;
    } else if (da == 1) {
      out[i] = db;
    } else {
      return std::nullopt;
    }
  }
  return out;
}

// The output loop nest of an N-operand broadcast, with dimensions merged where every operand
// can walk them as one (so [8, 16, 32] + [32] becomes [128, 32] with strides [0, 1]).
template <size_t N>
struct BroadcastLayout {
  Shape dims;                    // merged output dimensions; at least rank 1
  std::array<Shape, N> strides;  // per operand, in elements; 0 along broadcast dimensions
  int64_t numel = 0;
};

// `out_shape` must be the broadcast of `operand_shapes` (see broadcast_shapes).
template <size_t N>
BroadcastLayout<N> make_broadcast_layout(const Shape& out_shape,
                                         const std::array<Shape, N>& operand_shapes) {
  size_t rank = out_shape.size();
  std::array<Shape, N> aligned_strides;
  for (size_t k = 0; k < N; ++k) {
    const Shape& shape = operand_shapes[k];
    AIMC_ASSERT(shape.size() <= rank, "operand {} has rank above the output {}", shape_str(shape),
                shape_str(out_shape));
    Shape own = shape_strides(shape);
    aligned_strides[k].assign(rank, 0);
    size_t lead = rank - shape.size();
    for (size_t i = 0; i < shape.size(); ++i) {
      aligned_strides[k][lead + i] = shape[i] == 1 ? 0 : own[i];
    }
  }
  BroadcastLayout<N> layout;
  layout.numel = shape_numel(out_shape);
  for (size_t i = 0; i < rank; ++i) {
    if (out_shape[i] == 1) continue;  // contributes nothing to any offset
    bool mergeable = !layout.dims.empty();
    for (size_t k = 0; k < N && mergeable; ++k) {
      // The previous merged dimension continues this one when its stride spans it exactly.
      mergeable = layout.strides[k].back() == aligned_strides[k][i] * out_shape[i];
    }
    if (mergeable) {
      layout.dims.back() *= out_shape[i];
      for (size_t k = 0; k < N; ++k) layout.strides[k].back() = aligned_strides[k][i];
    } else {
      layout.dims.push_back(out_shape[i]);
      for (size_t k = 0; k < N; ++k) layout.strides[k].push_back(aligned_strides[k][i]);
    }
  }
  if (layout.dims.empty()) {
    layout.dims.push_back(1);
    for (size_t k = 0; k < N; ++k) layout.strides[k].push_back(0);
  }
  return layout;
}

// Calls row(out_offset, length, operand_offsets, operand_steps) for runs of `length` output
// elements starting at out_offset, along which operand k starts at operand_offsets[k] and
// advances by operand_steps[k] (0 when broadcast). Runs are processed in parallel when the
// output is large; each output element is visited exactly once.
template <size_t N, typename RowFn>
void for_each_broadcast_row(const BroadcastLayout<N>& layout, const RowFn& row) {
  if (layout.numel == 0) return;
  // Long rows are cut into blocks so that a [1, n] output still spreads across threads.
  constexpr int64_t kBlock = 16384;
  constexpr int64_t kSerialElements = 32768;
  size_t rank = layout.dims.size();
  int64_t inner = layout.dims.back();
  int64_t block = std::min(inner, kBlock);
  int64_t blocks_per_row = (inner + block - 1) / block;
  int64_t rows = layout.numel / inner;
  std::array<int64_t, N> steps;
  for (size_t k = 0; k < N; ++k) steps[k] = layout.strides[k].back();
  int64_t grain = std::max<int64_t>(1, kSerialElements / block);
  parallel_for(0, rows * blocks_per_row, grain, [&](int64_t task) {
    int64_t row_index = task / blocks_per_row;
    int64_t start = (task % blocks_per_row) * block;
    std::array<int64_t, N> offsets{};
    int64_t rest = row_index;
    for (size_t d = rank - 1; d-- > 0;) {
      int64_t coord = rest % layout.dims[d];
      rest /= layout.dims[d];
      for (size_t k = 0; k < N; ++k) offsets[k] += coord * layout.strides[k][d];
    }
    for (size_t k = 0; k < N; ++k) offsets[k] += start * steps[k];
    row(row_index * inner + start, std::min(block, inner - start), offsets, steps);
  });
}

// out[i] = fn(a[.], b[.]) over the broadcast of a and b: the general strided path. `out` must
// already have the broadcast shape.
template <typename Out, typename A, typename B, typename Fn>
void broadcast_map2(const Tensor& a, const Tensor& b, Tensor& out, const Fn& fn) {
  auto layout = make_broadcast_layout<2>(out.shape(), {a.shape(), b.shape()});
  const A* pa = a.data<A>();
  const B* pb = b.data<B>();
  Out* po = out.data<Out>();
  for_each_broadcast_row(layout, [&](int64_t o, int64_t n, const std::array<int64_t, 2>& off,
                                     const std::array<int64_t, 2>& step) {
    for (int64_t j = 0; j < n; ++j) {
      po[o + j] = fn(pa[off[0] + j * step[0]], pb[off[1] + j * step[1]]);
    }
  });
}

// out[i] = fn(a[.], b[.], c[.]) over the broadcast of a, b and c (e.g. Where).
template <typename Out, typename A, typename B, typename C, typename Fn>
void broadcast_map3(const Tensor& a, const Tensor& b, const Tensor& c, Tensor& out, const Fn& fn) {
  auto layout = make_broadcast_layout<3>(out.shape(), {a.shape(), b.shape(), c.shape()});
  const A* pa = a.data<A>();
  const B* pb = b.data<B>();
  const C* pc = c.data<C>();
  Out* po = out.data<Out>();
  for_each_broadcast_row(layout, [&](int64_t o, int64_t n, const std::array<int64_t, 3>& off,
                                     const std::array<int64_t, 3>& step) {
    for (int64_t j = 0; j < n; ++j) {
      po[o + j] = fn(pa[off[0] + j * step[0]], pb[off[1] + j * step[1]], pc[off[2] + j * step[2]]);
    }
  });
}

}  // namespace aimc::runtime
