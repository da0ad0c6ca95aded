// aimc: analog in-memory computing toolkit. Exit codes: 0 success, 1 runtime failure,
// 2 bad usage or bad input.
#include <fmt/format.h>
#include <malloc.h>
#include <CLI/CLI.hpp>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <new>

#include "aimc/cli/commands.h"
#include "aimc/core/error.h"
#include "aimc/core/parallel.h"
#include "aimc/runtime/threads.h"

namespace {

constexpr const char* kVersion = "0.1.0";

int run_main(int argc, char** argv) {
  CLI::App app{
      "aimc: compile, simulate and cost neural networks on analog in-memory "
      "computing accelerators"};
  app.require_subcommand(1);
  app.set_version_flag("--version", kVersion);
  aimc::cli::GlobalOptions global;
  const int max_threads = aimc::max_threads();
  app.add_option("--threads", global.threads,
                 fmt::format("worker threads, 1..{} (default: every core)", max_threads))
      ->check(CLI::Range(1, max_threads)
                  .description(fmt::format("an integer in [1, {}] (4 x the hardware threads, at "
                                           "most 256)",
                                           max_threads)));
  app.add_flag("-v,--verbose", global.verbose, "progress messages on stderr");
  app.fallthrough();

  std::vector<std::pair<CLI::App*, aimc::cli::Command>> commands;
  auto add = [&](const char* name, const char* description, auto factory) {
    CLI::App* sub = app.add_subcommand(name, description);
    commands.emplace_back(sub, factory(*sub, global));
  };
  add("inspect", "inputs, outputs, ops, parameters and MACs of a model",
      aimc::cli::add_inspect_command);
  add("run", "digital (fp32) inference on .npy inputs, outputs written as .npy",
      aimc::cli::add_run_command);
  add("eval", "accuracy or bits per character of a model on a data set, digital and analog",
      aimc::cli::add_eval_command);
  add("arch", "validate and print an architecture file, or describe every key (--describe)",
      aimc::cli::add_arch_command);
  add("estimate",
      "latency, throughput, energy and area of a model on an architecture (--peak: chip peak)",
      aimc::cli::add_estimate_command);
  add("compile",
      "map a model onto an architecture: mapping.json, ACAM tables and one .s program per core",
      aimc::cli::add_compile_command);
  add("simulate", "cycle-level run of the compiled programs: latency, energy, utilisation, --trace",
      aimc::cli::add_simulate_command);
  add("finetune",
      "noise-aware fine-tuning: train a model on simulated chip instances, write a new ONNX",
      aimc::cli::add_finetune_command);
  add("sweep", "design-space exploration: every point of SWEEP.yaml into a resumable JSONL file",
      aimc::cli::add_sweep_command);
  add("report", "Pareto front and a self-contained HTML report of a sweep's results",
      aimc::cli::add_report_command);
  add("trees", "XGBoost tree ensembles on analog CAM arrays: predict, eval, estimate",
      aimc::cli::add_trees_command);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);  // prints help/version or the error message
    return code == 0 ? 0 : 2;
  }
  aimc::runtime::set_threads(global.threads);
  for (auto& [sub, command] : commands) {
    if (!sub->parsed()) continue;
    const int code = command();
    // Output that could not be written (a full disk, a closed pipe) is a failure, not 0.
    std::cout.flush();
    if (!std::cout || std::fflush(stdout) != 0 || std::ferror(stdout))
      throw aimc::Error(
          aimc::ErrorKind::kRuntime,
          fmt::format("cannot write the output to stdout ({})", std::strerror(errno)));
    return code;
  }
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  // Keep freed tensor buffers in the heap instead of returning them to the kernel after every
  // batch: with glibc's defaults each large tensor is a fresh mmap, and the page faults of
  // zeroing it again cost more than the kernels (measured on the GPT eval).
  mallopt(M_MMAP_THRESHOLD, 512 * 1024 * 1024);
  mallopt(M_TRIM_THRESHOLD, 1024 * 1024 * 1024);
  try {
    return run_main(argc, argv);
  } catch (const aimc::Error& e) {
    std::fprintf(stderr, "aimc: error: %s\n", e.what());
    return e.exit_code();
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "aimc: error: out of memory\n");
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "aimc: error: %s\n", e.what());
    return 1;
  }
}
