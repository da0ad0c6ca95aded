// aimc arch [FILE] [--describe] [--set key.path=value ...] [--json]
#include <yaml-cpp/yaml.h>

#include <charconv>
#include <cstdlib>
#include <iostream>
#include <nlohmann/json.hpp>

#include "aimc/arch/architecture.h"
#include "aimc/cli/commands.h"
#include "aimc/core/error.h"

namespace aimc::cli {

namespace {

struct ArchOptions {
  std::string file;
  std::vector<std::string> overrides;
  bool describe = false;
  bool json = false;
};

// to_yaml's tree as JSON: plain scalars that read as numbers become numbers; quoted scalars
// (the name) stay strings.
nlohmann::ordered_json yaml_to_json(const YAML::Node& node) {
  if (node.IsMap()) {
    nlohmann::ordered_json object = nlohmann::ordered_json::object();
    for (const auto& entry : node) object[entry.first.Scalar()] = yaml_to_json(entry.second);
    return object;
  }
  if (node.IsSequence()) {
    nlohmann::ordered_json array = nlohmann::ordered_json::array();
    for (const auto& item : node) array.push_back(yaml_to_json(item));
    return array;
  }
  if (!node.IsScalar()) return nullptr;
  const std::string& text = node.Scalar();
  if (node.Tag() == "!" || text.empty()) return text;
  int64_t integer = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), integer);
  if (ec == std::errc() && ptr == text.data() + text.size()) return integer;
  char* end = nullptr;
  double value = std::strtod(text.c_str(), &end);
  if (end == text.c_str() + text.size()) return value;
  return text;
}

int run_arch(const ArchOptions& options) {
  if (options.describe && !options.file.empty())
    throw_bad_input("aimc arch: give either FILE or --describe, not both");
  if (options.describe) {
    if (!options.overrides.empty()) throw_bad_input("aimc arch: --set needs FILE");
    std::cout << arch::describe_schema();
    return 0;
  }
  if (options.file.empty())
    throw_bad_input("aimc arch: expected FILE (an architecture YAML) or --describe");
  arch::Architecture architecture = arch::load_architecture(options.file, options.overrides);
  std::string text = arch::to_yaml(architecture);
  if (options.json)
    std::cout << yaml_to_json(YAML::Load(text)).dump(2) << "\n";
  else
    std::cout << text;
  return 0;
}

}  // namespace

Command add_arch_command(CLI::App& app, const GlobalOptions& /*global*/) {
  auto options = std::make_shared<ArchOptions>();
  app.add_option("file", options->file, "architecture YAML (presets/*.yaml)");
  app.add_flag("--describe", options->describe,
               "list every key and every model with its parameters");
  app.add_option("--set", options->overrides,
                 "override a key before validation: key.path=value (repeatable)");
  app.add_flag("--json", options->json, "print the validated architecture as JSON");
  return [options] { return run_arch(*options); };
}

}  // namespace aimc::cli
