// Runs every pass test written as IR text in tests/passes/ir/*.ir. A case file holds:
//
//   // passes: fold-constants, eliminate-dead-code     (the passes, in order; see registry.h)
//   // any other comment lines
//   graph ... { ... }                                  (the input IR)
//   // expected:
//   graph ... { ... }                                  (print_graph(result, {.exact = true}))
//
// The input is parsed with zero-filled placeholders allowed (for constants only shapes matter
// to), the passes run exactly as listed, the printed result must equal the expected text, and
// the result must compute what the input computed on random inputs.
#include <gtest/gtest.h>

#include <filesystem>

#include "aimc/core/npy.h"
#include "aimc/ir/parser.h"
#include "aimc/passes/registry.h"
#include "pass_test_util.h"

namespace aimc::passes::test {
namespace {

namespace fs = std::filesystem;

struct IrCase {
  std::string passes;
  std::string input;
  std::string expected;
};

std::string trim_blank_lines(const std::string& text) {
  size_t begin = text.find_first_not_of("\n");
  if (begin == std::string::npos) return "";
  size_t end = text.find_last_not_of("\n");
  return text.substr(begin, end - begin + 1) + "\n";
}

IrCase read_case(const std::string& path) {
  std::string text = read_file_bytes(path);
  const std::string passes_key = "// passes:";
  const std::string expected_key = "\n// expected:\n";
  size_t passes_at = text.find(passes_key);
  size_t expected_at = text.find(expected_key);
  if (passes_at == std::string::npos || expected_at == std::string::npos)
    throw_bad_input("{}: needs a '// passes:' line and a '// expected:' line", path);
  size_t passes_end = text.find('\n', passes_at);
  IrCase ir_case;
  ir_case.passes =
      text.substr(passes_at + passes_key.size(), passes_end - passes_at - passes_key.size());
  ir_case.input = text.substr(0, expected_at + 1);
  ir_case.expected = trim_blank_lines(text.substr(expected_at + expected_key.size()));
  return ir_case;
}

std::vector<std::string> case_paths() {
  std::vector<std::string> paths;
  for (const auto& entry :
       fs::directory_iterator(fs::path(AIMC_SOURCE_DIR) / "tests" / "passes" / "ir")) {
    if (entry.path().extension() == ".ir") paths.push_back(entry.path().string());
  }
  std::sort(paths.begin(), paths.end());
  return paths;
}

class IrPassCase : public ::testing::TestWithParam<std::string> {};

TEST_P(IrPassCase, PrintsTheExpectedIrAndComputesTheSame) {
  IrCase ir_case = read_case(GetParam());
  ir::ParseOptions options;
  options.zero_fill_constants = true;
  std::unique_ptr<ir::Graph> before = ir::parse_graph(ir_case.input, GetParam(), options);
  std::unique_ptr<ir::Graph> after = before->clone();
  run_passes(*after, parse_pass_list(ir_case.passes), runtime::evaluate_node);
  std::string printed = ir::print_graph(*after, {.exact = true});
  EXPECT_EQ(printed, ir_case.expected) << "the printed result, for the case file:\n" << printed;
  std::map<std::string, int64_t> bindings;
  for (const ir::Value* input : before->inputs)
    for (const ir::Dim& dim : *input->shape)
      if (!dim.known()) bindings[dim.symbol] = 2;
  for (uint64_t seed : {1, 2})
    expect_same_outputs(*before, *after, random_inputs(*before, seed * 100, bindings));
}

INSTANTIATE_TEST_SUITE_P(Cases, IrPassCase, ::testing::ValuesIn(case_paths()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return fs::path(info.param).stem().string();
                         });

TEST(PassRegistry, FindsEveryPipelinePassByEitherSpelling) {
  std::vector<std::string> names;
  for (const PassInfo& info : pipeline()) names.push_back(info.name);
  EXPECT_EQ(pass_names(), names);
  EXPECT_EQ(find_pass("fold_constants").info.name, "fold-constants");
  EXPECT_EQ(find_pass("fuse-gelu").info.name, "fuse-gelu");
  auto list = parse_pass_list(" remove_identities , fuse-gelu");
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0]->info.name, "remove-identities");
  EXPECT_EQ(list[1]->info.name, "fuse-gelu");
  EXPECT_TRUE(parse_pass_list("").empty());
  EXPECT_TRUE(parse_pass_list("none").empty());
}

TEST(PassRegistry, UnknownNameListsTheKnownOnes) {
  try {
    find_pass("fold");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kBadInput);
    EXPECT_EQ(std::string(e.what()),
              "unknown pass 'fold' (known passes: remove-identities, fold-constants, "
              "fold-batchnorm, canonicalize-conv, fuse-layer-norm, fuse-gelu, "
              "canonicalize-matmul, eliminate-dead-code)");
  }
  EXPECT_THROW(parse_pass_list("fuse-gelu,,fold-constants"), Error);
}

TEST(PassRegistry, RunPassesRunsOnlyTheNamedPassesInOrder) {
  GraphBuilder b;
  ir::Value* x = b.input("x", Shape{2, 3});
  ir::Value* same = b.op("Identity", {x}, {}, "identity");
  b.output(b.op("MatMul", {same, b.constant("w", random_tensor({3, 4}, 1))}, {}, "mm"));
  auto graph = b.finish();
  run_passes(*graph, parse_pass_list("canonicalize-matmul"), runtime::evaluate_node);
  EXPECT_EQ(op_histogram(*graph), (std::map<std::string, int>{{"Identity", 1}, {"linear", 1}}));
  run_passes(*graph, parse_pass_list("remove-identities,eliminate-dead-code"),
             runtime::evaluate_node);
  EXPECT_EQ(op_histogram(*graph), (std::map<std::string, int>{{"linear", 1}}));
}

}  // namespace
}  // namespace aimc::passes::test
