// aimc compile MODEL --arch A.yaml -o DIR [--chips N] [--set k=v ...] [--no-replicate] [--json]
// Maps a model onto the architecture and writes DIR/mapping.json, DIR/report.txt, one
// DIR/core_NNN.s per core and DIR/acam/<node>.json per ACAM layer (docs/isa.md §6).
// Everything is written into a fresh directory beside DIR first; only when all of it is
// written do the files move into DIR (one rename each), so a failure leaves DIR as it was.
#include <fmt/format.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "aimc/analog/acam.h"
#include "aimc/arch/architecture.h"
#include "aimc/cli/commands.h"
#include "aimc/compiler/mapping.h"
#include "aimc/core/error.h"
#include "aimc/core/npy.h"
#include "aimc/cost/nn_cost.h"
#include "aimc/frontend/onnx_import.h"
#include "aimc/ir/op_registry.h"
#include "aimc/isa/assembly.h"
#include "aimc/isa/codegen.h"
#include "aimc/isa/mapping_report.h"
#include "aimc/passes/passes.h"
#include "aimc/runtime/kernel.h"

namespace aimc::cli {

namespace {

namespace fs = std::filesystem;

struct CompileOptions {
  std::string model, arch, out_dir;
  std::vector<std::string> overrides;
  int64_t chips = 1;
  bool json = false;
  bool no_replicate = false;
};

std::optional<analog::AcamFunction> acam_function(const std::string& name) {
  static const std::map<std::string, analog::AcamFunction> kFunctions = {
      {"exp", analog::AcamFunction::kExp},
      {"reciprocal", analog::AcamFunction::kReciprocal},
      {"rsqrt", analog::AcamFunction::kRsqrt},
      {"log", analog::AcamFunction::kLog},
      {"gelu", analog::AcamFunction::kGelu},
      {"tanh", analog::AcamFunction::kTanh},
      {"sigmoid", analog::AcamFunction::kSigmoid},
      {"silu", analog::AcamFunction::kSilu}};
  auto it = kFunctions.find(name);
  if (it == kFunctions.end()) return std::nullopt;
  return it->second;
}

// The input range of ACAM unit `unit` of a layer before calibration (docs/isa.md §6): exact
// where the operation bounds it (softmax), else a fixed range wide enough for normalised
// activations. `aimc eval` calibrates these ranges on data; compile does not (yet).
std::pair<double, double> default_range(const compiler::LayerMapping& layer, int64_t unit,
                                        const std::string& function, const arch::Architecture& a) {
  if (layer.op == "Softmax") {
    if (unit == 0) return {-(a.acam.out_bits + 1) * std::log(2.0), 0.0};
    // Σ exp(x - max) over a row of n lies in [1, n].
    const int64_t rows = std::max<int64_t>(1, layer.searches_per_inference - layer.output_elements);
    const double n = static_cast<double>(layer.output_elements) / static_cast<double>(rows);
    return {1.0, std::max(2.0, n)};
  }
  if (layer.op == "matmul") {
    const double hi = 8.0, lo = hi * std::ldexp(1.0, -(a.acam.in_bits + 2));
    if (unit == 0) return {lo, hi};
    return {2.0 * std::log(lo), 2.0 * std::log(hi)};
  }
  if (function == "rsqrt" || function == "log" || function == "reciprocal")
    return {1.0 / 256.0, 16.0};
  return {-8.0, 8.0};
}

nlohmann::json acam_tables(const compiler::LayerMapping& layer, const arch::Architecture& arch) {
  nlohmann::json units = nlohmann::json::array();
  const std::vector<std::string> functions = isa::acam_unit_functions(layer);
  for (size_t j = 0; j < functions.size(); ++j) {
    const int64_t unit = static_cast<int64_t>(j);
    const int64_t per_core = std::max(1, arch.chip.acam_units_per_core);
    nlohmann::json entry = {{"unit", unit},
                            {"core", layer.first_core + unit / per_core},
                            {"core_unit", unit % per_core},
                            {"function", functions[j]}};
    std::optional<analog::AcamFunction> function = acam_function(functions[j]);
    if (!function) {
      entry["rows"] = nullptr;
      entry["note"] = "no ACAM synthesis for this function yet";
      units.push_back(std::move(entry));
      continue;
    }
    auto [lo, hi] = default_range(layer, unit, functions[j], arch);
    analog::AcamUnit acam(*function, lo, hi, arch.acam);
    nlohmann::json rows = nlohmann::json::array();
    for (const analog::AcamRow& row : acam.table_rows()) rows.push_back({row.bit, row.lo, row.hi});
    entry["lo"] = lo;
    entry["hi"] = hi;
    entry["in_bits"] = arch.acam.in_bits;
    entry["out_bits"] = arch.acam.out_bits;
    entry["encoding"] = arch.acam.encoding == arch::AcamEncoding::kGray ? "gray" : "binary";
    entry["rows"] = acam.rows();
    entry["table_rows"] = std::move(rows);  // [output bit, lo, hi): lo <= x < hi sets the bit
    entry["outputs"] = acam.table();        // the dequantised output of every input code
    units.push_back(std::move(entry));
  }
  return {{"node", layer.node}, {"op", layer.op}, {"units", units}};
}

std::string core_file_name(int64_t core) {
  return fmt::format("core_{:03}.s", core);
}

// Files a previous compile wrote into `dir`, removed before the new ones move in, so that a
// smaller model leaves no stale programs behind.
void remove_previous_outputs(const fs::path& dir) {
  std::error_code ec;
  for (const fs::directory_entry& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (entry.is_regular_file() && name.rfind("core_", 0) == 0 && entry.path().extension() == ".s")
      fs::remove(entry.path(), ec);
  }
  fs::remove_all(dir / "acam", ec);
}

void publish(const fs::path& staging, const fs::path& dir) {
  if (!fs::exists(dir)) {
    fs::rename(staging, dir);
    return;
  }
  if (!fs::is_directory(dir)) throw_bad_input("{}: -o names a file, not a directory", dir.string());
  remove_previous_outputs(dir);
  for (const fs::directory_entry& entry : fs::directory_iterator(staging))
    fs::rename(entry.path(), dir / entry.path().filename());
  fs::remove_all(staging);
}

int run_compile(const CompileOptions& options, const GlobalOptions& global) {
  arch::Architecture arch = arch::load_architecture(options.arch, options.overrides);
  std::unique_ptr<ir::Graph> graph = load_model_for_one_inference(options.model);
  if (global.verbose)
    std::fprintf(stderr, "aimc: loaded %s (%zu nodes)\n", options.model.c_str(),
                 graph->nodes().size());
  // The mapping `aimc estimate` makes (replication balanced by the cost model's layer times).
  compiler::Mapping mapping = compiler::map_graph(
      *graph, arch, cost::mapping_options(arch, 1, options.chips, !options.no_replicate));
  isa::ProgramSet programs = isa::generate_programs(*graph, mapping, arch);
  if (std::string problem = isa::verify(programs); !problem.empty())
    throw_runtime("internal error: the generated programs do not verify: {}", problem);

  const fs::path dir = fs::path(options.out_dir).lexically_normal();
  if (fs::exists(dir) && !fs::is_directory(dir))
    throw_bad_input("{}: -o names a file, not a directory", options.out_dir);
  fs::path parent = dir.parent_path().empty() ? fs::path(".") : dir.parent_path();
  if (!fs::is_directory(parent))
    throw_bad_input("{}: the directory {} does not exist", options.out_dir, parent.string());
  const fs::path staging =
      parent / fmt::format(".{}.aimc-compile-{}", dir.filename().string(), getpid());
  fs::remove_all(staging);
  try {
    fs::create_directory(staging);
    fs::create_directory(staging / "acam");
    nlohmann::json json = isa::mapping_json(mapping, arch, programs);
    json["model"] = options.model;
    write_file_atomic((staging / "mapping.json").string(), json.dump(2) + "\n");
    const std::string report = isa::mapping_report(mapping, arch, programs);
    write_file_atomic((staging / "report.txt").string(), report);
    for (const isa::Program& program : programs.programs) {
      const std::string header = fmt::format(
          "aimc compile {} --arch {}\ncore {} (tile {}, chip {}): {} instructions", options.model,
          arch.name, program.core, program.tile, program.chip, program.instructions.size());
      write_file_atomic((staging / core_file_name(program.core)).string(),
                        isa::write_assembly(program, header));
    }
    for (const compiler::LayerMapping& layer : mapping.layers)
      if (layer.kind == compiler::LayerKind::kAcam)
        write_file_atomic((staging / "acam" / (sanitize_file_name(layer.node) + ".json")).string(),
                          acam_tables(layer, arch).dump(1) + "\n");
    publish(staging, dir);
    if (options.json) {
      std::cout << json.dump(2) << "\n";
    } else {
      std::cout << report;
      fmt::print("\nwrote {}: mapping.json, report.txt, {} programs (core_*.s), acam/\n",
                 dir.string(), programs.programs.size());
    }
  } catch (const fs::filesystem_error& e) {
    std::error_code ec;
    fs::remove_all(staging, ec);
    throw_runtime("{}: cannot write the output: {}", options.out_dir, e.what());
  } catch (...) {
    std::error_code ec;
    fs::remove_all(staging, ec);
    throw;
  }
  return 0;
}

}  // namespace

Command add_compile_command(CLI::App& app, const GlobalOptions& global) {
  auto options = std::make_shared<CompileOptions>();
  app.add_option("model", options->model, "ONNX model")->required();
  app.add_option("--arch,-a", options->arch, "architecture YAML")->required();
  app.add_option("-o,--output", options->out_dir, "output directory (created or updated)")
      ->required();
  app.add_option("--chips", options->chips, "chips the model may span (default 1)")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 20));
  app.add_option("--set", options->overrides, "override an architecture key: key.path=value");
  app.add_flag("--no-replicate", options->no_replicate,
               "no weight copies in the spare cores (one copy of each layer)");
  app.add_flag("--json", options->json, "print mapping.json instead of the report");
  return [options, &global]() -> int { return run_compile(*options, global); };
}

}  // namespace aimc::cli
