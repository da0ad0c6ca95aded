// `aimc sweep` and `aimc report` end to end on the bundled ViT and race.yaml: each point's
// numbers equal those of `aimc estimate` and `aimc eval` with the same --set, the file is the
// same for any --jobs and under mpirun -np 2, the report renders, and bad input exits 2
// before any point runs.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/run_aimc.h"

namespace fs = std::filesystem;

namespace aimc {
namespace {

const std::string kSource = AIMC_SOURCE_DIR;

struct TempDir {
  fs::path path;
  explicit TempDir(const std::string& name)
      : path(fs::temp_directory_path() / (name + "_" + std::to_string(getpid()))) {
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
  std::string operator/(const std::string& file) const { return (path / file).string(); }
};

std::string read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<nlohmann::json> lines_of(const std::string& path) {
  std::vector<nlohmann::json> lines;
  std::istringstream in(read(path));
  for (std::string line; std::getline(in, line);) lines.push_back(nlohmann::json::parse(line));
  return lines;
}

std::string write_sweep(const TempDir& dir, const std::string& body) {
  const std::string path = dir / "sweep.yaml";
  std::ofstream(path) << "model: " << kSource << "/models/vit-fmnist.onnx\narch: " << kSource
                      << "/presets/race.yaml\n"
                      << body;
  return path;
}

const std::string kCostSweep =
    "axes:\n  adc.bits: [6, 8]\n  array.rows: [64, 128]\nobjectives: [energy, latency]\n";

TEST(SweepCli, EveryPointEqualsTheEstimateWithItsSettings) {
  TempDir dir("aimc_sweep_cost");
  const std::string sweep = write_sweep(dir, kCostSweep);
  test::CliRun r =
      test::run_aimc("sweep " + sweep + " -o " + (dir / "r.jsonl") + " --json --pareto");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json summary = nlohmann::json::parse(r.out);
  EXPECT_EQ(summary["points"], 4);
  EXPECT_EQ(summary["computed"], 4);
  EXPECT_EQ(summary["failed"], 0);
  const std::vector<nlohmann::json> lines = lines_of(dir / "r.jsonl");
  ASSERT_EQ(lines.size(), 5u);
  EXPECT_EQ(lines[0]["format"], "aimc-sweep-results");
  for (size_t i = 1; i < lines.size(); ++i) {
    const nlohmann::json& axes = lines[i]["axes"];
    test::CliRun e =
        test::run_aimc("estimate " + kSource + "/models/vit-fmnist.onnx --arch " + kSource +
                       "/presets/race.yaml --json --set adc.bits=" + axes["adc.bits"].dump() +
                       " --set array.rows=" + axes["array.rows"].dump());
    ASSERT_EQ(e.exit_code, 0) << e.err;
    const nlohmann::json estimate = nlohmann::json::parse(e.out);
    const nlohmann::json& m = lines[i]["metrics"];
    EXPECT_EQ(m["energy"], estimate["energy_j"]) << axes;
    EXPECT_EQ(m["latency"], estimate["latency_s"]) << axes;
    EXPECT_EQ(m["area"], estimate["area_m2"]) << axes;
    EXPECT_EQ(m["throughput"], estimate["throughput_inf_per_s"]) << axes;
    EXPECT_EQ(lines[i]["energy_by_component"]["adc"],
              estimate["breakdown"]["by_component"]["adc"]["energy_j"]);
    EXPECT_EQ(lines[i]["layers"].size(), estimate["breakdown"]["by_layer"].size());
  }
  // Fewer ADC bits cost less energy: the front is not every point.
  EXPECT_GE(summary["pareto"].size(), 1u);
  EXPECT_LT(summary["pareto"].size(), 4u);

  // The report: a page with its plots, and the same front.
  test::CliRun rep = test::run_aimc("report " + (dir / "r.jsonl") + " -o " + (dir / "r.html") +
                                    " --pareto --json");
  ASSERT_EQ(rep.exit_code, 0) << rep.err;
  EXPECT_EQ(nlohmann::json::parse(rep.out)["pareto"], summary["pareto"]);
  const std::string html = read(dir / "r.html");
  EXPECT_NE(html.find("<svg class=\"plot\" id=\"pareto-0\""), std::string::npos);
  EXPECT_NE(html.find("id=\"axis-adc.bits-energy\""), std::string::npos);
  test::CliRun svgs = test::run_aimc("report " + (dir / "r.jsonl") + " --svg-dir " + (dir / "svg"));
  ASSERT_EQ(svgs.exit_code, 0) << svgs.err;
  EXPECT_TRUE(fs::exists(dir / "svg/pareto-0.svg"));
}

TEST(SweepCli, AccuracyEqualsTheEvalWithTheSameSeed) {
  TempDir dir("aimc_sweep_eval");
  const std::string sweep =
      write_sweep(dir,
                  "dataset: fashion-mnist\nlimit: 30\ntrials: 2\nseed: 5\n"
                  "axes:\n  adc.bits: [6]\nobjectives: [accuracy.mean, energy]\n"
                  "constraints: ['accuracy.min >= 0.01']\n");
  test::CliRun r = test::run_aimc("sweep " + sweep + " -o " + (dir / "r.jsonl"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::vector<nlohmann::json> lines = lines_of(dir / "r.jsonl");
  ASSERT_EQ(lines.size(), 2u);
  test::CliRun e = test::run_aimc("eval " + kSource +
                                  "/models/vit-fmnist.onnx --dataset fashion-mnist "
                                  "--limit 30 --trials 2 --seed 5 --arch " +
                                  kSource + "/presets/race.yaml --set adc.bits=6 --json");
  ASSERT_EQ(e.exit_code, 0) << e.err;
  const nlohmann::json eval = nlohmann::json::parse(e.out);
  const nlohmann::json& m = lines[1]["metrics"];
  EXPECT_EQ(m["accuracy.mean"], eval["analog"]["accuracy"]["mean"]);
  EXPECT_EQ(m["accuracy.min"], eval["analog"]["accuracy"]["min"]);
  EXPECT_EQ(m["digital.accuracy"], eval["digital"]["accuracy"]);
  EXPECT_TRUE(lines[1]["feasible"].get<bool>());
  EXPECT_NE(r.out.find("1 points (0 kept"), std::string::npos) << r.out;
}

TEST(SweepCli, JobsAndMpiRanksWriteTheSameFile) {
  TempDir dir("aimc_sweep_jobs");
  const std::string sweep = write_sweep(dir, kCostSweep);
  ASSERT_EQ(test::run_aimc("sweep " + sweep + " -o " + (dir / "one.jsonl")).exit_code, 0);
  ASSERT_EQ(test::run_aimc("sweep " + sweep + " -o " + (dir / "two.jsonl") + " --jobs 3").exit_code,
            0);
  EXPECT_EQ(read(dir / "one.jsonl"), read(dir / "two.jsonl"));
#ifdef AIMC_MPIEXEC
  // mpirun -np 2 on this machine: rank 0 writes, both ranks run points.
  const std::string mpirun =
      std::string("OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 ") + AIMC_MPIEXEC +
      " --oversubscribe -np 2 ";
  const std::string command = mpirun + AIMC_BINARY + " sweep " + sweep + " -o " +
                              (dir / "mpi.jsonl") + " --json 2>" + (dir / "mpi.err");
  FILE* pipe = popen(command.c_str(), "r");
  std::string out;
  char buffer[4096];
  for (size_t n; (n = fread(buffer, 1, sizeof buffer, pipe)) > 0;) out.append(buffer, n);
  ASSERT_EQ(pclose(pipe), 0) << read(dir / "mpi.err");
  EXPECT_EQ(read(dir / "one.jsonl"), read(dir / "mpi.jsonl"));
  EXPECT_EQ(nlohmann::json::parse(out)["ranks"], 2) << out;
#else
  GTEST_SKIP() << "aimc was built without MPI";
#endif
}

TEST(SweepCli, BadInputExitsTwoBeforeAnyPointRuns) {
  TempDir dir("aimc_sweep_bad");
  const std::string sweep = write_sweep(dir, "axes:\n  adc.bitz: [6]\nobjectives: [energy]\n");
  test::CliRun r = test::run_aimc("sweep " + sweep + " -o " + (dir / "r.jsonl"));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("axes.adc.bitz"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir / "r.jsonl"));
  write_sweep(dir, "axes:\n  adc.bits: [6]\nobjectives: [joules]\n");
  r = test::run_aimc("sweep " + sweep + " -o " + (dir / "r.jsonl"));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("unknown objective 'joules'"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir / "r.jsonl"));
  r = test::run_aimc("sweep " + (dir / "missing.yaml") + " -o " + (dir / "r.jsonl"));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("missing.yaml"), std::string::npos) << r.err;
  // report: a file that is not a sweep's results, and nothing asked for.
  std::ofstream(dir / "notes.txt") << "hello\n";
  r = test::run_aimc("report " + (dir / "notes.txt") + " -o " + (dir / "r.html"));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("not an aimc sweep results file"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir / "r.html"));
  r = test::run_aimc("report " + (dir / "notes.txt"));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("nothing to do"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace aimc
