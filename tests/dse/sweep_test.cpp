// Sweep files, their points, Pareto fronts and the runner: the order of points, ranges and
// random search, every bad-input message before a point runs, dominance against hand-made
// fronts, and results files that resume, stay in point order and never depend on the number
// of jobs.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "aimc/core/error.h"
#include "aimc/dse/pareto.h"
#include "aimc/dse/results.h"
#include "aimc/dse/runner.h"
#include "aimc/dse/sweep_spec.h"

namespace fs = std::filesystem;

namespace aimc::dse {
namespace {

const std::string kSource = AIMC_SOURCE_DIR;

std::string base_yaml() {
  return "model: " + kSource + "/models/vit-fmnist.onnx\narch: " + kSource + "/presets/race.yaml\n";
}

SweepSpec spec_of(const std::string& body) {
  return parse_sweep(base_yaml() + body, "test.yaml");
}

std::string bad_input_message(const std::string& body) {
  try {
    spec_of(body);
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kBadInput) << e.what();
    return e.what();
  }
  ADD_FAILURE() << "no error for:\n" << body;
  return "";
}

std::string read(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

fs::path temp_file(const std::string& name) {
  return fs::temp_directory_path() / (name + "_" + std::to_string(::getpid()) + ".jsonl");
}

TEST(SweepSpec, GridVisitsTheFirstAxisOutermost) {
  SweepSpec spec = spec_of(
      "axes:\n  adc.bits: [4, 6]\n  array.cell_bits: [1, 2, 3]\nobjectives: [energy, latency]\n");
  std::vector<Point> points = sweep_points(spec);
  ASSERT_EQ(points.size(), 6u);
  EXPECT_EQ(points[1].axes, (nlohmann::json{{"adc.bits", 4}, {"array.cell_bits", 2}}));
  EXPECT_EQ(points[3].axes, (nlohmann::json{{"adc.bits", 6}, {"array.cell_bits", 1}}));
  EXPECT_EQ(points[5].index, 5);
  EXPECT_EQ(points[5].overrides(), (std::vector<std::string>{"adc.bits=6", "array.cell_bits=3"}));
  EXPECT_EQ(spec.objectives[0].goal, Goal::kMin);
}

TEST(SweepSpec, RangesAreEvenlySpacedAndEndExactly) {
  SweepSpec spec = spec_of(
      "axes:\n  device.programming.sigma: {from: 0.001, to: 0.1, steps: 3, scale: log}\n"
      "  device.read.sigma: {from: 0, to: 0.03, steps: 4}\nobjectives: [energy]\n");
  const auto& log_axis = spec.axes[0].values;
  ASSERT_EQ(log_axis.size(), 3u);
  EXPECT_DOUBLE_EQ(log_axis[0].get<double>(), 0.001);
  EXPECT_NEAR(log_axis[1].get<double>(), 0.01, 1e-15);
  EXPECT_EQ(log_axis[2].get<double>(), 0.1);
  const auto& linear = spec.axes[1].values;
  ASSERT_EQ(linear.size(), 4u);
  EXPECT_NEAR(linear[1].get<double>(), 0.01, 1e-15);
  EXPECT_EQ(linear[3].get<double>(), 0.03);
  // Integer ranges round and drop the values that repeat.
  SweepSpec bits = spec_of(
      "axes:\n  adc.bits: {from: 4, to: 6, steps: 5, integer: true}\n"
      "objectives: [energy]\n");
  EXPECT_EQ(bits.axes[0].values, (std::vector<nlohmann::json>{4, 5, 6}));
}

TEST(SweepSpec, RandomSearchIsSeededAndKeepsItsFirstSamples) {
  const std::string axes =
      "axes:\n  adc.bits: [4, 6, 8]\n  device.read.sigma: {from: 0.0, to: 0.05}\n"
      "objectives: [energy]\nsearch: random\n";
  std::vector<Point> five = sweep_points(spec_of(axes + "samples: 5\nseed: 3\n"));
  std::vector<Point> ten = sweep_points(spec_of(axes + "samples: 10\nseed: 3\n"));
  std::vector<Point> other = sweep_points(spec_of(axes + "samples: 5\nseed: 4\n"));
  ASSERT_EQ(five.size(), 5u);
  ASSERT_EQ(ten.size(), 10u);
  bool differs = false;
  std::set<int64_t> bits;
  for (size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(five[i].axes, ten[i].axes);
    differs = differs || five[i].axes != other[i].axes;
  }
  for (const Point& p : ten) {
    bits.insert(p.axes["adc.bits"].get<int64_t>());
    const double sigma = p.axes["device.read.sigma"].get<double>();
    EXPECT_GE(sigma, 0.0);
    EXPECT_LE(sigma, 0.05);
  }
  EXPECT_TRUE(differs);
  for (int64_t b : bits) EXPECT_TRUE(b == 4 || b == 6 || b == 8) << b;
  EXPECT_GT(bits.size(), 1u);
}

TEST(SweepSpec, BadInputNamesTheKeyBeforeAnyPointRuns) {
  const std::string objectives = "objectives: [energy]\n";
  std::string m = bad_input_message("axes:\n  adc.bitz: [4]\n" + objectives);
  EXPECT_NE(m.find("axes.adc.bitz"), std::string::npos) << m;
  EXPECT_NE(m.find("did you mean adc.bits"), std::string::npos) << m;
  m = bad_input_message("axes:\n  adc.bits: [4, 0]\n" + objectives);
  EXPECT_NE(m.find("axes.adc.bits: value 0"), std::string::npos) << m;
  EXPECT_NE(m.find("out of range"), std::string::npos) << m;
  m = bad_input_message("axes:\n  adc.bits: [4]\nobjectives: [acuracy]\n");
  EXPECT_NE(m.find("unknown objective 'acuracy'"), std::string::npos) << m;
  m = bad_input_message("axes:\n  adc.bits: [4]\nobjectives: [accuracy.mean]\n");
  EXPECT_NE(m.find("without a dataset"), std::string::npos) << m;
  m = bad_input_message("axes:\n  adc.bits: [4]\n" + objectives + "constraints: ['area => 1']\n");
  EXPECT_NE(m.find("unknown operator '=>'"), std::string::npos) << m;
  m = bad_input_message("axes:\n  adc.bits: [4]\n" + objectives + "constraints: ['aera <= 1']\n");
  EXPECT_NE(m.find("unknown metric 'aera'"), std::string::npos) << m;
  m = bad_input_message("axes:\n  adc.bits: {from: 4, to: 8}\n" + objectives);
  EXPECT_NE(m.find("a grid needs steps"), std::string::npos) << m;
  m = bad_input_message("axes:\n  adc.bits: [4]\n" + objectives + "trails: 3\n");
  EXPECT_NE(m.find("trails: unknown key"), std::string::npos) << m;
  m = bad_input_message("axes:\n  adc.bits: [4]\nobjectives: [{energy: up}]\n");
  EXPECT_NE(m.find("'up' is not min or max"), std::string::npos) << m;
  m = bad_input_message("axes:\n  adc.bits: [4]\nobjectives: [energy]\nset: [adc.bits=6]\n");
  EXPECT_NE(m.find("also fixed by set"), std::string::npos) << m;
  m = bad_input_message("axes:\n  adc.bits: [4]\n" + objectives + "dataset: mnist-ish\n");
  EXPECT_NE(m.find("dataset"), std::string::npos) << m;
  EXPECT_NE(bad_input_message("axes:\n  adc.bits: [4]\n").find("objectives: missing"),
            std::string::npos);
}

nlohmann::json line_with(double accuracy, double energy, bool feasible = true) {
  return {{"metrics", {{"accuracy.mean", accuracy}, {"energy", energy}}}, {"feasible", feasible}};
}

TEST(Pareto, FrontAgainstAHandMadeSet) {
  const std::vector<Objective> objectives = {{"accuracy.mean", Goal::kMax}, {"energy", Goal::kMin}};
  std::vector<nlohmann::json> lines = {
      line_with(0.90, 3.0),         // front: the most accurate
      line_with(0.85, 2.0),         // front
      line_with(0.80, 2.5),         // dominated by 1
      line_with(0.85, 2.0),         // equal to 1: kept too
      line_with(0.95, 1.0, false),  // would dominate all, but infeasible
      line_with(0.70, 1.5),         // front: the cheapest feasible
      {{"error", "does not fit"}, {"feasible", false}},
  };
  EXPECT_EQ(pareto_front(lines, objectives), (std::vector<size_t>{0, 1, 3, 5}));
  // Minimising accuracy instead turns the front around.
  const std::vector<Objective> reversed = {{"accuracy.mean", Goal::kMin}, {"energy", Goal::kMin}};
  EXPECT_EQ(pareto_front(lines, reversed), (std::vector<size_t>{5}));
  EXPECT_TRUE(dominates({0.9, 1.0}, {0.9, 2.0}, objectives));
  EXPECT_FALSE(dominates({0.9, 2.0}, {0.9, 2.0}, objectives));
  EXPECT_FALSE(dominates({0.9, 1.0}, {0.95, 2.0}, objectives));
}

TEST(Results, ConstraintsMarkFeasibility) {
  SweepSpec spec = spec_of(
      "axes:\n  adc.bits: [4]\nobjectives: [energy]\n"
      "constraints: ['energy <= 2', 'latency > 0.5']\n");
  nlohmann::json ok = {{"metrics", {{"energy", 2.0}, {"latency", 0.6}}}};
  nlohmann::json bad = {{"metrics", {{"energy", 2.5}, {"latency", 0.5}}}};
  nlohmann::json failed = {{"error", "x"}};
  apply_constraints(ok, spec.constraints);
  apply_constraints(bad, spec.constraints);
  apply_constraints(failed, spec.constraints);
  EXPECT_TRUE(ok["feasible"].get<bool>());
  EXPECT_FALSE(bad["feasible"].get<bool>());
  EXPECT_EQ(bad["violated"], (nlohmann::json{"energy <= 2", "latency > 0.5"}));
  EXPECT_FALSE(failed["feasible"].get<bool>());
}

// A point function of the axes alone, counting its calls.
PointFn fake_points(std::atomic<int>* calls) {
  return [calls](const Point& p) {
    ++*calls;
    const double a = p.axes["adc.bits"].get<double>(), b = p.axes["array.cell_bits"].get<double>();
    if (a == 6 && b == 3) throw_bad_input("point does not fit");
    return nlohmann::json{{"metrics", {{"energy", a * b}, {"latency", 1.0 / (a + b)}}}};
  };
}

const std::string kGrid =
    "axes:\n  adc.bits: [4, 6, 8]\n  array.cell_bits: [1, 2, 3]\nobjectives: [energy, latency]\n"
    "constraints: ['energy <= 20']\n";

TEST(Runner, TheFileDoesNotDependOnJobsAndFailedPointsAreRecorded) {
  SweepSpec spec = spec_of(kGrid);
  const fs::path one = temp_file("sweep_jobs1"), three = temp_file("sweep_jobs3");
  fs::remove(one);
  fs::remove(three);
  std::atomic<int> calls{0};
  RunOptions options;
  RunSummary a = run_sweep(spec, one.string(), fake_points(&calls), options);
  options.jobs = 3;
  RunSummary b = run_sweep(spec, three.string(), fake_points(&calls), options);
  EXPECT_EQ(calls.load(), 18);
  EXPECT_EQ(read(one), read(three));
  ASSERT_EQ(a.lines.size(), 9u);
  EXPECT_EQ(a.failed, 1);
  EXPECT_EQ(a.lines[5]["error"], "point does not fit");
  EXPECT_EQ(a.feasible, 7);  // all but the failed point and 8 x 3 = 24 > 20
  EXPECT_FALSE(a.lines[8]["feasible"].get<bool>());
  // The file: a header, then one line per point in order.
  ResultsFile file = read_results(one.string());
  EXPECT_EQ(file.header["points"], 9);
  ASSERT_EQ(file.points.size(), 9u);
  for (size_t i = 0; i < 9; ++i) EXPECT_EQ(file.points[i]["point"], i);
  fs::remove(one);
  fs::remove(three);
}

TEST(Runner, ARerunKeepsFinishedPointsAndDropsACutLine) {
  SweepSpec spec = spec_of(kGrid);
  const fs::path fresh = temp_file("sweep_fresh"), resumed = temp_file("sweep_resumed");
  fs::remove(fresh);
  std::atomic<int> calls{0};
  run_sweep(spec, fresh.string(), fake_points(&calls), {});
  // A run killed after four points, in the middle of writing the fifth line.
  std::istringstream all(read(fresh));
  std::ofstream cut(resumed, std::ios::binary | std::ios::trunc);
  std::string line;
  for (int i = 0; i < 5 && std::getline(all, line); ++i) cut << line << '\n';
  std::getline(all, line);
  cut << line.substr(0, line.size() / 2);
  cut.close();
  calls = 0;
  std::vector<std::string> warnings;
  RunOptions options;
  options.warn = [&](const std::string& w) { warnings.push_back(w); };
  RunSummary s = run_sweep(spec, resumed.string(), fake_points(&calls), options);
  EXPECT_EQ(calls.load(), 5);
  EXPECT_EQ(s.resumed, 4);
  EXPECT_EQ(s.computed, 5);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("cut last line"), std::string::npos);
  EXPECT_EQ(read(resumed), read(fresh));
  // Nothing left to do: a third run computes nothing and leaves the file as it is.
  calls = 0;
  run_sweep(spec, resumed.string(), fake_points(&calls), {});
  EXPECT_EQ(calls.load(), 0);
  EXPECT_EQ(read(resumed), read(fresh));
  fs::remove(fresh);
  fs::remove(resumed);
}

TEST(Runner, KeptPointsOutOfOrderEndSorted) {
  SweepSpec spec = spec_of(kGrid);
  const fs::path fresh = temp_file("sweep_fresh2"), partial = temp_file("sweep_partial");
  fs::remove(fresh);
  std::atomic<int> calls{0};
  run_sweep(spec, fresh.string(), fake_points(&calls), {});
  std::istringstream all(read(fresh));
  std::vector<std::string> lines;
  for (std::string line; std::getline(all, line);) lines.push_back(line);
  std::ofstream out(partial, std::ios::binary | std::ios::trunc);
  out << lines[0] << '\n' << lines[7] << '\n' << lines[3] << '\n';  // points 6 and 2
  out.close();
  calls = 0;
  run_sweep(spec, partial.string(), fake_points(&calls), {});
  EXPECT_EQ(calls.load(), 7);
  EXPECT_EQ(read(partial), read(fresh));
  fs::remove(fresh);
  fs::remove(partial);
}

TEST(Runner, AnotherSweepsFileOrAForeignFileIsNotTouched) {
  SweepSpec spec = spec_of(kGrid);
  const fs::path path = temp_file("sweep_other");
  fs::remove(path);
  std::atomic<int> calls{0};
  run_sweep(spec, path.string(), fake_points(&calls), {});
  const std::string before = read(path);
  SweepSpec other = spec_of(kGrid + "seed: 7\n");
  try {
    run_sweep(other, path.string(), fake_points(&calls), {});
    ADD_FAILURE() << "a different seed reused the file";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kBadInput);
    EXPECT_NE(std::string(e.what()).find("another sweep"), std::string::npos) << e.what();
  }
  EXPECT_EQ(read(path), before);
  // Axes that no longer hold a kept point.
  SweepSpec fewer = spec_of(
      "axes:\n  adc.bits: [4]\n  array.cell_bits: [1, 2, 3]\nobjectives: [energy, latency]\n"
      "constraints: ['energy <= 20']\n");
  EXPECT_THROW(run_sweep(fewer, path.string(), fake_points(&calls), {}), Error);
  EXPECT_EQ(read(path), before);
  std::ofstream(path, std::ios::trunc) << "model weights, not results\n";
  EXPECT_THROW(run_sweep(spec, path.string(), fake_points(&calls), {}), Error);
  EXPECT_EQ(read(path), "model weights, not results\n");
  fs::remove(path);
}

TEST(Runner, ARuntimeErrorStopsTheSweepWithValidLines) {
  SweepSpec spec = spec_of(kGrid);
  const fs::path path = temp_file("sweep_runtime");
  fs::remove(path);
  auto fn = [](const Point& p) -> nlohmann::json {
    if (p.index == 4) throw_runtime("out of memory, say");
    return {{"metrics", {{"energy", 1.0}, {"latency", 1.0}}}};
  };
  EXPECT_THROW(run_sweep(spec, path.string(), fn, {}), Error);
  ResultsFile file = read_results(path.string());
  EXPECT_TRUE(file.warnings.empty());
  EXPECT_EQ(file.points.size(), 4u);
  fs::remove(path);
}

// The sweep files under docs/examples load, validate every axis key against their
// architecture, and name the points their comments promise.
TEST(SweepSpec, TheDocumentedExamplesLoad) {
  int examples = 0;
  for (const auto& entry : fs::directory_iterator(kSource + "/docs/examples")) {
    if (entry.path().extension() != ".yaml") continue;
    SCOPED_TRACE(entry.path().string());
    const SweepSpec spec = load_sweep(entry.path().string());
    EXPECT_FALSE(sweep_points(spec).empty());
    ++examples;
  }
  EXPECT_GE(examples, 2);
  const SweepSpec nldpe = load_sweep(kSource + "/docs/examples/vit-nldpe-readout-depth.yaml");
  EXPECT_EQ(sweep_points(nldpe).size(), 25u);
}

}  // namespace
}  // namespace aimc::dse
