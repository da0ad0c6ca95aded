#include "aimc/core/tensor.h"

#include <cmath>
#include <algorithm>
#include <cstring>
#include <limits>
#include <type_traits>

namespace aimc {

size_t dtype_size(DType dtype) {
  switch (dtype) {
    case DType::kF32: return 4;
    case DType::kI64: return 8;
    case DType::kI32: return 4;
    case DType::kI8: return 1;
    case DType::kBool: return 1;
  }
  return 0;
}

const char* dtype_name(DType dtype) {
  switch (dtype) {
    case DType::kF32: return "f32";
    case DType::kI64: return "i64";
    case DType::kI32: return "i32";
    case DType::kI8: return "i8";
    case DType::kBool: return "bool";
  }
  return "?";
}

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

double Tensor::item_as_double(int64_t i) const {
  AIMC_ASSERT(i >= 0 && i < numel_, "element {} out of range", i);
  switch (dtype_) {
    case DType::kF32: return data<float>()[i];
    case DType::kI64: return static_cast<double>(data<int64_t>()[i]);
    case DType::kI32: return data<int32_t>()[i];
    case DType::kI8: return data<int8_t>()[i];
    case DType::kBool: return data<bool>()[i] ? 1.0 : 0.0;
  }
  return 0;
}

int64_t Tensor::item_as_int(int64_t i) const {
  AIMC_ASSERT(i >= 0 && i < numel_, "element {} out of range", i);
  switch (dtype_) {
    case DType::kF32: return static_cast<int64_t>(data<float>()[i]);
    case DType::kI64: return data<int64_t>()[i];
    case DType::kI32: return data<int32_t>()[i];
    case DType::kI8: return data<int8_t>()[i];
    case DType::kBool: return data<bool>()[i] ? 1 : 0;
  }
  return 0;
}

std::vector<int64_t> Tensor::to_int_vector() const {
  std::vector<int64_t> out(static_cast<size_t>(numel_));
  for (int64_t i = 0; i < numel_; ++i) out[static_cast<size_t>(i)] = item_as_int(i);
  return out;
}

namespace {

template <typename From, typename To>
void convert(const From* in, To* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    if constexpr (std::is_same_v<To, bool>) {
      out[i] = in[i] != From(0);
    } else if constexpr (std::is_floating_point_v<From> && !std::is_floating_point_v<To>) {
      // NaN and out-of-range values have no defined integer; pin them instead of invoking UB.
      double v = static_cast<double>(in[i]);
      if (std::isnan(v)) {
        out[i] = 0;
      } else if (v >= static_cast<double>(std::numeric_limits<To>::max())) {
        out[i] = std::numeric_limits<To>::max();
      } else if (v <= static_cast<double>(std::numeric_limits<To>::lowest())) {
        out[i] = std::numeric_limits<To>::lowest();
      } else {
        out[i] = static_cast<To>(v);
      }
    } else {
      out[i] = static_cast<To>(in[i]);
    }
  }
}

template <typename From>
void convert_from(const From* in, Tensor& out) {
  int64_t n = out.numel();
  switch (out.dtype()) {
    case DType::kF32: convert(in, out.data<float>(), n); break;
    case DType::kI64: convert(in, out.data<int64_t>(), n); break;
    case DType::kI32: convert(in, out.data<int32_t>(), n); break;
    case DType::kI8: convert(in, out.data<int8_t>(), n); break;
    case DType::kBool: convert(in, out.data<bool>(), n); break;
  }
}

}  // namespace

Tensor Tensor::cast(DType dtype) const {
  if (dtype == dtype_) return clone();
  Tensor out(dtype, shape_);
  switch (dtype_) {
    case DType::kF32: convert_from(data<float>(), out); break;
    case DType::kI64: convert_from(data<int64_t>(), out); break;
    case DType::kI32: convert_from(data<int32_t>(), out); break;
    case DType::kI8: convert_from(data<int8_t>(), out); break;
    case DType::kBool: convert_from(data<bool>(), out); break;
  }
  return out;
}

}  // namespace aimc
