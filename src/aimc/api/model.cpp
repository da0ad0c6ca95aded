#include "aimc/api/model.h"

#include <chrono>
#include <cstdio>

#include "aimc/core/error.h"
#include "aimc/frontend/onnx_import.h"
#include "aimc/ir/op_registry.h"
#include "aimc/passes/passes.h"
#include "aimc/runtime/kernel.h"

namespace aimc::api {

std::unique_ptr<ir::Graph> load_model(const std::string& path, bool verbose) {
  auto start = std::chrono::steady_clock::now();
  std::unique_ptr<ir::Graph> graph = frontend::load_onnx(path);
  try {
    passes::canonicalize(*graph, runtime::evaluate_node);
  } catch (const Error& e) {
    rethrow_with_context(e, path);
  }
  if (verbose) {
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::fprintf(stderr, "aimc: loaded %s (%zu nodes) in %.3f s\n", path.c_str(),
                 graph->nodes().size(), seconds);
  }
  return graph;
}

std::unique_ptr<ir::Graph> load_model_for_one_inference(const std::string& path) {
  std::unique_ptr<ir::Graph> graph = frontend::load_onnx(path);
  try {
    ir::infer_shapes_for_one_inference(*graph);
    passes::canonicalize(*graph, runtime::evaluate_node);
  } catch (const Error& e) {
    rethrow_with_context(e, path);
  }
  return graph;
}

}  // namespace aimc::api
