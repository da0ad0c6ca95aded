// The results file of a sweep (docs/sweep.md): JSON Lines, a header line that names the sweep,
// then one line per finished point. Lines are written whole and flushed one by one, so a
// killed run leaves complete lines (and at worst one cut line at the end, which a reader
// drops); a rerun keeps what is there and runs the rest.
#pragma once

#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "aimc/dse/sweep_spec.h"

namespace aimc::dse {

struct ResultsFile {
  nlohmann::json header;               // null when the file does not exist or is empty
  std::vector<nlohmann::json> points;  // point lines, in file order
  std::vector<std::string> warnings;   // lines dropped (a cut last line), one message each
};

// Error(kBadInput) when the file cannot be read, or holds something else than a sweep's
// results (its first line is not a sweep header, a line in the middle is not JSON).
ResultsFile read_results(const std::string& path);

nlohmann::json header_json(const SweepSpec& spec, int64_t points);

// The objectives and constraints a header records (what the report and --pareto use).
std::vector<Objective> header_objectives(const nlohmann::json& header);
std::vector<Constraint> header_constraints(const nlohmann::json& header);

// Sets line["feasible"] and line["violated"] (the texts of the constraints it breaks): a
// point that failed, or lacks a constrained metric, is not feasible.
void apply_constraints(nlohmann::json& line, const std::vector<Constraint>& constraints);

// Writes `header` and `lines` to a staging file beside `path` and renames it over `path`.
void write_results_atomically(const std::string& path, const nlohmann::json& header,
                              const std::vector<nlohmann::json>& lines);

// Appends lines to an existing results file, each written whole and flushed.
class ResultsAppender {
 public:
  explicit ResultsAppender(const std::string& path);
  ~ResultsAppender();
  ResultsAppender(const ResultsAppender&) = delete;
  ResultsAppender& operator=(const ResultsAppender&) = delete;
  void append(const nlohmann::json& line);  // Error(kRuntime) when the write fails

 private:
  std::string path_;
  std::FILE* file_ = nullptr;
};

}  // namespace aimc::dse
