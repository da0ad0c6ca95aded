// Tensor: a dtype, a shape and contiguous row-major (C order) storage.
// Copies share storage (cheap to pass around); clone() makes an independent copy.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "aimc/core/error.h"
#include "aimc/core/float16.h"

namespace aimc {

// ONNX's numeric element types except bfloat16 (bfloat16, strings and complex numbers are not
// supported).
enum class DType : uint8_t {
  kF32,
  kI64,
  kI32,
  kI8,
  kBool,
  kF64,
  kF16,
  kU8,
  kI16,
  kU16,
  kU32,
  kU64,
};

using Shape = std::vector<int64_t>;

size_t dtype_size(DType dtype);
// "f32", "i64", "i32", "i8", "bool", "f64", "f16", "u8", "i16", "u16", "u32", "u64"
const char* dtype_name(DType dtype);
bool dtype_is_floating(DType dtype);  // f32, f64, f16
bool dtype_is_integer(DType dtype);   // signed and unsigned integers (not bool)
// The DType of an ONNX TensorProto element type code (FLOAT=1, UINT8=2, ...; Cast's `to`);
// nullopt for the codes aimc does not support (STRING=8, BFLOAT16=16, complex numbers).
std::optional<DType> dtype_from_onnx_code(int64_t code);
// The supported codes with their ONNX names, for error messages.
extern const char* const kSupportedOnnxDtypeCodes;

template <typename T>
constexpr DType dtype_of();
template <>
constexpr DType dtype_of<float>() {
  return DType::kF32;
}
template <>
constexpr DType dtype_of<int64_t>() {
  return DType::kI64;
}
template <>
constexpr DType dtype_of<int32_t>() {
  return DType::kI32;
}
template <>
constexpr DType dtype_of<int8_t>() {
  return DType::kI8;
}
template <>
constexpr DType dtype_of<bool>() {
  return DType::kBool;
}
template <>
constexpr DType dtype_of<double>() {
  return DType::kF64;
}
template <>
constexpr DType dtype_of<Float16>() {
  return DType::kF16;
}
template <>
constexpr DType dtype_of<uint8_t>() {
  return DType::kU8;
}
template <>
constexpr DType dtype_of<int16_t>() {
  return DType::kI16;
}
template <>
constexpr DType dtype_of<uint16_t>() {
  return DType::kU16;
}
template <>
constexpr DType dtype_of<uint32_t>() {
  return DType::kU32;
}
template <>
constexpr DType dtype_of<uint64_t>() {
  return DType::kU64;
}

int64_t shape_numel(const Shape& shape);    // product of dims; 1 for a scalar
std::string shape_str(const Shape& shape);  // "[2, 3, 4]"
// Row-major strides in elements.
Shape shape_strides(const Shape& shape);

class Tensor {
 public:
  Tensor() = default;                // empty: no dtype, no storage (is_valid() == false)
  Tensor(DType dtype, Shape shape);  // zero-initialised

  template <typename T>
  static Tensor from_vector(Shape shape, const std::vector<T>& values) {
    Tensor t(dtype_of<T>(), std::move(shape));
    AIMC_ASSERT(static_cast<int64_t>(values.size()) == t.numel(), "from_vector: {} values for {}",
                values.size(), shape_str(t.shape()));
    T* out = t.data<T>();
    for (size_t i = 0; i < values.size(); ++i) out[i] = values[i];
    return t;
  }
  template <typename T>
  static Tensor scalar(T value) {
    return from_vector<T>({}, {value});
  }

  // A tensor over memory someone else owns, without a copy (the Python bindings wrap numpy
  // arrays): `storage` holds numel * dtype_size bytes in C order; its deleter frees them.
  static Tensor from_storage(DType dtype, Shape shape, std::shared_ptr<std::byte[]> storage);

  bool is_valid() const { return static_cast<bool>(storage_); }
  DType dtype() const { return dtype_; }
  const Shape& shape() const { return shape_; }
  int64_t rank() const { return static_cast<int64_t>(shape_.size()); }
  int64_t dim(int64_t axis) const;  // negative axes count from the end
  int64_t numel() const { return numel_; }
  size_t nbytes() const { return static_cast<size_t>(numel_) * dtype_size(dtype_); }

  template <typename T>
  T* data() {
    check_dtype(dtype_of<T>());
    return reinterpret_cast<T*>(raw());
  }
  template <typename T>
  const T* data() const {
    check_dtype(dtype_of<T>());
    return reinterpret_cast<const T*>(raw());
  }
  template <typename T>
  std::span<const T> values() const {
    return {data<T>(), static_cast<size_t>(numel_)};
  }
  std::byte* raw() { return storage_.get() + offset_; }
  const std::byte* raw() const { return storage_.get() + offset_; }

  // Same storage, new shape with the same element count.
  Tensor reshaped(Shape shape) const;
  Tensor clone() const;
  // Element i converted to double / int64 whatever the dtype (slow; for small tensors). Floats
  // truncate toward zero and saturate (NaN -> 0); u64 above the int64 range wraps.
  double item_as_double(int64_t i = 0) const;
  int64_t item_as_int(int64_t i = 0) const;
  // Converts to another dtype like ONNX Cast: float -> int truncates toward zero, saturates at
  // the target's bounds and maps NaN to 0; int -> narrower int wraps; anything -> bool is
  // `!= 0`; -> f16 rounds to nearest even.
  Tensor cast(DType dtype) const;
  // Values as int64 (any integer or bool dtype); for shape-like inputs.
  std::vector<int64_t> to_int_vector() const;

 private:
  void check_dtype(DType expected) const;

  DType dtype_ = DType::kF32;
  Shape shape_;
  int64_t numel_ = 0;
  std::shared_ptr<std::byte[]> storage_;
  size_t offset_ = 0;
};

}  // namespace aimc
