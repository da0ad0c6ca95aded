// `aimc inspect --arch` prints the registry's placement table, and the JSON of `aimc eval
// --arch`, `aimc estimate` and `aimc compile` place the nodes as that table says.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "cli/run_aimc.h"

namespace aimc {
namespace {

using test::run_aimc;

const std::string kSource = AIMC_SOURCE_DIR;

std::map<std::string, std::string> inspect_placement(const std::string& model,
                                                     const std::string& arch,
                                                     const std::string& extra = "") {
  test::CliRun run = run_aimc("inspect " + kSource + "/models/" + model + ".onnx --arch " +
                              kSource + "/presets/" + arch + ".yaml --json " + extra);
  EXPECT_EQ(run.exit_code, 0) << run.err;
  nlohmann::json json = nlohmann::json::parse(run.out);
  std::map<std::string, std::string> where;
  int64_t counted = 0;
  for (const auto& node : json["nodes"]) {
    where[node["node"]] = node["where"];
    EXPECT_FALSE(node["why"].get<std::string>().empty()) << node["node"];
  }
  for (const auto& [name, count] : json["counts"].items()) counted += count.get<int64_t>();
  EXPECT_EQ(counted, static_cast<int64_t>(json["nodes"].size()));
  return where;
}

TEST(InspectArch, EvalAndEstimatePlaceNodesAsTheTableSays) {
  for (const char* dmmul : {"log_acam", "crossbar"}) {
    SCOPED_TRACE(dmmul);
    const std::string set = std::string("--set dmmul.mode=") + dmmul;
    std::map<std::string, std::string> where = inspect_placement("vit-fmnist", "race", set);
    test::CliRun eval = run_aimc("eval " + kSource +
                                 "/models/vit-fmnist.onnx --dataset fashion-mnist --limit 4 "
                                 "--batch 4 --arch " +
                                 kSource + "/presets/race.yaml --json " + set);
    ASSERT_EQ(eval.exit_code, 0) << eval.err;
    int64_t analog_in_table = 0, analog_in_eval = 0;
    for (const auto& [name, place] : where) analog_in_table += place != "digital";
    const nlohmann::json eval_json = nlohmann::json::parse(eval.out);
    for (const auto& layer : eval_json["layers"]) {
      EXPECT_EQ(layer["placement"], where.at(layer["name"])) << layer["name"];
      analog_in_eval += layer["placement"] != "digital";
    }
    EXPECT_EQ(analog_in_eval, analog_in_table);
    EXPECT_GT(analog_in_table, 0);

    test::CliRun estimate = run_aimc("estimate " + kSource + "/models/vit-fmnist.onnx --arch " +
                                     kSource + "/presets/race.yaml --json " + set);
    ASSERT_EQ(estimate.exit_code, 0) << estimate.err;
    const nlohmann::json estimate_json = nlohmann::json::parse(estimate.out);
    for (const auto& layer : estimate_json["breakdown"]["by_layer"]) {
      const std::string name = layer["node"];
      if (where.count(name)) {
        EXPECT_EQ(layer["kind"], where.at(name)) << name;
      }
    }
  }
}

TEST(InspectArch, TextTableNamesEveryNodeWithWhereAndWhy) {
  test::CliRun run = run_aimc("inspect " + kSource + "/models/cnn-fmnist.onnx --arch " + kSource +
                              "/presets/isaac.yaml");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.out.find("/conv1/Conv"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("crossbar.conv"), std::string::npos);
  EXPECT_NE(run.out.find("mapping.conv = crossbar"), std::string::npos);
  EXPECT_NE(run.out.find("no analog lowering for Relu"), std::string::npos);
}

TEST(InspectArch, BadArchitectureKeyIsExitTwoNamingTheKey) {
  test::CliRun run = run_aimc("inspect " + kSource + "/models/cnn-fmnist.onnx --arch " + kSource +
                              "/presets/isaac.yaml --set mapping.conv=acam");
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.err.find("mapping.conv"), std::string::npos) << run.err;
}

}  // namespace
}  // namespace aimc
