#include "aimc/ir/parser.h"

#include <fmt/format.h>

#include <bit>
#include <charconv>
#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>

#include "aimc/ir/op_registry.h"
#include "aimc/ir/text_syntax.h"

namespace aimc::ir {

namespace {

enum class TokenKind { kEnd, kWord, kString, kRef, kPunct };

struct Token {
  TokenKind kind = TokenKind::kEnd;
  std::string text;  // the word, the unquoted string, the name after the sigil, the punctuation
  char sigil = 0;    // '%' or '@' for kRef
  size_t pos = 0;

  bool is(const char* punct) const { return kind == TokenKind::kPunct && text == punct; }
  bool is_word(const char* word) const { return kind == TokenKind::kWord && text == word; }
};

std::string describe(const Token& token) {
  switch (token.kind) {
    case TokenKind::kEnd:
      return "the end of the text";
    case TokenKind::kWord:
      return "'" + token.text + "'";
    case TokenKind::kString:
      return "a string";
    case TokenKind::kRef:
      return fmt::format("'{}{}'", token.sigil, token.text);
    case TokenKind::kPunct:
      return "'" + token.text + "'";
  }
  return "?";
}

std::optional<DType> dtype_by_name(std::string_view name) {
  for (int i = 0; i <= static_cast<int>(DType::kU64); ++i) {
    auto dtype = static_cast<DType>(i);
    if (name == dtype_name(dtype)) return dtype;
  }
  return std::nullopt;
}

bool same_type(const Value& a, const Value& b) {
  return a.dtype_known == b.dtype_known && (!a.dtype_known || a.dtype == b.dtype) &&
         a.shape == b.shape;
}

std::string type_text(const Value& v) {
  return std::string(v.dtype_known ? dtype_name(v.dtype) : "?") +
         (v.shape ? sym_shape_str(*v.shape) : "[*]");
}

// A result or a graph output before it is resolved to a Value.
struct TypedRef {
  Token ref;
  Value type;  // only dtype, dtype_known and shape are used
};

// An attribute list written `[]` before the op's schema says what it holds.
struct EmptyList {};

class Parser {
 public:
  Parser(std::string_view text, std::string source, const ParseOptions& options)
      : text_(text), source_(std::move(source)), options_(options) {}

  std::unique_ptr<Graph> parse();

 private:
  // ---- errors ----
  std::string location(size_t pos) const {
    size_t line = 1, line_start = 0;
    for (size_t i = 0; i < pos && i < text_.size(); ++i) {
      if (text_[i] == '\n') {
        ++line;
        line_start = i + 1;
      }
    }
    return fmt::format("{}:{}:{}", source_, line, pos - line_start + 1);
  }
  template <typename... Args>
  [[noreturn]] void fail(size_t pos, fmt::format_string<Args...> format, Args&&... args) const {
    throw_bad_input("{}: {}", location(pos), fmt::format(format, std::forward<Args>(args)...));
  }
  [[noreturn]] void expected(const char* what, const Token& found) const {
    fail(found.pos, "expected {}, found {}", what, describe(found));
  }

  // ---- lexing ----
  void skip_space_and_comments();
  std::string lex_string(size_t& pos) const;
  Token lex();
  Token peek() {
    size_t saved = pos_;
    Token token = lex();
    pos_ = saved;
    return token;
  }
  void expect(const char* punct, const char* what) {
    Token token = lex();
    if (!token.is(punct)) expected(what, token);
  }
  std::string node_name_on_this_line();

  // ---- grammar ----
  std::string parse_name(const char* what);
  void parse_type(Value& into);
  Dim parse_dim();
  Tensor parse_tensor_values(DType dtype, const Shape& shape, const Token& at,
                             const std::string& what);
  Tensor zero_placeholder(DType dtype, const Shape& shape, const Token& at,
                          const std::string& what);
  void parse_inputs();
  std::vector<TypedRef> parse_typed_refs(bool allow_none);
  void parse_constant();
  void parse_node();
  std::vector<Value*> parse_operands();
  std::map<std::string, AttrValue> parse_attrs(const std::string& op);
  std::variant<AttrValue, EmptyList> parse_attr_value();
  std::variant<AttrValue, EmptyList> parse_attr_list();
  Value* resolve(const Token& ref) const;
  void resolve_outputs(const std::vector<TypedRef>& outputs);

  std::string_view text_;
  std::string source_;
  ParseOptions options_;
  size_t pos_ = 0;
  std::unique_ptr<Graph> graph_ = std::make_unique<Graph>();
  std::vector<std::pair<const Node*, size_t>> node_positions_;  // where each node's op is
};

void Parser::skip_space_and_comments() {
  while (pos_ < text_.size()) {
    char c = text_[pos_];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      ++pos_;
    } else if (text_.substr(pos_, 2) == "//") {
      size_t end = text_.find('\n', pos_);
      pos_ = end == std::string_view::npos ? text_.size() : end;
    } else {
      break;
    }
  }
}

std::string Parser::lex_string(size_t& pos) const {
  size_t start = pos++;
  std::string out;
  while (pos < text_.size() && text_[pos] != '"') {
    char c = text_[pos++];
    if (c == '\n') break;
    if (c != '\\') {
      out += c;
      continue;
    }
    if (pos >= text_.size()) break;
    char escape = text_[pos++];
    if (escape == 'n') {
      out += '\n';
    } else if (escape == 't') {
      out += '\t';
    } else if (escape == '"' || escape == '\\') {
      out += escape;
    } else if (escape == 'x') {
      unsigned value = 0;
      auto [end, ec] = std::from_chars(text_.data() + pos,
                                       text_.data() + std::min(pos + 2, text_.size()), value, 16);
      if (ec != std::errc() || end != text_.data() + pos + 2)
        fail(pos - 2, "expected two hex digits after \\x");
      out += static_cast<char>(value);
      pos += 2;
    } else {
      fail(pos - 2, "unknown escape '\\{}' in a string (use \\\" \\\\ \\n \\t or \\xHH)", escape);
    }
  }
  if (pos >= text_.size() || text_[pos] != '"') fail(start, "unterminated string");
  ++pos;
  return out;
}

Token Parser::lex() {
  skip_space_and_comments();
  Token token;
  token.pos = pos_;
  if (pos_ >= text_.size()) return token;
  char c = text_[pos_];
  if (c == '%' || c == '@') {
    token.kind = TokenKind::kRef;
    token.sigil = c;
    ++pos_;
    if (pos_ < text_.size() && text_[pos_] == '"') {
      token.text = lex_string(pos_);
      return token;
    }
    size_t length = text::bare_word_length(text_, pos_);
    if (length == 0) fail(token.pos, "expected a name after '{}'", c);
    token.text = std::string(text_.substr(pos_, length));
    pos_ += length;
    return token;
  }
  if (c == '"') {
    token.kind = TokenKind::kString;
    token.text = lex_string(pos_);
    return token;
  }
  if (text_.substr(pos_, 2) == "->") {
    token.kind = TokenKind::kPunct;
    token.text = "->";
    pos_ += 2;
    return token;
  }
  if (std::strchr("()[]{},=:?<>*", c) && c != '\0') {
    token.kind = TokenKind::kPunct;
    token.text = std::string(1, c);
    ++pos_;
    return token;
  }
  size_t length = text::bare_word_length(text_, pos_);
  if (length == 0) {
    auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x20 && byte < 0x7f) fail(pos_, "unexpected character '{}'", c);
    fail(pos_, "unexpected byte 0x{:02x}", byte);
  }
  token.kind = TokenKind::kWord;
  token.text = std::string(text_.substr(pos_, length));
  pos_ += length;
  return token;
}

// The node's name: what follows "// " to the end of the line, or a quoted string there.
std::string Parser::node_name_on_this_line() {
  size_t pos = pos_;
  while (pos < text_.size() && (text_[pos] == ' ' || text_[pos] == '\t')) ++pos;
  if (text_.substr(pos, 2) != "//") return "";
  pos += 2;
  if (pos < text_.size() && text_[pos] == ' ') ++pos;
  size_t end = text_.find('\n', pos);
  if (end == std::string_view::npos) end = text_.size();
  if (pos < end && text_[pos] == '"') {
    std::string name = lex_string(pos);
    while (pos < end && (text_[pos] == ' ' || text_[pos] == '\t' || text_[pos] == '\r')) ++pos;
    if (pos != end) fail(pos, "expected the end of the line after the node's quoted name");
    pos_ = end;
    return name;
  }
  std::string name(text_.substr(pos, end - pos));
  if (!name.empty() && name.back() == '\r') name.pop_back();
  pos_ = end;
  return name;
}

std::string Parser::parse_name(const char* what) {
  Token token = lex();
  if (token.kind != TokenKind::kWord && token.kind != TokenKind::kString) expected(what, token);
  return token.text;
}

Dim Parser::parse_dim() {
  Token token = lex();
  if (token.is("?")) return Dim{};
  if (token.kind == TokenKind::kString) return Dim::symbolic(token.text);
  if (token.kind != TokenKind::kWord) expected("a dimension (a size, a symbol or ?)", token);
  char first = token.text[0];
  if (first >= '0' && first <= '9') {
    int64_t value = 0;
    auto [end, ec] =
        std::from_chars(token.text.data(), token.text.data() + token.text.size(), value);
    if (ec != std::errc() || end != token.text.data() + token.text.size())
      fail(token.pos, "expected a dimension size (a non-negative integer), found '{}'", token.text);
    return Dim::of(value);
  }
  if (first == '-' || first == '+' || first == '.')
    fail(token.pos, "expected a dimension (a size, a symbol or ?), found '{}'", token.text);
  return Dim::symbolic(token.text);
}

// DTYPE[DIMS] | DTYPE[*] with DTYPE a dtype name or '?'.
void Parser::parse_type(Value& into) {
  Token dtype = lex();
  if (dtype.is("?")) {
    into.dtype_known = false;
  } else if (dtype.kind == TokenKind::kWord && dtype_by_name(dtype.text)) {
    into.dtype = *dtype_by_name(dtype.text);
    into.dtype_known = true;
  } else {
    expected("a type (f32, i64, ... or ?)", dtype);
  }
  expect("[", "'[' after the dtype");
  if (peek().is("*")) {
    lex();
    expect("]", "']' after '*'");
    into.shape.reset();
    return;
  }
  SymShape shape;
  if (peek().is("]")) {
    lex();
  } else {
    for (;;) {
      shape.push_back(parse_dim());
      Token token = lex();
      if (token.is("]")) break;
      if (!token.is(",")) expected("',' or ']' in the shape", token);
    }
  }
  into.shape = std::move(shape);
}

void Parser::parse_inputs() {
  expect("(", "'(' after the graph's name");
  if (peek().is(")")) {
    lex();
    return;
  }
  for (;;) {
    Token ref = lex();
    if (ref.kind != TokenKind::kRef || ref.sigil != '%')
      expected("a graph input (%name: type)", ref);
    expect(":", "':' and the input's type");
    if (graph_->find_value(ref.text)) fail(ref.pos, "value %{} is defined twice", ref.text);
    Value* input = graph_->add_value(ref.text);
    parse_type(*input);
    graph_->inputs.push_back(input);
    Token token = lex();
    if (token.is(")")) return;
    if (!token.is(",")) expected("',' or ')' after a graph input", token);
  }
}

// (%name: type | @name: type | none), ... up to (not including) the token that ends them.
std::vector<TypedRef> Parser::parse_typed_refs(bool allow_none) {
  std::vector<TypedRef> refs;
  for (;;) {
    Token ref = lex();
    TypedRef typed;
    typed.ref = ref;
    if (allow_none && ref.is_word("none")) {
      typed.ref.kind = TokenKind::kWord;
    } else {
      if (ref.kind != TokenKind::kRef) expected("a value (%name: type)", ref);
      expect(":", "':' and the value's type");
      parse_type(typed.type);
    }
    refs.push_back(std::move(typed));
    if (!peek().is(",")) return refs;
    lex();
  }
}

Value* Parser::resolve(const Token& ref) const {
  Value* value = graph_->find_value(ref.text);
  if (!value) fail(ref.pos, "{}{} is not defined before this use", ref.sigil, ref.text);
  if (ref.sigil == '%' && value->is_constant())
    fail(ref.pos, "%{} is a constant: write @{}", ref.text, ref.text);
  if (ref.sigil == '@' && !value->is_constant())
    fail(ref.pos, "@{} is not a constant: write %{}", ref.text, ref.text);
  return value;
}

namespace {

int64_t checked_numel(const Shape& shape) {
  int64_t numel = 1;
  for (int64_t dim : shape) {
    if (dim == 0) return 0;
  }
  for (int64_t dim : shape) {
    if (numel > std::numeric_limits<int64_t>::max() / dim) return -1;
    numel *= dim;
  }
  return numel;
}

// Reads one element of `dtype` from `word` into `out`; false when it is not one.
template <typename T>
bool read_integer(const std::string& word, T& out) {
  if constexpr (std::is_same_v<T, bool>) {
    if (word != "0" && word != "1") return false;
    out = word == "1";
    return true;
  } else {
    auto [end, ec] = std::from_chars(word.data(), word.data() + word.size(), out);
    return ec == std::errc() && end == word.data() + word.size();
  }
}

template <typename Bits>
bool read_nan_bits(const std::string& word, Bits& bits) {
  if (!word.starts_with("nan:0x")) return false;
  const char* begin = word.data() + 6;
  auto [end, ec] = std::from_chars(begin, word.data() + word.size(), bits, 16);
  return ec == std::errc() && end == word.data() + word.size();
}

template <typename T>
bool read_floating(const std::string& word, T& out) {
  using Bits = std::conditional_t<sizeof(T) == 8, uint64_t, uint32_t>;
  Bits bits = 0;
  if (read_nan_bits(word, bits)) {
    out = std::bit_cast<T>(bits);
    return true;
  }
  auto [end, ec] = std::from_chars(word.data(), word.data() + word.size(), out);
  return ec == std::errc() && end == word.data() + word.size();
}

bool read_half(const std::string& word, Float16& out) {
  uint16_t bits = 0;
  if (read_nan_bits(word, bits)) {
    out = Float16{bits};
    return true;
  }
  float value = 0;
  if (!read_floating(word, value)) return false;
  out = float_to_float16(value);
  return true;
}

template <typename T>
bool read_element(const std::string& word, T& out) {
  if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double>) {
    return read_floating(word, out);
  } else if constexpr (std::is_same_v<T, Float16>) {
    return read_half(word, out);
  } else {
    return read_integer(word, out);
  }
}

template <typename Fn>
auto visit_dtype(DType dtype, Fn&& fn) {
  switch (dtype) {
    case DType::kF32:
      return fn(float{});
    case DType::kF64:
      return fn(double{});
    case DType::kF16:
      return fn(Float16{});
    case DType::kI64:
      return fn(int64_t{});
    case DType::kI32:
      return fn(int32_t{});
    case DType::kI16:
      return fn(int16_t{});
    case DType::kI8:
      return fn(int8_t{});
    case DType::kU64:
      return fn(uint64_t{});
    case DType::kU32:
      return fn(uint32_t{});
    case DType::kU16:
      return fn(uint16_t{});
    case DType::kU8:
      return fn(uint8_t{});
    case DType::kBool:
      return fn(bool{});
  }
  return fn(float{});
}

}  // namespace

// [v, v, ...]: exactly numel(shape) elements of `dtype`, row-major.
Tensor Parser::parse_tensor_values(DType dtype, const Shape& shape, const Token& at,
                                   const std::string& what) {
  int64_t numel = checked_numel(shape);
  if (numel < 0) fail(at.pos, "{}: the shape {} is too large", what, shape_str(shape));
  Token open = lex();
  if (!open.is("[")) expected("'[' and the values", open);
  return visit_dtype(dtype, [&](auto zero) {
    using T = decltype(zero);
    // vector<bool> has no data(); a bool element is one byte holding 0 or 1.
    using Stored = std::conditional_t<std::is_same_v<T, bool>, uint8_t, T>;
    std::vector<Stored> values;
    if (peek().is("]")) {
      lex();
    } else {
      for (;;) {
        Token word = lex();
        T element{};
        if (word.kind != TokenKind::kWord || !read_element(word.text, element))
          fail(word.pos, "expected a value of type {}, found {}", dtype_name(dtype),
               describe(word));
        values.push_back(static_cast<Stored>(element));
        Token token = lex();
        if (token.is("]")) break;
        if (!token.is(",")) expected("',' or ']' in the values", token);
      }
    }
    if (static_cast<int64_t>(values.size()) != numel)
      fail(open.pos, "{}: {}{} holds {} values, found {}", what, dtype_name(dtype),
           shape_str(shape), numel, values.size());
    Tensor tensor(dtype, shape);
    if (numel > 0) std::memcpy(tensor.raw(), values.data(), tensor.nbytes());
    return tensor;
  });
}

Tensor Parser::zero_placeholder(DType dtype, const Shape& shape, const Token& at,
                                const std::string& what) {
  if (!options_.zero_fill_constants)
    fail(at.pos, "{} has no values (write `= [...]`, or ask for zero-filled placeholders)", what);
  int64_t numel = checked_numel(shape);
  if (numel < 0 || numel > options_.max_zero_fill_bytes / static_cast<int64_t>(dtype_size(dtype)))
    fail(at.pos, "{}: {}{} is too large for a zero-filled placeholder", what, dtype_name(dtype),
         shape_str(shape));
  return Tensor(dtype, shape);
}

// @name: TYPE [= [values]]
void Parser::parse_constant() {
  Token ref = lex();
  expect(":", "':' and the constant's type");
  if (graph_->find_value(ref.text)) fail(ref.pos, "value @{} is defined twice", ref.text);
  Value type;
  size_t type_pos = peek().pos;
  parse_type(type);
  if (!type.dtype_known || !type.shape || !sym_shape_known(*type.shape))
    fail(type_pos, "constant @{} needs a dtype and sizes for every dimension, found {}", ref.text,
         type_text(type));
  Shape shape = to_shape(*type.shape);
  std::string what = "constant @" + ref.text;
  Tensor tensor;
  if (peek().is("=")) {
    lex();
    tensor = parse_tensor_values(type.dtype, shape, ref, what);
  } else {
    tensor = zero_placeholder(type.dtype, shape, ref, what);
  }
  graph_->add_constant(ref.text, std::move(tensor));
}

std::vector<Value*> Parser::parse_operands() {
  std::vector<Value*> operands;
  if (peek().is(")")) {
    lex();
    return operands;
  }
  for (;;) {
    Token ref = lex();
    if (ref.is_word("none")) {
      operands.push_back(nullptr);
    } else if (ref.kind == TokenKind::kRef) {
      operands.push_back(resolve(ref));
    } else {
      expected("an operand (%name, @name or none)", ref);
    }
    Token token = lex();
    if (token.is(")")) return operands;
    if (!token.is(",")) expected("',' or ')' after an operand", token);
  }
}

std::variant<AttrValue, EmptyList> Parser::parse_attr_list() {
  Token open = lex();  // '['
  if (peek().is("]")) {
    lex();
    return EmptyList{};
  }
  std::vector<std::string> strings;
  std::vector<std::string> numbers;
  size_t first_number = 0;
  for (;;) {
    Token item = lex();
    if (item.kind == TokenKind::kString) {
      strings.push_back(item.text);
    } else if (item.kind == TokenKind::kWord) {
      if (numbers.empty()) first_number = item.pos;
      numbers.push_back(item.text);
    } else {
      expected("a list element (a number or a string)", item);
    }
    Token token = lex();
    if (token.is("]")) break;
    if (!token.is(",")) expected("',' or ']' in the list", token);
  }
  if (!strings.empty() && !numbers.empty()) fail(open.pos, "a list mixes strings and numbers");
  if (!strings.empty()) return AttrValue(std::move(strings));
  bool floating = std::any_of(numbers.begin(), numbers.end(), [](const std::string& word) {
    return word.find_first_of(".eEn") != std::string::npos;
  });
  if (floating) {
    std::vector<double> values(numbers.size());
    for (size_t i = 0; i < numbers.size(); ++i) {
      if (!read_floating(numbers[i], values[i]))
        fail(first_number, "expected a number in the list, found '{}'", numbers[i]);
    }
    return AttrValue(std::move(values));
  }
  std::vector<int64_t> values(numbers.size());
  for (size_t i = 0; i < numbers.size(); ++i) {
    if (!read_integer(numbers[i], values[i]))
      fail(first_number, "expected an integer in the list, found '{}'", numbers[i]);
  }
  return AttrValue(std::move(values));
}

// 5 | 0.5 | "text" | [..] | tensor<DTYPE[DIMS]>[values]
std::variant<AttrValue, EmptyList> Parser::parse_attr_value() {
  Token token = peek();
  if (token.is("[")) return parse_attr_list();
  lex();
  if (token.kind == TokenKind::kString) return AttrValue(token.text);
  if (token.is_word("tensor") && peek().is("<")) {
    lex();
    Value type;
    size_t type_pos = peek().pos;
    parse_type(type);
    if (!type.dtype_known || !type.shape || !sym_shape_known(*type.shape))
      fail(type_pos, "a tensor attribute needs a dtype and sizes, found {}", type_text(type));
    expect(">", "'>' after the tensor's type");
    Shape shape = to_shape(*type.shape);
    if (peek().is("["))
      return AttrValue(parse_tensor_values(type.dtype, shape, token, "tensor attribute"));
    return AttrValue(zero_placeholder(type.dtype, shape, token, "tensor attribute"));
  }
  if (token.kind != TokenKind::kWord)
    expected("an attribute value (number, string, list or tensor<...>)", token);
  if (token.text.find_first_of(".eEn") != std::string::npos) {
    double value = 0;
    if (read_floating(token.text, value)) return AttrValue(value);
  } else {
    int64_t value = 0;
    if (read_integer(token.text, value)) return AttrValue(value);
  }
  expected("an attribute value (number, string, list or tensor<...>)", token);
}

// {key = value, ...}; a list's element type follows the op's schema where the text cannot say
// ([] or [1, 2] for a list of floats).
std::map<std::string, AttrValue> Parser::parse_attrs(const std::string& op) {
  std::map<std::string, AttrValue> attrs;
  lex();  // '{'
  const OpSchema* schema = OpRegistry::instance().find(op);
  auto spec_type = [&](const std::string& key) -> std::optional<AttrType> {
    for (const AttrSpec& spec : schema->attrs)
      if (spec.name == key) return spec.type;
    return std::nullopt;
  };
  for (;;) {
    Token key = lex();
    if (key.kind != TokenKind::kWord && key.kind != TokenKind::kString)
      expected("an attribute name", key);
    if (attrs.count(key.text)) fail(key.pos, "attribute '{}' is given twice", key.text);
    expect("=", "'=' after the attribute name");
    std::variant<AttrValue, EmptyList> value = parse_attr_value();
    std::optional<AttrType> type = spec_type(key.text);
    if (std::holds_alternative<EmptyList>(value)) {
      if (type == AttrType::kFloats) {
        attrs[key.text] = std::vector<double>{};
      } else if (type == AttrType::kStrings) {
        attrs[key.text] = std::vector<std::string>{};
      } else {
        attrs[key.text] = std::vector<int64_t>{};
      }
    } else {
      AttrValue& attr = std::get<AttrValue>(value);
      const auto* ints = std::get_if<std::vector<int64_t>>(&attr);
      if (ints && type == AttrType::kFloats) attr = std::vector<double>(ints->begin(), ints->end());
      attrs[key.text] = std::move(attr);
    }
    Token token = lex();
    if (token.is("}")) return attrs;
    if (!token.is(",")) expected("',' or '}' after an attribute", token);
  }
}

// RESULTS = OP(OPERANDS) [{ATTRS}]  [// NAME]
void Parser::parse_node() {
  std::vector<TypedRef> results;
  if (!peek().is("=")) results = parse_typed_refs(true);
  expect("=", "'=' after the node's results");
  Token op = lex();
  if (op.kind != TokenKind::kWord) expected("an op name", op);
  if (!OpRegistry::instance().find(op.text)) fail(op.pos, "unknown op '{}'", op.text);
  expect("(", "'(' after the op name");
  std::vector<Value*> operands = parse_operands();
  std::map<std::string, AttrValue> attrs;
  if (peek().is("{")) attrs = parse_attrs(op.text);
  std::string name = node_name_on_this_line();
  if (!name.empty() && graph_->find_node(name)) fail(op.pos, "node name '{}' is used twice", name);
  std::vector<Value*> outputs;
  for (const TypedRef& result : results) {
    if (result.ref.kind == TokenKind::kWord) {
      outputs.push_back(nullptr);
      continue;
    }
    if (result.ref.sigil != '%')
      fail(result.ref.pos, "a node's result is written %name, found @{}", result.ref.text);
    if (graph_->find_value(result.ref.text))
      fail(result.ref.pos, "value %{} is defined twice", result.ref.text);
    Value* value = graph_->add_value(result.ref.text);
    value->dtype = result.type.dtype;
    value->dtype_known = result.type.dtype_known;
    value->shape = result.type.shape;
    outputs.push_back(value);
  }
  Node* node = graph_->add_node(op.text, name, std::move(operands), std::move(outputs));
  node->attrs = std::move(attrs);
  node_positions_.emplace_back(node, op.pos);
}

void Parser::resolve_outputs(const std::vector<TypedRef>& outputs) {
  for (const TypedRef& output : outputs) {
    Value* value = graph_->find_value(output.ref.text);
    if (!value)
      fail(output.ref.pos, "graph output {}{} is never defined", output.ref.sigil, output.ref.text);
    resolve(output.ref);
    if (!same_type(*value, output.type))
      fail(output.ref.pos, "graph output {}{} is declared {} here but defined as {}",
           output.ref.sigil, output.ref.text, type_text(output.type), type_text(*value));
    graph_->outputs.push_back(value);
  }
}

// graph NAME(INPUTS) -> (OUTPUTS) { CONSTANTS AND NODES }
std::unique_ptr<Graph> Parser::parse() {
  Token keyword = lex();
  if (!keyword.is_word("graph")) expected("'graph'", keyword);
  graph_->name = parse_name("the graph's name");
  parse_inputs();
  expect("->", "'->' after the graph's inputs");
  expect("(", "'(' before the graph's outputs");
  std::vector<TypedRef> outputs;
  if (peek().is(")")) {
    lex();
  } else {
    outputs = parse_typed_refs(false);
    expect(")", "',' or ')' after a graph output");
  }
  expect("{", "'{' to open the graph's body");
  for (;;) {
    Token token = peek();
    if (token.is("}")) break;
    if (token.kind == TokenKind::kRef && token.sigil == '@') {
      parse_constant();
    } else if (token.kind == TokenKind::kRef || token.is_word("none") || token.is("=")) {
      parse_node();
    } else {
      expected("a constant (@name: type = [...]), a node (%name: type = op(...)) or '}'", token);
    }
  }
  lex();
  Token end = lex();
  if (end.kind != TokenKind::kEnd) expected("the end of the text after the graph", end);
  resolve_outputs(outputs);
  if (options_.verify) {
    try {
      verify(*graph_);
    } catch (const Error& e) {
      // The verifier names the node; the line it is on says more in a text file.
      std::string message = e.what();
      for (const auto& [node, pos] : node_positions_) {
        if (message.find(node->describe()) != std::string::npos)
          rethrow_with_context(e, location(pos));
      }
      rethrow_with_context(e, source_);
    }
  }
  return std::move(graph_);
}

}  // namespace

std::unique_ptr<Graph> parse_graph(std::string_view text, const std::string& source_name,
                                   const ParseOptions& options) {
  return Parser(text, source_name, options).parse();
}

std::unique_ptr<Graph> load_ir_file(const std::string& path, const ParseOptions& options) {
  std::ifstream file(path, std::ios::binary);
  if (!file) throw_bad_input("{}: cannot open the IR file", path);
  std::stringstream contents;
  contents << file.rdbuf();
  return parse_graph(contents.str(), path, options);
}

}  // namespace aimc::ir
