// Test helper shared by the device and analog suites: a noise/ADC model slot of the
// architecture (arch::ModelConfig) in one expression.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "aimc/arch/architecture.h"

namespace aimc::test {

inline arch::ModelConfig model(std::string name, std::map<std::string, double> params = {},
                               std::vector<double> coefficients = {}) {
  arch::ModelConfig config;
  config.model = std::move(name);
  config.params = std::move(params);
  config.coefficients = std::move(coefficients);
  return config;
}

}  // namespace aimc::test
