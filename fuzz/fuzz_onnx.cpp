// Fuzzes the ONNX loader: any bytes must either import (and canonicalise) or raise
// aimc::Error — never crash, hang or leak.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "aimc/frontend/onnx_import.h"
#include "aimc/passes/passes.h"
#include "aimc/runtime/kernel.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  try {
    auto graph = aimc::frontend::parse_onnx(bytes, "fuzz.onnx", "");
    aimc::passes::canonicalize(*graph, aimc::runtime::evaluate_node);
  } catch (const aimc::Error&) {
  }
  return 0;
}
