// aimc sweep SWEEP.yaml -o RESULTS.jsonl [--jobs J] [--pareto] [--json]
// aimc report RESULTS.jsonl [-o REPORT.html] [--svg-dir DIR] [--pareto] [--json]
// Design-space exploration (docs/sweep.md): every point of the sweep evaluated and appended to
// a JSON Lines file (a rerun resumes it; under mpirun the points go to every rank), its Pareto
// front over the sweep's objectives, and a self-contained HTML report with SVG plots.
#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>

#include "aimc/api/sweep.h"
#include "aimc/cli/commands.h"
#include "aimc/core/error.h"
#include "aimc/core/npy.h"  // write_file_atomic
#include "aimc/core/progress.h"
#include "aimc/dse/results.h"
#include "aimc/report/html_report.h"
#include "aimc/runtime/threads.h"

namespace aimc::cli {

namespace {

struct SweepOptions {
  std::string sweep, output;
  int jobs = 1;
  bool pareto = false;
  bool json = false;
};

struct ReportOptions {
  std::string results, output, svg_dir;
  bool pareto = false;
  bool json = false;
};

void print_front(const nlohmann::json& front, const std::vector<dse::Objective>& objectives) {
  std::string head = fmt::format("{:>6}  ", "point");
  for (const dse::Objective& o : objectives)
    head += fmt::format("{:>16}  ", o.metric + " (" + dse::goal_name(o.goal) + ")");
  fmt::print("Pareto front ({} point{}):\n{}axes\n", front.size(), front.size() == 1 ? "" : "s",
             head);
  for (const nlohmann::json& p : front) {
    std::string row = fmt::format("{:>6}  ", p["point"].get<int64_t>());
    for (const dse::Objective& o : objectives)
      row += fmt::format("{:>16.6g}  ", p["objectives"][o.metric].get<double>());
    std::string axes;
    for (const auto& [key, value] : p["axes"].items())
      axes += (axes.empty() ? "" : ", ") + key + "=" + value.dump();
    fmt::print("{}{}\n", row, axes);
  }
}

int run_sweep_command(const SweepOptions& options, const GlobalOptions& global) {
  const dse::SweepSpec spec = dse::load_sweep(options.sweep);
  if (dse::under_mpirun() && global.threads == 0) {
    // Ranks on one machine share its cores instead of each taking them all.
    const char* local = std::getenv("OMPI_COMM_WORLD_LOCAL_SIZE");
    const int ranks_here = std::max(1, local ? std::atoi(local) : 1);
    const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    runtime::set_threads(std::max(1, cores / ranks_here));
  }
  std::unique_ptr<ProgressBar> bar;
  api::SweepRequest request;
  request.jobs = options.jobs;
  request.warn = [](const std::string& w) { fmt::print(stderr, "aimc: warning: {}\n", w); };
  request.progress = [&](int64_t done, int64_t total) {
    if (!bar)
      bar = std::make_unique<ProgressBar>("sweep", std::max<int64_t>(total, 1), !options.json);
    bar->update(done);
  };
  dse::RunSummary summary = api::sweep(spec, options.output, request);
  if (bar) bar->finish();
  if (!summary.writer) return 0;  // an MPI rank other than 0

  if (options.json) {
    std::cout << api::sweep_summary_json(spec, options.output, summary, options.pareto).dump(2)
              << '\n';
    return 0;
  }
  fmt::print("{}: {} points ({} kept from {}, {} run now{}), {} feasible, {} failed\n",
             options.sweep, summary.lines.size(), summary.resumed, options.output, summary.computed,
             summary.ranks > 1 ? fmt::format(" on {} MPI ranks", summary.ranks) : "",
             summary.feasible, summary.failed);
  for (const nlohmann::json& line : summary.lines)
    if (line.contains("error"))
      fmt::print("  point {} failed: {}\n", line["point"].get<int64_t>(),
                 line["error"].get<std::string>());
  if (options.pareto)
    print_front(api::pareto_json(summary.lines, spec.objectives), spec.objectives);
  return 0;
}

int run_report_command(const ReportOptions& options) {
  if (options.output.empty() && options.svg_dir.empty() && !options.pareto)
    throw_bad_input("aimc report: nothing to do; give -o REPORT.html, --svg-dir DIR or --pareto");
  const dse::ResultsFile file = api::read_sweep_results(options.results);
  for (const std::string& w : file.warnings) fmt::print(stderr, "aimc: warning: {}\n", w);
  const std::vector<dse::Objective> objectives = dse::header_objectives(file.header);
  const report::SweepReport input = api::sweep_report(file, options.results);
  if (!options.output.empty()) write_file_atomic(options.output, report::sweep_report_html(input));
  if (!options.svg_dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(options.svg_dir, ec);
    if (ec) throw_bad_input("{}: cannot create the folder ({})", options.svg_dir, ec.message());
    for (const auto& [name, svg] : report::sweep_report_svgs(input))
      write_file_atomic((std::filesystem::path(options.svg_dir) / (name + ".svg")).string(), svg);
  }
  if (options.pareto) {
    const nlohmann::json front = api::pareto_json(file.points, objectives);
    if (options.json)
      std::cout << nlohmann::json{{"results", options.results}, {"pareto", front}}.dump(2) << '\n';
    else
      print_front(front, objectives);
  } else if (options.json) {
    std::cout << nlohmann::json{{"results", options.results},
                                {"points", file.points.size()},
                                {"front", input.front.size()},
                                {"output", options.output}}
                     .dump(2)
              << '\n';
  }
  return 0;
}

}  // namespace

Command add_sweep_command(CLI::App& app, const GlobalOptions& global) {
  auto options = std::make_shared<SweepOptions>();
  app.add_option("sweep", options->sweep, "the sweep file (docs/sweep.md)")->required();
  app.add_option("-o,--output", options->output,
                 "results file, JSON Lines (appended to; a rerun skips finished points)")
      ->required();
  app.add_option("--jobs,-j", options->jobs, "points run at once by this process (1..64)")
      ->check(CLI::Range(1, 64));
  app.add_flag("--pareto", options->pareto, "print the Pareto front over the sweep's objectives");
  app.add_flag("--json", options->json, "machine-readable output");
  return [options, &global] { return run_sweep_command(*options, global); };
}

Command add_report_command(CLI::App& app, const GlobalOptions&) {
  auto options = std::make_shared<ReportOptions>();
  app.add_option("results", options->results, "results file of aimc sweep (JSON Lines)")
      ->required();
  app.add_option("-o,--output", options->output, "self-contained HTML report to write");
  app.add_option("--svg-dir", options->svg_dir, "also write each plot as DIR/<name>.svg");
  app.add_flag("--pareto", options->pareto, "print the Pareto front over the sweep's objectives");
  app.add_flag("--json", options->json, "machine-readable output");
  return [options] { return run_report_command(*options); };
}

}  // namespace aimc::cli
