// Schemas and shape functions of the shape and data-movement ops (ONNX semantics, opsets 13-17):
// Reshape, Transpose, Flatten, Concat, Split, Slice, Gather, GatherElements, Unsqueeze, Squeeze,
// Shape, Size, Constant, ConstantOfShape, Expand, Range, Tile, Pad, Trilu, CumSum.
// Shape functions keep symbolic dimensions ("batch") flowing through when a dimension is only
// copied, and use constant inputs (Reshape's shape, Slice's starts...) when they are known.
#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <set>

#include "aimc/ir/op_registry.h"

namespace aimc::ir {
namespace {

// ---- helpers ----

void set_output(Node& node, size_t index, DType dtype, bool dtype_known,
                std::optional<SymShape> shape) {
  Value* out = node.output(index);
  if (!out) return;
  out->dtype = dtype;
  out->dtype_known = dtype_known;
  out->shape = std::move(shape);
}

// Output `index` gets input `from`'s dtype.
void set_output_like(Node& node, size_t index, size_t from, std::optional<SymShape> shape) {
  const Value* in = node.input(from);
  set_output(node, index, in ? in->dtype : DType::kF32, in && in->dtype_known, std::move(shape));
}

std::optional<SymShape> input_shape(const Node& node, size_t index) {
  const Value* in = node.input(index);
  if (!in) return std::nullopt;
  return in->shape;
}

// Values of a constant integer input; nullopt when the input is absent or not constant.
std::optional<std::vector<int64_t>> constant_ints(const Node& node, size_t index,
                                                  const char* what) {
  const Value* in = node.input(index);
  if (!in || !in->is_constant()) return std::nullopt;
  if (dtype_is_floating(in->constant.dtype()))
    throw_bad_input("{}: input '{}' ({}) must hold integers, not {}", node.describe(), in->name,
                    what, dtype_name(in->constant.dtype()));
  return in->constant.to_int_vector();
}

// Length of a 1-D input whose values are unknown (e.g. a computed shape), when its shape says.
std::optional<int64_t> known_length(const Node& node, size_t index) {
  std::optional<SymShape> shape = input_shape(node, index);
  if (!shape || shape->size() != 1 || !(*shape)[0].known()) return std::nullopt;
  return (*shape)[0].value;
}

int64_t normalize_axis(const Node& node, int64_t axis, int64_t rank, const char* what = "axis") {
  if (axis < -rank || axis >= rank)
    throw_bad_input("{}: {} {} is out of range for rank {}", node.describe(), what, axis, rank);
  return axis < 0 ? axis + rank : axis;
}

int64_t rank_of(const SymShape& shape) {
  return static_cast<int64_t>(shape.size());
}

SymShape unknown_dims(int64_t rank) {
  return SymShape(static_cast<size_t>(rank));
}

// Two dimensions that must be equal (Concat's other axes): the more precise one.
Dim merge_equal_dims(const Node& node, const Dim& a, const Dim& b, int64_t axis) {
  if (a.known() && b.known() && a.value != b.value)
    throw_bad_input("{}: inputs disagree on dimension {} ({} vs {})", node.describe(), axis,
                    a.value, b.value);
  if (a.known()) return a;
  if (b.known()) return b;
  return a.symbol.empty() ? b : a;
}

// Numpy broadcasting of two dimensions.
Dim broadcast_dims(const Node& node, const Dim& a, const Dim& b) {
  if (a.known() && a.value == 1) return b;
  if (b.known() && b.value == 1) return a;
  if (a.known() && b.known()) {
    if (a.value != b.value)
      throw_bad_input("{}: dimensions {} and {} cannot be broadcast", node.describe(), a.value,
                      b.value);
    return a;
  }
  // A symbolic dimension facing a known one (other than 1) must be either 1 or equal to it.
  if (a.known()) return a;
  if (b.known()) return b;
  if (!a.symbol.empty() && a.symbol == b.symbol) return a;
  return Dim{};
}

SymShape broadcast_shapes(const Node& node, const SymShape& a, const SymShape& b) {
  size_t rank = std::max(a.size(), b.size());
  SymShape out(rank);
  for (size_t i = 0; i < rank; ++i) {
    const Dim one = Dim::of(1);
    const Dim& da = i < rank - a.size() ? one : a[i - (rank - a.size())];
    const Dim& db = i < rank - b.size() ? one : b[i - (rank - b.size())];
    out[i] = broadcast_dims(node, da, db);
  }
  return out;
}

// Product of dims[begin, end): known when every factor is; a single unknown factor among ones
// stays itself (so "batch" survives Flatten of [batch, 1, 1]).
Dim dim_product(const SymShape& dims, size_t begin, size_t end) {
  int64_t known_product = 1;
  std::optional<Dim> unknown;
  int unknown_count = 0;
  for (size_t i = begin; i < end; ++i) {
    if (dims[i].known()) {
      // An absurd product is left to the kernel to report.
      if (__builtin_mul_overflow(known_product, dims[i].value, &known_product)) return Dim{};
    } else {
      unknown = dims[i];
      ++unknown_count;
    }
  }
  if (unknown_count == 0) return Dim::of(known_product);
  if (known_product == 0) return Dim::of(0);
  if (unknown_count == 1 && known_product == 1) return *unknown;
  return Dim{};
}

// ---- Reshape ----

// The dimension Reshape's -1 stands for, from the input's dims and the other output dims.
// Symbols that appear on both sides cancel, so [batch, 12, 64] -> [-1, 768] keeps "batch".
Dim infer_reshape_dim(const Node& node, const SymShape& input, const SymShape& output,
                      size_t infer_at) {
  int64_t input_product = 1, output_product = 1;
  std::multiset<std::string> input_symbols, output_symbols;
  bool anonymous_unknown = false;
  for (const Dim& d : input) {
    if (d.known()) {
      if (__builtin_mul_overflow(input_product, d.value, &input_product)) return Dim{};
    } else if (d.symbol.empty()) {
      anonymous_unknown = true;
    } else {
      input_symbols.insert(d.symbol);
    }
  }
  for (size_t i = 0; i < output.size(); ++i) {
    if (i == infer_at) continue;
    const Dim& d = output[i];
    if (d.known()) {
      if (__builtin_mul_overflow(output_product, d.value, &output_product)) return Dim{};
    } else if (d.symbol.empty()) {
      anonymous_unknown = true;
    } else {
      auto it = input_symbols.find(d.symbol);
      if (it != input_symbols.end()) {
        input_symbols.erase(it);
      } else {
        output_symbols.insert(d.symbol);
      }
    }
  }
  if (anonymous_unknown || !output_symbols.empty() || output_product == 0) return Dim{};
  if (input_symbols.empty()) {
    if (input_product % output_product != 0)
      throw_bad_input("{}: cannot reshape {} elements into {} with -1", node.describe(),
                      input_product, sym_shape_str(output));
    return Dim::of(input_product / output_product);
  }
  if (input_symbols.size() == 1 && input_product == output_product)
    return Dim::symbolic(*input_symbols.begin());
  return Dim{};
}

void infer_reshape(Node& node) {
  std::optional<std::vector<int64_t>> target = constant_ints(node, 1, "shape");
  if (!target) {
    std::optional<int64_t> rank = known_length(node, 1);
    set_output_like(node, 0, 0, rank ? std::optional(unknown_dims(*rank)) : std::nullopt);
    return;
  }
  std::optional<SymShape> input = input_shape(node, 0);
  bool allowzero = node.attr_int("allowzero", 0) != 0;
  SymShape output(target->size());
  std::optional<size_t> infer_at;
  bool has_zero = false;
  for (size_t i = 0; i < target->size(); ++i) {
    int64_t v = (*target)[i];
    if (v == -1) {
      if (infer_at)
        throw_bad_input("{}: shape {} has more than one -1", node.describe(),
                        sym_shape_str(to_sym_shape(*target)));
      infer_at = i;
    } else if (v < -1) {
      throw_bad_input("{}: shape entry {} is negative", node.describe(), v);
    } else if (v == 0 && !allowzero) {
      if (input && i >= input->size())
        throw_bad_input("{}: shape entry {} is 0 but the input has only {} dimensions",
                        node.describe(), i, input->size());
      output[i] = input ? (*input)[i] : Dim{};
    } else {
      has_zero |= v == 0;
      output[i] = Dim::of(v);
    }
  }
  if (allowzero && has_zero && infer_at)
    throw_bad_input("{}: with allowzero=1 the shape cannot hold both 0 and -1", node.describe());
  if (infer_at) {
    output[*infer_at] = input ? infer_reshape_dim(node, *input, output, *infer_at) : Dim{};
  } else if (input && sym_shape_known(*input) && sym_shape_known(output) &&
             dim_product(*input, 0, input->size()).value !=
                 dim_product(output, 0, output.size()).value) {
    throw_bad_input("{}: cannot reshape {} into {}", node.describe(), sym_shape_str(*input),
                    sym_shape_str(output));
  }
  set_output_like(node, 0, 0, output);
}

// ---- Transpose, Flatten, Squeeze, Unsqueeze ----

void infer_transpose(Node& node) {
  std::optional<SymShape> input = input_shape(node, 0);
  if (!input) {
    std::vector<int64_t> perm = node.attr_ints("perm");
    set_output_like(node, 0, 0,
                    perm.empty() ? std::nullopt
                                 : std::optional(unknown_dims(static_cast<int64_t>(perm.size()))));
    return;
  }
  int64_t rank = rank_of(*input);
  std::vector<int64_t> perm = node.attr_ints("perm");
  if (!node.has_attr("perm")) {
    for (int64_t i = rank - 1; i >= 0; --i) perm.push_back(i);
  }
  if (static_cast<int64_t>(perm.size()) != rank)
    throw_bad_input("{}: perm has {} entries for an input of rank {}", node.describe(), perm.size(),
                    rank);
  std::vector<bool> seen(static_cast<size_t>(rank), false);
  SymShape output;
  for (int64_t p : perm) {
    int64_t axis = normalize_axis(node, p, rank, "perm entry");
    if (seen[static_cast<size_t>(axis)])
      throw_bad_input("{}: perm repeats axis {}", node.describe(), axis);
    seen[static_cast<size_t>(axis)] = true;
    output.push_back((*input)[static_cast<size_t>(axis)]);
  }
  set_output_like(node, 0, 0, output);
}

void infer_flatten(Node& node) {
  std::optional<SymShape> input = input_shape(node, 0);
  if (!input) {
    set_output_like(node, 0, 0, unknown_dims(2));
    return;
  }
  int64_t rank = rank_of(*input);
  int64_t axis = node.attr_int("axis", 1);
  if (axis < -rank || axis > rank)
    throw_bad_input("{}: axis {} is out of range for rank {}", node.describe(), axis, rank);
  if (axis < 0) axis += rank;
  size_t split = static_cast<size_t>(axis);
  set_output_like(
      node, 0, 0,
      SymShape{dim_product(*input, 0, split), dim_product(*input, split, input->size())});
}

// Squeeze's and Unsqueeze's axes: input 1 (opset 13+) or the `axes` attribute (older models).
std::optional<std::vector<int64_t>> squeeze_axes(const Node& node) {
  if (node.input(1)) return constant_ints(node, 1, "axes");
  if (node.has_attr("axes")) return node.attr_ints("axes");
  return std::vector<int64_t>{};
}

void infer_squeeze(Node& node) {
  std::optional<SymShape> input = input_shape(node, 0);
  std::optional<std::vector<int64_t>> axes = squeeze_axes(node);
  if (!input || !axes) {
    set_output_like(node, 0, 0, std::nullopt);
    return;
  }
  int64_t rank = rank_of(*input);
  std::vector<bool> drop(input->size(), false);
  if (axes->empty()) {
    // Without axes every dimension of size 1 goes; an unknown one may or may not be 1.
    for (size_t i = 0; i < input->size(); ++i) {
      const Dim& d = (*input)[i];
      if (!d.known()) {
        set_output_like(node, 0, 0, std::nullopt);
        return;
      }
      drop[i] = d.value == 1;
    }
  } else {
    for (int64_t a : *axes) {
      size_t axis = static_cast<size_t>(normalize_axis(node, a, rank));
      const Dim& d = (*input)[axis];
      if (d.known() && d.value != 1)
        throw_bad_input("{}: cannot squeeze axis {} of size {}", node.describe(), a, d.value);
      drop[axis] = true;
    }
  }
  SymShape output;
  for (size_t i = 0; i < input->size(); ++i) {
    if (!drop[i]) output.push_back((*input)[i]);
  }
  set_output_like(node, 0, 0, output);
}

void infer_unsqueeze(Node& node) {
  std::optional<SymShape> input = input_shape(node, 0);
  std::optional<std::vector<int64_t>> axes = squeeze_axes(node);
  if (!axes) {
    std::optional<int64_t> count = known_length(node, 1);
    if (input && count) {
      set_output_like(node, 0, 0, unknown_dims(rank_of(*input) + *count));
    } else {
      set_output_like(node, 0, 0, std::nullopt);
    }
    return;
  }
  if (axes->empty()) throw_bad_input("{}: axes must not be empty", node.describe());
  if (!input) {
    set_output_like(node, 0, 0, std::nullopt);
    return;
  }
  int64_t out_rank = rank_of(*input) + static_cast<int64_t>(axes->size());
  std::vector<bool> inserted(static_cast<size_t>(out_rank), false);
  for (int64_t a : *axes) {
    size_t axis = static_cast<size_t>(normalize_axis(node, a, out_rank));
    if (inserted[axis]) throw_bad_input("{}: axes repeat axis {}", node.describe(), a);
    inserted[axis] = true;
  }
  SymShape output;
  size_t next_input_dim = 0;
  for (size_t i = 0; i < inserted.size(); ++i) {
    output.push_back(inserted[i] ? Dim::of(1) : (*input)[next_input_dim++]);
  }
  set_output_like(node, 0, 0, output);
}

// ---- Concat, Split ----

void infer_concat(Node& node) {
  std::optional<SymShape> output;
  int64_t axis = node.require_int("axis");
  int64_t concat_size = 0;
  bool concat_known = true;
  for (size_t i = 0; i < node.inputs.size(); ++i) {
    std::optional<SymShape> shape = input_shape(node, i);
    if (!node.input(i)) continue;
    if (!shape) {
      concat_known = false;
      continue;
    }
    int64_t rank = rank_of(*shape);
    if (rank == 0) throw_bad_input("{}: cannot concatenate scalars", node.describe());
    if (output && rank_of(*output) != rank)
      throw_bad_input("{}: input {} has rank {}, the first has rank {}", node.describe(), i, rank,
                      output->size());
    size_t a = static_cast<size_t>(normalize_axis(node, axis, rank));
    const Dim& d = (*shape)[a];
    if (d.known()) {
      concat_size += d.value;
    } else {
      concat_known = false;
    }
    if (!output) {
      output = shape;
      continue;
    }
    for (size_t k = 0; k < shape->size(); ++k) {
      if (k != a) (*output)[k] = merge_equal_dims(node, (*output)[k], (*shape)[k], int64_t(k));
    }
  }
  if (output) {
    size_t a = static_cast<size_t>(normalize_axis(node, axis, rank_of(*output)));
    (*output)[a] = concat_known ? Dim::of(concat_size) : Dim{};
  }
  set_output_like(node, 0, 0, output);
}

void infer_split(Node& node) {
  size_t count = node.outputs.size();
  std::optional<SymShape> input = input_shape(node, 0);
  if (!input) {
    for (size_t i = 0; i < count; ++i) set_output_like(node, i, 0, std::nullopt);
    return;
  }
  int64_t rank = rank_of(*input);
  size_t axis = static_cast<size_t>(normalize_axis(node, node.attr_int("axis", 0), rank));
  const Dim& total = (*input)[axis];
  std::optional<std::vector<int64_t>> sizes;
  if (node.input(1)) {
    sizes = constant_ints(node, 1, "split");
  } else if (node.has_attr("split")) {
    sizes = node.attr_ints("split");
  }
  bool sizes_unknown = node.input(1) && !sizes;
  if (sizes) {
    if (sizes->size() != count)
      throw_bad_input("{}: split has {} entries for {} outputs", node.describe(), sizes->size(),
                      count);
    int64_t sum = 0;
    for (int64_t s : *sizes) {
      if (s < 0) throw_bad_input("{}: split entry {} is negative", node.describe(), s);
      if (__builtin_add_overflow(sum, s, &sum))
        throw_bad_input("{}: split sizes overflow", node.describe());
    }
    if (total.known() && sum != total.value)
      throw_bad_input("{}: split sizes add up to {}, the axis has {}", node.describe(), sum,
                      total.value);
  } else if (!sizes_unknown && total.known()) {
    // Equal parts; when the axis does not divide evenly the last part is smaller (opset 18).
    int64_t chunk = (total.value + static_cast<int64_t>(count) - 1) / static_cast<int64_t>(count);
    sizes.emplace();
    for (size_t i = 0; i < count; ++i) {
      int64_t begin = std::min(total.value, chunk * static_cast<int64_t>(i));
      sizes->push_back(std::min(total.value, begin + chunk) - begin);
    }
  }
  for (size_t i = 0; i < count; ++i) {
    SymShape output = *input;
    if (sizes) {
      output[axis] = Dim::of((*sizes)[i]);
    } else if (count != 1) {
      output[axis] = Dim{};
    }
    set_output_like(node, i, 0, output);
  }
}

// ---- Slice ----

// Length of the slice [start, end) by step of a dimension of size `size`, after ONNX's
// clamping. Also returns the first index taken.
struct SliceRange {
  int64_t first = 0;
  int64_t length = 0;
};

SliceRange slice_range(int64_t start, int64_t end, int64_t step, int64_t size) {
  if (size == 0) return {};
  if (start < 0) start += size;
  if (end < 0) end += size;
  if (step > 0) {
    start = std::clamp<int64_t>(start, 0, size);
    end = std::clamp<int64_t>(end, 0, size);
    return {start, end > start ? 1 + (end - start - 1) / step : 0};
  }
  start = std::clamp<int64_t>(start, 0, size - 1);
  end = std::clamp<int64_t>(end, -1, size - 1);
  // -step would overflow for INT64_MIN; any step past the axis takes one element anyway.
  int64_t magnitude = std::min(-(step + 1), size) + 1;
  return {start, start > end ? 1 + (start - end - 1) / magnitude : 0};
}

void infer_slice(Node& node) {
  std::optional<SymShape> input = input_shape(node, 0);
  if (!input) {
    set_output_like(node, 0, 0, std::nullopt);
    return;
  }
  int64_t rank = rank_of(*input);
  auto starts = constant_ints(node, 1, "starts");
  auto ends = constant_ints(node, 2, "ends");
  auto axes = constant_ints(node, 3, "axes");
  auto steps = constant_ints(node, 4, "steps");
  bool axes_known = axes || !node.input(3);
  bool all_known = starts && ends && axes_known && (steps || !node.input(4));
  std::optional<size_t> count;
  for (const auto* values : {&starts, &ends, &axes, &steps}) {
    if (*values && !count) count = (*values)->size();
  }
  for (size_t i : {1, 2, 4}) {
    if (!count && known_length(node, i)) count = static_cast<size_t>(*known_length(node, i));
  }
  if (!axes_known || !count) {
    set_output_like(node, 0, 0, unknown_dims(rank));
    return;
  }
  if (!axes) {
    axes.emplace();
    for (size_t i = 0; i < *count; ++i) axes->push_back(static_cast<int64_t>(i));
  }
  for (const auto* values : {&starts, &ends, &axes, &steps}) {
    if (*values && (*values)->size() != *count)
      throw_bad_input("{}: starts, ends, axes and steps must have the same length",
                      node.describe());
  }
  SymShape output = *input;
  std::vector<bool> seen(input->size(), false);
  for (size_t i = 0; i < *count; ++i) {
    size_t axis = static_cast<size_t>(normalize_axis(node, (*axes)[i], rank));
    if (seen[axis]) throw_bad_input("{}: axes repeat axis {}", node.describe(), (*axes)[i]);
    seen[axis] = true;
    int64_t step = steps ? (*steps)[i] : 1;
    if (step == 0) throw_bad_input("{}: steps must not be 0", node.describe());
    Dim& d = output[axis];
    if (!all_known) {
      d = Dim{};
    } else if (d.known()) {
      d = Dim::of(slice_range((*starts)[i], (*ends)[i], step, d.value).length);
    } else if (!((*starts)[i] == 0 && step == 1 &&
                 (*ends)[i] >= std::numeric_limits<int32_t>::max())) {
      // Only the whole-axis slice [0:INT_MAX] keeps a symbolic dimension.
      d = Dim{};
    }
  }
  set_output_like(node, 0, 0, output);
}

// ---- Gather, GatherElements ----

void infer_gather(Node& node) {
  std::optional<SymShape> data = input_shape(node, 0);
  std::optional<SymShape> indices = input_shape(node, 1);
  if (!data || !indices) {
    set_output_like(node, 0, 0, std::nullopt);
    return;
  }
  int64_t rank = rank_of(*data);
  if (rank == 0) throw_bad_input("{}: cannot gather from a scalar", node.describe());
  size_t axis = static_cast<size_t>(normalize_axis(node, node.attr_int("axis", 0), rank));
  SymShape output(data->begin(), data->begin() + static_cast<int64_t>(axis));
  output.insert(output.end(), indices->begin(), indices->end());
  output.insert(output.end(), data->begin() + static_cast<int64_t>(axis) + 1, data->end());
  set_output_like(node, 0, 0, output);
}

void infer_gather_elements(Node& node) {
  std::optional<SymShape> data = input_shape(node, 0);
  std::optional<SymShape> indices = input_shape(node, 1);
  if (data && indices) {
    if (data->size() != indices->size())
      throw_bad_input("{}: data has rank {} but indices has rank {}", node.describe(), data->size(),
                      indices->size());
    normalize_axis(node, node.attr_int("axis", 0), rank_of(*data));
  }
  set_output_like(node, 0, 0, indices);
}

// ---- Shape, Size ----

void infer_shape(Node& node) {
  std::optional<SymShape> input = input_shape(node, 0);
  if (!input) {
    set_output(node, 0, DType::kI64, true, SymShape{Dim{}});
    return;
  }
  int64_t rank = rank_of(*input);
  auto clamp_index = [rank](int64_t i) {
    if (i < 0) i += rank;
    return std::clamp<int64_t>(i, 0, rank);
  };
  int64_t start = clamp_index(node.attr_int("start", 0));
  int64_t end = clamp_index(node.attr_int("end", rank));
  set_output(node, 0, DType::kI64, true, SymShape{Dim::of(std::max<int64_t>(0, end - start))});
}

void infer_size(Node& node) {
  set_output(node, 0, DType::kI64, true, SymShape{});
}

// ---- Constant, ConstantOfShape, Range ----

void infer_constant(Node& node) {
  if (node.has_attr("value")) {
    const Tensor& value = node.attr_tensor("value");
    set_output(node, 0, value.dtype(), true, to_sym_shape(value.shape()));
  } else if (node.has_attr("value_float")) {
    set_output(node, 0, DType::kF32, true, SymShape{});
  } else if (node.has_attr("value_floats")) {
    set_output(node, 0, DType::kF32, true,
               SymShape{Dim::of(static_cast<int64_t>(node.attr_floats("value_floats").size()))});
  } else if (node.has_attr("value_int")) {
    set_output(node, 0, DType::kI64, true, SymShape{});
  } else if (node.has_attr("value_ints")) {
    set_output(node, 0, DType::kI64, true,
               SymShape{Dim::of(static_cast<int64_t>(node.attr_ints("value_ints").size()))});
  } else {
    throw_bad_input(
        "{}: needs one of the attributes value, value_float(s), value_int(s) (string and sparse "
        "constants are not supported)",
        node.describe());
  }
}

void infer_constant_of_shape(Node& node) {
  DType dtype = DType::kF32;
  if (node.has_attr("value")) {
    const Tensor& value = node.attr_tensor("value");
    if (value.numel() != 1)
      throw_bad_input("{}: value must hold one element, it holds {}", node.describe(),
                      value.numel());
    dtype = value.dtype();
  }
  std::optional<SymShape> output;
  if (auto dims = constant_ints(node, 0, "shape")) {
    for (int64_t d : *dims) {
      if (d < 0) throw_bad_input("{}: shape entry {} is negative", node.describe(), d);
    }
    output = to_sym_shape(*dims);
  } else if (auto rank = known_length(node, 0)) {
    output = unknown_dims(*rank);
  }
  set_output(node, 0, dtype, true, output);
}

void infer_range(Node& node) {
  auto scalar = [&](size_t i) -> std::optional<double> {
    const Value* in = node.input(i);
    if (!in || !in->is_constant()) return std::nullopt;
    if (in->constant.numel() != 1)
      throw_bad_input("{}: input {} must be a scalar", node.describe(), i);
    return in->constant.item_as_double(0);
  };
  std::optional<double> start = scalar(0), limit = scalar(1), delta = scalar(2);
  Dim length;
  if (start && limit && delta) {
    if (*delta == 0) throw_bad_input("{}: delta must not be 0", node.describe());
    double count = std::max(0.0, std::ceil((*limit - *start) / *delta));
    // A length beyond any tensor (or NaN) is left to the kernel to report.
    if (count < static_cast<double>(std::numeric_limits<int32_t>::max()))
      length = Dim::of(static_cast<int64_t>(count));
  }
  set_output_like(node, 0, 0, SymShape{length});
}

// ---- Expand, Tile, Pad ----

void infer_expand(Node& node) {
  std::optional<SymShape> input = input_shape(node, 0);
  std::optional<std::vector<int64_t>> target = constant_ints(node, 1, "shape");
  if (input && target) {
    for (int64_t d : *target) {
      if (d < 0) throw_bad_input("{}: shape entry {} is negative", node.describe(), d);
    }
    set_output_like(node, 0, 0, broadcast_shapes(node, *input, to_sym_shape(*target)));
    return;
  }
  std::optional<int64_t> length = known_length(node, 1);
  if (input && length) {
    set_output_like(node, 0, 0, unknown_dims(std::max(rank_of(*input), *length)));
  } else {
    set_output_like(node, 0, 0, std::nullopt);
  }
}

void infer_tile(Node& node) {
  std::optional<SymShape> input = input_shape(node, 0);
  if (!input) {
    set_output_like(node, 0, 0, std::nullopt);
    return;
  }
  SymShape output = *input;
  std::optional<std::vector<int64_t>> repeats = constant_ints(node, 1, "repeats");
  if (!repeats) {
    set_output_like(node, 0, 0, unknown_dims(rank_of(*input)));
    return;
  }
  if (repeats->size() != input->size())
    throw_bad_input("{}: repeats has {} entries for an input of rank {}", node.describe(),
                    repeats->size(), input->size());
  for (size_t i = 0; i < output.size(); ++i) {
    int64_t r = (*repeats)[i];
    if (r < 0) throw_bad_input("{}: repeats entry {} is negative", node.describe(), r);
    if (r == 0) {
      output[i] = Dim::of(0);
    } else if (output[i].known()) {
      int64_t size = 0;
      output[i] = __builtin_mul_overflow(output[i].value, r, &size) ? Dim{} : Dim::of(size);
    } else if (r != 1) {
      output[i] = Dim{};
    }
  }
  set_output_like(node, 0, 0, output);
}

void infer_pad(Node& node) {
  std::string mode = node.attr_string("mode", "constant");
  if (mode != "constant" && mode != "reflect" && mode != "edge")
    throw_bad_input("{}: mode '{}' is not supported (constant, reflect, edge)", node.describe(),
                    mode);
  std::optional<SymShape> input = input_shape(node, 0);
  if (!input) {
    set_output_like(node, 0, 0, std::nullopt);
    return;
  }
  int64_t rank = rank_of(*input);
  std::optional<std::vector<int64_t>> pads = constant_ints(node, 1, "pads");
  std::optional<std::vector<int64_t>> axes = constant_ints(node, 3, "axes");
  if (!pads || (node.input(3) && !axes)) {
    set_output_like(node, 0, 0, unknown_dims(rank));
    return;
  }
  if (!axes) {
    axes.emplace();
    for (int64_t i = 0; i < rank; ++i) axes->push_back(i);
  }
  if (pads->size() != 2 * axes->size())
    throw_bad_input("{}: pads has {} entries, expected {}", node.describe(), pads->size(),
                    2 * axes->size());
  SymShape output = *input;
  for (size_t i = 0; i < axes->size(); ++i) {
    size_t axis = static_cast<size_t>(normalize_axis(node, (*axes)[i], rank));
    int64_t added = 0, size = 0;
    if (__builtin_add_overflow((*pads)[i], (*pads)[i + axes->size()], &added))
      throw_bad_input("{}: pads overflow", node.describe());
    Dim& d = output[axis];
    if (d.known()) {
      if (__builtin_add_overflow(d.value, added, &size) || size < 0)
        throw_bad_input("{}: pads adding {} make axis {} of size {} negative or too large",
                        node.describe(), added, axis, d.value);
      d = Dim::of(size);
    } else if (added != 0) {
      d = Dim{};
    }
  }
  set_output_like(node, 0, 0, output);
}

// ---- same shape as the input: Trilu, CumSum ----

void infer_same_shape(Node& node) {
  set_output_like(node, 0, 0, input_shape(node, 0));
}

void infer_trilu(Node& node) {
  std::optional<SymShape> input = input_shape(node, 0);
  if (input && input->size() < 2)
    throw_bad_input("{}: input must have rank 2 or more, it has rank {}", node.describe(),
                    input->size());
  set_output_like(node, 0, 0, input);
}

// ---- the table ----

OpSchema schema(std::string name, int min_inputs, int max_inputs, std::vector<AttrSpec> attrs,
                ShapeFn infer, std::string description, int min_outputs = 1, int max_outputs = 1) {
  OpSchema s;
  s.name = std::move(name);
  s.min_inputs = min_inputs;
  s.max_inputs = max_inputs;
  s.min_outputs = min_outputs;
  s.max_outputs = max_outputs;
  s.attrs = std::move(attrs);
  s.infer = std::move(infer);
  s.description = std::move(description);
  return s;
}

}  // namespace

void register_shape_ops(OpRegistry& registry) {
  using T = AttrType;
  registry.add(schema("Reshape", 2, 2,
                      {{"allowzero", T::kInt, false,
                        "1: a 0 in shape means a dimension of size 0, not 'copy the input's'"}},
                      infer_reshape,
                      "Reshapes data to `shape` (0 copies the input dimension, -1 is inferred)"));
  registry.add(schema("Transpose", 1, 1,
                      {{"perm", T::kInts, false,
                        "output axis i is input axis perm[i] "
                        "(default: reversed axes)"}},
                      infer_transpose, "Permutes the axes of the input"));
  registry.add(schema("Flatten", 1, 1,
                      {{"axis", T::kInt, false,
                        "dimensions before axis form the rows, the rest the columns (default 1)"}},
                      infer_flatten, "Flattens the input into a 2-D matrix"));
  registry.add(schema("Concat", 1, -1,
                      {{"axis", T::kInt, true, "axis along which the inputs are joined"}},
                      infer_concat, "Concatenates the inputs along an axis"));
  registry.add(schema("Split", 1, 2,
                      {{"axis", T::kInt, false, "axis to split (default 0)"},
                       {"split", T::kInts, false, "sizes of the parts (opsets before 13)"}},
                      infer_split,
                      "Splits the input into parts along an axis (sizes from input `split`, "
                      "equal parts otherwise)",
                      1, -1));
  registry.add(schema("Slice", 3, 5, {}, infer_slice,
                      "Takes data[starts:ends:steps] along the given axes (ONNX clamping)"));
  registry.add(schema("Gather", 2, 2,
                      {{"axis", T::kInt, false, "axis indexed by `indices` (default 0)"}},
                      infer_gather, "Takes the slices of data at the given indices along an axis"));
  registry.add(schema(
      "GatherElements", 2, 2, {{"axis", T::kInt, false, "axis indexed by `indices` (default 0)"}},
      infer_gather_elements, "Takes single elements of data at the given indices along an axis"));
  registry.add(schema("Unsqueeze", 1, 2,
                      {{"axes", T::kInts, false, "axes to insert (opsets before 13)"}},
                      infer_unsqueeze, "Inserts dimensions of size 1 at the given output axes"));
  registry.add(
      schema("Squeeze", 1, 2, {{"axes", T::kInts, false, "axes to remove (opsets before 13)"}},
             infer_squeeze, "Removes dimensions of size 1 (the given axes, or all of them)"));
  registry.add(schema("Shape", 1, 1,
                      {{"start", T::kInt, false, "first dimension returned (default 0)"},
                       {"end", T::kInt, false,
                        "one past the last dimension returned "
                        "(default: the rank)"}},
                      infer_shape, "Returns the input's shape as a 1-D i64 tensor"));
  registry.add(
      schema("Size", 1, 1, {}, infer_size, "Returns the input's element count as an i64 scalar"));
  registry.add(schema("Constant", 0, 0,
                      {{"value", T::kTensor, false, "the constant tensor"},
                       {"value_float", T::kFloat, false, "an f32 scalar"},
                       {"value_floats", T::kFloats, false, "a 1-D f32 tensor"},
                       {"value_int", T::kInt, false, "an i64 scalar"},
                       {"value_ints", T::kInts, false, "a 1-D i64 tensor"}},
                      infer_constant, "Produces a constant tensor given as an attribute"));
  registry.add(schema("ConstantOfShape", 1, 1,
                      {{"value", T::kTensor, false,
                        "one-element tensor giving the value and dtype (default f32 0)"}},
                      infer_constant_of_shape,
                      "Produces a tensor of the given shape filled with one value"));
  registry.add(schema("Expand", 2, 2, {}, infer_expand,
                      "Broadcasts the input to a shape (numpy rules, both ways)"));
  registry.add(schema("Range", 3, 3, {}, infer_range,
                      "Produces start, start + delta, ... up to (excluding) limit"));
  registry.add(schema("Tile", 2, 2, {}, infer_tile,
                      "Repeats the input `repeats[i]` times along each axis i"));
  registry.add(
      schema("Pad", 2, 4, {{"mode", T::kString, false, "constant (default), reflect or edge"}},
             infer_pad, "Pads the input (pads: all begins, then all ends; negative values crop)"));
  registry.add(
      schema("Trilu", 1, 2,
             {{"upper", T::kInt, false, "1 (default): keep the upper triangle, 0: the lower one"}},
             infer_trilu,
             "Keeps the upper or lower triangle of the last two dimensions (k: "
             "diagonal offset)"));
  registry.add(schema("CumSum", 2, 2,
                      {{"exclusive", T::kInt, false, "1: each sum leaves out its own element"},
                       {"reverse", T::kInt, false, "1: sum from the end of the axis"}},
                      infer_same_shape, "Cumulative sum along the axis given as input 1"));
}

}  // namespace aimc::ir
