// Schemas and shape functions of the neural-network ops: matrix products, convolution,
// pooling, normalisation, softmax and GELU (ONNX opsets 13-17 and aimc's canonical forms).
#include <fmt/ranges.h>

#include <algorithm>
#include <cstdint>
#include <optional>

#include "aimc/ir/conv_geometry.h"
#include "aimc/ir/op_registry.h"

namespace aimc::ir {

namespace {

// ---- helpers shared by the shape functions ----

const SymShape* shape_of(const Node& node, size_t i) {
  const Value* v = node.input(i);
  return v && v->shape ? &*v->shape : nullptr;
}

void require_f32(const Node& node, size_t i) {
  const Value* v = node.input(i);
  if (v && v->dtype_known && v->dtype != DType::kF32)
    throw_bad_input("{}: input {} ('{}') must be f32, got {}", node.describe(), i, v->name,
                    dtype_name(v->dtype));
}

void set_output(Node& node, size_t i, DType dtype, bool dtype_known,
                std::optional<SymShape> shape) {
  Value* out = node.output(i);
  if (!out) return;
  out->dtype = dtype;
  out->dtype_known = dtype_known;
  out->shape = std::move(shape);
}

// Output i has input 0's dtype and the given shape.
void set_like_input0(Node& node, size_t i, std::optional<SymShape> shape) {
  const Value* in = node.input(0);
  set_output(node, i, in ? in->dtype : DType::kF32, in && in->dtype_known, std::move(shape));
}

std::optional<SymShape> optional_shape(const SymShape* shape) {
  if (!shape) return std::nullopt;
  return *shape;
}

int64_t normalize_axis(const Node& node, int64_t axis, int64_t rank) {
  if (axis < -rank || axis >= rank)
    throw_bad_input("{}: axis {} is out of range for rank {}", node.describe(), axis, rank);
  return axis < 0 ? axis + rank : axis;
}

void check_rank(const Node& node, size_t i, const SymShape* shape, size_t min_rank,
                size_t max_rank) {
  if (!shape) return;
  if (shape->size() < min_rank || shape->size() > max_rank)
    throw_bad_input("{}: input {} has rank {} ({}), expected {} to {}", node.describe(), i,
                    shape->size(), sym_shape_str(*shape), min_rank, max_rank);
}

// Two dimensions that must be equal when both are known.
void check_same_dim(const Node& node, const Dim& a, const Dim& b, const char* what) {
  if (a.known() && b.known() && a.value != b.value)
    throw_bad_input("{}: {} mismatch: {} vs {}", node.describe(), what, a.value, b.value);
}

// Numpy broadcasting of one dimension pair. A symbolic dimension against a known one > 1
// resolves to the known one (it must be equal or 1 at run time); two different symbols
// give an unknown dimension since either may be 1.
Dim broadcast_dim(const Node& node, const Dim& a, const Dim& b) {
  if (a.known() && a.value == 1) return b;
  if (b.known() && b.value == 1) return a;
  if (a.known() && b.known()) {
    if (a.value != b.value)
      throw_bad_input("{}: dimensions {} and {} do not broadcast", node.describe(), a.value,
                      b.value);
    return a;
  }
  if (a.known()) return a;
  if (b.known()) return b;
  if (!a.symbol.empty() && a.symbol == b.symbol) return a;
  return Dim{};
}

SymShape broadcast_shapes(const Node& node, const SymShape& a, const SymShape& b) {
  size_t rank = std::max(a.size(), b.size());
  SymShape out(rank);
  for (size_t i = 0; i < rank; ++i) {
    Dim da = i < rank - a.size() ? Dim::of(1) : a[i - (rank - a.size())];
    Dim db = i < rank - b.size() ? Dim::of(1) : b[i - (rank - b.size())];
    out[i] = broadcast_dim(node, da, db);
  }
  return out;
}

// Spatial sizes of a [N, C, D1, ...] shape, -1 where unknown.
Shape spatial_sizes(const SymShape& shape) {
  Shape sizes;
  for (size_t i = 2; i < shape.size(); ++i) sizes.push_back(shape[i].value);
  return sizes;
}

SymShape with_spatial_output(const SymShape& prefix, const Shape& output) {
  SymShape out = prefix;
  for (int64_t size : output) out.push_back(size >= 0 ? Dim::of(size) : Dim{});
  return out;
}

// ---- shape functions ----

// A[..., M, K] x B[..., K, N] -> [broadcast(...), M, N]; 1-D operands as numpy does.
void infer_matmul(Node& node) {
  for (size_t i = 0; i < 2; ++i) {
    const Value* v = node.input(i);
    if (v && v->dtype_known && v->dtype != DType::kF32 && v->dtype != DType::kI64 &&
        v->dtype != DType::kI32)
      throw_bad_input("{}: input {} ('{}') must be f32, i64 or i32, got {}", node.describe(), i,
                      v->name, dtype_name(v->dtype));
  }
  if (node.input(0)->dtype_known && node.input(1)->dtype_known &&
      node.input(0)->dtype != node.input(1)->dtype)
    throw_bad_input("{}: operands differ in dtype ({} vs {})", node.describe(),
                    dtype_name(node.input(0)->dtype), dtype_name(node.input(1)->dtype));
  const SymShape* a = shape_of(node, 0);
  const SymShape* b = shape_of(node, 1);
  if (!a || !b) return set_like_input0(node, 0, std::nullopt);
  if (a->empty() || b->empty())
    throw_bad_input("{}: MatMul operands must have rank >= 1, got {} and {}", node.describe(),
                    sym_shape_str(*a), sym_shape_str(*b));
  bool a_vector = a->size() == 1;
  bool b_vector = b->size() == 1;
  const Dim& k_a = a->back();
  const Dim& k_b = b_vector ? (*b)[0] : (*b)[b->size() - 2];
  check_same_dim(node, k_a, k_b, "inner dimension K");
  SymShape batch_a(a->begin(), a->end() - std::min<size_t>(a->size(), 2));
  SymShape batch_b(b->begin(), b->end() - std::min<size_t>(b->size(), 2));
  SymShape out = broadcast_shapes(node, batch_a, batch_b);
  if (!a_vector) out.push_back((*a)[a->size() - 2]);
  if (!b_vector) out.push_back(b->back());
  set_like_input0(node, 0, out);
}

// A[M, K] (or [K, M] with transA) x B[K, N] (or [N, K] with transB) + C -> [M, N].
void infer_gemm(Node& node) {
  for (size_t i = 0; i < 3; ++i) require_f32(node, i);
  const SymShape* a = shape_of(node, 0);
  const SymShape* b = shape_of(node, 1);
  check_rank(node, 0, a, 2, 2);
  check_rank(node, 1, b, 2, 2);
  check_rank(node, 2, shape_of(node, 2), 0, 2);
  bool trans_a = node.attr_int("transA", 0) != 0;
  bool trans_b = node.attr_int("transB", 0) != 0;
  Dim m = a ? (*a)[trans_a ? 1 : 0] : Dim{};
  Dim n = b ? (*b)[trans_b ? 0 : 1] : Dim{};
  if (a && b)
    check_same_dim(node, (*a)[trans_a ? 0 : 1], (*b)[trans_b ? 1 : 0], "inner dimension K");
  set_like_input0(node, 0, SymShape{m, n});
}

// x[..., K] x W[K, N] + b[N] -> [..., N].
void infer_linear(Node& node) {
  for (size_t i = 0; i < 3; ++i) require_f32(node, i);
  const SymShape* x = shape_of(node, 0);
  const SymShape* w = shape_of(node, 1);
  check_rank(node, 0, x, 1, SIZE_MAX);
  check_rank(node, 1, w, 2, 2);
  check_rank(node, 2, shape_of(node, 2), 1, 1);
  if (x && w) check_same_dim(node, x->back(), (*w)[0], "inner dimension K");
  if (w && shape_of(node, 2)) check_same_dim(node, (*w)[1], (*shape_of(node, 2))[0], "bias size");
  if (!x) return set_like_input0(node, 0, std::nullopt);
  SymShape out(x->begin(), x->end() - 1);
  out.push_back(w ? (*w)[1] : Dim{});
  set_like_input0(node, 0, out);
}

// X[N, C, D...] * W[M, C/group, k...] + B[M] -> [N, M, O...].
void infer_conv(Node& node) {
  for (size_t i = 0; i < 3; ++i) require_f32(node, i);
  const SymShape* x = shape_of(node, 0);
  const SymShape* w = shape_of(node, 1);
  check_rank(node, 0, x, 3, SIZE_MAX);
  check_rank(node, 1, w, 3, SIZE_MAX);
  check_rank(node, 2, shape_of(node, 2), 1, 1);
  int64_t group = node.attr_int("group", 1);
  if (group < 1) throw_bad_input("{}: group {} < 1", node.describe(), group);
  if (x && w) {
    if (x->size() != w->size())
      throw_bad_input("{}: input {} and weight {} differ in rank", node.describe(),
                      sym_shape_str(*x), sym_shape_str(*w));
    const Dim& in_channels = (*x)[1];
    const Dim& w_channels = (*w)[1];
    if (in_channels.known() && w_channels.known() && in_channels.value != w_channels.value * group)
      throw_bad_input("{}: input has {} channels, weight expects {} x group {}", node.describe(),
                      in_channels.value, w_channels.value, group);
  }
  if (w && (*w)[0].known() && (*w)[0].value % group != 0)
    throw_bad_input("{}: {} output channels are not divisible by group {}", node.describe(),
                    (*w)[0].value, group);
  if (w && shape_of(node, 2)) check_same_dim(node, (*w)[0], (*shape_of(node, 2))[0], "bias size");
  if (!x) return set_like_input0(node, 0, std::nullopt);
  Shape kernel;
  if (w) {
    kernel = spatial_sizes(*w);
    if (std::any_of(kernel.begin(), kernel.end(), [](int64_t k) { return k < 0; })) kernel.clear();
  }
  Shape output(x->size() - 2, -1);
  if (!kernel.empty() || node.has_attr("kernel_shape"))
    output = resolve_window(node, spatial_sizes(*x), kernel).output;
  set_like_input0(node, 0, with_spatial_output({(*x)[0], w ? (*w)[0] : Dim{}}, output));
}

// X[N, C, D...] -> Y[N, C, O...] (and MaxPool's Indices, i64, same shape).
void infer_pool(Node& node) {
  const Value* in = node.input(0);
  bool integer_max_pool =
      node.op == "MaxPool" && in && (in->dtype == DType::kI8 || in->dtype == DType::kU8);
  if (!integer_max_pool) require_f32(node, 0);
  const SymShape* x = shape_of(node, 0);
  check_rank(node, 0, x, 3, SIZE_MAX);
  if (node.attr_int("storage_order", 0) != 0 && node.attr_int("storage_order", 0) != 1)
    throw_bad_input("{}: storage_order must be 0 or 1", node.describe());
  std::optional<SymShape> out;
  if (x) {
    Shape output = resolve_window(node, spatial_sizes(*x), {}).output;
    out = with_spatial_output({(*x)[0], (*x)[1]}, output);
  }
  set_like_input0(node, 0, out);
  set_output(node, 1, DType::kI64, true, out);
}

// X[N, C, D...] -> [N, C, 1...].
void infer_global_pool(Node& node) {
  require_f32(node, 0);
  const SymShape* x = shape_of(node, 0);
  check_rank(node, 0, x, 3, SIZE_MAX);
  if (!x) return set_like_input0(node, 0, std::nullopt);
  SymShape out{(*x)[0], (*x)[1]};
  out.resize(x->size(), Dim::of(1));
  set_like_input0(node, 0, out);
}

// X[N, C, ...] with per-channel scale, bias, mean, var [C] -> same shape.
void infer_batch_norm(Node& node) {
  if (node.attr_int("training_mode", 0) != 0)
    throw_bad_input("{}: training_mode=1 is not supported (inference only)", node.describe());
  if (node.output(1) || node.output(2))
    throw_bad_input("{}: running_mean and running_var outputs exist only in training mode",
                    node.describe());
  for (size_t i = 0; i < 5; ++i) require_f32(node, i);
  const SymShape* x = shape_of(node, 0);
  check_rank(node, 0, x, 2, SIZE_MAX);
  for (size_t i = 1; i < 5; ++i) {
    const SymShape* p = shape_of(node, i);
    check_rank(node, i, p, 1, 1);
    if (x && p) check_same_dim(node, (*x)[1], (*p)[0], "channel count");
  }
  set_like_input0(node, 0, optional_shape(x));
}

// X[N, C, D...] with scale, bias [C] -> same shape.
void infer_instance_norm(Node& node) {
  for (size_t i = 0; i < 3; ++i) require_f32(node, i);
  const SymShape* x = shape_of(node, 0);
  check_rank(node, 0, x, 3, SIZE_MAX);
  for (size_t i = 1; i < 3; ++i) {
    const SymShape* p = shape_of(node, i);
    check_rank(node, i, p, 1, 1);
    if (x && p) check_same_dim(node, (*x)[1], (*p)[0], "channel count");
  }
  set_like_input0(node, 0, optional_shape(x));
}

// Y like X; Mean and InvStdDev (optional outputs) are X's shape with axes >= axis set to 1.
void infer_layer_norm(Node& node) {
  for (size_t i = 0; i < 3; ++i) require_f32(node, i);
  const SymShape* x = shape_of(node, 0);
  set_like_input0(node, 0, optional_shape(x));
  std::optional<SymShape> stats;
  if (x) {
    if (x->empty()) throw_bad_input("{}: input must have rank >= 1", node.describe());
    int64_t rank = static_cast<int64_t>(x->size());
    int64_t axis = normalize_axis(node, node.attr_int("axis", -1), rank);
    SymShape normalized(x->begin() + axis, x->end());
    for (size_t i = 1; i < 3; ++i) {
      const SymShape* p = shape_of(node, i);
      // Scale and bias broadcast (unidirectionally) to the normalised shape.
      if (p && broadcast_shapes(node, normalized, *p).size() != normalized.size())
        throw_bad_input("{}: input {} of shape {} does not broadcast to the normalised shape {}",
                        node.describe(), i, sym_shape_str(*p), sym_shape_str(normalized));
    }
    stats = SymShape(x->begin(), x->begin() + axis);
    stats->resize(x->size(), Dim::of(1));
  }
  set_output(node, 1, DType::kF32, true, stats);
  set_output(node, 2, DType::kF32, true, stats);
}

// Elementwise ops along an axis (Softmax, LogSoftmax) or none (gelu): same shape.
void infer_same_shape_with_axis(Node& node) {
  require_f32(node, 0);
  const SymShape* x = shape_of(node, 0);
  if (x && node.has_attr("axis")) {
    int64_t rank = static_cast<int64_t>(x->size());
    if (rank == 0) throw_bad_input("{}: input must have rank >= 1", node.describe());
    normalize_axis(node, node.attr_int("axis", -1), rank);
  }
  set_like_input0(node, 0, optional_shape(x));
}

void infer_gelu(Node& node) {
  std::string approximate = node.attr_string("approximate", "none");
  if (approximate != "none" && approximate != "tanh")
    throw_bad_input("{}: approximate must be 'none' or 'tanh', got '{}'", node.describe(),
                    approximate);
  infer_same_shape_with_axis(node);
}

// ---- attribute specs ----

AttrSpec attr(const char* name, AttrType type, const char* description, bool required = false) {
  return AttrSpec{name, type, required, description};
}

std::vector<AttrSpec> window_attrs(bool conv) {
  std::vector<AttrSpec> attrs = {
      attr("auto_pad", AttrType::kString,
           "NOTSET (use pads), SAME_UPPER, SAME_LOWER (output = ceil(input / stride)) or VALID"),
      attr("kernel_shape", AttrType::kInts,
           conv ? "spatial kernel sizes (default: the weight's)" : "spatial kernel sizes", !conv),
      attr("pads", AttrType::kInts, "begin pads of every spatial axis, then end pads (default 0)"),
      attr("strides", AttrType::kInts, "stride per spatial axis (default 1)"),
      attr("dilations", AttrType::kInts, "dilation per spatial axis (default 1)"),
  };
  return attrs;
}

// Every nn op has at least one output.
OpSchema schema(const char* name, int min_inputs, int max_inputs, int max_outputs,
                std::vector<AttrSpec> attrs, ShapeFn infer, const char* description) {
  return OpSchema{.name = name,
                  .min_inputs = min_inputs,
                  .max_inputs = max_inputs,
                  .min_outputs = 1,
                  .max_outputs = max_outputs,
                  .attrs = std::move(attrs),
                  .infer = std::move(infer),
                  .description = description};
}

}  // namespace

void register_nn_ops(OpRegistry& registry) {
  std::vector<AttrSpec> gemm_attrs = {
      attr("alpha", AttrType::kFloat, "multiplier of A*B (default 1)"),
      attr("beta", AttrType::kFloat, "multiplier of C (default 1)"),
      attr("transA", AttrType::kInt, "1: use A transposed (default 0)"),
      attr("transB", AttrType::kInt, "1: use B transposed (default 0)")};
  registry.add(schema("MatMul", 2, 2, 1, {}, infer_matmul,
                      "matrix product with numpy semantics (1-D operands, broadcast batch dims)"));
  registry.add(schema("matmul", 2, 2, 1, {}, infer_matmul,
                      "product of two activations, ONNX MatMul semantics"));
  registry.add(schema("Gemm", 2, 3, 1, gemm_attrs, infer_gemm,
                      "Y = alpha * A' * B' + beta * C, C broadcast to [M, N]"));
  registry.add(schema("linear", 2, 3, 1, {}, infer_linear,
                      "y[..., N] = x[..., K] * W[K, N] + b[N] with a constant weight"));

  std::vector<AttrSpec> conv_attrs = window_attrs(true);
  conv_attrs.push_back(attr("group", AttrType::kInt, "number of channel groups (default 1)"));
  registry.add(schema("Conv", 2, 3, 1, conv_attrs, infer_conv,
                      "N-d convolution (cross-correlation) with groups, pads, strides, dilations"));
  std::vector<AttrSpec> canonical_conv_attrs = conv_attrs;
  canonical_conv_attrs.erase(canonical_conv_attrs.begin());  // no auto_pad: pads are explicit
  canonical_conv_attrs[0].required = true;                   // kernel_shape
  canonical_conv_attrs[0].description = "spatial kernel sizes";
  registry.add(schema("conv", 2, 3, 1, canonical_conv_attrs, infer_conv,
                      "convolution with explicit pads and kernel_shape (canonical Conv)"));

  std::vector<AttrSpec> max_pool_attrs = window_attrs(false);
  max_pool_attrs.push_back(attr("ceil_mode", AttrType::kInt, "1: round output sizes up"));
  max_pool_attrs.push_back(attr("storage_order", AttrType::kInt,
                                "Indices layout: 0 row-major (default), 1 column-major"));
  registry.add(schema("MaxPool", 1, 1, 2, max_pool_attrs, infer_pool,
                      "max over sliding windows (optional Indices output)"));
  std::vector<AttrSpec> avg_pool_attrs = window_attrs(false);
  avg_pool_attrs.push_back(attr("ceil_mode", AttrType::kInt, "1: round output sizes up"));
  avg_pool_attrs.push_back(
      attr("count_include_pad", AttrType::kInt, "1: pads count in the divisor (default 0)"));
  registry.add(
      schema("AveragePool", 1, 1, 1, avg_pool_attrs, infer_pool, "mean over sliding windows"));
  registry.add(
      schema("GlobalAveragePool", 1, 1, 1, {}, infer_global_pool, "mean over all spatial axes"));
  registry.add(
      schema("GlobalMaxPool", 1, 1, 1, {}, infer_global_pool, "max over all spatial axes"));

  AttrSpec epsilon = attr("epsilon", AttrType::kFloat, "added to the variance (default 1e-5)");
  std::vector<AttrSpec> batch_norm_attrs = {
      epsilon, attr("momentum", AttrType::kFloat, "training only; ignored"),
      attr("training_mode", AttrType::kInt, "must be 0: inference only")};
  // Outputs 1-2 exist only in training mode, which the shape function and kernel refuse.
  registry.add(schema("BatchNormalization", 5, 5, 3, batch_norm_attrs, infer_batch_norm,
                      "per-channel (x - mean) / sqrt(var + epsilon) * scale + bias (inference)"));
  registry.add(schema("InstanceNormalization", 3, 3, 1, {epsilon}, infer_instance_norm,
                      "normalises each (sample, channel) over its spatial axes"));
  std::vector<AttrSpec> layer_norm_attrs = {
      attr("axis", AttrType::kInt, "first normalised axis (default -1)"), epsilon};
  std::vector<AttrSpec> onnx_layer_norm_attrs = layer_norm_attrs;
  onnx_layer_norm_attrs.push_back(
      attr("stash_type", AttrType::kInt, "precision of mean/variance; always computed in double"));
  registry.add(schema("LayerNormalization", 2, 3, 3, onnx_layer_norm_attrs, infer_layer_norm,
                      "normalises over axes [axis, rank) then scales and shifts"));
  registry.add(schema("layer_norm", 2, 3, 1, layer_norm_attrs, infer_layer_norm,
                      "canonical LayerNormalization (one output)"));

  std::vector<AttrSpec> softmax_attrs = {
      attr("axis", AttrType::kInt, "axis to normalise over (default -1)")};
  registry.add(schema("Softmax", 1, 1, 1, softmax_attrs, infer_same_shape_with_axis,
                      "exp(x) / sum(exp(x)) along one axis"));
  registry.add(schema("LogSoftmax", 1, 1, 1, softmax_attrs, infer_same_shape_with_axis,
                      "x - log(sum(exp(x))) along one axis"));
  std::vector<AttrSpec> gelu_attrs = {
      attr("approximate", AttrType::kString,
           "none: 0.5x(1 + erf(x / sqrt 2)) (default); tanh: the tanh approximation")};
  registry.add(schema("gelu", 1, 1, 1, gelu_attrs, infer_gelu, "Gaussian error linear unit"));
}

}  // namespace aimc::ir
