// The sweep report: the plots it holds for a hand-made results set, the values it prints,
// escaping, and the page loaded in a real browser (headless Chromium) without script errors.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>

#include "aimc/report/html_report.h"
#include "aimc/report/svg.h"

namespace fs = std::filesystem;

namespace aimc::report {
namespace {

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// A 2 x 3 grid over adc.bits and array.cell_bits with accuracy and energy, one failed point.
SweepReport sample_report() {
  SweepReport r;
  r.source = "results.jsonl";
  r.header = {
      {"format", "aimc-sweep-results"},
      {"sweep", "sweep.yaml"},
      {"model", "vit.onnx"},
      {"arch", "race.yaml"},
      {"dataset", "fashion-mnist"},
      {"limit", 100},
      {"trials", 2},
      {"axes", {"adc.bits", "array.cell_bits"}},
      {"objectives",
       {{{"metric", "accuracy.mean"}, {"goal", "max"}}, {{"metric", "energy"}, {"goal", "min"}}}},
      {"constraints", {"accuracy.mean >= 0.5"}},
      {"points", 6}};
  int index = 0;
  for (int bits : {4, 8})
    for (int cell : {1, 2, 3}) {
      nlohmann::json line = {{"point", index},
                             {"axes", {{"adc.bits", bits}, {"array.cell_bits", cell}}}};
      if (bits == 8 && cell == 3) {
        line["error"] = "model <does not fit>";
        line["feasible"] = false;
      } else {
        const double accuracy = bits == 4 ? 0.3 : 0.9 - 0.02 * cell;
        line["metrics"] = {{"accuracy.mean", accuracy},
                           {"accuracy.std", 0.01},
                           {"digital.accuracy", 0.91},
                           {"energy", 4e-5 / cell},
                           {"latency", 1e-4},
                           {"throughput", 1e4},
                           {"area", 2e-5}};
        line["feasible"] = accuracy >= 0.5;
        line["violated"] =
            accuracy >= 0.5 ? nlohmann::json::array() : nlohmann::json{"accuracy.mean >= 0.5"};
        line["energy_by_component"] = {
            {"adc", 3e-5 / cell}, {"crossbar", 1e-5 / cell}, {"dac", 0.0}};
        line["layers"] = {
            {{"node", "fc<1>"}, {"kind", "crossbar"}, {"latency_s", 6e-5}, {"energy_j", 3e-5}},
            {{"node", "softmax"}, {"kind", "acam"}, {"latency_s", 4e-5}, {"energy_j", 1e-5}}};
      }
      r.lines.push_back(line);
      ++index;
    }
  r.objectives = {{"accuracy.mean", true}, {"energy", false}};  // the header's
  r.front = {3, 4};  // (8,1): most accurate; (8,2): cheaper. (4, x) are infeasible.
  return r;
}

TEST(SweepReport, HoldsEveryPlotAndEveryPoint) {
  const SweepReport r = sample_report();
  const std::string html = sweep_report_html(r);
  const auto svgs = sweep_report_svgs(r);
  // 1 Pareto pair, 2 axes x 2 objectives, the component breakdown, 2 plots per front point.
  EXPECT_EQ(svgs.size(), 1u + 4u + 1u + 4u);
  EXPECT_EQ(count(html, "<svg class=\"plot\""), svgs.size());
  for (const char* name : {"pareto-0", "axis-adc.bits-accuracy.mean", "axis-array.cell_bits-energy",
                           "energy-components", "layers-latency-3", "layers-energy-4"})
    EXPECT_TRUE(svgs.count(name)) << name;
  // The Pareto plot: 2 front marks and 3 infeasible ones (adc.bits 4), hollow.
  const std::string& pareto = svgs.at("pareto-0");
  EXPECT_EQ(count(pareto, "<circle class=\"mark\""), 5u);  // the failed point has no metrics
  EXPECT_EQ(count(pareto, "fill=\"white\" stroke=\"#d62728\" stroke-width"), 3u);
  // The components that have energy, and not the one at 0.
  const std::string& components = svgs.at("energy-components");
  EXPECT_NE(components.find(">adc<"), std::string::npos);
  EXPECT_EQ(components.find(">dac<"), std::string::npos);
  // One table row per point (plus the header row), the failed one with its escaped error.
  EXPECT_EQ(count(html, "<tr"), 7u);
  EXPECT_NE(html.find("model &lt;does not fit&gt;"), std::string::npos);
  EXPECT_EQ(html.find("<does not fit>"), std::string::npos);
  EXPECT_NE(html.find("fc&lt;1&gt;"), std::string::npos);
  EXPECT_NE(html.find("violates accuracy.mean &gt;= 0.5"), std::string::npos);
  EXPECT_EQ(count(html, "<tr class=\"front\">"), 2u);
  // Nothing fetched from the network.
  EXPECT_EQ(html.find("http://"), html.find("http://www.w3.org/2000/svg"));
  EXPECT_EQ(html.find("https://"), std::string::npos);
  EXPECT_EQ(html.find("src="), std::string::npos);
}

TEST(SweepReport, FormatsValuesInTheirUnits) {
  EXPECT_EQ(format_metric("energy", 2.5e-6), "2.5 µJ");
  EXPECT_EQ(format_metric("latency", 0.012), "12 ms");
  EXPECT_EQ(format_metric("area", 1.5e-6), "1.5 mm²");
  EXPECT_EQ(format_metric("accuracy.mean", 0.891), "89.1 %");
  EXPECT_EQ(format_metric("throughput", 24000), "24 k/s");
}

TEST(Svg, MarksLandInsideThePlotInOrder) {
  Plot plot;
  plot.id = "t";
  Series s;
  s.name = "s";
  s.x = {1, 2, 3};
  s.y = {10, 30, 20};
  plot.series = {s};
  const std::string svg = scatter_svg(plot);
  std::regex circle("<circle class=\"mark\" cx=\"([0-9.]+)\" cy=\"([0-9.]+)\"");
  std::vector<std::pair<double, double>> marks;
  for (std::sregex_iterator it(svg.begin(), svg.end(), circle), end; it != end; ++it)
    marks.emplace_back(std::stod((*it)[1]), std::stod((*it)[2]));
  ASSERT_EQ(marks.size(), 3u);
  EXPECT_LT(marks[0].first, marks[1].first);
  EXPECT_LT(marks[1].first, marks[2].first);
  EXPECT_GT(marks[0].second, marks[2].second);  // smaller y is lower on the page
  EXPECT_LT(marks[1].second, marks[2].second);
  for (const auto& [x, y] : marks) {
    EXPECT_GT(x, 84);
    EXPECT_LT(x, 680 - 170);
    EXPECT_GT(y, 40);
    EXPECT_LT(y, 400 - 56);
  }
}

// Headless Chromium loads the page and runs its script: data-status says it loaded,
// data-plots counts the SVG plots it found, data-errors would hold any script error.
TEST(SweepReport, LoadsInHeadlessChromium) {
  const std::string chromium = AIMC_CHROMIUM;
  if (chromium.empty() || !fs::exists(chromium)) GTEST_SKIP() << "chromium is not installed";
  const SweepReport r = sample_report();
  const fs::path dir = fs::temp_directory_path() / ("aimc_report_" + std::to_string(getpid()));
  fs::create_directories(dir);
  const fs::path page = dir / "report.html";
  std::ofstream(page) << sweep_report_html(r);
  const std::string command =
      "timeout 120 " + chromium +
      " --headless --no-sandbox --disable-gpu --user-data-dir=" + (dir / "profile").string() +
      " --dump-dom file://" + page.string() + " 2>/dev/null";
  FILE* pipe = popen(command.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string dom;
  std::array<char, 4096> buffer;
  for (size_t n; (n = fread(buffer.data(), 1, buffer.size(), pipe)) > 0;)
    dom.append(buffer.data(), n);
  const int status = pclose(pipe);
  fs::remove_all(dir);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "chromium failed: " << status;
  std::smatch body;
  ASSERT_TRUE(std::regex_search(dom, body, std::regex("<body[^>]*>"))) << dom.substr(0, 500);
  const std::string tag = body.str();
  EXPECT_NE(tag.find("data-status=\"loaded\""), std::string::npos) << tag;
  EXPECT_NE(tag.find("data-plots=\"" + std::to_string(sweep_report_svgs(r).size()) + "\""),
            std::string::npos)
      << tag;
  EXPECT_EQ(tag.find("data-errors"), std::string::npos) << tag;
  // The script showed the first front point's layer plots and hid the other's.
  EXPECT_NE(dom.find("id=\"point-3\" style=\"display: block;\""), std::string::npos);
  EXPECT_NE(dom.find("id=\"point-4\" style=\"display: none;\""), std::string::npos);
}

}  // namespace
}  // namespace aimc::report
