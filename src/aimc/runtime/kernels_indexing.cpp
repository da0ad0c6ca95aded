// Kernels of the indexing and rearranging ops (ONNX semantics, opsets 11-17): ScatterND,
// ScatterElements, GatherND, DepthToSpace, SpaceToDepth, OneHot, EyeLike, TopK, Einsum. Index
// errors (out of range, wrong dtype or shape) are the user's and name the node. Scatters apply
// their updates in index order, so with reduction "none" the last duplicate wins, as in the ONNX
// reference.
#include <algorithm>
#include <cstring>
#include <string>
#include <type_traits>
#include <vector>

#include "aimc/ir/einsum.h"
#include "aimc/runtime/kernel.h"
#include "aimc/runtime/nn_kernels.h"

namespace aimc::runtime {
namespace {

using ir::Node;

std::vector<int64_t> index_values(const Node& node, const Tensor& t, const char* what) {
  if (t.dtype() != DType::kI64 && t.dtype() != DType::kI32)
    throw_bad_input("{}: {} must be int64 or int32, not {}", node.describe(), what,
                    dtype_name(t.dtype()));
  return t.to_int_vector();
}

int64_t checked_index(const Node& node, int64_t i, int64_t size, size_t axis) {
  if (i < -size || i >= size)
    throw_bad_input("{}: index {} is out of range for axis {} of size {}", node.describe(), i, axis,
                    size);
  return i < 0 ? i + size : i;
}

enum class Reduction { kNone, kAdd, kMul, kMax, kMin };

Reduction reduction_of(const Node& node) {
  std::string r = node.attr_string("reduction", "none");
  if (r == "none") return Reduction::kNone;
  if (r == "add") return Reduction::kAdd;
  if (r == "mul") return Reduction::kMul;
  if (r == "max") return Reduction::kMax;
  if (r == "min") return Reduction::kMin;
  throw_bad_input("{}: reduction '{}' is not none, add, mul, max or min", node.describe(), r);
}

template <typename T>
void combine(T* out, const T* update, Reduction r) {
  switch (r) {
    case Reduction::kNone:
      *out = *update;
      return;
    case Reduction::kAdd:
      if constexpr (std::is_same_v<T, bool>)
        *out = *out || *update;
      else
        *out = static_cast<T>(*out + *update);
      return;
    case Reduction::kMul:
      if constexpr (std::is_same_v<T, bool>)
        *out = *out && *update;
      else
        *out = static_cast<T>(*out * *update);
      return;
    case Reduction::kMax:
      *out = std::max(*out, *update);
      return;
    case Reduction::kMin:
      *out = std::min(*out, *update);
      return;
  }
}

// Calls fn(T{}) with the element type of `dtype` for the scatter reductions; with reduction
// "none" any dtype works through its element size.
template <typename Fn>
void dispatch_typed(const Node& node, DType dtype, Reduction r, const Fn& fn) {
  switch (dtype) {
    case DType::kF32:
      return fn(float{});
    case DType::kF64:
      return fn(double{});
    case DType::kI64:
      return fn(int64_t{});
    case DType::kI32:
      return fn(int32_t{});
    case DType::kI16:
      return fn(int16_t{});
    case DType::kI8:
      return fn(int8_t{});
    case DType::kU8:
      return fn(uint8_t{});
    case DType::kU16:
      return fn(uint16_t{});
    case DType::kU32:
      return fn(uint32_t{});
    case DType::kU64:
      return fn(uint64_t{});
    case DType::kBool:
      return fn(bool{});
    default:
      if (r == Reduction::kNone && dtype_size(dtype) == 2) return fn(uint16_t{});
      throw_bad_input("{}: dtype {} is unsupported by {} with this reduction", node.describe(),
                      dtype_name(dtype), node.op);
  }
}

// ScatterND: data [d..], indices [i.., k], updates [i.., d_k..] -> data with
// out[indices[i..]] (a slice of the trailing dims) combined with updates[i..].
std::vector<Tensor> scatter_nd_kernel(const Node& node, const std::vector<Tensor>& inputs) {
  const Tensor& data = inputs[0];
  const Tensor& indices_t = inputs[1];
  const Tensor& updates = inputs[2];
  Reduction r = reduction_of(node);
  if (indices_t.rank() < 1)
    throw_bad_input("{}: indices must have rank 1 or more", node.describe());
  int64_t k = indices_t.shape().back();
  if (k > data.rank())
    throw_bad_input("{}: index tuples of length {} for data of rank {}", node.describe(), k,
                    data.rank());
  Shape want(indices_t.shape().begin(), indices_t.shape().end() - 1);
  want.insert(want.end(), data.shape().begin() + k, data.shape().end());
  if (updates.shape() != want)
    throw_bad_input("{}: updates has shape {}, expected {}", node.describe(),
                    shape_str(updates.shape()), shape_str(want));
  if (updates.dtype() != data.dtype())
    throw_bad_input("{}: updates are {} but data is {}", node.describe(),
                    dtype_name(updates.dtype()), dtype_name(data.dtype()));
  std::vector<int64_t> idx = index_values(node, indices_t, "indices");
  Tensor out = data.clone();
  Shape strides = shape_strides(data.shape());
  int64_t slice = 1;
  for (int64_t d = k; d < data.rank(); ++d) slice *= data.shape()[static_cast<size_t>(d)];
  int64_t tuples =
      k > 0 ? static_cast<int64_t>(idx.size()) / k : updates.numel() / std::max<int64_t>(slice, 1);
  dispatch_typed(node, data.dtype(), r, [&](auto tag) {
    using T = decltype(tag);
    T* o = reinterpret_cast<T*>(out.raw());
    const T* u = reinterpret_cast<const T*>(updates.raw());
    for (int64_t t = 0; t < tuples; ++t) {
      int64_t offset = 0;
      for (int64_t j = 0; j < k; ++j) {
        auto axis = static_cast<size_t>(j);
        offset +=
            checked_index(node, idx[static_cast<size_t>(t * k + j)], data.shape()[axis], axis) *
            strides[axis];
      }
      for (int64_t e = 0; e < slice; ++e) combine(o + offset + e, u + t * slice + e, r);
    }
  });
  return {out};
}

// ScatterElements: data [d..], indices [i..] (same rank), updates [i..] -> data with
// out[i.. with axis <- indices[i..]] combined with updates[i..].
std::vector<Tensor> scatter_elements_kernel(const Node& node, const std::vector<Tensor>& inputs) {
  const Tensor& data = inputs[0];
  const Tensor& indices_t = inputs[1];
  const Tensor& updates = inputs[2];
  Reduction r = reduction_of(node);
  if (indices_t.rank() != data.rank() || updates.shape() != indices_t.shape())
    throw_bad_input("{}: indices {} and updates {} must have one shape, of data's rank {}",
                    node.describe(), shape_str(indices_t.shape()), shape_str(updates.shape()),
                    data.rank());
  if (updates.dtype() != data.dtype())
    throw_bad_input("{}: updates are {} but data is {}", node.describe(),
                    dtype_name(updates.dtype()), dtype_name(data.dtype()));
  int64_t axis = nn::normalize_axis(node, node.attr_int("axis", 0), data.rank());
  for (size_t d = 0; d < data.shape().size(); ++d)
    if (static_cast<int64_t>(d) != axis && indices_t.shape()[d] > data.shape()[d])
      throw_bad_input("{}: indices {} exceed data {} along axis {}", node.describe(),
                      shape_str(indices_t.shape()), shape_str(data.shape()), d);
  std::vector<int64_t> idx = index_values(node, indices_t, "indices");
  Tensor out = data.clone();
  Shape data_strides = shape_strides(data.shape());
  const Shape& ishape = indices_t.shape();
  auto ax = static_cast<size_t>(axis);
  dispatch_typed(node, data.dtype(), r, [&](auto tag) {
    using T = decltype(tag);
    T* o = reinterpret_cast<T*>(out.raw());
    const T* u = reinterpret_cast<const T*>(updates.raw());
    std::vector<int64_t> pos(ishape.size(), 0);
    for (int64_t n = 0; n < indices_t.numel(); ++n) {
      int64_t offset = 0;
      for (size_t d = 0; d < ishape.size(); ++d) {
        int64_t p =
            d == ax ? checked_index(node, idx[static_cast<size_t>(n)], data.shape()[d], d) : pos[d];
        offset += p * data_strides[d];
      }
      combine(o + offset, u + n, r);
      for (size_t d = ishape.size(); d-- > 0;) {
        if (++pos[d] < ishape[d]) break;
        pos[d] = 0;
      }
    }
  });
  return {out};
}

// GatherND: data [b.., d..], indices [b.., i.., k] -> [b.., i.., d_{b+k}..]
std::vector<Tensor> gather_nd_kernel(const Node& node, const std::vector<Tensor>& inputs) {
  const Tensor& data = inputs[0];
  const Tensor& indices_t = inputs[1];
  int64_t b = node.attr_int("batch_dims", 0);
  int64_t q = indices_t.rank(), r = data.rank();
  if (q < 1) throw_bad_input("{}: indices must have rank 1 or more", node.describe());
  int64_t k = indices_t.shape().back();
  if (b < 0 || b >= std::min(q, r) || k < 1 || b + k > r)
    throw_bad_input("{}: indices {} with batch_dims {} do not index data {}", node.describe(),
                    shape_str(indices_t.shape()), b, shape_str(data.shape()));
  for (int64_t d = 0; d < b; ++d)
    if (indices_t.shape()[static_cast<size_t>(d)] != data.shape()[static_cast<size_t>(d)])
      throw_bad_input("{}: batch dimension {} differs: indices {} data {}", node.describe(), d,
                      shape_str(indices_t.shape()), shape_str(data.shape()));
  Shape out_shape(indices_t.shape().begin(), indices_t.shape().end() - 1);
  out_shape.insert(out_shape.end(), data.shape().begin() + b + k, data.shape().end());
  std::vector<int64_t> idx = index_values(node, indices_t, "indices");
  Tensor out(data.dtype(), out_shape);
  int64_t batches = 1;
  for (int64_t d = 0; d < b; ++d) batches *= data.shape()[static_cast<size_t>(d)];
  int64_t slice = 1;
  for (int64_t d = b + k; d < r; ++d) slice *= data.shape()[static_cast<size_t>(d)];
  int64_t batch_stride = 1;  // data elements per batch entry
  for (int64_t d = b; d < r; ++d) batch_stride *= data.shape()[static_cast<size_t>(d)];
  Shape strides = shape_strides(data.shape());
  int64_t tuples_per_batch = batches > 0 ? static_cast<int64_t>(idx.size()) / k / batches : 0;
  size_t elem = dtype_size(data.dtype());
  const std::byte* src = data.raw();
  std::byte* dst = out.raw();
  for (int64_t bi = 0; bi < batches; ++bi) {
    for (int64_t t = 0; t < tuples_per_batch; ++t) {
      int64_t tuple = bi * tuples_per_batch + t;
      int64_t offset = bi * batch_stride;
      for (int64_t j = 0; j < k; ++j) {
        auto axis = static_cast<size_t>(b + j);
        offset +=
            checked_index(node, idx[static_cast<size_t>(tuple * k + j)], data.shape()[axis], axis) *
            strides[axis];
      }
      std::memcpy(dst + static_cast<size_t>(tuple * slice) * elem,
                  src + static_cast<size_t>(offset) * elem, static_cast<size_t>(slice) * elem);
    }
  }
  return {out};
}

// DepthToSpace / SpaceToDepth as the reshape-transpose-reshape of the ONNX definition.
std::vector<Tensor> depth_space_kernel(const Node& node, const std::vector<Tensor>& inputs) {
  const Tensor& x = inputs[0];
  int64_t bs = node.require_int("blocksize");
  if (bs <= 0) throw_bad_input("{}: blocksize must be positive", node.describe());
  if (x.rank() != 4)
    throw_bad_input("{}: input must be [N, C, H, W], got {}", node.describe(),
                    shape_str(x.shape()));
  int64_t n = x.shape()[0], c = x.shape()[1], h = x.shape()[2], w = x.shape()[3];
  bool to_space = node.op == "DepthToSpace";
  bool crd = to_space && node.attr_string("mode", "DCR") == "CRD";
  Shape out_shape;
  if (to_space) {
    if (c % (bs * bs) != 0)
      throw_bad_input("{}: {} channels are not a multiple of blocksize^2 = {}", node.describe(), c,
                      bs * bs);
    out_shape = {n, c / (bs * bs), h * bs, w * bs};
  } else {
    if (h % bs != 0 || w % bs != 0)
      throw_bad_input("{}: {}x{} is not a multiple of blocksize {}", node.describe(), h, w, bs);
    out_shape = {n, c * bs * bs, h / bs, w / bs};
  }
  Tensor out(x.dtype(), out_shape);
  size_t elem = dtype_size(x.dtype());
  const std::byte* src = x.raw();
  std::byte* dst = out.raw();
  int64_t oc = out_shape[1], oh = out_shape[2], ow = out_shape[3];
  for (int64_t ni = 0; ni < n; ++ni)
    for (int64_t ci = 0; ci < oc; ++ci)
      for (int64_t yi = 0; yi < oh; ++yi)
        for (int64_t xi = 0; xi < ow; ++xi) {
          int64_t in_c, in_y, in_x;
          if (to_space) {
            int64_t by = yi % bs, bx = xi % bs;
            in_c = crd ? ci * bs * bs + by * bs + bx : (by * bs + bx) * oc + ci;
            in_y = yi / bs;
            in_x = xi / bs;
          } else {
            // Output channel = (by * bs + bx) * C + c.
            int64_t block = ci / c, cc = ci % c;
            in_c = cc;
            in_y = yi * bs + block / bs;
            in_x = xi * bs + block % bs;
          }
          int64_t from = ((ni * c + in_c) * h + in_y) * w + in_x;
          int64_t to = ((ni * oc + ci) * oh + yi) * ow + xi;
          std::memcpy(dst + static_cast<size_t>(to) * elem, src + static_cast<size_t>(from) * elem,
                      elem);
        }
  return {out};
}

// OneHot: indices [i..], depth [], values [2] -> [i.. with depth at axis] of values' dtype
std::vector<Tensor> one_hot_kernel(const Node& node, const std::vector<Tensor>& inputs) {
  const Tensor& indices_t = inputs[0];
  const Tensor& depth_t = inputs[1];
  const Tensor& values = inputs[2];
  if (depth_t.numel() != 1) throw_bad_input("{}: depth must hold one value", node.describe());
  if (values.numel() != 2)
    throw_bad_input("{}: values must hold [off, on], got shape {}", node.describe(),
                    shape_str(values.shape()));
  auto depth = static_cast<int64_t>(depth_t.item_as_double(0));
  if (depth < 1) throw_bad_input("{}: depth must be positive, not {}", node.describe(), depth);
  int64_t rank = indices_t.rank() + 1;
  int64_t axis = nn::normalize_axis(node, node.attr_int("axis", -1), rank);
  Shape out_shape = indices_t.shape();
  out_shape.insert(out_shape.begin() + axis, depth);
  Tensor out(values.dtype(), out_shape);
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < axis; ++d) outer *= indices_t.shape()[static_cast<size_t>(d)];
  for (int64_t d = axis; d < indices_t.rank(); ++d)
    inner *= indices_t.shape()[static_cast<size_t>(d)];
  Tensor idx = dtype_is_floating(indices_t.dtype()) ? indices_t.cast(DType::kF64) : indices_t;
  size_t elem = dtype_size(values.dtype());
  const std::byte* off = values.raw();
  const std::byte* on = values.raw() + elem;
  std::byte* dst = out.raw();
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t dpos = 0; dpos < depth; ++dpos)
      for (int64_t i = 0; i < inner; ++i) {
        int64_t at = o * inner + i;
        auto v = static_cast<int64_t>(idx.dtype() == DType::kF64 ? idx.data<double>()[at]
                                                                 : idx.item_as_int(at));
        if (v < 0) v += depth;
        std::memcpy(dst + static_cast<size_t>((o * depth + dpos) * inner + i) * elem,
                    v == dpos ? on : off, elem);
      }
  return {out};
}

// EyeLike: x [r, c] -> ones on diagonal k, in the dtype attribute's type or x's
std::vector<Tensor> eye_like_kernel(const Node& node, const std::vector<Tensor>& inputs) {
  const Tensor& x = inputs[0];
  if (x.rank() != 2)
    throw_bad_input("{}: input must have rank 2, got {}", node.describe(), shape_str(x.shape()));
  DType dtype = x.dtype();
  if (node.has_attr("dtype")) {
    std::optional<DType> d = dtype_from_onnx_code(node.attr_int("dtype", 1));
    if (!d)
      throw_bad_input("{}: dtype {} is unsupported", node.describe(), node.attr_int("dtype", 1));
    dtype = *d;
  }
  int64_t k = node.attr_int("k", 0);
  Tensor ones = Tensor::scalar<float>(1.0f).cast(dtype);
  Tensor out(dtype, x.shape());
  size_t elem = dtype_size(dtype);
  for (int64_t i = 0; i < x.shape()[0]; ++i) {
    int64_t j = i + k;
    if (j >= 0 && j < x.shape()[1])
      std::memcpy(out.raw() + static_cast<size_t>(i * x.shape()[1] + j) * elem, ones.raw(), elem);
  }
  return {out};
}

// TopK: x [..], k [1] -> values, indices (int64) with k along axis; largest first (smallest
// with largest = 0), equal values in index order, as onnxruntime orders them.
std::vector<Tensor> top_k_kernel(const Node& node, const std::vector<Tensor>& inputs) {
  const Tensor& x = inputs[0];
  const Tensor& k_t = inputs[1];
  if (k_t.numel() != 1) throw_bad_input("{}: K must hold one value", node.describe());
  int64_t k = k_t.item_as_int(0);
  if (x.rank() == 0) throw_bad_input("{}: input must have rank 1 or more", node.describe());
  int64_t axis = nn::normalize_axis(node, node.attr_int("axis", -1), x.rank());
  int64_t n = x.shape()[static_cast<size_t>(axis)];
  if (k < 0 || k > n)
    throw_bad_input("{}: K = {} is outside [0, {}] for axis {}", node.describe(), k, n, axis);
  bool largest = node.attr_int("largest", 1) != 0;
  Shape out_shape = x.shape();
  out_shape[static_cast<size_t>(axis)] = k;
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < axis; ++d) outer *= x.shape()[static_cast<size_t>(d)];
  for (int64_t d = axis + 1; d < x.rank(); ++d) inner *= x.shape()[static_cast<size_t>(d)];
  Tensor values(x.dtype(), out_shape);
  Tensor indices(DType::kI64, out_shape);
  if (x.dtype() == DType::kBool || x.dtype() == DType::kF16)
    throw_bad_input("{}: dtype {} is unsupported by TopK", node.describe(), dtype_name(x.dtype()));
  dispatch_typed(node, x.dtype(), Reduction::kNone, [&](auto tag) {
    using T = decltype(tag);
    const T* src = reinterpret_cast<const T*>(x.raw());
    T* vo = reinterpret_cast<T*>(values.raw());
    int64_t* io = indices.data<int64_t>();
    std::vector<int64_t> order(static_cast<size_t>(n));
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t i = 0; i < inner; ++i) {
        const T* line = src + o * n * inner + i;
        for (int64_t j = 0; j < n; ++j) order[static_cast<size_t>(j)] = j;
        auto before = [&](int64_t a, int64_t b) {
          T va = line[a * inner], vb = line[b * inner];
          if (va != vb) return largest ? va > vb : va < vb;
          return a < b;
        };
        std::partial_sort(order.begin(), order.begin() + k, order.end(), before);
        for (int64_t j = 0; j < k; ++j) {
          int64_t at = (o * k + j) * inner + i;
          io[at] = order[static_cast<size_t>(j)];
          vo[at] = line[order[static_cast<size_t>(j)] * inner];
        }
      }
  });
  std::vector<Tensor> out{values, indices};
  out.resize(std::min(out.size(), node.outputs.size()));
  return out;
}

// Einsum: every output element is the sum, over the contracted labels, of the product of the
// operands' elements (accumulated in double for floats, in the dtype for integers).
std::vector<Tensor> einsum_kernel(const Node& node, const std::vector<Tensor>& inputs) {
  std::vector<std::vector<int64_t>> shapes;
  for (const Tensor& t : inputs) {
    if (t.dtype() != inputs[0].dtype())
      throw_bad_input("{}: operands have different dtypes {} and {}", node.describe(),
                      dtype_name(inputs[0].dtype()), dtype_name(t.dtype()));
    shapes.push_back(t.shape());
  }
  ir::EinsumPlan plan =
      ir::EinsumEquation::parse(node.describe(), node.attr_string("equation", ""), inputs.size())
          .plan(node.describe(), shapes);
  Tensor out(inputs[0].dtype(), plan.output_dims);
  auto odometer = [&](const std::vector<int>& labels, std::vector<int64_t>& pos,
                      std::vector<int64_t>& offsets) {
    // Advances pos over labels (last fastest); keeps offsets[o] in step. False when done.
    for (size_t d = labels.size(); d-- > 0;) {
      auto label = static_cast<size_t>(labels[d]);
      for (size_t o = 0; o < offsets.size(); ++o) offsets[o] += plan.strides[o][label];
      if (++pos[d] < plan.label_sizes[label]) return true;
      for (size_t o = 0; o < offsets.size(); ++o) offsets[o] -= pos[d] * plan.strides[o][label];
      pos[d] = 0;
    }
    return false;
  };
  for (int id : plan.summed_labels)
    if (plan.label_sizes[static_cast<size_t>(id)] == 0) {
      std::memset(out.raw(), 0, out.nbytes());
      return {out};
    }
  if (out.numel() == 0) return {out};
  auto compute = [&](auto tag) {
    using T = decltype(tag);
    using Acc = std::conditional_t<std::is_floating_point_v<T>, double, T>;
    T* dst = reinterpret_cast<T*>(out.raw());
    std::vector<const T*> src;
    for (const Tensor& t : inputs) src.push_back(reinterpret_cast<const T*>(t.raw()));
    std::vector<int64_t> opos(plan.output_labels.size(), 0), base(inputs.size(), 0);
    int64_t at = 0;
    do {
      std::vector<int64_t> spos(plan.summed_labels.size(), 0), offsets = base;
      Acc sum = 0;
      do {
        Acc product = 1;
        for (size_t o = 0; o < src.size(); ++o)
          product = static_cast<Acc>(product * static_cast<Acc>(src[o][offsets[o]]));
        sum = static_cast<Acc>(sum + product);
      } while (odometer(plan.summed_labels, spos, offsets));
      dst[at++] = static_cast<T>(sum);
    } while (odometer(plan.output_labels, opos, base));
  };
  switch (inputs[0].dtype()) {
    case DType::kF32:
      compute(float{});
      break;
    case DType::kF64:
      compute(double{});
      break;
    case DType::kI64:
      compute(int64_t{});
      break;
    case DType::kI32:
      compute(int32_t{});
      break;
    default:
      throw_bad_input("{}: dtype {} is unsupported by Einsum", node.describe(),
                      dtype_name(inputs[0].dtype()));
  }
  return {out};
}

}  // namespace

void register_indexing_kernels(KernelRegistry& registry) {
  registry.add("TopK", top_k_kernel);
  registry.add("Einsum", einsum_kernel);
  registry.add("ScatterND", scatter_nd_kernel);
  registry.add("ScatterElements", scatter_elements_kernel);
  registry.add("GatherND", gather_nd_kernel);
  registry.add("DepthToSpace", depth_space_kernel);
  registry.add("SpaceToDepth", depth_space_kernel);
  registry.add("OneHot", one_hot_kernel);
  registry.add("EyeLike", eye_like_kernel);
}

}  // namespace aimc::runtime
