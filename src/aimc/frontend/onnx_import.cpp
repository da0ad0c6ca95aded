#include "aimc/frontend/onnx_import.h"

#include <onnx/onnx_pb.h>

#include <cctype>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "aimc/core/npy.h"
#include "aimc/ir/op_registry.h"

namespace aimc::frontend {

int64_t min_opset_for_op(const std::string& op) {
  // Versions from ONNX's Changelog.md (onnx/docs/Changelog.md): the first opset whose
  // definition has the semantics of opset 13; later changes only added element types.
  static const std::map<std::string, int64_t> kFloor = {
      {"Softmax", 13},     // before 13: coerced to 2-D at `axis`
      {"LogSoftmax", 13},  // idem
      {"Split", 13},       // `split` became an input
      // Squeeze, Unsqueeze and ReduceSum moved `axes` from an attribute to an input at 13;
      // aimc's kernels read either form, so older models import as they are.
      {"Squeeze", 1},
      {"Unsqueeze", 1},
      {"ReduceSum", 1},
      {"ReduceLogSum", 1},
      {"Clip", 11},    // min/max became inputs
      {"Pad", 11},     // pads became an input
      {"Slice", 10},   // starts/ends became inputs
      {"Reshape", 5},  // shape became an input
      {"Min", 8},      // multidirectional broadcasting
      {"Max", 8},
      {"Sum", 8},
      {"Mean", 8},
      {"BatchNormalization", 9},  // `spatial` removed
      {"Gather", 11},             // negative indices
      {"ArgMax", 11},             // negative axis
      {"ArgMin", 11},
      {"Flatten", 11},  // negative axis
      {"Concat", 11},   // negative axis
      // Reductions before 11 only lacked negative axes, which no valid model used.
      {"ReduceMean", 1},
      {"ReduceMax", 1},
      {"ReduceMin", 1},
      {"ReduceProd", 1},
      {"ReduceSumSquare", 1},
      {"ReduceL1", 1},
      {"ReduceL2", 1},
      {"ReduceLogSumExp", 1},
      {"Gemm", 11},     // C optional
      {"Constant", 1},  // later versions only add attribute forms
      {"Identity", 1},
      {"Transpose", 1},
      {"Size", 1},
      {"Conv", 1},
      {"MatMul", 1},
      {"MaxPool", 1},  // later versions add attributes whose defaults keep v1's meaning
      {"GlobalAveragePool", 1},
      {"GlobalMaxPool", 1},
      {"Not", 1},
      {"Softplus", 1},
      {"Softsign", 1},
      // Unary ops whose opset-1 form had the legacy `consumed_inputs` attribute.
      {"Abs", 6},
      {"Neg", 6},
      {"Relu", 6},
      {"Sigmoid", 6},
      {"Tanh", 6},
      {"Exp", 6},
      {"Log", 6},
      {"Sqrt", 6},
      {"Reciprocal", 6},
      {"Floor", 6},
      {"Ceil", 6},
      {"LeakyRelu", 6},
      {"Elu", 6},
      {"HardSigmoid", 6},
      {"Selu", 6},
      {"InstanceNormalization", 6},
      {"Cast", 6},
      {"Tile", 6},
      {"Range", 11},
      {"ConstantOfShape", 9},
      {"Expand", 8},
      {"Where", 9},
      {"Erf", 9},
      {"Shape", 1},
      {"LayerNormalization", 17},
      {"Trilu", 14},
      {"CumSum", 11},
      {"GatherElements", 11},
  };
  // Everything else: opset 7 removed the legacy `broadcast`/`axis` forms and `is_test`.
  auto it = kFloor.find(op);
  return it == kFloor.end() ? 7 : it->second;
}

namespace {

const char* onnx_type_name(int type) {
  switch (type) {
    case onnx::TensorProto::FLOAT:
      return "float32";
    case onnx::TensorProto::UINT8:
      return "uint8";
    case onnx::TensorProto::INT8:
      return "int8";
    case onnx::TensorProto::UINT16:
      return "uint16";
    case onnx::TensorProto::INT16:
      return "int16";
    case onnx::TensorProto::INT32:
      return "int32";
    case onnx::TensorProto::INT64:
      return "int64";
    case onnx::TensorProto::STRING:
      return "string";
    case onnx::TensorProto::BOOL:
      return "bool";
    case onnx::TensorProto::FLOAT16:
      return "float16";
    case onnx::TensorProto::DOUBLE:
      return "float64";
    case onnx::TensorProto::UINT32:
      return "uint32";
    case onnx::TensorProto::UINT64:
      return "uint64";
    case onnx::TensorProto::BFLOAT16:
      return "bfloat16";
    default:
      return "unknown";
  }
}

// Our dtype for an ONNX element type; throws naming `what` when we do not support it.
DType dtype_from_onnx(int type, const std::string& what) {
  switch (type) {
    case onnx::TensorProto::FLOAT:
      return DType::kF32;
    case onnx::TensorProto::INT64:
      return DType::kI64;
    case onnx::TensorProto::INT32:
      return DType::kI32;
    case onnx::TensorProto::INT8:
      return DType::kI8;
    case onnx::TensorProto::BOOL:
      return DType::kBool;
    case onnx::TensorProto::DOUBLE:
      return DType::kF64;
    case onnx::TensorProto::FLOAT16:
      return DType::kF16;
    case onnx::TensorProto::UINT8:
      return DType::kU8;
    case onnx::TensorProto::INT16:
      return DType::kI16;
    case onnx::TensorProto::UINT16:
      return DType::kU16;
    case onnx::TensorProto::UINT32:
      return DType::kU32;
    case onnx::TensorProto::UINT64:
      return DType::kU64;
    default:
      throw_bad_input(
          "{}: element type {} is not supported (supported: float32, float64, "
          "float16, int64, int32, int16, int8, uint64, uint32, uint16, uint8, bool)",
          what, onnx_type_name(type));
  }
}

// The file an external-data location names, checked as onnx.checker and onnxruntime do: a
// relative path without "..", that still lies inside the model's directory once symlinks are
// resolved, and a regular file. Error(kBadInput) naming the initializer and the location.
std::filesystem::path resolve_external_path(const std::string& base_dir,
                                            const std::string& location, const std::string& what) {
  namespace fs = std::filesystem;
  const fs::path relative(location);
  if (relative.is_absolute() || relative.has_root_name() || relative.has_root_directory())
    throw_bad_input(
        "{}: external data location '{}' is an absolute path; it must be relative "
        "to the model's directory",
        what, location);
  for (const fs::path& part : relative)
    if (part == "..")
      throw_bad_input(
          "{}: external data location '{}' contains '..'; it must stay inside the "
          "model's directory",
          what, location);
  std::error_code ec;
  const fs::path base = fs::canonical(fs::path(base_dir), ec);
  if (ec) throw_bad_input("{}: cannot resolve the model's directory '{}'", what, base_dir);
  const fs::path path = fs::canonical(base / relative, ec);
  if (ec)
    throw_bad_input("{}: cannot read external data file '{}': {}", what,
                    (fs::path(base_dir) / relative).string(), ec.message());
  const fs::path inside = path.lexically_relative(base);
  if (inside.empty() || *inside.begin() == "..")
    throw_bad_input(
        "{}: external data location '{}' leads to '{}', outside the model's "
        "directory '{}' (through a symbolic link)",
        what, location, path.string(), base.string());
  if (!fs::is_regular_file(path, ec))
    throw_bad_input("{}: external data location '{}' is not a regular file", what, location);
  return path;
}

// Bytes of the external data of `proto`, read from a file beside the model.
std::string read_external_data(const onnx::TensorProto& proto, const std::string& what,
                               const std::string& base_dir, size_t expected_bytes) {
  std::string location;
  int64_t offset = 0;
  int64_t length = -1;
  for (const auto& entry : proto.external_data()) {
    try {
      if (entry.key() == "location") location = entry.value();
      if (entry.key() == "offset") offset = std::stoll(entry.value());
      if (entry.key() == "length") length = std::stoll(entry.value());
    } catch (const std::exception&) {
      throw_bad_input("{}: external data key '{}' has a malformed value '{}'", what, entry.key(),
                      entry.value());
    }
  }
  if (location.empty()) throw_bad_input("{}: external data without a 'location'", what);
  if (base_dir.empty())
    throw_bad_input("{}: external data '{}' cannot be read (model not loaded from a file)", what,
                    location);
  const std::filesystem::path path = resolve_external_path(base_dir, location, what);
  std::error_code ec;
  auto file_size = std::filesystem::file_size(path, ec);
  if (ec)
    throw_bad_input("{}: cannot read external data file '{}': {}", what, path.string(),
                    ec.message());
  if (length < 0) length = static_cast<int64_t>(expected_bytes);
  if (offset < 0 || static_cast<uint64_t>(offset) > file_size ||
      static_cast<uint64_t>(length) > file_size - static_cast<uint64_t>(offset))
    throw_bad_input("{}: external data range [{}, {}) lies outside '{}' ({} bytes)", what, offset,
                    offset + length, path.string(), file_size);
  std::ifstream in(path, std::ios::binary);
  if (!in) throw_bad_input("{}: cannot open external data file '{}'", what, path.string());
  std::string bytes(static_cast<size_t>(length), '\0');
  in.seekg(offset);
  in.read(bytes.data(), length);
  if (!in) throw_bad_input("{}: short read from external data file '{}'", what, path.string());
  return bytes;
}

template <typename T, typename Field>
void copy_as(const Field& field, Tensor& tensor) {
  T* out = tensor.data<T>();
  for (int i = 0; i < field.size(); ++i) out[i] = static_cast<T>(field.Get(i));
}

// Copies a typed field (float_data, int32_data...) into `tensor`, converting each value to the
// tensor's element type.
template <typename Field>
void copy_typed(const Field& field, Tensor& tensor, const std::string& what) {
  if (static_cast<int64_t>(field.size()) != tensor.numel())
    throw_bad_input("{}: holds {} values, its shape {} needs {}", what, field.size(),
                    shape_str(tensor.shape()), tensor.numel());
  switch (tensor.dtype()) {
    case DType::kF32:
      copy_as<float>(field, tensor);
      break;
    case DType::kF64:
      copy_as<double>(field, tensor);
      break;
    case DType::kI64:
      copy_as<int64_t>(field, tensor);
      break;
    case DType::kI32:
      copy_as<int32_t>(field, tensor);
      break;
    case DType::kI16:
      copy_as<int16_t>(field, tensor);
      break;
    case DType::kI8:
      copy_as<int8_t>(field, tensor);
      break;
    case DType::kU64:
      copy_as<uint64_t>(field, tensor);
      break;
    case DType::kU32:
      copy_as<uint32_t>(field, tensor);
      break;
    case DType::kU16:
      copy_as<uint16_t>(field, tensor);
      break;
    case DType::kU8:
      copy_as<uint8_t>(field, tensor);
      break;
    case DType::kF16: {
      // int32_data holds the raw bits of each half.
      Float16* out = tensor.data<Float16>();
      for (int i = 0; i < field.size(); ++i) {
        out[i] = Float16{static_cast<uint16_t>(field.Get(i))};
      }
      break;
    }
    case DType::kBool: {
      bool* out = tensor.data<bool>();
      for (int i = 0; i < field.size(); ++i) out[i] = field.Get(i) != 0;
      break;
    }
  }
}

// Values in the typed field that tensor_from_proto reads for `dtype`.
int64_t typed_value_count(const onnx::TensorProto& proto, DType dtype) {
  switch (dtype) {
    case DType::kF32:
      return proto.float_data_size();
    case DType::kF64:
      return proto.double_data_size();
    case DType::kI64:
      return proto.int64_data_size();
    case DType::kU32:
    case DType::kU64:
      return proto.uint64_data_size();
    default:
      return proto.int32_data_size();
  }
}

Tensor tensor_from_proto(const onnx::TensorProto& proto, const std::string& what,
                         const std::string& base_dir) {
  DType dtype = dtype_from_onnx(proto.data_type(), what);
  Shape shape;
  __int128 numel = 1;
  for (int64_t d : proto.dims()) {
    if (d < 0) throw_bad_input("{}: negative dimension {}", what, d);
    numel *= d;
    if (numel > (__int128{1} << 36)) throw_bad_input("{}: tensor too large", what);
    shape.push_back(d);
  }
  if (proto.has_segment()) throw_bad_input("{}: segmented tensors are not supported", what);
  // The values must be there before the tensor is allocated: a small file can declare a huge
  // shape (issue 20).
  const size_t nbytes = static_cast<size_t>(numel) * dtype_size(dtype);
  if (proto.data_location() != onnx::TensorProto::EXTERNAL) {
    if (proto.has_raw_data() && proto.raw_data().size() != nbytes)
      throw_bad_input("{}: raw_data holds {} bytes, shape {} of {} needs {}", what,
                      proto.raw_data().size(), shape_str(shape), dtype_name(dtype), nbytes);
    const int64_t values = typed_value_count(proto, dtype);
    if (!proto.has_raw_data() && values != static_cast<int64_t>(numel))
      throw_bad_input("{}: holds {} values, its shape {} needs {}", what, values, shape_str(shape),
                      static_cast<int64_t>(numel));
  }
  Tensor tensor(dtype, shape);
  if (proto.data_location() == onnx::TensorProto::EXTERNAL) {
    std::string bytes = read_external_data(proto, what, base_dir, nbytes);
    if (bytes.size() != nbytes)
      throw_bad_input("{}: external data holds {} bytes, shape {} of {} needs {}", what,
                      bytes.size(), shape_str(shape), dtype_name(dtype), nbytes);
    if (nbytes) std::memcpy(tensor.raw(), bytes.data(), nbytes);
  } else if (proto.has_raw_data()) {
    const std::string& raw = proto.raw_data();
    if (raw.size() != nbytes)
      throw_bad_input("{}: raw_data holds {} bytes, shape {} of {} needs {}", what, raw.size(),
                      shape_str(shape), dtype_name(dtype), nbytes);
    if (nbytes) std::memcpy(tensor.raw(), raw.data(), nbytes);
  } else {
    switch (dtype) {
      case DType::kF32:
        copy_typed(proto.float_data(), tensor, what);
        break;
      case DType::kF64:
        copy_typed(proto.double_data(), tensor, what);
        break;
      case DType::kI64:
        copy_typed(proto.int64_data(), tensor, what);
        break;
      case DType::kU32:
      case DType::kU64:
        copy_typed(proto.uint64_data(), tensor, what);
        break;
      // int32, int16, int8, uint16, uint8, bool, and float16 as its bits.
      default:
        copy_typed(proto.int32_data(), tensor, what);
        break;
    }
  }
  if (dtype == DType::kBool) {
    auto* b = reinterpret_cast<uint8_t*>(tensor.raw());
    for (int64_t i = 0; i < tensor.numel(); ++i) b[i] = b[i] ? 1 : 0;
  }
  return tensor;
}

void set_value_type(ir::Value& value, const onnx::ValueInfoProto& info, const std::string& what) {
  if (!info.has_type()) return;
  const auto& type = info.type();
  if (!type.has_tensor_type())
    throw_bad_input("{}: only tensor types are supported (not sequences, maps or optionals)", what);
  const auto& tensor_type = type.tensor_type();
  if (tensor_type.has_elem_type() && tensor_type.elem_type() != 0) {
    value.dtype = dtype_from_onnx(tensor_type.elem_type(), what);
    value.dtype_known = true;
  }
  if (!tensor_type.has_shape()) return;
  ir::SymShape shape;
  for (const auto& dim : tensor_type.shape().dim()) {
    if (dim.has_dim_value()) {
      if (dim.dim_value() < 0) throw_bad_input("{}: negative dimension", what);
      shape.push_back(ir::Dim::of(dim.dim_value()));
    } else if (dim.has_dim_param()) {
      shape.push_back(ir::Dim::symbolic(dim.dim_param()));
    } else {
      shape.push_back(ir::Dim{});
    }
  }
  value.shape = std::move(shape);
}

ir::AttrValue attr_from_proto(const onnx::AttributeProto& attr, const std::string& what,
                              const std::string& base_dir) {
  using A = onnx::AttributeProto;
  if (!attr.ref_attr_name().empty())
    throw_bad_input(
        "{}: attribute '{}' refers to a function attribute; functions are not "
        "supported",
        what, attr.name());
  switch (attr.type()) {
    case A::INT:
      return attr.i();
    case A::FLOAT:
      return static_cast<double>(attr.f());
    case A::STRING:
      return attr.s();
    case A::INTS:
      return std::vector<int64_t>(attr.ints().begin(), attr.ints().end());
    case A::FLOATS:
      return std::vector<double>(attr.floats().begin(), attr.floats().end());
    case A::STRINGS:
      return std::vector<std::string>(attr.strings().begin(), attr.strings().end());
    case A::TENSOR:
      return tensor_from_proto(attr.t(), what + ": attribute '" + attr.name() + "'", base_dir);
    case A::GRAPH:
    case A::GRAPHS:
      throw_bad_input(
          "{}: attribute '{}' holds a subgraph; control flow (If, Loop, Scan) is not "
          "supported",
          what, attr.name());
    default:
      throw_bad_input("{}: attribute '{}' has an unsupported type ({})", what, attr.name(),
                      static_cast<int>(attr.type()));
  }
}

// An attribute the op's schema does not declare would be silently ignored: aimc would compute
// something other than what the exporter meant. Refused, naming node and attribute.
void check_known_attributes(const ir::Graph& graph) {
  for (const auto& node : graph.nodes()) {
    const ir::OpSchema* schema = ir::OpRegistry::instance().find(node->op);
    if (!schema) continue;  // verify() reported it
    for (const auto& [name, value] : node->attrs) {
      bool known = false;
      for (const ir::AttrSpec& spec : schema->attrs) known |= spec.name == name;
      if (!known) {
        std::string declared;
        for (const ir::AttrSpec& spec : schema->attrs)
          declared += (declared.empty() ? "" : ", ") + spec.name;
        throw_bad_input("{}: attribute '{}' is not one aimc implements for {} (it knows: {})",
                        node->describe(), name, node->op, declared.empty() ? "none" : declared);
      }
    }
  }
}

std::unique_ptr<ir::Graph> import_model(const onnx::ModelProto& model, const std::string& source,
                                        const std::string& base_dir) {
  if (!model.has_graph()) throw_bad_input("{}: the model has no graph", source);
  int64_t opset = -1;
  for (const auto& import : model.opset_import()) {
    if (import.domain().empty() || import.domain() == "ai.onnx") opset = import.version();
  }
  if (opset < 0) throw_bad_input("{}: the model does not import the default ONNX opset", source);
  if (opset < kMinOpset || opset > kMaxOpset)
    throw_bad_input(
        "{}: opset {} is not supported (aimc imports opsets {} to {}; re-export with "
        "opset_version={})",
        source, opset, kMinOpset, kMaxOpset, kMaxOpset);
  for (int i = 0; i < model.graph().node_size(); ++i) {
    const auto& node = model.graph().node(i);
    int64_t floor = min_opset_for_op(node.op_type());
    if (opset < floor && (node.domain().empty() || node.domain() == "ai.onnx"))
      throw_bad_input(
          "{}: node '{}' ({}): the model's opset {} defines {} differently from the "
          "opset {}+ semantics aimc implements; re-export with opset_version={}",
          source, node.name().empty() ? fmt::format("#{}", i) : node.name(), node.op_type(), opset,
          node.op_type(), floor, kMaxOpset);
  }

  const onnx::GraphProto& proto = model.graph();
  auto graph = std::make_unique<ir::Graph>();
  graph->name = proto.name();
  graph->opset = opset;

  // Unsupported ops first, all of them at once, so the user sees the whole list.
  const ir::OpRegistry& registry = ir::OpRegistry::instance();
  std::vector<std::string> unsupported;
  for (int i = 0; i < proto.node_size(); ++i) {
    const auto& node = proto.node(i);
    std::string name = node.name().empty() ? fmt::format("#{}", i) : node.name();
    bool default_domain = node.domain().empty() || node.domain() == "ai.onnx";
    if (!default_domain) {
      unsupported.push_back(fmt::format("'{}' ({}::{})", name, node.domain(), node.op_type()));
    } else if (!registry.find(node.op_type()) || node.op_type().empty() ||
               !std::isupper(static_cast<unsigned char>(node.op_type()[0]))) {
      // Lower-case names are aimc's canonical ops, never ONNX ops.
      unsupported.push_back(fmt::format("'{}' ({})", name, node.op_type()));
    }
  }
  if (!unsupported.empty()) {
    std::vector<std::string> supported;
    for (const std::string& op : registry.names()) {
      if (!op.empty() && std::isupper(static_cast<unsigned char>(op[0]))) supported.push_back(op);
    }
    size_t shown = std::min<size_t>(unsupported.size(), 10);
    throw_bad_input(
        "{}: unsupported op{} (the model imports ONNX opset {}) at node{} {}{}. Supported ONNX "
        "ops: {}",
        source, unsupported.size() > 1 ? "s" : "", opset, unsupported.size() > 1 ? "s" : "",
        fmt::join(unsupported.begin(), unsupported.begin() + static_cast<long>(shown), ", "),
        unsupported.size() > shown ? fmt::format(" and {} more", unsupported.size() - shown) : "",
        fmt::join(supported, ", "));
  }

  std::set<std::string> initializer_names;
  for (const auto& init : proto.initializer()) {
    std::string what = fmt::format("{}: initializer '{}'", source, init.name());
    if (init.name().empty()) throw_bad_input("{}: an initializer has no name", source);
    if (graph->find_value(init.name()))
      throw_bad_input("{}: initializer '{}' is defined twice", source, init.name());
    graph->add_constant(init.name(), tensor_from_proto(init, what, base_dir));
    initializer_names.insert(init.name());
  }
  if (proto.sparse_initializer_size() > 0)
    throw_bad_input("{}: sparse initializers are not supported", source);

  for (const auto& input : proto.input()) {
    // Older exporters list initializers among the inputs too; those are constants for us.
    if (initializer_names.count(input.name())) continue;
    std::string what = fmt::format("{}: input '{}'", source, input.name());
    if (input.name().empty()) throw_bad_input("{}: a graph input has no name", source);
    if (graph->find_value(input.name()))
      throw_bad_input("{}: graph input '{}' is defined twice", source, input.name());
    ir::Value* v = graph->add_value(input.name());
    set_value_type(*v, input, what);
    graph->inputs.push_back(v);
  }

  auto lookup = [&](const std::string& name, const std::string& node_what) -> ir::Value* {
    ir::Value* v = graph->find_value(name);
    if (!v)
      throw_bad_input(
          "{}: input '{}' is not defined by any earlier node, initializer or graph input",
          node_what, name);
    return v;
  };
  // ONNX requires nodes in topological order; we rely on that and check it.
  for (int i = 0; i < proto.node_size(); ++i) {
    const auto& node = proto.node(i);
    std::string node_name =
        node.name().empty() ? graph->make_unique_name(node.op_type()) : node.name();
    if (graph->find_node(node_name)) node_name = graph->make_unique_name(node_name);
    std::string what = fmt::format("{}: node '{}' ({})", source, node_name, node.op_type());
    std::vector<ir::Value*> inputs, outputs;
    for (const std::string& in : node.input())
      inputs.push_back(in.empty() ? nullptr : lookup(in, what));
    for (const std::string& out : node.output()) {
      if (out.empty()) {
        outputs.push_back(nullptr);
        continue;
      }
      if (graph->find_value(out))
        throw_bad_input("{}: output '{}' is already defined elsewhere", what, out);
      outputs.push_back(graph->add_value(out));
    }
    // Trailing absent outputs carry nothing; drop them.
    while (!outputs.empty() && outputs.back() == nullptr) outputs.pop_back();
    ir::Node* n = graph->add_node(node.op_type(), node_name, std::move(inputs), std::move(outputs));
    for (const auto& attr : node.attribute()) {
      if (attr.name().empty()) throw_bad_input("{}: an attribute has no name", what);
      n->attrs[attr.name()] = attr_from_proto(attr, what, base_dir);
    }
  }
  for (const auto& output : proto.output()) {
    ir::Value* v = graph->find_value(output.name());
    if (!v) throw_bad_input("{}: graph output '{}' is never produced", source, output.name());
    set_value_type(*v, output, fmt::format("{}: output '{}'", source, output.name()));
    graph->outputs.push_back(v);
  }
  if (graph->outputs.empty()) throw_bad_input("{}: the graph has no outputs", source);
  try {
    ir::verify(*graph);
    check_known_attributes(*graph);
    ir::infer_shapes(*graph);
  } catch (const Error& e) {
    rethrow_with_context(e, source);
  }
  return graph;
}

}  // namespace

std::unique_ptr<ir::Graph> parse_onnx(std::string_view bytes, const std::string& source,
                                      const std::string& base_dir) {
  if (bytes.empty()) throw_bad_input("{}: empty file", source);
  if (bytes.size() > static_cast<size_t>(std::numeric_limits<int>::max()))
    throw_bad_input("{}: larger than 2 GiB; store the weights as external data", source);
  onnx::ModelProto model;
  if (!model.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())))
    throw_bad_input("{}: not a valid ONNX model (protobuf parse failed: truncated or corrupt)",
                    source);
  return import_model(model, source, base_dir);
}

std::unique_ptr<ir::Graph> load_onnx(const std::string& path) {
  std::string bytes = read_file_bytes(path);
  std::string base_dir = std::filesystem::path(path).parent_path().string();
  if (base_dir.empty()) base_dir = ".";
  return parse_onnx(bytes, path, base_dir);
}

Tensor load_tensor_pb(const std::string& path) {
  std::string bytes = read_file_bytes(path);
  onnx::TensorProto proto;
  if (!proto.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())))
    throw_bad_input("{}: not a valid TensorProto", path);
  return tensor_from_proto(proto, path, std::filesystem::path(path).parent_path().string());
}

}  // namespace aimc::frontend
