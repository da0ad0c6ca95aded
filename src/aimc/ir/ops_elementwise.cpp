// Schemas and shape functions of the elementwise ops (unary, binary and variadic with numpy
// broadcasting, comparisons, logic, Where, Cast, Dropout) and of the reductions (Reduce*,
// ArgMax, ArgMin). Semantics are ONNX's, opsets 13-17.
#include <algorithm>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "aimc/ir/op_registry.h"

namespace aimc::ir {
namespace {

// ---- helpers ----

// Sets output i's dtype (unknown when dtype is nullopt) and shape; an omitted output is skipped.
void set_output(Node& node, size_t i, std::optional<DType> dtype, std::optional<SymShape> shape) {
  Value* out = node.output(i);
  if (!out) return;
  out->dtype_known = dtype.has_value();
  if (dtype) out->dtype = *dtype;
  out->shape = std::move(shape);
}

std::optional<DType> dtype_of_input(const Node& node, size_t i) {
  const Value* v = node.input(i);
  if (!v || !v->dtype_known) return std::nullopt;
  return v->dtype;
}

const Value& required_input(const Node& node, size_t i) {
  const Value* v = node.input(i);
  if (!v) throw_bad_input("{}: input {} is missing", node.describe(), i);
  return *v;
}

// The common dtype of the given inputs (omitted ones skipped); throws when two known dtypes
// differ, since these ops take operands of one type.
std::optional<DType> common_dtype(const Node& node, const std::vector<size_t>& indices) {
  std::optional<DType> result;
  for (size_t i : indices) {
    std::optional<DType> dtype = dtype_of_input(node, i);
    if (!dtype) continue;
    if (result && *result != *dtype) {
      throw_bad_input("{}: operands have different dtypes {} and {}", node.describe(),
                      dtype_name(*result), dtype_name(*dtype));
    }
    result = dtype;
  }
  return result;
}

// One dimension of a numpy broadcast over symbolic dims: a known 1 gives way to the other
// side, equal dims (or equal symbols) match, a known dim beats a symbol (the symbol must then
// be that size or 1), and two different symbols give an unknown dim.
Dim broadcast_dim(const Node& node, const Dim& a, const Dim& b) {
  if (a.known() && b.known()) {
    if (a.value == b.value || b.value == 1) return a;
    if (a.value == 1) return b;
    throw_bad_input("{}: dimensions {} and {} do not broadcast", node.describe(), a.value, b.value);
  }
  if (a.known()) return a.value == 1 ? b : a;
  if (b.known()) return b.value == 1 ? a : b;
  if (!a.symbol.empty() && a.symbol == b.symbol) return a;
  return Dim{};
}

// Broadcast shape of the present inputs at `indices`; nullopt when one's rank is unknown.
std::optional<SymShape> broadcast_inputs(const Node& node, const std::vector<size_t>& indices) {
  SymShape result;
  for (size_t i : indices) {
    const Value* v = node.input(i);
    if (!v) continue;
    if (!v->shape) return std::nullopt;
    const SymShape& shape = *v->shape;
    size_t rank = std::max(result.size(), shape.size());
    SymShape merged(rank);
    for (size_t d = 0; d < rank; ++d) {
      // Align from the right; missing leading dims count as a known 1.
      Dim da = d < rank - result.size() ? Dim::of(1) : result[d - (rank - result.size())];
      Dim db = d < rank - shape.size() ? Dim::of(1) : shape[d - (rank - shape.size())];
      merged[d] = broadcast_dim(node, da, db);
    }
    result = std::move(merged);
  }
  return result;
}

std::vector<size_t> all_input_indices(const Node& node) {
  std::vector<size_t> indices(node.inputs.size());
  for (size_t i = 0; i < indices.size(); ++i) indices[i] = i;
  return indices;
}

// Maps `axes` (negative counting from the end) into [0, rank); throws naming the node on an
// axis out of range or given twice.
std::vector<int64_t> normalize_axes(const Node& node, const std::vector<int64_t>& axes,
                                    int64_t rank) {
  std::vector<int64_t> result;
  std::set<int64_t> seen;
  for (int64_t axis : axes) {
    int64_t normalized = axis < 0 ? axis + rank : axis;
    if (normalized < 0 || normalized >= rank) {
      throw_bad_input("{}: axis {} is out of range for rank {}", node.describe(), axis, rank);
    }
    if (!seen.insert(normalized).second) {
      throw_bad_input("{}: axis {} is given twice", node.describe(), axis);
    }
    result.push_back(normalized);
  }
  return result;
}

// ---- shape functions ----

void infer_same_as_input(Node& node) {
  const Value& x = required_input(node, 0);
  set_output(node, 0, dtype_of_input(node, 0), x.shape);
}

// Binary and variadic arithmetic: operands share a dtype, output takes it and the broadcast.
void infer_broadcast_same_dtype(Node& node) {
  std::vector<size_t> indices = all_input_indices(node);
  std::optional<DType> dtype = common_dtype(node, indices);
  set_output(node, 0, dtype, broadcast_inputs(node, indices));
}

// Comparisons and logic: operands share a dtype, output is bool.
void infer_broadcast_bool(Node& node) {
  std::vector<size_t> indices = all_input_indices(node);
  common_dtype(node, indices);
  set_output(node, 0, DType::kBool, broadcast_inputs(node, indices));
}

// Pow: the exponent may have another dtype; the output has the base's.
void infer_pow(Node& node) {
  set_output(node, 0, dtype_of_input(node, 0), broadcast_inputs(node, {0, 1}));
}

void infer_where(Node& node) {
  std::optional<DType> condition = dtype_of_input(node, 0);
  if (condition && *condition != DType::kBool) {
    throw_bad_input("{}: condition must be bool, not {}", node.describe(), dtype_name(*condition));
  }
  std::optional<DType> dtype = common_dtype(node, {1, 2});
  set_output(node, 0, dtype, broadcast_inputs(node, {0, 1, 2}));
}

void infer_same_shape_bool(Node& node) {
  set_output(node, 0, DType::kBool, required_input(node, 0).shape);
}

void infer_cast_like(Node& node) {
  set_output(node, 0, dtype_of_input(node, 1), required_input(node, 0).shape);
}

// PRelu: the slope broadcasts to x (one way); the output has x's shape.
void infer_prelu(Node& node) {
  std::optional<SymShape> shape = broadcast_inputs(node, {0, 1});
  const Value& x = required_input(node, 0);
  if (shape && x.shape && shape->size() != x.shape->size())
    throw_bad_input("{}: the slope has more dimensions than the input", node.describe());
  set_output(node, 0, dtype_of_input(node, 0), x.shape);
}

void infer_clip(Node& node) {
  common_dtype(node, {0, 1, 2});
  infer_same_as_input(node);
}

void infer_cast(Node& node) {
  int64_t to = node.require_int("to");
  std::optional<DType> dtype = dtype_from_onnx_code(to);
  if (!dtype) {
    throw_bad_input("{}: cast to ONNX dtype {} is unsupported (aimc supports {})", node.describe(),
                    to, kSupportedOnnxDtypeCodes);
  }
  set_output(node, 0, dtype, required_input(node, 0).shape);
}

void infer_dropout(Node& node) {
  const Value& x = required_input(node, 0);
  set_output(node, 0, dtype_of_input(node, 0), x.shape);
  set_output(node, 1, DType::kBool, x.shape);
}

// Output shape of reducing `shape` over the normalized `axes`.
SymShape reduced_shape(const SymShape& shape, const std::vector<int64_t>& axes, bool keepdims) {
  SymShape out;
  for (size_t d = 0; d < shape.size(); ++d) {
    bool reduced = std::find(axes.begin(), axes.end(), static_cast<int64_t>(d)) != axes.end();
    if (!reduced) {
      out.push_back(shape[d]);
    } else if (keepdims) {
      out.push_back(Dim::of(1));
    }
  }
  return out;
}

// Reduce*: axes come from the attribute (opsets 13-17 except ReduceSum) or from the optional
// second input (ReduceSum 13+, all of them from opset 18); empty axes reduce everything unless
// noop_with_empty_axes is set.
void infer_reduce(Node& node) {
  const Value& x = required_input(node, 0);
  std::optional<DType> dtype = dtype_of_input(node, 0);
  if (dtype && *dtype == DType::kBool) {
    throw_bad_input("{}: reductions do not take bool inputs", node.describe());
  }
  bool keepdims = node.attr_int("keepdims", 1) != 0;
  bool noop_with_empty_axes = node.attr_int("noop_with_empty_axes", 0) != 0;
  std::vector<int64_t> axes = node.attr_ints("axes");
  const Value* axes_input = node.input(1);
  if (axes_input && !axes_input->is_constant()) {
    // The axes are only known at run time: with keepdims the rank is still known.
    std::optional<SymShape> shape;
    if (keepdims && x.shape) shape = SymShape(x.shape->size(), Dim{});
    set_output(node, 0, dtype, shape);
    return;
  }
  if (axes_input) axes = axes_input->constant.to_int_vector();
  if (!x.shape) {
    set_output(node, 0, dtype, std::nullopt);
    return;
  }
  int64_t rank = static_cast<int64_t>(x.shape->size());
  if (axes.empty()) {
    if (noop_with_empty_axes) {
      set_output(node, 0, dtype, x.shape);
      return;
    }
    for (int64_t d = 0; d < rank; ++d) axes.push_back(d);
  }
  axes = normalize_axes(node, axes, rank);
  set_output(node, 0, dtype, reduced_shape(*x.shape, axes, keepdims));
}

void infer_arg_reduce(Node& node) {
  const Value& x = required_input(node, 0);
  std::optional<DType> dtype = dtype_of_input(node, 0);
  if (dtype && *dtype == DType::kBool) {
    throw_bad_input("{}: ArgMax/ArgMin do not take bool inputs", node.describe());
  }
  if (!x.shape) {
    set_output(node, 0, DType::kI64, std::nullopt);
    return;
  }
  int64_t rank = static_cast<int64_t>(x.shape->size());
  std::vector<int64_t> axes = normalize_axes(node, {node.attr_int("axis", 0)}, rank);
  bool keepdims = node.attr_int("keepdims", 1) != 0;
  set_output(node, 0, DType::kI64, reduced_shape(*x.shape, axes, keepdims));
}

// ---- registration ----

OpSchema schema(std::string name, int min_inputs, int max_inputs, ShapeFn infer,
                std::string description, std::vector<AttrSpec> attrs = {}) {
  OpSchema s;
  s.name = std::move(name);
  s.min_inputs = min_inputs;
  s.max_inputs = max_inputs;
  s.attrs = std::move(attrs);
  s.infer = std::move(infer);
  s.description = std::move(description);
  return s;
}

AttrSpec float_attr(std::string name, std::string description) {
  return AttrSpec{std::move(name), AttrType::kFloat, false, std::move(description)};
}

AttrSpec int_attr(std::string name, std::string description) {
  return AttrSpec{std::move(name), AttrType::kInt, false, std::move(description)};
}

void register_unary(OpRegistry& registry) {
  struct Unary {
    const char* name;
    const char* description;
  };
  const Unary unary_ops[] = {
      {"Sqrt", "y = sqrt(x), elementwise (float)"},
      {"Erf", "y = erf(x), the Gauss error function, elementwise (float)"},
      {"Tanh", "y = tanh(x), elementwise (float)"},
      {"Sigmoid", "y = 1 / (1 + exp(-x)), elementwise (float)"},
      {"Relu", "y = max(x, 0), elementwise"},
      {"Exp", "y = exp(x), elementwise (float)"},
      {"Log", "y = ln(x), elementwise (float)"},
      {"Neg", "y = -x, elementwise"},
      {"Abs", "y = |x|, elementwise"},
      {"Reciprocal", "y = 1 / x, elementwise (float)"},
      {"Floor", "y = floor(x), elementwise (float)"},
      {"Ceil", "y = ceil(x), elementwise (float)"},
      {"Softplus", "y = ln(1 + exp(x)), elementwise (float)"},
      {"Softsign", "y = x / (1 + |x|), elementwise (float)"},
      {"Sin", "y = sin(x), elementwise (float)"},
      {"Cos", "y = cos(x), elementwise (float)"},
      {"Tan", "y = tan(x), elementwise (float)"},
      {"Asin", "y = asin(x), elementwise (float)"},
      {"Acos", "y = acos(x), elementwise (float)"},
      {"Atan", "y = atan(x), elementwise (float)"},
      {"Sinh", "y = sinh(x), elementwise (float)"},
      {"Cosh", "y = cosh(x), elementwise (float)"},
      {"Asinh", "y = asinh(x), elementwise (float)"},
      {"Acosh", "y = acosh(x), elementwise (float)"},
      {"Atanh", "y = atanh(x), elementwise (float)"},
      {"Round", "y = x rounded to the nearest integer, halves to even, elementwise (float)"},
      {"Sign", "y = -1, 0 or 1 by the sign of x, elementwise"},
      {"HardSwish", "y = x * max(0, min(1, x / 6 + 1/2)), elementwise (float)"},
      {"Not", "y = !x, elementwise (bool)"},
      {"Identity", "y = x"},
  };
  for (const Unary& op : unary_ops) {
    registry.add(schema(op.name, 1, 1, infer_same_as_input, op.description));
  }
  registry.add(schema("LeakyRelu", 1, 1, infer_same_as_input,
                      "y = x if x >= 0 else alpha * x, elementwise (float)",
                      {float_attr("alpha", "slope for negative inputs (default 0.01)")}));
  registry.add(schema("Elu", 1, 1, infer_same_as_input,
                      "y = x if x >= 0 else alpha * (exp(x) - 1), elementwise (float)",
                      {float_attr("alpha", "scale of the negative part (default 1.0)")}));
  registry.add(schema(
      "HardSigmoid", 1, 1, infer_same_as_input,
      "y = max(0, min(1, alpha * x + beta)), elementwise (float)",
      {float_attr("alpha", "slope (default 0.2)"), float_attr("beta", "offset (default 0.5)")}));
  registry.add(schema("Selu", 1, 1, infer_same_as_input,
                      "y = gamma * (x if x > 0 else alpha * (exp(x) - 1)), elementwise (float)",
                      {float_attr("alpha", "scale of the negative part (default 1.6733)"),
                       float_attr("gamma", "overall scale (default 1.0507)")}));
  registry.add(schema("Celu", 1, 1, infer_same_as_input,
                      "y = max(0, x) + min(0, alpha * (exp(x / alpha) - 1)), elementwise (float)",
                      {float_attr("alpha", "scale (default 1.0)")}));
  registry.add(schema("ThresholdedRelu", 1, 1, infer_same_as_input,
                      "y = x if x > alpha else 0, elementwise (float)",
                      {float_attr("alpha", "threshold (default 1.0)")}));
  registry.add(schema("Shrink", 1, 1, infer_same_as_input,
                      "y = x + bias if x < -lambd, x - bias if x > lambd, else 0, elementwise",
                      {float_attr("bias", "shift of the kept values (default 0)"),
                       float_attr("lambd", "half width of the zeroed band (default 0.5)")}));
  registry.add(schema("IsNaN", 1, 1, infer_same_shape_bool, "y = isnan(x), elementwise (bool)"));
  registry.add(schema("IsInf", 1, 1, infer_same_shape_bool,
                      "y = x is +inf (detect_positive) or -inf (detect_negative), elementwise",
                      {int_attr("detect_negative", "1 (default): -inf counts"),
                       int_attr("detect_positive", "1 (default): +inf counts")}));
  registry.add(schema("CastLike", 2, 2, infer_cast_like,
                      "y = x converted to the dtype of the second input"));
  registry.add(schema("Clip", 1, 3, infer_clip,
                      "y = min(max(x, min), max) with optional scalar inputs min and max",
                      {float_attr("min", "lower bound before opset 11 (then the second input)"),
                       float_attr("max", "upper bound before opset 11 (then the third input)")}));
  registry.add(
      schema("Cast", 1, 1, infer_cast, "y = x converted to the dtype `to`",
             {AttrSpec{"to", AttrType::kInt, true,
                       std::string("ONNX TensorProto dtype code: ") + kSupportedOnnxDtypeCodes}}));
  OpSchema dropout = schema(
      "Dropout", 1, 3, infer_dropout,
      "inference Dropout: y = x; the optional mask output is all true",
      {int_attr("seed", "random seed (unused: aimc runs Dropout in inference mode only)"),
       float_attr("ratio", "drop probability before opset 12 (then the second input); unused")});
  dropout.max_outputs = 2;
  registry.add(std::move(dropout));
}

void register_binary(OpRegistry& registry) {
  struct Binary {
    const char* name;
    const char* description;
    ShapeFn infer;
  };
  const Binary binary_ops[] = {
      {"Add", "c = a + b with numpy broadcasting", infer_broadcast_same_dtype},
      {"Sub", "c = a - b with numpy broadcasting", infer_broadcast_same_dtype},
      {"Mul", "c = a * b with numpy broadcasting", infer_broadcast_same_dtype},
      {"Div", "c = a / b with numpy broadcasting (integers truncate toward zero)",
       infer_broadcast_same_dtype},
      {"Pow", "c = a ^ b with numpy broadcasting; c has a's dtype", infer_pow},
      {"Equal", "c = (a == b) with numpy broadcasting, bool", infer_broadcast_bool},
      {"Less", "c = (a < b) with numpy broadcasting, bool", infer_broadcast_bool},
      {"Greater", "c = (a > b) with numpy broadcasting, bool", infer_broadcast_bool},
      {"LessOrEqual", "c = (a <= b) with numpy broadcasting, bool", infer_broadcast_bool},
      {"GreaterOrEqual", "c = (a >= b) with numpy broadcasting, bool", infer_broadcast_bool},
      {"And", "c = a && b with numpy broadcasting (bool)", infer_broadcast_bool},
      {"Or", "c = a || b with numpy broadcasting (bool)", infer_broadcast_bool},
      {"Xor", "c = a != b with numpy broadcasting (bool)", infer_broadcast_bool},
  };
  for (const Binary& op : binary_ops) {
    registry.add(schema(op.name, 2, 2, op.infer, op.description));
  }
  registry.add(schema("Mod", 2, 2, infer_broadcast_same_dtype,
                      "c = a mod b with numpy broadcasting (fmod 0: sign of b; 1: sign of a)",
                      {int_attr("fmod",
                                "1: C fmod (sign of the dividend); 0 (default): sign of "
                                "the divisor")}));
  registry.add(
      schema("PRelu", 2, 2, infer_prelu, "y = x if x >= 0 else slope * x; slope broadcasts to x"));
  registry.add(schema("Where", 3, 3, infer_where,
                      "z = condition ? x : y with numpy broadcasting of all three"));
  registry.add(schema("Min", 1, -1, infer_broadcast_same_dtype,
                      "elementwise minimum of the inputs, with numpy broadcasting"));
  registry.add(schema("Max", 1, -1, infer_broadcast_same_dtype,
                      "elementwise maximum of the inputs, with numpy broadcasting"));
  registry.add(schema("Sum", 1, -1, infer_broadcast_same_dtype,
                      "elementwise sum of the inputs, with numpy broadcasting"));
  registry.add(schema("Mean", 1, -1, infer_broadcast_same_dtype,
                      "elementwise mean of the inputs, with numpy broadcasting"));
}

void register_reductions(OpRegistry& registry) {
  struct Reduction {
    const char* name;
    const char* description;
  };
  const Reduction reductions[] = {
      {"ReduceMean", "mean over the given axes"},
      {"ReduceMax", "maximum over the given axes"},
      {"ReduceMin", "minimum over the given axes"},
      {"ReduceSum", "sum over the given axes (axes are the second input from opset 13)"},
      {"ReduceProd", "product over the given axes"},
      {"ReduceSumSquare", "sum of squares over the given axes"},
      {"ReduceL1", "sum of absolute values over the given axes"},
      {"ReduceL2", "square root of the sum of squares over the given axes"},
      {"ReduceLogSumExp", "ln(sum(exp(x))) over the given axes"},
      {"ReduceLogSum", "ln(sum(x)) over the given axes"},
  };
  for (const Reduction& op : reductions) {
    // Every reduction accepts both forms of axes, so that opset-18 models (axes as the
    // optional second input) also load.
    registry.add(schema(
        op.name, 1, 2, infer_reduce, op.description,
        {AttrSpec{"axes", AttrType::kInts, false,
                  "axes to reduce, negative counting from the end (default: all; opset 13+ "
                  "ReduceSum and opset 18+ take them as the second input instead)"},
         int_attr("keepdims", "1 keeps reduced axes as size 1, 0 drops them (default 1)"),
         int_attr("noop_with_empty_axes",
                  "1: empty axes leave the input unchanged instead of reducing all (default 0)")}));
  }
  for (const char* name : {"ArgMax", "ArgMin"}) {
    bool is_max = std::string(name) == "ArgMax";
    registry.add(schema(
        name, 1, 1, infer_arg_reduce,
        std::string("int64 index of the ") + (is_max ? "largest" : "smallest") +
            " element along an axis",
        {int_attr("axis", "axis to reduce, negative counting from the end (default 0)"),
         int_attr("keepdims", "1 keeps the axis as size 1, 0 drops it (default 1)"),
         int_attr("select_last_index",
                  "1 returns the last index of a repeated extreme, 0 the first (default 0)")}));
  }
}

}  // namespace

void register_elementwise_ops(OpRegistry& registry) {
  register_unary(registry);
  register_binary(registry);
  register_reductions(registry);
}

}  // namespace aimc::ir
