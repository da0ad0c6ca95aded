#include "aimc/frontend/xgboost_import.h"

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "aimc/core/error.h"

namespace aimc::frontend {

namespace {

using nlohmann::json;

// Reads one JSON tree; every error names the source and the JSON path at fault.
class Reader {
 public:
  explicit Reader(std::string source) : source_(std::move(source)) {}

  template <typename... Args>
  [[noreturn]] void fail(fmt::format_string<Args...> format, Args&&... args) const {
    throw_bad_input("{}: {}", source_, fmt::format(format, std::forward<Args>(args)...));
  }

  const json& at(const json& parent, const char* key, const std::string& path) const {
    if (!parent.is_object()) fail("{}: expected an object", path);
    auto it = parent.find(key);
    if (it == parent.end()) fail("{}.{}: missing", path, key);
    return *it;
  }

  std::string string_at(const json& parent, const char* key, const std::string& path) const {
    const json& value = at(parent, key, path);
    if (!value.is_string()) fail("{}.{}: expected a string", path, key);
    return value.get<std::string>();
  }

  // learner_model_param holds numbers as strings ("5E-1").
  double number_string(const json& parent, const char* key, const std::string& path) const {
    const json& value = at(parent, key, path);
    if (value.is_number()) return value.get<double>();
    if (!value.is_string()) fail("{}.{}: expected a number", path, key);
    std::string text = value.get<std::string>();
    char* end = nullptr;
    double number = std::strtod(text.c_str(), &end);
    if (text.empty() || *end != '\0' || !std::isfinite(number))
      fail("{}.{}: \"{}\" is not a number", path, key, text);
    return number;
  }

  template <typename T>
  std::vector<T> array_at(const json& parent, const char* key, const std::string& path,
                          size_t expected_size) const {
    const json& value = at(parent, key, path);
    if (!value.is_array()) fail("{}.{}: expected an array", path, key);
    if (value.size() != expected_size)
      fail("{}.{}: {} entries, expected {}", path, key, value.size(), expected_size);
    std::vector<T> out;
    out.reserve(value.size());
    for (const json& item : value) {
      if (item.is_boolean()) {
        out.push_back(static_cast<T>(item.get<bool>()));
      } else if (item.is_number()) {
        out.push_back(static_cast<T>(item.get<double>()));
      } else {
        fail("{}.{}: expected numbers", path, key);
      }
    }
    return out;
  }

 private:
  std::string source_;
};

ir::Tree read_tree(const Reader& reader, const json& tree_json, const std::string& path,
                   int32_t num_feature) {
  int64_t nodes = 0;
  {
    const json& param = reader.at(tree_json, "tree_param", path);
    nodes = static_cast<int64_t>(reader.number_string(param, "num_nodes", path + ".tree_param"));
    if (nodes < 1) reader.fail("{}.tree_param.num_nodes: {} is not positive", path, nodes);
  }
  size_t n = static_cast<size_t>(nodes);
  auto left = reader.array_at<int64_t>(tree_json, "left_children", path, n);
  auto right = reader.array_at<int64_t>(tree_json, "right_children", path, n);
  auto conditions = reader.array_at<double>(tree_json, "split_conditions", path, n);
  auto indices = reader.array_at<int64_t>(tree_json, "split_indices", path, n);
  auto default_left = reader.array_at<int64_t>(tree_json, "default_left", path, n);
  if (tree_json.contains("split_type")) {
    auto split_type = reader.array_at<int64_t>(tree_json, "split_type", path, n);
    for (size_t i = 0; i < n; ++i)
      if (split_type[i] != 0)
        reader.fail("{}: node {} is a categorical split, which aimc does not support", path, i);
  }
  if (tree_json.contains("categories_nodes") && tree_json["categories_nodes"].is_array() &&
      !tree_json["categories_nodes"].empty())
    reader.fail("{}: categorical splits are not supported", path);

  ir::Tree tree;
  tree.nodes.resize(n);
  std::vector<int> parents(n, 0);
  for (size_t i = 0; i < n; ++i) {
    ir::TreeNode& node = tree.nodes[i];
    if (left[i] == -1) {
      if (right[i] != -1) reader.fail("{}: node {} has one child", path, i);
      node.leaf = static_cast<float>(conditions[i]);
      continue;
    }
    if (left[i] <= static_cast<int64_t>(i) || right[i] <= static_cast<int64_t>(i) ||
        left[i] >= nodes || right[i] >= nodes)
      reader.fail("{}: node {} has children ({}, {}) out of order or range [{}, {})", path, i,
                  left[i], right[i], i + 1, nodes);
    if (indices[i] < 0 || indices[i] >= num_feature)
      reader.fail("{}: node {} splits on feature {}, outside [0, {})", path, i, indices[i],
                  num_feature);
    node.feature = static_cast<int32_t>(indices[i]);
    node.threshold = static_cast<float>(conditions[i]);
    node.left = static_cast<int32_t>(left[i]);
    node.right = static_cast<int32_t>(right[i]);
    node.default_left = default_left[i] != 0;
    if (++parents[node.left] > 1 || ++parents[node.right] > 1)
      reader.fail("{}: node {} shares a child with another node", path, i);
  }
  return tree;
}

}  // namespace

ir::TreeEnsemble parse_xgboost(const std::string& json_text, const std::string& source) {
  json root;
  try {
    root = json::parse(json_text);
  } catch (const json::exception& e) {  // parse errors and numbers out of range (1e999)
    throw_bad_input("{}: not valid JSON ({})", source, e.what());
  }
  Reader reader(source);
  const json& learner = reader.at(root, "learner", "(root)");
  const json& booster = reader.at(learner, "gradient_booster", "learner");
  std::string booster_name = reader.string_at(booster, "name", "learner.gradient_booster");
  if (booster_name != "gbtree")
    reader.fail("learner.gradient_booster.name: booster \"{}\" is not supported (only gbtree)",
                booster_name);

  ir::TreeEnsemble ensemble;
  std::string objective =
      reader.string_at(reader.at(learner, "objective", "learner"), "name", "learner.objective");
  if (objective == "binary:logistic") {
    ensemble.objective = ir::TreeObjective::kBinaryLogistic;
  } else if (objective == "multi:softprob") {
    ensemble.objective = ir::TreeObjective::kMultiSoftprob;
  } else if (objective == "reg:squarederror") {
    ensemble.objective = ir::TreeObjective::kRegSquaredError;
  } else {
    reader.fail(
        "learner.objective.name: objective \"{}\" is not supported (binary:logistic, "
        "multi:softprob, reg:squarederror)",
        objective);
  }

  const json& param = reader.at(learner, "learner_model_param", "learner");
  const std::string param_path = "learner.learner_model_param";
  ensemble.base_score = static_cast<float>(reader.number_string(param, "base_score", param_path));
  double num_feature = reader.number_string(param, "num_feature", param_path);
  double num_class = reader.number_string(param, "num_class", param_path);
  if (num_feature < 1 || num_feature > 1e7)
    reader.fail("{}.num_feature: {} is out of range", param_path, num_feature);
  ensemble.num_feature = static_cast<int32_t>(num_feature);
  if (param.contains("num_target") && reader.number_string(param, "num_target", param_path) > 1)
    reader.fail("{}.num_target: multi-target models are not supported", param_path);
  if (ensemble.objective == ir::TreeObjective::kMultiSoftprob) {
    if (num_class < 2 || num_class > 65536)
      reader.fail("{}.num_class: {} is out of range [2, 65536]", param_path, num_class);
    ensemble.num_class = static_cast<int32_t>(num_class);
  } else if (num_class > 1) {
    reader.fail("{}.num_class: {} classes with objective {}", param_path, num_class, objective);
  }
  if (ensemble.objective == ir::TreeObjective::kBinaryLogistic &&
      !(ensemble.base_score > 0 && ensemble.base_score < 1))
    reader.fail("{}.base_score: {} is not a probability in (0, 1)", param_path,
                ensemble.base_score);

  const json& model = reader.at(booster, "model", "learner.gradient_booster");
  const std::string model_path = "learner.gradient_booster.model";
  const json& trees = reader.at(model, "trees", model_path);
  if (!trees.is_array()) reader.fail("{}.trees: expected an array", model_path);
  auto tree_info = reader.array_at<int64_t>(model, "tree_info", model_path, trees.size());
  for (size_t t = 0; t < trees.size(); ++t) {
    std::string path = fmt::format("{}.trees[{}]", model_path, t);
    ensemble.trees.push_back(read_tree(reader, trees[t], path, ensemble.num_feature));
    if (tree_info[t] < 0 || tree_info[t] >= ensemble.num_class)
      reader.fail("{}.tree_info[{}]: class {} outside [0, {})", model_path, t, tree_info[t],
                  ensemble.num_class);
    ensemble.tree_class.push_back(static_cast<int32_t>(tree_info[t]));
  }
  return ensemble;
}

ir::TreeEnsemble load_xgboost(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw_bad_input("{}: cannot open the model file", path);
  std::stringstream text;
  text << in.rdbuf();
  return parse_xgboost(text.str(), path);
}

}  // namespace aimc::frontend
