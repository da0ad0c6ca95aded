#include "aimc/core/tensor.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>

namespace aimc {

size_t dtype_size(DType dtype) {
  switch (dtype) {
    case DType::kF32:
      return 4;
    case DType::kI64:
      return 8;
    case DType::kI32:
      return 4;
    case DType::kI8:
      return 1;
    case DType::kBool:
      return 1;
    case DType::kF64:
      return 8;
    case DType::kF16:
      return 2;
    case DType::kU8:
      return 1;
    case DType::kI16:
      return 2;
    case DType::kU16:
      return 2;
    case DType::kU32:
      return 4;
    case DType::kU64:
      return 8;
  }
  return 0;
}

const char* dtype_name(DType dtype) {
  switch (dtype) {
    case DType::kF32:
      return "f32";
    case DType::kI64:
      return "i64";
    case DType::kI32:
      return "i32";
    case DType::kI8:
      return "i8";
    case DType::kBool:
      return "bool";
    case DType::kF64:
      return "f64";
    case DType::kF16:
      return "f16";
    case DType::kU8:
      return "u8";
    case DType::kI16:
      return "i16";
    case DType::kU16:
      return "u16";
    case DType::kU32:
      return "u32";
    case DType::kU64:
      return "u64";
  }
  return "?";
}

bool dtype_is_floating(DType dtype) {
  return dtype == DType::kF32 || dtype == DType::kF64 || dtype == DType::kF16;
}

bool dtype_is_integer(DType dtype) {
  return !dtype_is_floating(dtype) && dtype != DType::kBool;
}

std::optional<DType> dtype_from_onnx_code(int64_t code) {
  switch (code) {
    case 1:
      return DType::kF32;
    case 2:
      return DType::kU8;
    case 3:
      return DType::kI8;
    case 4:
      return DType::kU16;
    case 5:
      return DType::kI16;
    case 6:
      return DType::kI32;
    case 7:
      return DType::kI64;
    case 9:
      return DType::kBool;
    case 10:
      return DType::kF16;
    case 11:
      return DType::kF64;
    case 12:
      return DType::kU32;
    case 13:
      return DType::kU64;
    default:
      return std::nullopt;
  }
}

const char* const kSupportedOnnxDtypeCodes =
    "FLOAT=1, UINT8=2, INT8=3, UINT16=4, INT16=5, INT32=6, INT64=7, BOOL=9, FLOAT16=10, "
    "DOUBLE=11, UINT32=12, UINT64=13";

int64_t shape_numel(const Shape& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

std::string shape_str(const Shape& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

Shape shape_strides(const Shape& shape) {
  Shape strides(shape.size());
  int64_t s = 1;
  for (size_t i = shape.size(); i-- > 0;) {
    strides[i] = s;
    s *= shape[i];
  }
  return strides;
}

Tensor::Tensor(DType dtype, Shape shape) : dtype_(dtype), shape_(std::move(shape)) {
  for (int64_t d : shape_) {
    if (d < 0) throw_bad_input("tensor shape {} has a negative dimension", shape_str(shape_));
  }
  numel_ = shape_numel(shape_);
  // At least one byte so that an empty tensor is still valid.
  size_t bytes = std::max<size_t>(1, nbytes());
  storage_ = std::shared_ptr<std::byte[]>(new std::byte[bytes]());
}

Tensor Tensor::from_storage(DType dtype, Shape shape, std::shared_ptr<std::byte[]> storage) {
  Tensor t;
  t.dtype_ = dtype;
  t.shape_ = std::move(shape);
  for (int64_t d : t.shape_) {
    if (d < 0) throw_bad_input("tensor shape {} has a negative dimension", shape_str(t.shape_));
  }
  t.numel_ = shape_numel(t.shape_);
  t.storage_ = std::move(storage);
  AIMC_ASSERT(t.storage_, "from_storage: no storage");
  return t;
}

int64_t Tensor::dim(int64_t axis) const {
  if (axis < 0) axis += rank();
  AIMC_ASSERT(axis >= 0 && axis < rank(), "axis {} out of range for rank {}", axis, rank());
  return shape_[static_cast<size_t>(axis)];
}

void Tensor::check_dtype(DType expected) const {
  AIMC_ASSERT(storage_, "access to an empty tensor");
  AIMC_ASSERT(expected == dtype_, "tensor holds {}, accessed as {}", dtype_name(dtype_),
              dtype_name(expected));
}

Tensor Tensor::reshaped(Shape shape) const {
  AIMC_ASSERT(shape_numel(shape) == numel_, "cannot reshape {} to {}", shape_str(shape_),
              shape_str(shape));
  Tensor t = *this;
  t.shape_ = std::move(shape);
  return t;
}

Tensor Tensor::clone() const {
  Tensor t(dtype_, shape_);
  if (nbytes()) std::memcpy(t.raw(), raw(), nbytes());
  return t;
}

namespace {

// Calls fn(T{}) with the C++ element type T of `dtype`.
template <typename Fn>
decltype(auto) visit_dtype(DType dtype, Fn&& fn) {
  switch (dtype) {
    case DType::kF32:
      return fn(float{});
    case DType::kI64:
      return fn(int64_t{});
    case DType::kI32:
      return fn(int32_t{});
    case DType::kI8:
      return fn(int8_t{});
    case DType::kBool:
      return fn(bool{});
    case DType::kF64:
      return fn(double{});
    case DType::kF16:
      return fn(Float16{});
    case DType::kU8:
      return fn(uint8_t{});
    case DType::kI16:
      return fn(int16_t{});
    case DType::kU16:
      return fn(uint16_t{});
    case DType::kU32:
      return fn(uint32_t{});
    case DType::kU64:
      return fn(uint64_t{});
  }
  AIMC_ASSERT(false, "invalid dtype {}", static_cast<int>(dtype));
  return fn(float{});
}

// One element converted like ONNX Cast (see Tensor::cast). f16 goes through float, which holds
// every half exactly; to f16 rounds once, from double.
template <typename From, typename To>
To convert_element(From value) {
  if constexpr (std::is_same_v<From, Float16>) {
    return convert_element<float, To>(float16_to_float(value));
  } else if constexpr (std::is_same_v<To, Float16>) {
    return double_to_float16(static_cast<double>(value));
  } else if constexpr (std::is_same_v<To, bool>) {
    return value != From(0);
  } else if constexpr (std::is_floating_point_v<From> && !std::is_floating_point_v<To>) {
    // NaN and out-of-range values have no defined integer; pin them instead of invoking UB.
    auto v = static_cast<double>(value);
    if (std::isnan(v)) return 0;
    if (v >= static_cast<double>(std::numeric_limits<To>::max()))
      return std::numeric_limits<To>::max();
    if (v <= static_cast<double>(std::numeric_limits<To>::lowest()))
      return std::numeric_limits<To>::lowest();
    return static_cast<To>(v);
  } else {
    return static_cast<To>(value);
  }
}

}  // namespace

double Tensor::item_as_double(int64_t i) const {
  AIMC_ASSERT(i >= 0 && i < numel_, "element {} out of range", i);
  return visit_dtype(dtype_,
                     [&]<typename T>(T) { return convert_element<T, double>(data<T>()[i]); });
}

int64_t Tensor::item_as_int(int64_t i) const {
  AIMC_ASSERT(i >= 0 && i < numel_, "element {} out of range", i);
  return visit_dtype(dtype_,
                     [&]<typename T>(T) { return convert_element<T, int64_t>(data<T>()[i]); });
}

std::vector<int64_t> Tensor::to_int_vector() const {
  std::vector<int64_t> out(static_cast<size_t>(numel_));
  for (int64_t i = 0; i < numel_; ++i) out[static_cast<size_t>(i)] = item_as_int(i);
  return out;
}

Tensor Tensor::cast(DType dtype) const {
  if (dtype == dtype_) return clone();
  Tensor out(dtype, shape_);
  visit_dtype(dtype_, [&]<typename From>(From) {
    visit_dtype(dtype, [&]<typename To>(To) {
      const From* in = data<From>();
      To* result = out.data<To>();
      for (int64_t i = 0; i < numel_; ++i) result[i] = convert_element<From, To>(in[i]);
    });
  });
  return out;
}

}  // namespace aimc
