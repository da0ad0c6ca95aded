// aimc inspect MODEL|FILE.ir [--ir [--exact]] [--passes=a,b] [--zero-fill] [--json]
//              [--dim NAME=VALUE ...] [--arch A.yaml [--set k=v ...]]
#include <fmt/format.h>

#include <iostream>
#include <nlohmann/json.hpp>
#include <set>

#include "aimc/arch/architecture.h"
#include "aimc/cli/commands.h"
#include "aimc/cli/placement_table.h"
#include "aimc/frontend/onnx_import.h"
#include "aimc/ir/op_registry.h"
#include "aimc/ir/parser.h"
#include "aimc/ir/stats.h"
#include "aimc/passes/passes.h"
#include "aimc/passes/registry.h"
#include "aimc/runtime/kernel.h"

namespace aimc::cli {

namespace {

struct InspectOptions {
  std::string model;
  bool ir = false;
  bool exact = false;
  bool json = false;
  bool zero_fill = false;
  std::optional<std::string> passes;
  std::vector<std::string> dims;
  std::string arch;  // --arch: print where each node runs instead
  std::vector<std::string> overrides;
};

// An ONNX model, or IR text when the file ends in .ir; then the passes named by --passes
// (exactly those, once each), or the whole canonicalisation without it.
std::unique_ptr<ir::Graph> load_for_inspect(const InspectOptions& options, bool verbose) {
  bool is_ir = options.model.size() > 3 && options.model.ends_with(".ir");
  if (!is_ir && !options.passes) return api::load_model(options.model, verbose);
  std::unique_ptr<ir::Graph> graph;
  if (is_ir) {
    ir::ParseOptions parse_options;
    parse_options.zero_fill_constants = options.zero_fill;
    graph = ir::load_ir_file(options.model, parse_options);
    // The text's shapes are claims; the shape functions make them agree with the operands (as
    // the ONNX importer does) before any pass relies on them.
    try {
      ir::infer_shapes(*graph);
    } catch (const Error& e) {
      rethrow_with_context(e, options.model);
    }
  } else {
    graph = frontend::load_onnx(options.model);
  }
  std::vector<const passes::NamedPass*> chosen;
  try {
    chosen = passes::parse_pass_list(options.passes.value_or(""));
  } catch (const Error& e) {
    rethrow_with_context(e, "--passes");
  }
  try {
    if (options.passes) {
      passes::run_passes(*graph, chosen, runtime::evaluate_node);
    } else {
      passes::canonicalize(*graph, runtime::evaluate_node);
    }
  } catch (const Error& e) {
    rethrow_with_context(e, options.model);
  }
  return graph;
}

std::string print_ir(const ir::Graph& graph, bool exact) {
  return exact ? ir::print_graph(graph, {.exact = true}) : ir::print_graph(graph);
}

nlohmann::json shape_json(const ir::Value& v) {
  if (!v.shape) return nullptr;
  nlohmann::json dims = nlohmann::json::array();
  for (const ir::Dim& d : *v.shape) {
    if (d.known()) {
      dims.push_back(d.value);
    } else {
      dims.push_back(d.symbol.empty() ? "?" : d.symbol);
    }
  }
  return dims;
}

std::string type_text(const ir::Value& v) {
  return std::string(v.dtype_known ? dtype_name(v.dtype) : "?") +
         (v.shape ? ir::sym_shape_str(*v.shape) : "[*]");
}

std::string with_commas(int64_t n) {
  std::string digits = std::to_string(n);
  std::string out;
  int count = 0;
  for (size_t i = digits.size(); i-- > 0;) {
    out.insert(out.begin(), digits[i]);
    if (++count % 3 == 0 && i > 0 && digits[i - 1] != '-') out.insert(out.begin(), ',');
  }
  return out;
}

std::string si(double n) {
  const char* units[] = {"", " k", " M", " G", " T"};
  int u = 0;
  while (n >= 1000 && u < 4) {
    n /= 1000;
    ++u;
  }
  return u == 0 ? fmt::format("{:.0f}", n) : fmt::format("{:.2f}{}", n, units[u]);
}

std::map<std::string, int64_t> parse_dims(const std::vector<std::string>& specs) {
  std::map<std::string, int64_t> dims;
  for (const std::string& spec : specs) {
    auto eq = spec.find('=');
    int64_t value = -1;
    if (eq != std::string::npos && eq > 0) {
      try {
        size_t used = 0;
        value = std::stoll(spec.substr(eq + 1), &used);
        if (used != spec.size() - eq - 1) value = -1;
      } catch (const std::exception&) {
        value = -1;
      }
    }
    if (value < 1) throw_bad_input("--dim '{}': expected NAME=POSITIVE_INTEGER", spec);
    dims[spec.substr(0, eq)] = value;
  }
  return dims;
}

// --dim bindings checked against the inputs' symbols; every other symbol bound to 1.
std::map<std::string, int64_t> bind_dims(const InspectOptions& options, const ir::Graph& graph) {
  std::map<std::string, int64_t> dims = parse_dims(options.dims);
  std::set<std::string> symbols;
  for (const ir::Value* in : graph.inputs) {
    if (!in->shape) continue;
    for (const ir::Dim& d : *in->shape) {
      if (!d.known() && !d.symbol.empty()) symbols.insert(d.symbol);
    }
  }
  for (const auto& [name, value] : dims) {
    if (!symbols.count(name))
      throw_bad_input("--dim {}: the model's inputs have no dimension named '{}'", name, name);
  }
  for (const std::string& s : symbols) dims.emplace(s, 1);  // per sample by default
  return dims;
}

void print_summary_json(const InspectOptions& options, const ir::Graph& graph,
                        const std::map<std::string, int64_t>& dims, const ir::GraphStats& stats) {
  nlohmann::json out;
  out["model"] = options.model;
  out["opset"] = graph.opset;
  out["nodes"] = graph.nodes().size();
  for (const char* key : {"inputs", "outputs"}) {
    nlohmann::json list = nlohmann::json::array();
    for (const ir::Value* v : key == std::string("inputs") ? graph.inputs : graph.outputs) {
      list.push_back({{"name", v->name},
                      {"dtype", v->dtype_known ? dtype_name(v->dtype) : "?"},
                      {"shape", shape_json(*v)}});
    }
    out[key] = list;
  }
  out["ops"] = stats.op_histogram;
  out["parameters"] = stats.parameters;
  out["dims"] = dims;
  nlohmann::json layers = nlohmann::json::array();
  for (const auto& layer : stats.layers) {
    layers.push_back(
        {{"name", layer.node},
         {"op", layer.op},
         {"output_shape", layer.output_shape},
         {"macs", layer.macs < 0 ? nlohmann::json(nullptr) : nlohmann::json(layer.macs)}});
  }
  out["layers"] = layers;
  out["macs_total"] = stats.total_macs;
  out["macs_complete"] = stats.macs_complete;
  if (options.ir) out["ir"] = print_ir(graph, options.exact);
  std::cout << out.dump(2) << "\n";
}

void print_summary_text(const InspectOptions& options, const ir::Graph& graph,
                        const std::map<std::string, int64_t>& dims, const ir::GraphStats& stats) {
  std::cout << fmt::format("model       {} (opset {}, {} nodes after canonicalisation)\n",
                           options.model, graph.opset, graph.nodes().size());
  for (const ir::Value* v : graph.inputs)
    std::cout << fmt::format("input       {:<24} {}\n", v->name, type_text(*v));
  for (const ir::Value* v : graph.outputs)
    std::cout << fmt::format("output      {:<24} {}\n", v->name, type_text(*v));
  std::cout << fmt::format("parameters  {}\n", with_commas(stats.parameters));
  std::vector<std::pair<int64_t, std::string>> ops;
  for (const auto& [op, count] : stats.op_histogram) ops.emplace_back(-count, op);
  std::sort(ops.begin(), ops.end());
  std::string op_text;
  for (const auto& [count, op] : ops)
    op_text += fmt::format("{}{} {}", op_text.empty() ? "" : ", ", op, -count);
  std::cout << fmt::format("ops         {}\n", op_text);
  std::string bindings;
  for (const auto& [name, value] : dims)
    bindings += fmt::format("{}{}={}", bindings.empty() ? "" : ", ", name, value);
  std::cout << fmt::format("\nMACs per layer{}\n", bindings.empty() ? "" : " (" + bindings + ")");
  std::cout << fmt::format("  {:<40} {:<8} {:<20} {:>16}\n", "layer", "op", "output", "MACs");
  for (const auto& layer : stats.layers) {
    std::cout << fmt::format("  {:<40} {:<8} {:<20} {:>16}\n", layer.node, layer.op,
                             layer.output_shape,
                             layer.macs < 0 ? std::string("?") : with_commas(layer.macs));
  }
  std::cout << fmt::format("  {:<40} {:<8} {:<20} {:>16}  ({}MAC{})\n", "total", "", "",
                           with_commas(stats.total_macs), si(static_cast<double>(stats.total_macs)),
                           stats.macs_complete ? "" : ", some shapes unknown");
}

int run_inspect(const InspectOptions& options, const GlobalOptions& global) {
  std::unique_ptr<ir::Graph> graph = load_for_inspect(options, global.verbose);
  if (!options.arch.empty())
    return print_placement_table(options.model, *graph,
                                 arch::load_architecture(options.arch, options.overrides),
                                 options.json);
  const std::map<std::string, int64_t> dims = bind_dims(options, *graph);
  // Statistics on a copy whose symbolic dimensions are bound, so every shape is known.
  std::unique_ptr<ir::Graph> bound = graph->clone();
  ir::infer_shapes(*bound, dims);
  passes::canonicalize(*bound, runtime::evaluate_node);
  const ir::GraphStats stats = ir::compute_stats(*bound);
  if (options.json) {
    print_summary_json(options, *graph, dims, stats);
  } else if (options.ir) {
    std::cout << print_ir(*graph, options.exact);
  } else {
    print_summary_text(options, *graph, dims, stats);
  }
  return 0;
}

}  // namespace

Command add_inspect_command(CLI::App& app, const GlobalOptions& global) {
  auto options = std::make_shared<InspectOptions>();
  app.add_option("model", options->model, "ONNX model (.onnx), or IR text (.ir)")->required();
  app.add_flag("--ir", options->ir, "print the canonical IR instead of the summary");
  app.add_flag("--exact", options->exact,
               "with --ir: also write constant values and exact floats (the form a .ir file "
               "holds, which reads back to the same graph)");
  app.add_option("--passes", options->passes,
                 "run exactly these passes, in this order, instead of the canonicalisation "
                 "(comma-separated, or none; see docs/ir.md)");
  app.add_flag("--zero-fill", options->zero_fill,
               "in a .ir file, constants written without values are zeros");
  app.add_flag("--json", options->json, "machine-readable output");
  app.add_option("--dim", options->dims,
                 "bind a symbolic input dimension for MAC counts, NAME=VALUE (default 1)");
  app.add_option("--arch,-a", options->arch,
                 "print where each node runs on this architecture, and why");
  app.add_option("--set", options->overrides, "override an architecture key: key.path=value");
  return [options, &global] { return run_inspect(*options, global); };
}

}  // namespace aimc::cli
