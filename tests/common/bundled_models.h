// Test helper shared by the suites that run once per bundled model (models/*.onnx).
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

namespace aimc::test {

// "vit-fmnist" -> "vit_fmnist": GoogleTest's parameterised test names allow [A-Za-z0-9_].
struct BundledModelName {
  std::string operator()(const ::testing::TestParamInfo<std::string>& info) const {
    std::string name = info.param;
    std::replace(name.begin(), name.end(), '-', '_');
    return name;
  }
};

}  // namespace aimc::test
