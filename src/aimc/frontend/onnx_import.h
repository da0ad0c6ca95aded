// ONNX import: a ModelProto (opsets 13-17 of the default domain) becomes an ir::Graph.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "aimc/core/tensor.h"
#include "aimc/ir/graph.h"

namespace aimc::frontend {

// The opsets of the default ONNX domain we import. aimc implements every op as of opsets
// 13-17. Older models (opset 1-12) are accepted node by node: an op is imported only when its
// definition at the model's opset has the same semantics as at opset 13 (see
// min_opset_for_op); otherwise the error names the node and asks for a re-export.
inline constexpr int64_t kMinOpset = 1;
inline constexpr int64_t kMaxOpset = 17;

// The oldest opset at which `op` means what aimc implements.
int64_t min_opset_for_op(const std::string& op);

// Loads, imports, infers shapes and verifies. Throws Error(kBadInput) whose message starts
// with the path and names the node, initializer or input at fault.
std::unique_ptr<ir::Graph> load_onnx(const std::string& path);

// Same from bytes in memory. `source` names the model in messages; external-data files are
// looked up relative to `base_dir` (empty: external data is refused).
std::unique_ptr<ir::Graph> parse_onnx(std::string_view bytes, const std::string& source,
                                      const std::string& base_dir);

// Reads a serialized TensorProto (the .pb files of ONNX's test data).
Tensor load_tensor_pb(const std::string& path);

}  // namespace aimc::frontend
