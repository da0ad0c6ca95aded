// Schemas and shape functions of the indexing and rearranging ops (ONNX semantics, opsets
// 11-17): ScatterND, ScatterElements, GatherND, DepthToSpace, SpaceToDepth, OneHot, EyeLike,
// TopK, Einsum.
#include <map>
#include <optional>
#include <string>

#include "aimc/ir/einsum.h"

#include "aimc/ir/op_registry.h"

namespace aimc::ir {
namespace {

std::optional<SymShape> shape_of(const Node& node, size_t i) {
  const Value* v = node.input(i);
  if (!v) return std::nullopt;
  return v->shape;
}

void set_output(Node& node, std::optional<DType> dtype, std::optional<SymShape> shape) {
  Value* out = node.output(0);
  if (!out) return;
  out->dtype_known = dtype.has_value();
  if (dtype) out->dtype = *dtype;
  out->shape = std::move(shape);
}

std::optional<DType> dtype_of(const Node& node, size_t i) {
  const Value* v = node.input(i);
  if (!v || !v->dtype_known) return std::nullopt;
  return v->dtype;
}

void check_reduction(const Node& node) {
  std::string reduction = node.attr_string("reduction", "none");
  if (reduction != "none" && reduction != "add" && reduction != "mul" && reduction != "max" &&
      reduction != "min")
    throw_bad_input("{}: reduction '{}' is not none, add, mul, max or min", node.describe(),
                    reduction);
}

void infer_scatter(Node& node) {
  check_reduction(node);
  std::optional<SymShape> data = shape_of(node, 0);
  std::optional<SymShape> indices = shape_of(node, 1);
  if (node.op == "ScatterElements" && data && indices && data->size() != indices->size())
    throw_bad_input("{}: data has rank {} but indices has rank {}", node.describe(), data->size(),
                    indices->size());
  if (node.op == "ScatterND" && indices && indices->empty())
    throw_bad_input("{}: indices must have rank 1 or more", node.describe());
  set_output(node, dtype_of(node, 0), data);
}

// GatherND: output = indices.shape[:-1] + data.shape[batch_dims + k:], k = indices.shape[-1].
void infer_gather_nd(Node& node) {
  std::optional<SymShape> data = shape_of(node, 0);
  std::optional<SymShape> indices = shape_of(node, 1);
  int64_t batch_dims = node.attr_int("batch_dims", 0);
  if (!data || !indices || indices->empty() || !indices->back().known()) {
    set_output(node, dtype_of(node, 0), std::nullopt);
    return;
  }
  int64_t k = indices->back().value;
  auto r = static_cast<int64_t>(data->size());
  auto q = static_cast<int64_t>(indices->size());
  if (batch_dims < 0 || batch_dims >= std::min(q, r) || k < 1 || batch_dims + k > r)
    throw_bad_input("{}: indices {} with batch_dims {} do not index data {}", node.describe(),
                    sym_shape_str(*indices), batch_dims, sym_shape_str(*data));
  SymShape out(indices->begin(), indices->end() - 1);
  out.insert(out.end(), data->begin() + batch_dims + k, data->end());
  set_output(node, dtype_of(node, 0), out);
}

void infer_depth_space(Node& node) {
  int64_t b = node.require_int("blocksize");
  if (b <= 0) throw_bad_input("{}: blocksize must be positive, not {}", node.describe(), b);
  std::string mode = node.attr_string("mode", "DCR");
  if (node.op == "DepthToSpace" && mode != "DCR" && mode != "CRD")
    throw_bad_input("{}: mode '{}' is not DCR or CRD", node.describe(), mode);
  std::optional<SymShape> x = shape_of(node, 0);
  if (!x) return set_output(node, dtype_of(node, 0), std::nullopt);
  if (x->size() != 4)
    throw_bad_input("{}: input must be [N, C, H, W], got {}", node.describe(), sym_shape_str(*x));
  SymShape out = *x;
  auto scale = [&](const Dim& d, bool up) {
    if (!d.known()) return Dim{};
    if (!up && d.value % b != 0)
      throw_bad_input("{}: dimension {} is not a multiple of blocksize {}", node.describe(),
                      d.value, b);
    return Dim::of(up ? d.value * b : d.value / b);
  };
  bool to_space = node.op == "DepthToSpace";
  if (to_space && (*x)[1].known() && (*x)[1].value % (b * b) != 0)
    throw_bad_input("{}: {} channels are not a multiple of blocksize^2 = {}", node.describe(),
                    (*x)[1].value, b * b);
  out[1] =
      (*x)[1].known() ? Dim::of(to_space ? (*x)[1].value / (b * b) : (*x)[1].value * b * b) : Dim{};
  out[2] = scale((*x)[2], to_space);
  out[3] = scale((*x)[3], to_space);
  set_output(node, dtype_of(node, 0), out);
}

void infer_one_hot(Node& node) {
  std::optional<SymShape> indices = shape_of(node, 0);
  std::optional<DType> dtype = dtype_of(node, 2);
  if (!indices) return set_output(node, dtype, std::nullopt);
  auto rank = static_cast<int64_t>(indices->size()) + 1;
  int64_t axis = node.attr_int("axis", -1);
  if (axis < -rank || axis >= rank)
    throw_bad_input("{}: axis {} is out of range for output rank {}", node.describe(), axis, rank);
  if (axis < 0) axis += rank;
  Dim depth;
  const Value* d = node.input(1);
  if (d && d->is_constant()) {
    if (d->constant.numel() != 1) throw_bad_input("{}: depth must hold one value", node.describe());
    auto value = static_cast<int64_t>(d->constant.item_as_double(0));
    if (value < 1) throw_bad_input("{}: depth must be positive, not {}", node.describe(), value);
    depth = Dim::of(value);
  }
  SymShape out = *indices;
  out.insert(out.begin() + axis, depth);
  set_output(node, dtype, out);
}

void infer_eye_like(Node& node) {
  std::optional<SymShape> x = shape_of(node, 0);
  if (x && x->size() != 2)
    throw_bad_input("{}: input must have rank 2, got {}", node.describe(), sym_shape_str(*x));
  std::optional<DType> dtype = dtype_of(node, 0);
  if (node.has_attr("dtype")) {
    dtype = dtype_from_onnx_code(node.attr_int("dtype", 1));
    if (!dtype)
      throw_bad_input("{}: dtype {} is unsupported (aimc supports {})", node.describe(),
                      node.attr_int("dtype", 1), kSupportedOnnxDtypeCodes);
  }
  set_output(node, dtype, x);
}

void infer_top_k(Node& node) {
  std::optional<SymShape> x = shape_of(node, 0);
  std::optional<DType> dtype = dtype_of(node, 0);
  for (size_t i = 0; i < node.outputs.size(); ++i) {
    Value* out = node.output(i);
    if (!out) continue;
    out->dtype_known = i == 1 || dtype.has_value();
    out->dtype = i == 1 ? DType::kI64 : dtype.value_or(DType::kF32);
    out->shape = std::nullopt;
    if (!x) continue;
    auto rank = static_cast<int64_t>(x->size());
    int64_t axis = node.attr_int("axis", -1);
    if (axis < -rank || axis >= rank)
      throw_bad_input("{}: axis {} is out of range for rank {}", node.describe(), axis, rank);
    if (axis < 0) axis += rank;
    SymShape shape = *x;
    const Value* k = node.input(1);
    shape[static_cast<size_t>(axis)] = k && k->is_constant() && k->constant.numel() == 1
                                           ? Dim::of(k->constant.item_as_int(0))
                                           : Dim{};
    out->shape = shape;
  }
}

void infer_einsum(Node& node) {
  std::vector<std::optional<std::vector<int64_t>>> shapes;
  bool all_known = true;
  for (size_t i = 0; i < node.inputs.size(); ++i) {
    std::optional<SymShape> s = shape_of(node, i);
    std::vector<int64_t> dims;
    if (s)
      for (const Dim& d : *s) {
        if (!d.known()) all_known = false;
        dims.push_back(d.known() ? d.value : 1);
      }
    else
      all_known = false;
    shapes.push_back(s ? std::optional<std::vector<int64_t>>(dims) : std::nullopt);
  }
  const std::string equation = node.attr_string("equation", "");
  if (!all_known) {
    // Parse once anyway, so that a malformed equation is reported at load time.
    EinsumEquation::parse(node.describe(), equation, node.inputs.size());
    return set_output(node, dtype_of(node, 0), std::nullopt);
  }
  std::vector<std::vector<int64_t>> known;
  for (auto& s : shapes) known.push_back(*s);
  EinsumPlan plan = EinsumEquation::parse(node.describe(), equation, node.inputs.size())
                        .plan(node.describe(), known);
  SymShape out;
  for (int64_t d : plan.output_dims) out.push_back(Dim::of(d));
  set_output(node, dtype_of(node, 0), out);
}

OpSchema schema(std::string name, int min_inputs, int max_inputs, std::vector<AttrSpec> attrs,
                ShapeFn infer, std::string description) {
  OpSchema s;
  s.name = std::move(name);
  s.min_inputs = min_inputs;
  s.max_inputs = max_inputs;
  s.attrs = std::move(attrs);
  s.infer = std::move(infer);
  s.description = std::move(description);
  return s;
}

}  // namespace

void register_indexing_ops(OpRegistry& registry) {
  using T = AttrType;
  AttrSpec reduction{"reduction", T::kString, false,
                     "none (default: overwrite), add, mul, max or min"};
  registry.add(schema("ScatterND", 3, 3, {reduction}, infer_scatter,
                      "data with the slices at index tuples indices[..., :] set to updates"));
  registry.add(
      schema("ScatterElements", 3, 3,
             {{"axis", T::kInt, false, "axis indexed by `indices` (default 0)"}, reduction},
             infer_scatter, "data with single elements along an axis set to updates at indices"));
  registry.add(schema(
      "GatherND", 2, 2, {{"batch_dims", T::kInt, false, "leading dimensions shared (default 0)"}},
      infer_gather_nd, "slices of data at the index tuples in the last axis of indices"));
  registry.add(schema("DepthToSpace", 1, 1,
                      {{"blocksize", T::kInt, true, "spatial block size"},
                       {"mode", T::kString, false, "DCR (default) or CRD channel order"}},
                      infer_depth_space,
                      "moves channel blocks into spatial blocks: [N, C, H, W] -> "
                      "[N, C/b^2, H*b, W*b]"));
  registry.add(schema("SpaceToDepth", 1, 1, {{"blocksize", T::kInt, true, "spatial block size"}},
                      infer_depth_space,
                      "moves spatial blocks into channels: [N, C, H, W] -> [N, C*b^2, H/b, W/b]"));
  registry.add(schema("OneHot", 3, 3,
                      {{"axis", T::kInt, false, "axis of the new depth dimension (default -1)"}},
                      infer_one_hot,
                      "values[1] where the index equals the position along axis, values[0] "
                      "elsewhere"));
  registry.add(schema("EyeLike", 1, 1,
                      {{"dtype", T::kInt, false, "ONNX dtype code (default: the input's)"},
                       {"k", T::kInt, false, "diagonal offset (default 0)"}},
                      infer_eye_like, "a 2-D tensor with ones on the k-th diagonal, zeros else"));
  OpSchema top_k =
      schema("TopK", 2, 2,
             {{"axis", T::kInt, false, "axis to select along (default -1)"},
              {"largest", T::kInt, false, "1 (default): the largest, 0: smallest"},
              {"sorted", T::kInt, false, "1 (default): in order (always done)"}},
             infer_top_k, "the k largest (or smallest) elements along an axis and their indices");
  top_k.max_outputs = 2;
  registry.add(std::move(top_k));
  registry.add(schema(
      "Einsum", 1, -1, {{"equation", T::kString, true, "Einstein summation, e.g. bij,bjk->bik"}},
      infer_einsum, "sums of products of the inputs over the labels the equation contracts"));
}

}  // namespace aimc::ir
