// Pareto fronts over a sweep's objectives: a point is on the front when no other feasible
// point is at least as good in every objective and better in one.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <optional>
#include <vector>

#include "aimc/dse/sweep_spec.h"

namespace aimc::dse {

// The objective values of a result line, or nullopt when the point failed, is infeasible or
// lacks a finite value for one of them (it takes no part in the front).
std::optional<std::vector<double>> objective_values(const nlohmann::json& line,
                                                    const std::vector<Objective>& objectives);

// true when a is at least as good as b in every objective and better in one.
bool dominates(const std::vector<double>& a, const std::vector<double>& b,
               const std::vector<Objective>& objectives);

// Indices into `lines` of the points on the front, in `lines` order. Equal points are all
// kept (neither dominates the other).
std::vector<size_t> pareto_front(const std::vector<nlohmann::json>& lines,
                                 const std::vector<Objective>& objectives);

}  // namespace aimc::dse
