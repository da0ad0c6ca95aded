// `aimc inspect --arch` prints the registry's placement table, and the JSON of `aimc eval
// --arch`, `aimc estimate` and `aimc compile` place the nodes as that table says.
#include <gtest/gtest.h>

#include <unistd.h>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

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

// readout.mode acam (presets/nldpe.yaml): the table shows the fusion on both nodes, estimate
// and compile leave the fused activation out of their layers and mark what the trees compute,
// and a readout that cannot work is exit 2 naming the key.
TEST(InspectArch, NldpeFusesTheFirstReluIntoItsConvolutionEverywhere) {
  const std::string model = kSource + "/models/cnn-fmnist.onnx";
  const std::string arch = kSource + "/presets/nldpe.yaml";
  std::map<std::string, std::string> where = inspect_placement("cnn-fmnist", "nldpe");
  EXPECT_EQ(where.at("/Relu"), "crossbar");   // in /conv1/Conv's readout
  EXPECT_EQ(where.at("/Relu_1"), "digital");  // /conv2/Conv has 4 row blocks
  test::CliRun text = run_aimc("inspect " + model + " --arch " + arch);
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("readout.fused_relu"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("its readout trees compute relu (/Relu"), std::string::npos);
  EXPECT_NE(text.out.find("cannot fuse relu (/Relu_1)"), std::string::npos);

  test::CliRun estimate = run_aimc("estimate " + model + " --arch " + arch + " --json");
  ASSERT_EQ(estimate.exit_code, 0) << estimate.err;
  const nlohmann::json e = nlohmann::json::parse(estimate.out);
  std::set<std::string> layers;
  for (const auto& layer : e["breakdown"]["by_layer"]) layers.insert(layer["node"]);
  EXPECT_EQ(layers.count("/Relu"), 0u);
  EXPECT_EQ(layers.count("/Relu_1"), 1u);
  EXPECT_EQ(e["breakdown"]["by_component"]["adc"]["actions"], 0.0);
  EXPECT_GT(e["breakdown"]["by_component"]["acam_readout"]["actions"].get<double>(), 0.0);

  const std::string dir =
      (std::filesystem::temp_directory_path() / ("aimc_nldpe_" + std::to_string(getpid())))
          .string();
  test::CliRun compile = run_aimc("compile " + model + " --arch " + arch + " -o " + dir);
  ASSERT_EQ(compile.exit_code, 0) << compile.err;
  std::ifstream file(dir + "/mapping.json");
  const nlohmann::json mapping = nlohmann::json::parse(file);
  std::map<std::string, std::string> readout;
  for (const auto& layer : mapping["layers"])
    if (layer.contains("readout")) readout[layer["node"]] = layer["readout"];
  EXPECT_EQ(readout.at("/conv1/Conv"), "relu");
  EXPECT_EQ(readout.at("/conv2/Conv"), "identity");
  EXPECT_EQ(readout.at("/fc2/Gemm"), "identity");
  std::filesystem::remove_all(dir);

  test::CliRun bad =
      run_aimc("estimate " + model + " --arch " + arch + " --set dmmul.mode=crossbar");
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("readout.mode"), std::string::npos) << bad.err;
  test::CliRun rows = run_aimc("eval " + model + " --dataset fashion-mnist --limit 2 --arch " +
                               arch + " --set readout.rows_per_column=16");
  EXPECT_EQ(rows.exit_code, 2);
  EXPECT_NE(rows.err.find("readout.rows_per_column"), std::string::npos) << rows.err;
  EXPECT_NE(rows.err.find("/conv1/Conv"), std::string::npos) << rows.err;
}

}  // namespace
}  // namespace aimc
