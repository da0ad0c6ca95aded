// Einsum equations (ONNX Einsum, opset 12+): parsing, checking against operand shapes, and the
// plan both the shape function and the kernel use. Labels are letters; "..." stands for the
// broadcast dimensions every operand may have in front of (or among) its labels. Without
// "->", the output is the ellipsis dimensions, then the labels that occur once, in ASCII order.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace aimc::ir {

struct EinsumPlan {
  std::vector<int64_t> output_dims;
  std::vector<int> output_labels;    // label ids, in output order
  std::vector<int> summed_labels;    // the contracted label ids
  std::vector<int64_t> label_sizes;  // by label id (-1 when unused)
  // strides[operand][label]: elements to step in that operand per step of the label (0 when
  // the operand lacks it or broadcasts it; the sum of both axes' strides for a diagonal).
  std::vector<std::vector<int64_t>> strides;
};

class EinsumEquation {
 public:
  // Throws Error(kBadInput) naming `where` for a malformed equation or a wrong operand count.
  static EinsumEquation parse(const std::string& where, const std::string& equation,
                              size_t operands);
  // Throws Error(kBadInput) naming `where` when the shapes do not fit the equation.
  EinsumPlan plan(const std::string& where, const std::vector<std::vector<int64_t>>& shapes) const;

 private:
  static constexpr int kEllipsis = -1;
  std::vector<std::vector<int>> terms_;     // per operand: label ids, kEllipsis for "..."
  std::optional<std::vector<int>> output_;  // explicit output, when the equation has "->"
};

}  // namespace aimc::ir
