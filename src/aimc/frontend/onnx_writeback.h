// Writing trained weights back into the ONNX model they came from: the same graph, nodes and
// metadata, with new values for some initializers (what `aimc finetune` writes).
#pragma once

#include <map>
#include <set>
#include <string>

#include "aimc/core/tensor.h"

namespace aimc::frontend {

// The names of the model's float32 initializers and float32 Constant-node outputs: the
// constants new values can be written into.
std::set<std::string> onnx_weight_names(const std::string& path);

// Writes the model at `source_path` to `output_path` (atomically: a temporary file, then a
// rename) with `values` (by initializer or Constant-output name; float32, the same number of
// elements as the original, reshaped to its dims) replacing the stored data. Initializers
// kept in external data files are stored inline, so that the output is one self-contained
// file. Error(kBadInput) naming the path or initializer at fault.
void write_onnx_with_weights(const std::string& source_path,
                             const std::map<std::string, Tensor>& values,
                             const std::string& output_path);

}  // namespace aimc::frontend
