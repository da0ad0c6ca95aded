// Helpers the passes share for matching small patterns and rewriting them. Internal to
// passes/: not part of the module's interface.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "aimc/core/tensor.h"
#include "aimc/ir/graph.h"

namespace aimc::passes::detail {

// The one node that reads `v`, or nullptr when v has no user, several users, or is a graph
// output (its value must then survive a fusion, so it is not an intermediate).
ir::Node* single_user(const ir::Graph& graph, const ir::Value* v);

// True when `v` is read by no node and is not a graph output.
bool is_unused(const ir::Graph& graph, const ir::Value* v);

// For a node with two inputs, the input that is not `v` (nullptr when v is not an input or
// is both).
ir::Value* other_operand(const ir::Node& node, const ir::Value* v);

// The rank of v when known, else -1.
int64_t known_rank(const ir::Value* v);

// The value of a constant holding one number (any rank, any dtype); nullopt otherwise.
// A constant of rank r broadcast against an activation of rank < r would grow the result's
// rank, so the constant's rank must not exceed `max_rank`.
std::optional<double> scalar_constant(const ir::Value* v, int64_t max_rank);

// scalar_constant(v, max_rank) is within `rel_tol` (relative) of `expected`.
bool is_scalar_near(const ir::Value* v, double expected, int64_t max_rank, double rel_tol = 1e-4);

// The rank limit for a scalar constant combined with activation `x` (its rank, or 1 when the
// rank is unknown: then only rank-0 and rank-1 constants are accepted).
int64_t scalar_rank_limit(const ir::Value* x);

// A constant that, broadcast against a [..., channels] activation of rank `activation_rank`
// (-1: unknown), adds or multiplies along the last axis only: shape [C] or [1, ..., 1, C]
// with C == channels or C == 1. Returns it as an f32 vector [channels]; nullopt when the
// constant does not have that form (or channels is unknown and C == 1).
std::optional<Tensor> last_axis_vector(const ir::Value* v, int64_t activation_rank,
                                       const ir::Dim& channels);

// A name for the node that replaces `matched`: their common "/"-separated prefix (the
// PyTorch module path, e.g. "/encoder/layer.0/ln/") followed by `op`, or else the name of
// the last matched node, which produced the pattern's result.
// The origin of a constant derived from `source` as (transposed source)·scale + shift, for
// ir::Value::origin: nullopt when `source` is not a constant, when its element count differs
// from `numel` (a broadcast scalar), or when it is itself derived in a way that does not
// compose (only an identity derivation passes an origin on).
std::optional<ir::ConstantOrigin> derived_origin(const ir::Value* source, int64_t numel,
                                                 bool transposed = false,
                                                 std::vector<double> scale = {1.0},
                                                 std::vector<double> shift = {0.0});

std::string fused_name(const std::vector<ir::Node*>& matched, const std::string& op);

// Removes the matched nodes and adds one node that computes their result into `result`
// (the last matched node's output value, so its name, shape and graph-output status are
// kept). The caller must have checked that the other matched outputs have no user outside
// the pattern. Call graph.topo_sort() once the pass is done.
ir::Node* replace_with_node(ir::Graph& graph, const std::vector<ir::Node*>& matched,
                            const std::string& op, const std::string& name,
                            std::vector<ir::Value*> inputs, ir::Value* result);

// Graph::remove_dead(), except that unused outputs of live nodes (a Dropout mask, MaxPool
// Indices, a Split part nobody reads) are kept: remove_dead() would delete those values while
// their producer still points to them. Returns how many nodes and values were removed.
int remove_dead_keeping_live_outputs(ir::Graph& graph);

}  // namespace aimc::passes::detail
