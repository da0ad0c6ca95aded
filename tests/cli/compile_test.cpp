// `aimc compile`: the files it writes (mapping.json, report.txt, one program per core, ACAM
// tables), their agreement with `aimc estimate`, overwriting a previous output, and bad
// input exiting with 2 without touching the output directory.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/run_aimc.h"

namespace fs = std::filesystem;

namespace aimc {
namespace {

const std::string kSource = AIMC_SOURCE_DIR;

std::string read_text(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

fs::path fresh_dir(const std::string& name) {
  fs::path dir = fs::temp_directory_path() / ("aimc_compile_" + name + std::to_string(getpid()));
  fs::remove_all(dir);
  return dir;
}

int64_t count_lines_starting(const std::string& text, const std::string& prefix) {
  int64_t n = 0;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) n += line.rfind(prefix, 0) == 0;
  return n;
}

TEST(Compile, WritesMappingProgramsAndAcamTables) {
  const fs::path dir = fresh_dir("vit");
  const std::string model = kSource + "/models/vit-fmnist.onnx";
  const std::string arch = kSource + "/presets/race.yaml";
  test::CliRun run = test::run_aimc("compile " + model + " --arch " + arch + " -o " + dir.string());
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.out.find("arrays"), std::string::npos) << run.out;

  ASSERT_TRUE(fs::exists(dir / "mapping.json"));
  ASSERT_TRUE(fs::exists(dir / "report.txt"));
  nlohmann::json mapping = nlohmann::json::parse(read_text(dir / "mapping.json"));
  const int64_t cores = mapping["used"]["cores"].get<int64_t>();
  ASSERT_GT(cores, 0);

  // The same arrays, cores and ACAM units as `aimc estimate` maps.
  test::CliRun estimate = test::run_aimc("estimate " + model + " --arch " + arch + " --json");
  ASSERT_EQ(estimate.exit_code, 0) << estimate.err;
  nlohmann::json cost = nlohmann::json::parse(estimate.out);
  EXPECT_EQ(mapping["used"]["arrays"], cost["arrays"]);
  EXPECT_EQ(mapping["used"]["cores"], cost["cores"]);
  EXPECT_EQ(mapping["used"]["acam_units"], cost["acam_units"]);
  EXPECT_EQ(mapping["layers"].size(), cost["breakdown"]["by_layer"].size());
  EXPECT_EQ(mapping["available"]["arrays"], 16 * 8 * 16);  // race: 16 tiles x 8 cores x 16

  // One program per core, each ending in halt; their mvm lines add up to mapping.json's.
  int64_t mvm = 0;
  for (int64_t core = 0; core < cores; ++core) {
    char name[32];
    std::snprintf(name, sizeof(name), "core_%03lld.s", static_cast<long long>(core));
    const fs::path path = dir / name;
    ASSERT_TRUE(fs::exists(path)) << path;
    const std::string text = read_text(path);
    EXPECT_NE(text.find(".core " + std::to_string(core) + "\n"), std::string::npos);
    EXPECT_EQ(text.substr(text.size() - 5), "halt\n") << path;
    mvm += count_lines_starting(text, "mvm ");
  }
  char after_last[32];
  std::snprintf(after_last, sizeof(after_last), "core_%03lld.s", static_cast<long long>(cores));
  EXPECT_FALSE(fs::exists(dir / after_last));
  EXPECT_EQ(mvm, mapping["mvm"].get<int64_t>());
  int64_t layer_mvm = 0;
  for (const nlohmann::json& layer : mapping["layers"]) layer_mvm += layer["mvm"].get<int64_t>();
  EXPECT_EQ(mvm, layer_mvm);

  // An ACAM table per ACAM layer: the ViT's GELU on RACE is one unit of rows over 8 bits.
  int64_t acam_layers = 0;
  for (const nlohmann::json& layer : mapping["layers"]) acam_layers += layer["kind"] == "acam";
  int64_t tables = 0;
  for (const fs::directory_entry& entry : fs::directory_iterator(dir / "acam")) {
    ++tables;
    nlohmann::json table = nlohmann::json::parse(read_text(entry.path()));
    ASSERT_FALSE(table["units"].empty()) << entry.path();
    for (const nlohmann::json& unit : table["units"]) {
      if (unit["rows"].is_null()) continue;
      EXPECT_EQ(unit["rows"].get<size_t>(), unit["table_rows"].size());
      EXPECT_EQ(unit["outputs"].size(), 256u);  // race: acam.in_bits 8
      for (const nlohmann::json& row : unit["table_rows"]) {
        EXPECT_LT(row[0].get<int>(), 8);  // output bit
        // null: unbounded on that side (the first and last runs of codes).
        if (!row[1].is_null() && !row[2].is_null()) {
          EXPECT_LE(row[1].get<double>(), row[2].get<double>());
        }
      }
    }
  }
  EXPECT_EQ(tables, acam_layers);
  EXPECT_GT(tables, 0);
  fs::remove_all(dir);
}

TEST(Compile, OverwritesAPreviousOutputAndKeepsOtherFiles) {
  const fs::path dir = fresh_dir("again");
  fs::create_directories(dir);
  std::ofstream(dir / "notes.txt") << "mine";
  std::ofstream(dir / "core_999.s") << "stale";
  const std::string args = "compile " + kSource + "/models/cnn-fmnist.onnx --arch " + kSource +
                           "/presets/puma.yaml -o " + dir.string();
  test::CliRun run = test::run_aimc(args);
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(read_text(dir / "notes.txt"), "mine");
  EXPECT_FALSE(fs::exists(dir / "core_999.s"));
  EXPECT_TRUE(fs::exists(dir / "core_000.s"));
  const std::string first = read_text(dir / "mapping.json");
  ASSERT_EQ(test::run_aimc(args).exit_code, 0);
  EXPECT_EQ(read_text(dir / "mapping.json"), first);  // deterministic
  // No staging directory left beside it.
  for (const fs::directory_entry& entry : fs::directory_iterator(dir.parent_path()))
    EXPECT_EQ(entry.path().filename().string().find(".aimc_compile_again"), std::string::npos)
        << entry.path();
  fs::remove_all(dir);
}

// A directory the output cannot be created in is bad input (exit 2), as for run --output-dir.
// /sys is read-only here (sysfs); root ignores permission bits, so no plain directory will do.
TEST(Compile, UnwritableDirectoryIsExitTwo) {
  std::error_code ec;
  if (fs::create_directory("/sys/aimc_compile_probe", ec)) {
    fs::remove("/sys/aimc_compile_probe", ec);
    GTEST_SKIP() << "/sys is writable here";
  }
  test::CliRun run = test::run_aimc("compile " + kSource + "/models/mlp-fmnist.onnx --arch " +
                                    kSource + "/presets/race.yaml -o /sys/aimc_compile_out");
  EXPECT_EQ(run.exit_code, 2) << run.err;
  EXPECT_NE(run.err.find("-o /sys/aimc_compile_out: cannot create the output directory"),
            std::string::npos)
      << run.err;
  test::CliRun for_run =
      test::run_aimc("run " + kSource + "/models/vit-fmnist.onnx --input image=" + kSource +
                     "/models/vit-fmnist.ref-input.npy --output-dir /sys/aimc_x");
  EXPECT_EQ(for_run.exit_code, 2) << for_run.err;
}

TEST(Compile, BadInputExitsWithTwoAndWritesNothing) {
  const fs::path dir = fresh_dir("bad");
  const std::string model = kSource + "/models/vit-fmnist.onnx";
  test::CliRun bad_key = test::run_aimc("compile " + model + " --arch " + kSource +
                                        "/presets/race.yaml --set chip.tilez=2 -o " + dir.string());
  EXPECT_EQ(bad_key.exit_code, 2);
  EXPECT_NE(bad_key.err.find("chip.tilez"), std::string::npos) << bad_key.err;
  EXPECT_FALSE(fs::exists(dir));

  test::CliRun missing = test::run_aimc("compile " + kSource + "/models/no-such.onnx --arch " +
                                        kSource + "/presets/race.yaml -o " + dir.string());
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("no-such.onnx"), std::string::npos) << missing.err;
  EXPECT_FALSE(fs::exists(dir));

  // Does not fit one chip of 2 cores.
  test::CliRun too_big = test::run_aimc("compile " + model + " --arch " + kSource +
                                        "/presets/race.yaml --set chip.tiles=1 --set "
                                        "chip.cores_per_tile=2 -o " +
                                        dir.string());
  EXPECT_EQ(too_big.exit_code, 2);
  EXPECT_NE(too_big.err.find("--chips"), std::string::npos) << too_big.err;
  EXPECT_FALSE(fs::exists(dir));

  EXPECT_EQ(
      test::run_aimc("compile " + model + " --arch " + kSource + "/presets/race.yaml").exit_code,
      2);  // -o is required
}

}  // namespace
}  // namespace aimc
