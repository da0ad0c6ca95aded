// Program sets through the aimc MLIR dialect (docs/mlir.md): on every bundled model x preset,
// the module printed from `aimc compile`'s programs parses back to the same programs, prints
// the same text again, and emits byte-identical assembly; bad text is bad input with MLIR's
// file:line:col diagnostics.
#include "aimc/mlir/programs_mlir.h"

#include <gtest/gtest.h>

#include <string>
#include <tuple>

#include "aimc/api/estimate.h"
#include "aimc/api/model.h"
#include "aimc/arch/architecture.h"
#include "aimc/core/error.h"
#include "aimc/isa/assembly.h"

namespace aimc::mlir {
namespace {

const std::string kSource = AIMC_SOURCE_DIR;

class BundledPrograms : public ::testing::TestWithParam<std::tuple<std::string, std::string>> {};

TEST_P(BundledPrograms, RoundTripThroughTheDialectIsExact) {
  const auto& [model, preset] = GetParam();
  auto graph = api::load_model_for_one_inference(kSource + "/models/" + model + ".onnx");
  const arch::Architecture arch =
      arch::load_architecture(kSource + "/presets/" + preset + ".yaml", {});
  const isa::ProgramSet programs = api::compile(*graph, arch, 64, true).programs;
  ASSERT_FALSE(programs.programs.empty());
  const std::string command = "aimc compile models/" + model + ".onnx --arch " + arch.name;

  const std::string text = programs_to_mlir(programs, command);
  const ParsedPrograms parsed = parse_programs_mlir(text, "program.mlir");
  EXPECT_EQ(parsed.command, command);
  ASSERT_EQ(parsed.programs.programs.size(), programs.programs.size());
  for (size_t i = 0; i < programs.programs.size(); ++i) {
    const isa::Program& want = programs.programs[i];
    const isa::Program& got = parsed.programs.programs[i];
    EXPECT_EQ(got, want) << "core " << i;
    EXPECT_EQ(isa::write_assembly(got, isa::core_header(parsed.command, got)),
              isa::write_assembly(want, isa::core_header(command, want)))
        << "core " << i;
  }
  EXPECT_EQ(programs_to_mlir(parsed.programs, parsed.command), text);  // print, parse, print
  EXPECT_NE(text.find("aimc.mvm"), std::string::npos);
  EXPECT_NE(text.find("aimc.layer"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Models, BundledPrograms,
                         ::testing::Combine(::testing::Values("vit-fmnist", "cnn-fmnist",
                                                              "mlp-fmnist", "gpt-fortunes"),
                                            ::testing::Values("ideal", "isaac", "puma", "race")),
                         [](const auto& info) {
                           std::string name =
                               std::get<0>(info.param) + "_" + std::get<1>(info.param);
                           for (char& c : name)
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           return name;
                         });

// The message of the bad input `text` raises.
std::string bad_input_message(const std::string& text) {
  try {
    parse_programs_mlir(text, "bad.mlir");
  } catch (const Error& error) {
    EXPECT_EQ(error.kind(), ErrorKind::kBadInput) << error.what();
    return error.what();
  }
  ADD_FAILURE() << "no error for:\n" << text;
  return "";
}

constexpr const char* kProgram = R"(module {
  aimc.program core = 0 tile = 0 chip = 0 {
    aimc.layer "fc" {
      aimc.mvm group = 0 rows = 4 cols = 2 steps = 7 src = 0 dst = 4
      aimc.alu "scale" len = 2 src = 4 dst = 12
    }
    aimc.halt
  }
}
)";

std::string replaced(std::string text, const std::string& from, const std::string& to) {
  const size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  return text.replace(at, from.size(), to);
}

TEST(ProgramsMlir, BadTextIsBadInputWithLineAndColumn) {
  EXPECT_EQ(parse_programs_mlir(kProgram, "ok.mlir").programs.programs.at(0).instructions.size(),
            3u);
  EXPECT_NE(bad_input_message(replaced(kProgram, "\"scale\"", "\"scal\""))
                .find("bad.mlir:5:7: error: 'aimc.alu' op unknown ALU operation 'scal'"),
            std::string::npos);
  EXPECT_NE(bad_input_message(replaced(kProgram, "rows = 4", "rows = 0"))
                .find("bad.mlir:4:7: error: 'aimc.mvm' op attribute 'rows'"),
            std::string::npos);
  EXPECT_NE(bad_input_message(replaced(kProgram, "src = 0", "src = -1")).find("bad.mlir:4:7:"),
            std::string::npos);
  EXPECT_NE(bad_input_message(replaced(kProgram, "    aimc.halt\n", "")).find("bad.mlir:"),
            std::string::npos);  // no terminator
  EXPECT_NE(bad_input_message(replaced(kProgram, "aimc.layer \"fc\"", "aimc.layer \"\""))
                .find("needs a node name"),
            std::string::npos);
  EXPECT_NE(bad_input_message("module {\n  aimc.halt\n}\n").find("bad.mlir:2:3: error:"),
            std::string::npos);  // halt outside a program
  EXPECT_NE(bad_input_message(replaced(kProgram, "core = 0", "core = 1"))
                .find("program of core 1 where core 0 was expected"),
            std::string::npos);
  EXPECT_NE(bad_input_message("module {\n  func.func @f() {\n    return\n  }\n}\n")
                .find("bad.mlir:2:3: error:"),
            std::string::npos);  // an unregistered dialect
  EXPECT_NE(bad_input_message("module {").find("bad.mlir:1:"), std::string::npos);
}

}  // namespace
}  // namespace aimc::mlir
