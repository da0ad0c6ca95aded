// `aimc simulate`: its JSON against `aimc estimate` and the programs `aimc compile` writes,
// the Chrome trace, and bad input exiting with 2 without leaving a trace behind.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "cli/run_aimc.h"

namespace fs = std::filesystem;

namespace aimc {
namespace {

const std::string kSource = AIMC_SOURCE_DIR;
const std::string kVitOnRace =
    kSource + "/models/vit-fmnist.onnx --arch " + kSource + "/presets/race.yaml";

TEST(SimulateCli, JsonAgreesWithEstimateAndCompile) {
  test::CliRun r = test::run_aimc("simulate " + kVitOnRace + " --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json j = nlohmann::json::parse(r.out);
  test::CliRun e = test::run_aimc("estimate " + kVitOnRace + " --json");
  ASSERT_EQ(e.exit_code, 0) << e.err;
  const nlohmann::json estimate = nlohmann::json::parse(e.out);
  EXPECT_EQ(j["estimate"]["latency_s"], estimate["latency_s"]);
  EXPECT_EQ(j["cores"], estimate["cores"]);
  EXPECT_GT(j["latency_s"].get<double>(), 0);
  EXPECT_EQ(j["cycles"].get<int64_t>(),
            static_cast<int64_t>(std::ceil(j["latency_s"].get<double>() * 1e9 - 1e-6)));
  // Every instruction of the compiled programs runs once at batch 1.
  const fs::path dir = fs::temp_directory_path() / ("aimc_sim_compile_" + std::to_string(getpid()));
  fs::remove_all(dir);
  ASSERT_EQ(test::run_aimc("compile " + kVitOnRace + " -o " + dir.string()).exit_code, 0);
  int64_t instructions = 0;
  for (const fs::directory_entry& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() != ".s") continue;
    std::ifstream in(entry.path());
    for (std::string line; std::getline(in, line);)
      instructions += !line.empty() && line[0] != '#' && line[0] != '.';
  }
  fs::remove_all(dir);
  EXPECT_EQ(j["instructions"].get<int64_t>(), instructions);
  // The per-layer table lists the mapped layers with the estimate's numbers beside.
  ASSERT_FALSE(j["breakdown"]["by_layer"].empty());
  for (const nlohmann::json& layer : j["breakdown"]["by_layer"]) {
    EXPECT_GT(layer["latency_s"].get<double>(), 0) << layer["node"];
    EXPECT_TRUE(layer.contains("estimate_latency_s"));
  }
  for (const char* unit : {"crossbar", "acam", "alu", "buffer_port", "link"}) {
    const double u = j["units"][unit]["utilisation"];
    EXPECT_GE(u, 0.0);
    EXPECT_LE(u, 1.0);
  }
}

TEST(SimulateCli, TraceIsChromeTraceJson) {
  const fs::path trace =
      fs::temp_directory_path() / ("aimc_sim_trace_" + std::to_string(getpid()) + ".json");
  test::CliRun r =
      test::run_aimc("simulate " + kVitOnRace + " --json --batch 2 --trace " + trace.string());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json j = nlohmann::json::parse(r.out);
  std::ifstream in(trace);
  const nlohmann::json events = nlohmann::json::parse(in)["traceEvents"];
  fs::remove(trace);
  int64_t spans = 0;
  for (const nlohmann::json& event : events)
    if (event["ph"] == "X") {
      ++spans;
      EXPECT_GE(event["dur"].get<double>(), 0);
    }
  EXPECT_EQ(spans, j["trace"]["spans"].get<int64_t>());
  EXPECT_GE(spans, j["instructions"].get<int64_t>());
}

TEST(SimulateCli, BadInputExitsWithTwo) {
  test::CliRun batch = test::run_aimc("simulate " + kVitOnRace + " --batch 0");
  EXPECT_EQ(batch.exit_code, 2);
  test::CliRun key = test::run_aimc("simulate " + kVitOnRace + " --set chip.tilez=3");
  EXPECT_EQ(key.exit_code, 2);
  EXPECT_NE(key.err.find("tilez"), std::string::npos) << key.err;
  test::CliRun model = test::run_aimc("simulate " + kSource + "/models/none.onnx --arch " +
                                      kSource + "/presets/race.yaml");
  EXPECT_EQ(model.exit_code, 2);
  const fs::path missing = fs::temp_directory_path() / "aimc_no_such_dir" / "trace.json";
  test::CliRun trace = test::run_aimc("simulate " + kVitOnRace + " --trace " + missing.string());
  EXPECT_EQ(trace.exit_code, 2);
  EXPECT_NE(trace.err.find("--trace"), std::string::npos) << trace.err;
  EXPECT_FALSE(fs::exists(missing));
  // A model that needs more chips than given names the flag that fixes it.
  test::CliRun chips = test::run_aimc("simulate " + kVitOnRace + " --set chip.tiles=1");
  EXPECT_EQ(chips.exit_code, 2);
  EXPECT_NE(chips.err.find("--chips"), std::string::npos) << chips.err;
}

}  // namespace
}  // namespace aimc
