// Fuzzes the textual IR parser: any bytes must parse or raise aimc::Error, and whatever parses
// must print (exactly) to a text that parses back and prints the same again.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "aimc/ir/op_registry.h"
#include "aimc/ir/parser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  aimc::ir::ParseOptions options;
  // The first byte's low bit picks whether constants without values are allowed; placeholders
  // stay small so that a typed-in huge shape is an error, not an out-of-memory.
  options.zero_fill_constants = size > 0 && (data[0] & 1) != 0;
  options.max_zero_fill_bytes = 1 << 20;
  std::string printed;
  try {
    auto graph = aimc::ir::parse_graph(text, "fuzz.ir", options);
    printed = aimc::ir::print_graph(*graph, {.exact = true});
  } catch (const aimc::Error&) {
    return 0;
  }
  try {
    auto again = aimc::ir::parse_graph(printed, "printed.ir");
    if (aimc::ir::print_graph(*again, {.exact = true}) != printed) std::abort();
  } catch (const aimc::Error&) {
    std::abort();  // the exact form of a valid graph must read back
  }
  return 0;
}
