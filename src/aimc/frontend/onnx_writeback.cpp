#include "aimc/frontend/onnx_writeback.h"

#include <onnx/onnx_pb.h>

#include <cstring>
#include <limits>
#include <memory>

#include "aimc/core/error.h"
#include "aimc/core/npy.h"
#include "aimc/frontend/onnx_import.h"

namespace aimc::frontend {

namespace {

onnx::ModelProto read_model(const std::string& path) {
  std::string bytes = read_file_bytes(path);
  if (bytes.size() > static_cast<size_t>(std::numeric_limits<int>::max()))
    throw_bad_input("{}: larger than 2 GiB; store the weights as external data", path);
  onnx::ModelProto model;
  if (!model.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())))
    throw_bad_input("{}: not a valid ONNX model (protobuf parse failed: truncated or corrupt)",
                    path);
  return model;
}

int64_t proto_numel(const onnx::TensorProto& proto) {
  int64_t n = 1;
  for (int64_t d : proto.dims()) n *= d;
  return n;
}

void set_float_data(onnx::TensorProto& proto, const Tensor& value, const std::string& path) {
  if (proto.data_type() != onnx::TensorProto::FLOAT)
    throw_bad_input("{}: initializer '{}' is not float32", path, proto.name());
  if (value.dtype() != DType::kF32 || value.numel() != proto_numel(proto))
    throw_bad_input("{}: initializer '{}' has {} elements, the new value {}", path, proto.name(),
                    proto_numel(proto), value.numel());
  proto.clear_float_data();
  proto.clear_external_data();
  proto.set_data_location(onnx::TensorProto::DEFAULT);
  proto.set_raw_data(std::string(reinterpret_cast<const char*>(value.raw()), value.nbytes()));
}

// The value of an external-data initializer as the importer reads it (it resolves and checks
// the external file), stored inline.
void inline_external(onnx::TensorProto& proto, const ir::Graph& imported, const std::string& path) {
  const ir::Value* v = imported.find_value(proto.name());
  if (!v || !v->is_constant())
    throw_bad_input(
        "{}: initializer '{}' is stored as external data the model does not use; "
        "cannot make a self-contained copy",
        path, proto.name());
  proto.clear_external_data();
  proto.set_data_location(onnx::TensorProto::DEFAULT);
  proto.set_raw_data(
      std::string(reinterpret_cast<const char*>(v->constant.raw()), v->constant.nbytes()));
}

}  // namespace

std::set<std::string> onnx_weight_names(const std::string& path) {
  onnx::ModelProto model = read_model(path);
  std::set<std::string> names;
  for (const onnx::TensorProto& init : model.graph().initializer()) {
    if (init.data_type() == onnx::TensorProto::FLOAT) names.insert(init.name());
  }
  for (const onnx::NodeProto& node : model.graph().node()) {
    if (node.op_type() != "Constant" || node.output_size() != 1) continue;
    for (const onnx::AttributeProto& attr : node.attribute()) {
      if (attr.name() == "value" && attr.has_t() &&
          attr.t().data_type() == onnx::TensorProto::FLOAT)
        names.insert(node.output(0));
    }
  }
  return names;
}

void write_onnx_with_weights(const std::string& source_path,
                             const std::map<std::string, Tensor>& values,
                             const std::string& output_path) {
  onnx::ModelProto model = read_model(source_path);
  std::set<std::string> written;
  std::unique_ptr<ir::Graph> imported;  // loaded only when external data must be inlined
  for (onnx::TensorProto& init : *model.mutable_graph()->mutable_initializer()) {
    auto it = values.find(init.name());
    if (it != values.end()) {
      set_float_data(init, it->second, source_path);
      written.insert(init.name());
    } else if (init.data_location() == onnx::TensorProto::EXTERNAL) {
      if (!imported) imported = load_onnx(source_path);
      inline_external(init, *imported, source_path);
    }
  }
  for (onnx::NodeProto& node : *model.mutable_graph()->mutable_node()) {
    if (node.op_type() != "Constant" || node.output_size() != 1) continue;
    auto it = values.find(node.output(0));
    if (it == values.end()) continue;
    for (onnx::AttributeProto& attr : *node.mutable_attribute()) {
      if (attr.name() == "value" && attr.has_t()) {
        set_float_data(*attr.mutable_t(), it->second, source_path);
        written.insert(node.output(0));
      }
    }
  }
  for (const auto& [name, value] : values) {
    if (!written.count(name))
      throw_bad_input("{}: no float32 initializer or Constant named '{}' to write into",
                      source_path, name);
  }
  std::string bytes;
  if (!model.SerializeToString(&bytes))
    throw Error(ErrorKind::kRuntime, output_path + ": could not serialise the ONNX model");
  write_file_atomic(output_path, bytes);
}

}  // namespace aimc::frontend
