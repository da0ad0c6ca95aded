// Statistics over chip instances (trials), as `aimc eval --arch`, `aimc trees eval` and the
// library API (api/) report them: mean, sample standard deviation (n - 1), min and max; and
// their JSON form, written the same way by every command.
#pragma once

#include <algorithm>
#include <cmath>
#include <functional>
#include <nlohmann/json.hpp>
#include <vector>

namespace aimc::report {

struct TrialSummary {
  double mean = 0, std = 0, min = 0, max = 0;
};

// std is 0 for a single value; when every value is equal, mean is that value exactly and std
// is 0 (no rounding residue from the sums).
inline TrialSummary summarize_trials(const std::vector<double>& values) {
  TrialSummary s;
  if (values.empty()) return s;
  s.min = *std::min_element(values.begin(), values.end());
  s.max = *std::max_element(values.begin(), values.end());
  if (std::adjacent_find(values.begin(), values.end(), std::not_equal_to<>()) == values.end()) {
    s.mean = values.front();
    return s;
  }
  for (double v : values) s.mean += v;
  s.mean /= static_cast<double>(values.size());
  double squares = 0;
  for (double v : values) squares += (v - s.mean) * (v - s.mean);
  s.std = std::sqrt(squares / static_cast<double>(values.size() - 1));
  return s;
}

inline nlohmann::json trial_summary_json(const TrialSummary& s) {
  return {{"mean", s.mean}, {"std", s.std}, {"min", s.min}, {"max", s.max}};
}

// JSON has no infinity: a value that is not finite (an error-free layer's SNR) is null.
inline nlohmann::json finite_or_null(double value) {
  return std::isfinite(value) ? nlohmann::json(value) : nlohmann::json();
}

}  // namespace aimc::report
