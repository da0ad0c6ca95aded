#include "aimc/dse/results.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "aimc/core/error.h"
#include "aimc/core/npy.h"  // write_file_atomic

namespace aimc::dse {

namespace {

constexpr const char* kFormat = "aimc-sweep-results";
constexpr int kFormatVersion = 1;

bool is_header(const nlohmann::json& line) {
  return line.is_object() && line.value("format", "") == kFormat;
}

}  // namespace

ResultsFile read_results(const std::string& path) {
  ResultsFile results;
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    if (!std::filesystem::exists(path)) return results;
    throw_bad_input("{}: cannot read the results file", path);
  }
  std::vector<std::string> lines;
  std::string text;
  bool last_complete = true;
  while (std::getline(file, text)) {
    last_complete = !file.eof();
    lines.push_back(text);
  }
  for (size_t i = 0; i < lines.size(); ++i) {
    const bool last = i + 1 == lines.size();
    nlohmann::json line = nlohmann::json::parse(lines[i], nullptr, /*allow_exceptions=*/false);
    const bool valid = !line.is_discarded() && line.is_object() && (!last || last_complete);
    if (i == 0) {
      if (!valid || !is_header(line))
        throw_bad_input(
            "{}:1: not an aimc sweep results file (its first line is not a sweep "
            "header); not overwriting it",
            path);
      if (line.value("version", 0) != kFormatVersion)
        throw_bad_input("{}:1: results format version {} (this aimc reads {})", path,
                        line.value("version", 0), kFormatVersion);
      results.header = std::move(line);
      continue;
    }
    if (!valid || !line.contains("point") || !line["point"].is_number_integer() ||
        !line.contains("axes") || !line["axes"].is_object()) {
      if (last) {
        results.warnings.push_back(fmt::format(
            "{}:{}: dropped a cut last line (a run killed while writing it)", path, i + 1));
        continue;
      }
      throw_bad_input("{}:{}: not a point's result line", path, i + 1);
    }
    results.points.push_back(std::move(line));
  }
  return results;
}

nlohmann::json header_json(const SweepSpec& spec, int64_t points) {
  nlohmann::json axes = nlohmann::json::array();
  for (const Axis& axis : spec.axes) axes.push_back(axis.key);
  nlohmann::json objectives = nlohmann::json::array();
  for (const Objective& o : spec.objectives)
    objectives.push_back({{"metric", o.metric}, {"goal", goal_name(o.goal)}});
  nlohmann::json constraints = nlohmann::json::array();
  for (const Constraint& c : spec.constraints) constraints.push_back(c.text);
  return {{"format", kFormat},
          {"version", kFormatVersion},
          {"fingerprint", fingerprint(spec)},
          {"sweep", spec.file},
          {"model", spec.model},
          {"arch", spec.arch},
          {"set", spec.overrides},
          {"dataset", spec.dataset},
          {"metric", spec.metric},
          {"limit", spec.limit},
          {"trials", spec.trials},
          {"seed", spec.seed},
          {"batch", spec.batch},
          {"chips", spec.chips},
          {"search", spec.random ? "random" : "grid"},
          {"axes", axes},
          {"objectives", objectives},
          {"constraints", constraints},
          {"points", points}};
}

std::vector<Objective> header_objectives(const nlohmann::json& header) {
  std::vector<Objective> out;
  for (const auto& o : header.value("objectives", nlohmann::json::array()))
    out.push_back(
        {o.value("metric", ""), o.value("goal", "min") == "max" ? Goal::kMax : Goal::kMin});
  return out;
}

std::vector<Constraint> header_constraints(const nlohmann::json& header) {
  std::vector<Constraint> out;
  for (const auto& text : header.value("constraints", nlohmann::json::array()))
    if (auto c = parse_constraint(text.get<std::string>())) out.push_back(*c);
  return out;
}

void apply_constraints(nlohmann::json& line, const std::vector<Constraint>& constraints) {
  nlohmann::json violated = nlohmann::json::array();
  const bool failed = line.contains("error");
  for (const Constraint& c : constraints) {
    const nlohmann::json* value = nullptr;
    if (line.contains("metrics") && line["metrics"].contains(c.metric))
      value = &line["metrics"][c.metric];
    if (failed || !value || !value->is_number() || !c.holds(value->get<double>()))
      violated.push_back(c.text);
  }
  line["violated"] = violated;
  line["feasible"] = !failed && violated.empty();
}

void write_results_atomically(const std::string& path, const nlohmann::json& header,
                              const std::vector<nlohmann::json>& lines) {
  std::string text = header.dump() + "\n";
  for (const nlohmann::json& line : lines) text += line.dump() + "\n";
  write_file_atomic(path, text);
}

ResultsAppender::ResultsAppender(const std::string& path) : path_(path) {
  file_ = std::fopen(path.c_str(), "ab");
  if (!file_)
    throw_runtime("{}: cannot append to the results file ({})", path, std::strerror(errno));
}

ResultsAppender::~ResultsAppender() {
  if (file_) std::fclose(file_);
}

void ResultsAppender::append(const nlohmann::json& line) {
  const std::string text = line.dump() + "\n";
  if (std::fwrite(text.data(), 1, text.size(), file_) != text.size() || std::fflush(file_) != 0)
    throw_runtime("{}: writing a result line failed ({})", path_, std::strerror(errno));
}

}  // namespace aimc::dse
