#include "aimc/ir/einsum.h"

#include <algorithm>

#include "aimc/core/error.h"

namespace aimc::ir {
namespace {

constexpr int kLetters = 52;  // 'A'-'Z' are 0-25, 'a'-'z' 26-51: ids ascend in ASCII order

// One term ("b...ij") as label ids with kEllipsis for "...".
std::vector<int> parse_term(const std::string& where, const std::string& equation,
                            const std::string& term) {
  std::vector<int> labels;
  bool ellipsis = false;
  for (size_t i = 0; i < term.size(); ++i) {
    char c = term[i];
    if (c == '.') {
      if (term.compare(i, 3, "...") != 0 || ellipsis)
        throw_bad_input("{}: equation '{}': '.' must come as one '...' per term", where, equation);
      ellipsis = true;
      labels.push_back(-1);
      i += 2;
    } else if (c >= 'A' && c <= 'Z') {
      labels.push_back(c - 'A');
    } else if (c >= 'a' && c <= 'z') {
      labels.push_back(26 + (c - 'a'));
    } else {
      throw_bad_input("{}: equation '{}': '{}' is not a letter, ',', '->' or '...'", where,
                      equation, c);
    }
  }
  return labels;
}

}  // namespace

EinsumEquation EinsumEquation::parse(const std::string& where, const std::string& equation,
                                     size_t operands) {
  std::string text;
  for (char c : equation)
    if (c != ' ') text += c;
  EinsumEquation eq;
  std::string lhs = text;
  size_t arrow = text.find("->");
  if (arrow != std::string::npos) {
    lhs = text.substr(0, arrow);
    eq.output_ = parse_term(where, equation, text.substr(arrow + 2));
  }
  size_t start = 0;
  while (true) {
    size_t comma = lhs.find(',', start);
    eq.terms_.push_back(parse_term(where, equation, lhs.substr(start, comma - start)));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  if (eq.terms_.size() != operands)
    throw_bad_input("{}: equation '{}' has {} operand terms but the node has {} inputs", where,
                    equation, eq.terms_.size(), operands);
  return eq;
}

EinsumPlan EinsumEquation::plan(const std::string& where,
                                const std::vector<std::vector<int64_t>>& shapes) const {
  // How many broadcast dimensions "..." stands for: the most any operand gives it.
  int64_t ellipsis_dims = 0;
  for (size_t o = 0; o < terms_.size(); ++o) {
    auto letters = static_cast<int64_t>(
        std::count_if(terms_[o].begin(), terms_[o].end(), [](int l) { return l >= 0; }));
    bool has_ellipsis = letters != static_cast<int64_t>(terms_[o].size());
    auto rank = static_cast<int64_t>(shapes[o].size());
    if (has_ellipsis ? rank < letters : rank != letters)
      throw_bad_input("{}: einsum operand {} has rank {} but its term names {} labels{}", where, o,
                      rank, letters, has_ellipsis ? " and '...'" : "");
    if (has_ellipsis) ellipsis_dims = std::max(ellipsis_dims, rank - letters);
  }
  const int labels = kLetters + static_cast<int>(ellipsis_dims);
  EinsumPlan plan;
  plan.label_sizes.assign(static_cast<size_t>(labels), -1);
  plan.strides.assign(terms_.size(), std::vector<int64_t>(static_cast<size_t>(labels), 0));
  std::vector<int> count(static_cast<size_t>(labels), 0);
  for (size_t o = 0; o < terms_.size(); ++o) {
    const std::vector<int64_t>& shape = shapes[o];
    auto letters = static_cast<int64_t>(
        std::count_if(terms_[o].begin(), terms_[o].end(), [](int l) { return l >= 0; }));
    int64_t own_ellipsis = static_cast<int64_t>(shape.size()) - letters;
    // Row-major strides of the operand.
    std::vector<int64_t> stride(shape.size(), 1);
    for (size_t d = shape.size(); d-- > 1;) stride[d - 1] = stride[d] * shape[d];
    size_t dim = 0;
    for (int label : terms_[o]) {
      std::vector<int> ids;
      if (label >= 0) {
        ids.push_back(label);
      } else {
        for (int64_t j = 0; j < own_ellipsis; ++j)
          ids.push_back(kLetters + static_cast<int>(ellipsis_dims - own_ellipsis + j));
      }
      for (int id : ids) {
        int64_t size = shape[dim];
        int64_t& known = plan.label_sizes[static_cast<size_t>(id)];
        bool broadcast = id >= kLetters;
        if (known < 0 || (broadcast && known == 1)) {
          known = size;
        } else if (size != known && !(broadcast && size == 1)) {
          throw_bad_input("{}: einsum operand {} has size {} where the label has size {}", where, o,
                          size, known);
        }
        if (size != 1 || !broadcast) plan.strides[o][static_cast<size_t>(id)] += stride[dim];
        ++count[static_cast<size_t>(id)];
        ++dim;
      }
    }
  }
  // A broadcast dimension of size 1 in one operand and n in another steps only the latter.
  for (int id = kLetters; id < labels; ++id)
    for (size_t o = 0; o < terms_.size(); ++o)
      if (plan.label_sizes[static_cast<size_t>(id)] == 1)
        plan.strides[o][static_cast<size_t>(id)] = 0;
  if (output_) {
    std::vector<bool> seen(static_cast<size_t>(labels), false);
    for (int label : *output_) {
      if (label < 0) {
        for (int id = kLetters; id < labels; ++id) plan.output_labels.push_back(id);
        continue;
      }
      if (count[static_cast<size_t>(label)] == 0)
        throw_bad_input("{}: einsum output label '{}' is not in any operand", where,
                        static_cast<char>(label < 26 ? 'A' + label : 'a' + label - 26));
      if (seen[static_cast<size_t>(label)])
        throw_bad_input("{}: einsum output repeats label '{}'", where,
                        static_cast<char>(label < 26 ? 'A' + label : 'a' + label - 26));
      seen[static_cast<size_t>(label)] = true;
      plan.output_labels.push_back(label);
    }
  } else {
    for (int id = kLetters; id < labels; ++id) plan.output_labels.push_back(id);
    for (int id = 0; id < kLetters; ++id)
      if (count[static_cast<size_t>(id)] == 1) plan.output_labels.push_back(id);
  }
  for (int id = 0; id < labels; ++id)
    if (count[static_cast<size_t>(id)] > 0 &&
        std::find(plan.output_labels.begin(), plan.output_labels.end(), id) ==
            plan.output_labels.end())
      plan.summed_labels.push_back(id);
  for (int id : plan.output_labels)
    plan.output_dims.push_back(plan.label_sizes[static_cast<size_t>(id)]);
  return plan;
}

}  // namespace aimc::ir
