// aimc finetune as a user runs it: the output model is valid ONNX that aimc eval reads, the
// per-epoch log is JSON lines, bad options exit 2 naming the option, and an interrupted run
// leaves no output file.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "cli/run_aimc.h"

namespace aimc {
namespace {

namespace fs = std::filesystem;
using test::run_aimc;

const std::string kSource = AIMC_SOURCE_DIR;

fs::path fresh_dir(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / (name + "_" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

std::string finetune_args(const fs::path& out) {
  return "finetune " + kSource + "/models/mlp-fmnist.onnx --arch " + kSource +
         "/presets/race.yaml --dataset fashion-mnist --limit 64 --batch 32 -o " + out.string();
}

bool has_fashion_mnist() {
  return fs::exists("/usr/share/datasets/fashion-mnist");
}

TEST(FinetuneCli, WritesAValidModelAndAJsonLinesLog) {
  if (!has_fashion_mnist()) GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  const fs::path dir = fresh_dir("aimc_finetune_cli");
  const fs::path out = dir / "tuned.onnx", log = dir / "log.jsonl";
  test::CliRun run = run_aimc(finetune_args(out) + " --epochs 2 --json --log " + log.string());
  ASSERT_EQ(run.exit_code, 0) << run.err;
  nlohmann::json summary = nlohmann::json::parse(run.out);
  EXPECT_EQ(summary.at("trained_parameters").get<int64_t>(), 235146);  // every MLP weight
  ASSERT_EQ(summary.at("epochs").size(), 2u);
  std::ifstream lines(log);
  std::string line;
  int64_t epoch = 0;
  while (std::getline(lines, line)) {
    nlohmann::json e = nlohmann::json::parse(line);
    EXPECT_EQ(e.at("epoch").get<int64_t>(), ++epoch);
    EXPECT_GT(e.at("loss").get<double>(), 0.0);
    EXPECT_EQ(e.at("samples").get<int64_t>(), 64);
  }
  EXPECT_EQ(epoch, 2);
  test::CliRun eval = run_aimc("eval " + out.string() + " --dataset fashion-mnist --limit 50");
  EXPECT_EQ(eval.exit_code, 0) << eval.err;
  // ONNX's own checker, when python3-onnx is installed (a reference tool, not a dependency).
  // -P: the working directory (which may hold an unrelated onnx/ folder) is not searched.
  if (std::system("/usr/bin/python3 -P -c 'import onnx.checker' 2>/dev/null") == 0) {
    const std::string check =
        "/usr/bin/python3 -P -c 'import onnx,sys; onnx.checker.check_model(onnx.load(sys.argv[1]), "
        "full_check=True)' " +
        out.string();
    EXPECT_EQ(std::system(check.c_str()), 0);
  }
  fs::remove_all(dir);
}

TEST(FinetuneCli, BadOptionsExit2NamingThem) {
  const fs::path dir = fresh_dir("aimc_finetune_bad");
  const fs::path out = dir / "tuned.onnx";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {" --lr 0", "--lr"},
      {" --lr -1e-3", "--lr"},
      {" --lr nan", "--lr"},
      {" --epochs 0", "--epochs"},
      {" --distill 2", "--distill"},
      {" --optimizer adam", "--optimizer"},
      {" --set adc.bitz=7", "adc.bitz"},
  };
  for (const auto& [extra, needle] : cases) {
    test::CliRun run = run_aimc(finetune_args(out) + extra);
    EXPECT_EQ(run.exit_code, 2) << extra << ": " << run.err;
    EXPECT_NE(run.err.find(needle), std::string::npos) << extra << ": " << run.err;
    EXPECT_FALSE(fs::exists(out)) << extra;
  }
  test::CliRun text_set =
      run_aimc("finetune " + kSource + "/models/mlp-fmnist.onnx --arch " + kSource +
               "/presets/race.yaml --dataset fortunes -o " + out.string());
  EXPECT_EQ(text_set.exit_code, 2);
  EXPECT_NE(text_set.err.find("--dataset"), std::string::npos) << text_set.err;
  test::CliRun no_output = run_aimc("finetune " + kSource + "/models/mlp-fmnist.onnx --arch " +
                                    kSource + "/presets/race.yaml --dataset fashion-mnist");
  EXPECT_EQ(no_output.exit_code, 2);
  fs::remove_all(dir);
}

TEST(FinetuneCli, InterruptedRunLeavesNoOutput) {
  if (!has_fashion_mnist()) GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  const fs::path dir = fresh_dir("aimc_finetune_interrupt");
  const fs::path out = dir / "tuned.onnx";
  // 60,000 images take minutes: SIGINT after 2 s stops it mid-epoch.
  const std::string command = "timeout -s INT 2 " + std::string(AIMC_BINARY) + " finetune " +
                              kSource + "/models/mlp-fmnist.onnx --arch " + kSource +
                              "/presets/race.yaml --dataset fashion-mnist -o " + out.string() +
                              " 2>/dev/null";
  const int status = std::system(command.c_str());
  EXPECT_NE(status, 0);
  EXPECT_FALSE(fs::exists(out));
  for (const auto& entry : fs::directory_iterator(dir))
    ADD_FAILURE() << "left behind: " << entry.path();
  fs::remove_all(dir);
}

}  // namespace
}  // namespace aimc
