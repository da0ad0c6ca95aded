// aimc compile MODEL --arch A.yaml -o DIR [--chips N] [--set k=v ...] [--no-replicate] [--json]
//              [--emit mlir]
// Maps a model onto the architecture and writes DIR/mapping.json, DIR/report.txt, one
// DIR/core_NNN.s per core and DIR/acam/<node>.json per ACAM layer (docs/isa.md §6); with
// --emit mlir also DIR/program.mlir, the programs in the aimc MLIR dialect, checked to parse
// back to the programs the core_NNN.s files hold (docs/mlir.md).
// Everything is written into a fresh directory beside DIR first; only when all of it is
// written do the files move into DIR (one rename each), so a failure leaves DIR as it was.
#include <fmt/format.h>
#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "aimc/analog/acam_tables.h"
#include "aimc/api/estimate.h"
#include "aimc/api/json.h"
#include "aimc/arch/architecture.h"
#include "aimc/cli/commands.h"
#include "aimc/compiler/codegen.h"
#include "aimc/compiler/mapping.h"
#include "aimc/compiler/mapping_report.h"
#include "aimc/core/error.h"
#include "aimc/core/npy.h"
#include "aimc/cost/nn_cost.h"
#include "aimc/frontend/onnx_import.h"
#include "aimc/ir/op_registry.h"
#include "aimc/isa/assembly.h"
#ifdef AIMC_HAS_MLIR
#include "aimc/mlir/programs_mlir.h"
#endif
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
  std::string emit;  // "" or "mlir"
};

#ifdef AIMC_HAS_MLIR
// program.mlir, checked to parse back to the same programs instruction for instruction, so
// that the .s files written from them are what aimc-translate emits from program.mlir
// (tests/mlir checks the bundled models on every preset); a difference is an internal error.
std::string programs_mlir(const isa::ProgramSet& programs, const std::string& command) {
  std::string text = mlir::programs_to_mlir(programs, command);
  const mlir::ParsedPrograms parsed = mlir::parse_programs_mlir(text, "program.mlir");
  AIMC_ASSERT(parsed.programs.programs == programs.programs && parsed.command == command,
              "the programs changed on their way through the aimc dialect");
  return text;
}
#endif

nlohmann::json acam_tables(const compiler::LayerMapping& layer, const ir::Graph& graph,
                           const arch::Architecture& arch) {
  const lowering::Lowering* lowered = lowering::find_lowering(layer.lowering);
  const ir::Node* node = graph.find_node(layer.node);
  AIMC_ASSERT(lowered && node, "ACAM layer '{}' has no lowering", layer.node);
  return analog::acam_layer_tables({layer.node, layer.op, layer.first_core}, *lowered,
                                   lowering::node_sizes(*node), arch);
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
  fs::remove(dir / "program.mlir", ec);
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
#ifndef AIMC_HAS_MLIR
  if (options.emit == "mlir")
    throw_bad_input(
        "--emit mlir: this aimc was built without MLIR (configure with -DAIMC_WITH_MLIR=ON, "
        "docs/mlir.md)");
#endif
  arch::Architecture arch = arch::load_architecture(options.arch, options.overrides);
  std::unique_ptr<ir::Graph> graph = api::load_model_for_one_inference(options.model);
  if (global.verbose)
    std::fprintf(stderr, "aimc: loaded %s (%zu nodes)\n", options.model.c_str(),
                 graph->nodes().size());
  const api::CompileResult compiled =
      api::compile(*graph, arch, options.chips, !options.no_replicate);
  const compiler::Mapping& mapping = compiled.mapping;
  const std::string command = fmt::format("aimc compile {} --arch {}", options.model, arch.name);
  const isa::ProgramSet& programs = compiled.programs;
  std::string program_mlir;
#ifdef AIMC_HAS_MLIR
  if (options.emit == "mlir") program_mlir = programs_mlir(programs, command);
#endif

  const fs::path dir = fs::path(options.out_dir).lexically_normal();
  if (fs::exists(dir) && !fs::is_directory(dir))
    throw_bad_input("{}: -o names a file, not a directory", options.out_dir);
  fs::path parent = dir.parent_path().empty() ? fs::path(".") : dir.parent_path();
  if (!fs::is_directory(parent))
    throw_bad_input("{}: the directory {} does not exist", options.out_dir, parent.string());
  // A compile killed midway left its staging directory: the next one removes it.
  const std::string staging_prefix = fmt::format(".{}.aimc-compile-", dir.filename().string());
  remove_stale_staging(parent, staging_prefix);
  const fs::path staging = parent / fmt::format("{}{}", staging_prefix, getpid());
  fs::remove_all(staging);
  // A directory that cannot be written (read-only filesystem, no permission) is bad input,
  // as for `aimc run --output-dir`.
  std::error_code create_error;
  if (!fs::create_directory(staging, create_error) || create_error)
    throw_bad_input("-o {}: cannot create the output directory in {} ({})", options.out_dir,
                    parent.string(),
                    create_error ? create_error.message() : std::string("it already exists"));
  try {
    fs::create_directory(staging / "acam");
    const nlohmann::json json = api::compile_json(compiled, options.model, arch);
    write_file_atomic((staging / "mapping.json").string(), json.dump(2) + "\n");
    const std::string report = compiler::mapping_report(mapping, arch, programs);
    write_file_atomic((staging / "report.txt").string(), report);
    if (!program_mlir.empty()) write_file_atomic((staging / "program.mlir").string(), program_mlir);
    for (const isa::Program& program : programs.programs) {
      write_file_atomic((staging / core_file_name(program.core)).string(),
                        isa::write_assembly(program, isa::core_header(command, program)));
    }
    for (const compiler::LayerMapping& layer : mapping.layers)
      if (layer.kind == compiler::LayerKind::kAcam)
        write_file_atomic((staging / "acam" / (sanitize_file_name(layer.node) + ".json")).string(),
                          acam_tables(layer, *graph, arch).dump(1) + "\n");
    publish(staging, dir);
    if (options.json) {
      std::cout << json.dump(2) << "\n";
    } else {
      std::cout << report;
      fmt::print("\nwrote {}: mapping.json, report.txt, {} programs (core_*.s), {}acam/\n",
                 dir.string(), programs.programs.size(),
                 program_mlir.empty() ? "" : "program.mlir, ");
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
  app.add_option("--emit", options->emit,
                 "also write DIR/program.mlir, the programs in the aimc MLIR dialect")
      ->check(CLI::IsMember({"mlir"}));
  return [options, &global]() -> int { return run_compile(*options, global); };
}

}  // namespace aimc::cli
