#include "aimc/ir/graph.h"

#include <algorithm>
#include <functional>
#include <set>
#include <unordered_map>
#include <unordered_set>

namespace aimc::ir {

std::string sym_shape_str(const SymShape& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    if (shape[i].known()) {
      s += std::to_string(shape[i].value);
    } else {
      s += shape[i].symbol.empty() ? "?" : shape[i].symbol;
    }
  }
  return s + "]";
}

bool sym_shape_known(const SymShape& shape) {
  return std::all_of(shape.begin(), shape.end(), [](const Dim& d) { return d.known(); });
}

Shape to_shape(const SymShape& shape) {
  Shape out;
  out.reserve(shape.size());
  for (const Dim& d : shape) {
    AIMC_ASSERT(d.known(), "to_shape on a symbolic shape {}", sym_shape_str(shape));
    out.push_back(d.value);
  }
  return out;
}

SymShape to_sym_shape(const Shape& shape) {
  SymShape out;
  out.reserve(shape.size());
  for (int64_t d : shape) out.push_back(Dim::of(d));
  return out;
}

// ---- Node ----

namespace {

template <typename T>
const T* get_attr(const Node& node, const std::string& key, const char* type_name) {
  auto it = node.attrs.find(key);
  if (it == node.attrs.end()) return nullptr;
  const T* value = std::get_if<T>(&it->second);
  if (!value) throw_bad_input("{}: attribute '{}' must be {}", node.describe(), key, type_name);
  return value;
}

}  // namespace

int64_t Node::attr_int(const std::string& key, int64_t default_value) const {
  const auto* v = get_attr<int64_t>(*this, key, "an int");
  return v ? *v : default_value;
}

double Node::attr_float(const std::string& key, double default_value) const {
  auto it = attrs.find(key);
  if (it == attrs.end()) return default_value;
  if (const auto* i = std::get_if<int64_t>(&it->second)) return static_cast<double>(*i);
  const auto* v = get_attr<double>(*this, key, "a float");
  return *v;
}

std::string Node::attr_string(const std::string& key, const std::string& default_value) const {
  const auto* v = get_attr<std::string>(*this, key, "a string");
  return v ? *v : default_value;
}

std::vector<int64_t> Node::attr_ints(const std::string& key,
                                     const std::vector<int64_t>& default_value) const {
  const auto* v = get_attr<std::vector<int64_t>>(*this, key, "a list of ints");
  return v ? *v : default_value;
}

std::vector<double> Node::attr_floats(const std::string& key,
                                      const std::vector<double>& default_value) const {
  const auto* v = get_attr<std::vector<double>>(*this, key, "a list of floats");
  return v ? *v : default_value;
}

const Tensor& Node::attr_tensor(const std::string& key) const {
  const auto* v = get_attr<Tensor>(*this, key, "a tensor");
  if (!v) throw_bad_input("{}: missing required attribute '{}'", describe(), key);
  return *v;
}

int64_t Node::require_int(const std::string& key) const {
  if (!has_attr(key)) throw_bad_input("{}: missing required attribute '{}'", describe(), key);
  return attr_int(key, 0);
}

std::vector<int64_t> Node::require_ints(const std::string& key) const {
  if (!has_attr(key)) throw_bad_input("{}: missing required attribute '{}'", describe(), key);
  return attr_ints(key);
}

size_t Node::num_present_inputs() const {
  return static_cast<size_t>(
      std::count_if(inputs.begin(), inputs.end(), [](const Value* v) { return v != nullptr; }));
}

std::string Node::describe() const {
  return "node '" + name + "' (" + op + ")";
}

// ---- Graph ----

Value* Graph::add_value(const std::string& value_name) {
  if (value_by_name_.count(value_name))
    throw_bad_input("value name '{}' is defined twice", value_name);
  auto value = std::make_unique<Value>();
  value->name = value_name;
  Value* raw = value.get();
  values_.push_back(std::move(value));
  value_by_name_[value_name] = raw;
  return raw;
}

Value* Graph::add_constant(const std::string& value_name, Tensor tensor) {
  Value* v = add_value(value_name);
  v->dtype = tensor.dtype();
  v->dtype_known = true;
  v->shape = to_sym_shape(tensor.shape());
  v->constant = std::move(tensor);
  return v;
}

Node* Graph::add_node(const std::string& op, const std::string& node_name,
                      std::vector<Value*> node_inputs, std::vector<Value*> node_outputs) {
  std::string unique = node_name;
  if (unique.empty() || node_by_name_.count(unique))
    unique = make_unique_name(node_name.empty() ? op : node_name);
  auto node = std::make_unique<Node>();
  node->op = op;
  node->name = unique;
  node->inputs = std::move(node_inputs);
  node->outputs = std::move(node_outputs);
  for (Value* out : node->outputs) {
    if (!out) continue;
    if (out->producer || out->is_constant() ||
        std::find(inputs.begin(), inputs.end(), out) != inputs.end())
      throw_bad_input("value '{}' is produced twice (second time by node '{}')", out->name, unique);
    out->producer = node.get();
  }
  Node* raw = node.get();
  nodes_.push_back(std::move(node));
  node_by_name_[unique] = raw;
  return raw;
}

std::string Graph::make_unique_name(const std::string& base) {
  std::string stem = base.empty() ? "v" : base;
  for (;;) {
    std::string candidate = stem + "_" + std::to_string(unique_counter_++);
    if (!value_by_name_.count(candidate) && !node_by_name_.count(candidate)) return candidate;
  }
}

Value* Graph::find_value(const std::string& value_name) const {
  auto it = value_by_name_.find(value_name);
  return it == value_by_name_.end() ? nullptr : it->second;
}

Node* Graph::find_node(const std::string& node_name) const {
  auto it = node_by_name_.find(node_name);
  return it == node_by_name_.end() ? nullptr : it->second;
}

void Graph::replace_all_uses(Value* from, Value* to) {
  for (auto& node : nodes_) {
    for (Value*& in : node->inputs) {
      if (in == from) in = to;
    }
  }
  for (Value*& out : outputs) {
    if (out == from) out = to;
  }
}

std::vector<Node*> Graph::users(const Value* v) const {
  std::vector<Node*> result;
  for (const auto& node : nodes_) {
    if (std::find(node->inputs.begin(), node->inputs.end(), v) != node->inputs.end())
      result.push_back(node.get());
  }
  return result;
}

bool Graph::is_graph_output(const Value* v) const {
  return std::find(outputs.begin(), outputs.end(), v) != outputs.end();
}

void Graph::remove_nodes(const std::vector<Node*>& doomed) {
  std::unordered_set<const Node*> set(doomed.begin(), doomed.end());
  for (Node* n : doomed) {
    for (Value* out : n->outputs) {
      if (out && out->producer == n) out->producer = nullptr;
    }
    node_by_name_.erase(n->name);
  }
  std::erase_if(nodes_, [&](const std::unique_ptr<Node>& n) { return set.count(n.get()) != 0; });
}

void Graph::remove_dead() {
  // Mark live values backwards from the graph outputs.
  std::unordered_set<const Value*> live(outputs.begin(), outputs.end());
  std::vector<Node*> dead;
  for (size_t i = nodes_.size(); i-- > 0;) {
    Node* node = nodes_[i].get();
    bool used = std::any_of(node->outputs.begin(), node->outputs.end(),
                            [&](const Value* v) { return v && live.count(v); });
    if (!used) {
      dead.push_back(node);
      continue;
    }
    for (Value* in : node->inputs) {
      if (in) live.insert(in);
    }
    // A live node keeps all its outputs, read or not (a Dropout mask, an unread Split part).
    for (Value* out : node->outputs) {
      if (out) live.insert(out);
    }
  }
  remove_nodes(dead);
  for (Value* in : inputs) live.insert(in);
  std::vector<Value*> unused;
  for (auto& v : values_) {
    if (!live.count(v.get())) unused.push_back(v.get());
  }
  std::unordered_set<const Value*> unused_set(unused.begin(), unused.end());
  for (Value* v : unused) value_by_name_.erase(v->name);
  std::erase_if(values_,
                [&](const std::unique_ptr<Value>& v) { return unused_set.count(v.get()) != 0; });
}

void Graph::topo_sort() {
  std::unordered_map<const Node*, size_t> index;
  for (size_t i = 0; i < nodes_.size(); ++i) index[nodes_[i].get()] = i;
  std::vector<int> state(nodes_.size(), 0);  // 0 unvisited, 1 in progress, 2 done
  std::vector<std::unique_ptr<Node>> order;
  order.reserve(nodes_.size());
  std::vector<std::unique_ptr<Node>> old = std::move(nodes_);
  // Iterative DFS keeps deep graphs from overflowing the stack.
  for (size_t root = 0; root < old.size(); ++root) {
    if (state[root]) continue;
    std::vector<std::pair<size_t, size_t>> stack{{root, 0}};
    state[root] = 1;
    while (!stack.empty()) {
      auto& [i, next_input] = stack.back();
      Node* node = old[i].get();
      if (next_input < node->inputs.size()) {
        Value* in = node->inputs[next_input++];
        if (!in || !in->producer) continue;
        auto it = index.find(in->producer);
        if (it == index.end()) continue;
        size_t j = it->second;
        if (state[j] == 1) {
          nodes_ = std::move(old);
          throw_bad_input("the graph has a cycle through {}", node->describe());
        }
        if (state[j] == 0) {
          state[j] = 1;
          stack.emplace_back(j, 0);
        }
        continue;
      }
      state[i] = 2;
      order.push_back(std::move(old[i]));
      stack.pop_back();
    }
  }
  nodes_ = std::move(order);
}

std::unique_ptr<Graph> Graph::clone() const {
  auto copy = std::make_unique<Graph>();
  copy->name = name;
  copy->opset = opset;
  copy->unique_counter_ = unique_counter_;
  std::unordered_map<const Value*, Value*> map;
  for (const auto& v : values_) {
    Value* nv = copy->add_value(v->name);
    nv->dtype = v->dtype;
    nv->dtype_known = v->dtype_known;
    nv->shape = v->shape;
    nv->constant = v->constant;
    nv->origin = v->origin;
    map[v.get()] = nv;
  }
  for (const auto& n : nodes_) {
    std::vector<Value*> ins, outs;
    for (Value* in : n->inputs) ins.push_back(in ? map.at(in) : nullptr);
    for (Value* out : n->outputs) outs.push_back(out ? map.at(out) : nullptr);
    Node* nn = copy->add_node(n->op, n->name, std::move(ins), std::move(outs));
    nn->attrs = n->attrs;
  }
  for (Value* in : inputs) copy->inputs.push_back(map.at(in));
  for (Value* out : outputs) copy->outputs.push_back(map.at(out));
  return copy;
}

}  // namespace aimc::ir
