// `aimc inspect FILE.ir` with --passes: the named pass runs and its result is printed; an
// unknown pass or bad IR text is exit 2 naming the pass or the line.
#include <gtest/gtest.h>

#include <unistd.h>
#include <filesystem>
#include <fstream>

#include "cli/run_aimc.h"

namespace aimc {
namespace {

using test::run_aimc;

std::string write_ir(const std::string& name, const std::string& text) {
  const std::string path =
      (std::filesystem::temp_directory_path() / (name + "_" + std::to_string(getpid()) + ".ir"))
          .string();
  std::ofstream(path) << text;
  return path;
}

const char* kGeluText = R"(graph g(%x: f32[3, 7]) -> (%y: f32[3, 7]) {
  @sqrt2: f32[] = [1.4142135]
  @one: f32[] = [1.0]
  @half: f32[] = [0.5]
  %d: f32[3, 7] = Div(%x, @sqrt2)  // d
  %e: f32[3, 7] = Erf(%d)  // e
  %a: f32[3, 7] = Add(%e, @one)  // a
  %m: f32[3, 7] = Mul(%x, %a)  // m
  %y: f32[3, 7] = Mul(%m, @half)  // y
}
)";

TEST(InspectIr, NamedPassRunsOnIrText) {
  const std::string path = write_ir("gelu", kGeluText);
  test::CliRun fused = run_aimc("inspect " + path + " --passes=fuse_gelu,eliminate_dead_code --ir");
  ASSERT_EQ(fused.exit_code, 0) << fused.err;
  EXPECT_NE(fused.out.find("gelu(%x)"), std::string::npos) << fused.out;
  EXPECT_EQ(fused.out.find("Erf("), std::string::npos) << fused.out;
  test::CliRun untouched = run_aimc("inspect " + path + " --passes=none --ir");
  ASSERT_EQ(untouched.exit_code, 0) << untouched.err;
  EXPECT_NE(untouched.out.find("Erf("), std::string::npos) << untouched.out;
  std::filesystem::remove(path);
}

TEST(InspectIr, UnknownPassAndBadTextAreExitTwo) {
  const std::string path = write_ir("gelu2", kGeluText);
  test::CliRun unknown = run_aimc("inspect " + path + " --passes=no_such_pass --ir");
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_NE(unknown.err.find("no_such_pass"), std::string::npos) << unknown.err;
  EXPECT_NE(unknown.err.find("fold-constants"), std::string::npos) << unknown.err;  // the list
  const std::string bad = write_ir("bad",
                                   "graph g(%x: f32[2]) -> (%y: f32[2]) {\n"
                                   "  %y: f32[2] = Bogus(%x)\n}\n");
  test::CliRun parse = run_aimc("inspect " + bad + " --ir");
  EXPECT_EQ(parse.exit_code, 2);
  EXPECT_NE(parse.err.find(":2:"), std::string::npos) << parse.err;
  EXPECT_NE(parse.err.find("Bogus"), std::string::npos) << parse.err;
  std::filesystem::remove(path);
  std::filesystem::remove(bad);
}

}  // namespace
}  // namespace aimc
