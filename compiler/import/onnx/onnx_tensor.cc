#include "import/onnx/onnx_tensor.h"

#include <fmt/format.h>

#include <cstring>

#include "ir/graph.h"

namespace tinyforge::onnx_import {
namespace {

using TP = onnx::TensorProto;

size_t element_size(int32_t type) {
  switch (type) {
    case TP::FLOAT:
    case TP::INT32:
    case TP::UINT32:
      return 4;
    case TP::DOUBLE:
    case TP::INT64:
    case TP::UINT64:
      return 8;
    case TP::INT16:
    case TP::UINT16:
    case TP::FLOAT16:
      return 2;
    case TP::INT8:
    case TP::UINT8:
    case TP::BOOL:
      return 1;
    default:
      return 0;
  }
}

// Little-endian integer of `size` bytes at p, sign-extended when `is_signed`.
int64_t read_int(const uint8_t* p, size_t size, bool is_signed) {
  uint64_t u = 0;
  for (size_t b = 0; b < size; ++b) u |= static_cast<uint64_t>(p[b]) << (8 * b);
  if (is_signed && size < 8 && (u >> (8 * size - 1)) != 0) u |= ~uint64_t{0} << (8 * size);
  return static_cast<int64_t>(u);
}

bool is_signed_type(int32_t type) {
  return type == TP::INT8 || type == TP::INT16 || type == TP::INT32 || type == TP::INT64;
}

}  // namespace

const char* onnx_type_name(int32_t data_type) {
  switch (data_type) {
    case TP::FLOAT:
      return "float32";
    case TP::UINT8:
      return "uint8";
    case TP::INT8:
      return "int8";
    case TP::UINT16:
      return "uint16";
    case TP::INT16:
      return "int16";
    case TP::INT32:
      return "int32";
    case TP::INT64:
      return "int64";
    case TP::STRING:
      return "string";
    case TP::BOOL:
      return "bool";
    case TP::FLOAT16:
      return "float16";
    case TP::DOUBLE:
      return "float64";
    case TP::UINT32:
      return "uint32";
    case TP::UINT64:
      return "uint64";
    case TP::BFLOAT16:
      return "bfloat16";
    default:
      return "unknown";
  }
}

Constant read_tensor(const onnx::TensorProto& t, const std::string& where) {
  const std::string what = fmt::format("{}: tensor '{}'", where, t.name());
  if (t.data_location() == TP::EXTERNAL || t.external_data_size() > 0)
    throw tinyforge::Error(what +
                           ": unsupported: external data (save the model with its weights inside)");
  if (t.has_segment()) throw tinyforge::Error(what + ": unsupported: segmented tensor");
  const int32_t type = t.data_type();
  const size_t esize = element_size(type);
  if (esize == 0 || type == TP::FLOAT16)
    throw tinyforge::Error(
        fmt::format("{}: unsupported: element type {} ({})", what, onnx_type_name(type), type));
  if (static_cast<size_t>(t.dims_size()) > kMaxConstRank)
    throw tinyforge::Error(fmt::format("{}: rank {} is too large", what, t.dims_size()));

  Constant c;
  int64_t n = 1;
  for (int64_t d : t.dims()) {
    if (d < 0 || d > kMaxDim)
      throw tinyforge::Error(fmt::format("{}: dimension {} out of range", what, d));
    n *= d;
    if (n > kMaxElements)
      throw tinyforge::Error(fmt::format("{}: more than {} elements", what, kMaxElements));
    c.shape.push_back(d);
  }
  c.is_float = type == TP::FLOAT || type == TP::DOUBLE;
  const auto count = static_cast<size_t>(n);
  if (c.is_float)
    c.f.resize(count);
  else
    c.i.resize(count);

  auto size_error = [&](const char* field, size_t have) {
    return tinyforge::Error(fmt::format("{}: {} holds {} values; shape {} needs {}", what, field,
                                        have, shape_str(c.shape), count));
  };
  if (t.has_raw_data()) {
    const std::string& raw = t.raw_data();
    if (raw.size() != count * esize)
      throw tinyforge::Error(fmt::format("{}: raw_data has {} bytes; shape {} of {} needs {}", what,
                                         raw.size(), shape_str(c.shape), onnx_type_name(type),
                                         count * esize));
    const auto* p = reinterpret_cast<const uint8_t*>(raw.data());
    for (size_t k = 0; k < count; ++k, p += esize) {
      if (type == TP::FLOAT) {
        const auto bits = static_cast<uint32_t>(read_int(p, 4, false));
        std::memcpy(&c.f[k], &bits, 4);
      } else if (type == TP::DOUBLE) {
        const auto bits = static_cast<uint64_t>(read_int(p, 8, false));
        double d;
        std::memcpy(&d, &bits, 8);
        c.f[k] = static_cast<float>(d);
      } else {
        c.i[k] = read_int(p, esize, is_signed_type(type));
      }
    }
    return c;
  }
  switch (type) {
    case TP::FLOAT:
      if (static_cast<size_t>(t.float_data_size()) != count)
        throw size_error("float_data", t.float_data_size());
      for (size_t k = 0; k < count; ++k) c.f[k] = t.float_data(static_cast<int>(k));
      break;
    case TP::DOUBLE:
      if (static_cast<size_t>(t.double_data_size()) != count)
        throw size_error("double_data", t.double_data_size());
      for (size_t k = 0; k < count; ++k)
        c.f[k] = static_cast<float>(t.double_data(static_cast<int>(k)));
      break;
    case TP::INT64:
      if (static_cast<size_t>(t.int64_data_size()) != count)
        throw size_error("int64_data", t.int64_data_size());
      for (size_t k = 0; k < count; ++k) c.i[k] = t.int64_data(static_cast<int>(k));
      break;
    case TP::UINT32:
    case TP::UINT64:
      if (static_cast<size_t>(t.uint64_data_size()) != count)
        throw size_error("uint64_data", t.uint64_data_size());
      for (size_t k = 0; k < count; ++k)
        c.i[k] = static_cast<int64_t>(t.uint64_data(static_cast<int>(k)));
      break;
    default:  // INT32, INT16, INT8, UINT16, UINT8, BOOL live in int32_data
      if (static_cast<size_t>(t.int32_data_size()) != count)
        throw size_error("int32_data", t.int32_data_size());
      for (size_t k = 0; k < count; ++k) c.i[k] = t.int32_data(static_cast<int>(k));
      break;
  }
  return c;
}

Shape read_value_shape(const onnx::ValueInfoProto& v, bool batch_default,
                       const std::string& where) {
  const std::string what = fmt::format("{}: '{}'", where, v.name());
  if (!v.has_type() || !v.type().has_tensor_type())
    throw tinyforge::Error(
        what + ": unsupported: not a tensor (sequences, maps and optionals are not supported)");
  const onnx::TypeProto::Tensor& tt = v.type().tensor_type();
  if (tt.elem_type() != TP::FLOAT && tt.elem_type() != TP::INT64)
    throw tinyforge::Error(
        fmt::format("{}: unsupported: element type {}; only float32 models are imported (and "
                    "int64 indices)",
                    what, onnx_type_name(tt.elem_type())));
  if (!tt.has_shape())
    throw tinyforge::Error(what + ": has no shape; export the model with static shapes");
  Shape s;
  for (int i = 0; i < tt.shape().dim_size(); ++i) {
    const auto& d = tt.shape().dim(i);
    if (d.has_dim_value()) {
      if (d.dim_value() == 0)
        throw tinyforge::Error(
            fmt::format("{}: unsupported: empty tensor (dimension {} is 0)", what, i));
      if (d.dim_value() < 1 || d.dim_value() > kMaxDim)
        throw tinyforge::Error(
            fmt::format("{}: dimension {} is {}; expected 1..{}", what, i, d.dim_value(), kMaxDim));
      s.push_back(d.dim_value());
    } else if (i == 0 && batch_default) {
      s.push_back(1);
    } else {
      throw tinyforge::Error(
          fmt::format("{}: dimension {} ('{}') is not static; export with fixed shapes", what, i,
                      d.dim_param()));
    }
  }
  return s;
}

}  // namespace tinyforge::onnx_import
