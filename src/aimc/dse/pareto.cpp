#include "aimc/dse/pareto.h"

#include <cmath>

namespace aimc::dse {

std::optional<std::vector<double>> objective_values(const nlohmann::json& line,
                                                    const std::vector<Objective>& objectives) {
  if (line.contains("error") || !line.value("feasible", false) || !line.contains("metrics"))
    return std::nullopt;
  const nlohmann::json& metrics = line["metrics"];
  std::vector<double> values;
  for (const Objective& o : objectives) {
    auto it = metrics.find(o.metric);
    if (it == metrics.end() || !it->is_number()) return std::nullopt;
    const double v = it->get<double>();
    if (!std::isfinite(v)) return std::nullopt;
    values.push_back(v);
  }
  return values;
}

bool dominates(const std::vector<double>& a, const std::vector<double>& b,
               const std::vector<Objective>& objectives) {
  bool better = false;
  for (size_t i = 0; i < objectives.size(); ++i) {
    const bool max = objectives[i].goal == Goal::kMax;
    const double x = max ? a[i] : -a[i], y = max ? b[i] : -b[i];  // larger is better
    if (x < y) return false;
    if (x > y) better = true;
  }
  return better;
}

std::vector<size_t> pareto_front(const std::vector<nlohmann::json>& lines,
                                 const std::vector<Objective>& objectives) {
  std::vector<std::pair<size_t, std::vector<double>>> candidates;
  for (size_t i = 0; i < lines.size(); ++i)
    if (auto values = objective_values(lines[i], objectives)) candidates.emplace_back(i, *values);
  std::vector<size_t> front;
  for (const auto& [i, values] : candidates) {
    bool dominated = false;
    for (const auto& [j, other] : candidates)
      if (j != i && dominates(other, values, objectives)) {
        dominated = true;
        break;
      }
    if (!dominated) front.push_back(i);
  }
  return front;
}

}  // namespace aimc::dse
