// Output files (issue 20): aimc writes only regular files or new paths, never through a
// symbolic link, onto a directory or a device; output it cannot write to stdout is a failure;
// staging left by a killed run is removed by the next one.
#include <gtest/gtest.h>
#include <unistd.h>

#include <sys/stat.h>
#include <filesystem>
#include <fstream>

#include "cli/run_aimc.h"

namespace aimc {
namespace {

namespace fs = std::filesystem;
using test::run_aimc;

const std::string kSource = AIMC_SOURCE_DIR;

std::string estimate_csv(const std::string& target) {
  return "estimate " + kSource + "/models/mlp-fmnist.onnx --arch " + kSource +
         "/presets/race.yaml --csv " + target;
}

fs::path fresh_dir(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / (name + "_" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

TEST(Outputs, SymlinkDirectoryAndDeviceTargetsAreRefused) {
  const fs::path dir = fresh_dir("aimc_outputs");
  { std::ofstream(dir / "precious.txt") << "keep me"; }
  fs::create_symlink(dir / "precious.txt", dir / "link.csv");
  test::CliRun link = run_aimc(estimate_csv((dir / "link.csv").string()));
  EXPECT_EQ(link.exit_code, 2);
  EXPECT_NE(link.err.find("symbolic link"), std::string::npos) << link.err;
  EXPECT_TRUE(fs::is_symlink(dir / "link.csv"));
  std::ifstream precious(dir / "precious.txt");
  std::string text((std::istreambuf_iterator<char>(precious)), {});
  EXPECT_EQ(text, "keep me");

  test::CliRun directory = run_aimc(estimate_csv(dir.string()));
  EXPECT_EQ(directory.exit_code, 2);
  EXPECT_NE(directory.err.find("is a directory"), std::string::npos) << directory.err;

  const fs::path fifo = dir / "pipe.csv";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  test::CliRun device = run_aimc(estimate_csv(fifo.string()));
  EXPECT_EQ(device.exit_code, 2);
  EXPECT_NE(device.err.find("not a regular file"), std::string::npos) << device.err;
  EXPECT_TRUE(fs::is_fifo(fifo));

  test::CliRun fresh = run_aimc(estimate_csv((dir / "new.csv").string()));
  EXPECT_EQ(fresh.exit_code, 0) << fresh.err;
  EXPECT_TRUE(fs::is_regular_file(dir / "new.csv"));
  fs::remove_all(dir);
}

TEST(Outputs, StdoutThatCannotBeWrittenIsAFailure) {
  if (!fs::exists("/dev/full")) GTEST_SKIP() << "no /dev/full";
  const std::string command = std::string(AIMC_BINARY) + " arch --describe > /dev/full 2>/dev/null";
  const int status = std::system(command.c_str());
  EXPECT_EQ(WEXITSTATUS(status), 1);
}

TEST(Outputs, StagingOfADeadRunIsRemovedAndALiveOnesKept) {
  const fs::path dir = fresh_dir("aimc_staging");
  // PID 1 is alive; a PID above the kernel's limit (2^22) cannot be.
  const fs::path dead = dir / "out.csv.tmp-aimc-99999999";
  const fs::path alive = dir / "out.csv.tmp-aimc-1";
  std::ofstream(dead) << "litter";
  std::ofstream(alive) << "another run";
  const fs::path compile_out = dir / "compiled";
  const fs::path dead_compile = dir / ".compiled.aimc-compile-99999999";
  fs::create_directories(dead_compile / "acam");
  EXPECT_EQ(run_aimc(estimate_csv((dir / "out.csv").string())).exit_code, 0);
  EXPECT_FALSE(fs::exists(dead));
  EXPECT_TRUE(fs::exists(alive));
  test::CliRun compile = run_aimc("compile " + kSource + "/models/mlp-fmnist.onnx --arch " +
                                  kSource + "/presets/race.yaml -o " + compile_out.string());
  EXPECT_EQ(compile.exit_code, 0) << compile.err;
  EXPECT_FALSE(fs::exists(dead_compile));
  EXPECT_TRUE(fs::exists(compile_out / "mapping.json"));
  fs::remove_all(dir);
}

}  // namespace
}  // namespace aimc
