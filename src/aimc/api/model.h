// The library API under the CLI and the Python bindings (DESIGN.md "api"): loading a model
// into the canonical IR every command works on.
#pragma once

#include <memory>
#include <string>

#include "aimc/ir/graph.h"

namespace aimc::api {

// Loads an ONNX model and canonicalises it; errors name the file. `verbose` prints the load
// time on stderr.
std::unique_ptr<ir::Graph> load_model(const std::string& path, bool verbose = false);

// The model for one inference (estimate, compile): every symbolic input dimension (the batch)
// bound to 1 before canonicalisation, so that every layer's size is known.
std::unique_ptr<ir::Graph> load_model_for_one_inference(const std::string& path);

}  // namespace aimc::api
