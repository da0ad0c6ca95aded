#include <chrono>
#include <cstdio>

#include "aimc/cli/commands.h"
#include "aimc/frontend/onnx_import.h"
#include "aimc/ir/op_registry.h"
#include "aimc/passes/passes.h"
#include "aimc/runtime/kernel.h"

namespace aimc::cli {

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

// The model for one inference: every symbolic dimension of the inputs (the batch) bound to 1
// before canonicalisation, so that shape computations fold and every layer's size is known.
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

std::string sanitize_file_name(const std::string& name) {
  std::string out;
  for (char c : name) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-';
    out += ok ? c : '_';
  }
  // Never a hidden file, "." or "..".
  if (out.empty() || out[0] == '.') out = "_" + out;
  return out;
}

}  // namespace aimc::cli
