// The lexical rules of the textual IR, shared by the printer and the parser so that whatever
// the printer writes (in its exact form) the parser reads back to the same bits.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "aimc/core/tensor.h"

namespace aimc::ir::text {

// The length of the bare word (a name or a number written without quotes) starting at `pos`:
// letters, digits, bytes >= 0x80 and _ . / - + # $ ~ ! ^ | \ ; & ' ; a ':' only when another
// word character follows it (so "onnx::Gemm_0: f32" ends before ": f32"), a '-' not followed by
// '>' (the arrow). 0 when no word starts there.
size_t bare_word_length(std::string_view text, size_t pos);
// Whether `name` can be written without quotes: one whole bare word, not starting with "//"
// (a comment) and, when it must not read as a number (`not_numeric`), not starting like one.
bool is_bare_word(std::string_view name, bool not_numeric = false);
// "..." with \" \\ \n \t and \xHH for the other control bytes.
std::string quote(std::string_view text);
// `name` as is when bare, quoted otherwise.
std::string name_text(std::string_view name, bool not_numeric = false);

// Exact decimal forms: the shortest text that reads back to the same number, always with a '.',
// an exponent, "inf" or "nan" so that it does not read as an integer; a NaN is written with its
// bits ("nan:0x7fc00000") so that its payload survives.
std::string exact_double(double value);
std::string exact_float(float value);
// Every element of `tensor` in row-major order, "[v, v, ...]": integers in decimal, bool as 0/1,
// floating point types with exact_float / exact_double (f16 through its exact float value).
std::string tensor_values_text(const Tensor& tensor);

}  // namespace aimc::ir::text
