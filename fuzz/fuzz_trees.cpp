// Fuzzes the XGBoost JSON loader and the tree compiler: any text must either load, compile
// onto ACAM rows and predict, or raise aimc::Error — never crash, hang or recurse itself
// into a stack overflow (a chain of splits as deep as the input allows is the case to find).
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "aimc/compiler/tree_compiler.h"
#include "aimc/core/error.h"
#include "aimc/frontend/xgboost_import.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const aimc::ir::TreeEnsemble ensemble = aimc::frontend::parse_xgboost(text, "fuzz.json");
    aimc::compiler::compile_trees(ensemble, aimc::compiler::TreeCompileOptions{});
    const int64_t features = ensemble.num_feature;
    if (features > 0 && features < 4096 && ensemble.num_outputs() < 4096) {
      std::vector<float> x(static_cast<size_t>(features), 0.5f);
      std::vector<float> out(static_cast<size_t>(ensemble.num_outputs()));
      aimc::ir::predict_reference(ensemble, x.data(), 1, out.data());
    }
  } catch (const aimc::Error&) {
  }
  return 0;
}
