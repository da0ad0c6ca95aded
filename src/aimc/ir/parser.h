// Reads the textual IR (docs/ir.md has the grammar) back into a Graph: the exact form that
// print_graph(graph, {.exact = true}) writes round-trips bit for bit, and hand-written IR (the
// pass tests in tests/passes/ir/) is read the same way.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "aimc/ir/graph.h"

namespace aimc::ir {

struct ParseOptions {
  // A constant (or tensor attribute) written without values, as `aimc inspect --ir` prints it,
  // is an error naming its line unless this is set: then it is filled with zeros, which is
  // enough for tests of passes that look at shapes only.
  bool zero_fill_constants = false;
  // The most bytes one zero-filled constant may take (a typo'd shape must not exhaust memory).
  int64_t max_zero_fill_bytes = int64_t{1} << 30;
  // Run ir::verify on the result (its errors are prefixed with the source name).
  bool verify = true;
};

// Parses `text`. Errors are Error(kBadInput) "SOURCE:LINE:COLUMN: what was expected".
std::unique_ptr<Graph> parse_graph(std::string_view text, const std::string& source_name = "<ir>",
                                   const ParseOptions& options = {});
// Reads and parses the file at `path`.
std::unique_ptr<Graph> load_ir_file(const std::string& path, const ParseOptions& options = {});

}  // namespace aimc::ir
