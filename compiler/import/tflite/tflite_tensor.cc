// TFLite tensor -> ir::Tensor: dtype, shape, quantization and constant data, each checked
// before use. Field meanings follow tensorflow/lite/schema/schema.fbs (see
// tflite_schema.fbs): a tensor is constant when its buffer holds data; buffers may instead
// point outside the flatbuffer with (offset, size) counted from the start of the file.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "ir/unsupported.h"
#include "tflite_reader.h"

namespace tinyforge::tflite_import {

Reader::Reader(const uint8_t* file, size_t size, std::string source, const tfl::Model& model,
               const tfl::SubGraph& subgraph)
    : file_(file), size_(size), source_(std::move(source)), model_(model), subgraph_(subgraph) {
  converted_.resize(static_cast<size_t>(num_tensors()));
  refused_.resize(static_cast<size_t>(num_tensors()));
}

int Reader::num_tensors() const {
  return subgraph_.tensors() ? static_cast<int>(subgraph_.tensors()->size()) : 0;
}

void Reader::fail(const std::string& message) const {
  throw tinyforge::Error(fmt::format("{}: {}", source_, message));
}

void Reader::unsupported(const std::string& message) const {
  throw UnsupportedError(fmt::format("{}: {}", source_, message));
}

std::string Reader::tensor_label(int index) const {
  const tfl::Tensor* t = subgraph_.tensors()->Get(static_cast<flatbuffers::uoffset_t>(index));
  if (!t->name() || t->name()->size() == 0) return fmt::format("tensor {}", index);
  return fmt::format("tensor {} '{}'", index, printable(t->name()->str(), 60));
}

ir::Tensor& Reader::tensor(int index) {
  auto& slot = converted_.at(static_cast<size_t>(index));
  if (!slot) {
    try {
      slot = std::make_unique<ir::Tensor>(convert_tensor(index));
    } catch (const UnsupportedError&) {
      refused_.at(static_cast<size_t>(index)) = 1;
      throw;
    }
  }
  return *slot;
}

std::string printable(const std::string& text, size_t max_length) {
  std::string out;
  for (char c : text) {
    if (out.size() >= max_length) return out + "...";
    const auto u = static_cast<unsigned char>(c);
    out += (u >= 0x20 && u < 0x7f) ? c : '?';
  }
  return out;
}

std::string shape_string(const std::vector<int32_t>& shape) {
  return fmt::format("[{}]", fmt::join(shape, ","));
}

const char* tensor_type_name(tfl::TensorType type) {
  const char* name = tfl::EnumNameTensorType(type);
  return (name && *name) ? name : "unknown";
}

namespace {

struct TypeInfo {
  DType type;
  int64_t file_element_bytes;  // bytes per element in the file
};

}  // namespace

std::vector<uint8_t> Reader::constant_bytes(int index, const tfl::Tensor& t,
                                            int64_t expected_bytes) const {
  const auto* buffers = model_.buffers();
  const uint32_t b = t.buffer();
  const uint32_t num_buffers = buffers ? buffers->size() : 0;
  if (b >= num_buffers)
    fail(fmt::format("{}: buffer index {} is past the end of the model's {} buffers",
                     tensor_label(index), b, num_buffers));
  const tfl::Buffer* buffer = buffers->Get(b);
  const bool inline_data = buffer->data() && buffer->data()->size() > 0;
  const bool external = buffer->offset() > 1;  // schema: offset is only valid when > 1
  if (inline_data && external)
    fail(fmt::format("{}: buffer {} has both inline data and an external offset; expected one",
                     tensor_label(index), b));
  const uint8_t* data = nullptr;
  uint64_t size = 0;
  if (inline_data) {
    data = buffer->data()->data();
    size = buffer->data()->size();
  } else if (external) {
    const uint64_t offset = buffer->offset();
    size = buffer->size();
    if (offset > size_ || size > size_ - offset)
      fail(
          fmt::format("{}: buffer {} data at file offset {} + {} bytes runs past the end of "
                      "the {}-byte file",
                      tensor_label(index), b, offset, size, size_));
    data = file_ + offset;
  }
  if (size == 0) return {};
  if (size != static_cast<uint64_t>(expected_bytes))
    fail(fmt::format(
        "{}: buffer {} holds {} bytes; expected {} for shape {} {}", tensor_label(index), b, size,
        expected_bytes,
        shape_string(t.shape() ? std::vector<int32_t>(t.shape()->begin(), t.shape()->end())
                               : std::vector<int32_t>{}),
        tensor_type_name(t.type())));
  return std::vector<uint8_t>(data, data + size);
}

namespace {

TypeInfo type_info(const Reader& r, const tfl::Tensor& t, const std::string& label) {
  switch (t.type()) {
    case tfl::TensorType::FLOAT32:
      return {DType::f32, 4};
    case tfl::TensorType::INT8:
      return {DType::i8, 1};
    case tfl::TensorType::INT16:  // 16x8 activations
      return {DType::i16, 2};
    case tfl::TensorType::INT32:
      return {DType::i32, 4};
    case tfl::TensorType::INT64:
      return {DType::i32, 8};      // constants only, narrowed
    case tfl::TensorType::UINT32:  // the signal ops' energies and filter-bank channels
      return {DType::u32, 4};
    case tfl::TensorType::UINT64:  // the signal filter bank's 64-bit sums
      return {DType::u64, 8};
    default:
      break;
  }
  r.unsupported(
      fmt::format("{}: dtype {} ({}) is not supported; expected FLOAT32, INT8, INT16, INT32, "
                  "UINT32, UINT64 or an INT64 constant",
                  label, tensor_type_name(t.type()), static_cast<int>(t.type())));
}

// Every dimension >= 1 and the file's bytes under kMaxTensorBytes; returns the elements.
int64_t checked_elements(const Reader& r, const std::vector<int32_t>& shape, int64_t element_bytes,
                         const std::string& label) {
  int64_t elements = 1;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] < 1)
      r.fail(fmt::format("{}: dimension {} of shape {} is {}; expected >= 1", label, d,
                         shape_string(shape), shape[d]));
    elements *= shape[d];
    if (elements * element_bytes > kMaxTensorBytes)
      r.fail(fmt::format("{}: shape {} needs more than {} bytes; expected a tensor under 2 GiB",
                         label, shape_string(shape), kMaxTensorBytes));
  }
  return elements;
}

// INT64 constants (shapes, paddings) narrowed to int32; values must fit.
std::vector<uint8_t> narrowed_int64(const Reader& r, const std::vector<uint8_t>& data,
                                    int64_t elements, const std::string& label) {
  std::vector<uint8_t> narrow(static_cast<size_t>(elements) * 4);
  for (int64_t i = 0; i < elements; ++i) {
    int64_t v;
    std::memcpy(&v, data.data() + i * 8, 8);
    if (v < std::numeric_limits<int32_t>::min() || v > std::numeric_limits<int32_t>::max())
      r.fail(fmt::format("{}: INT64 element {} = {} does not fit INT32; expected values that do",
                         label, i, v));
    const auto v32 = static_cast<int32_t>(v);
    std::memcpy(narrow.data() + i * 4, &v32, 4);
  }
  return narrow;
}

// Scale and zero point per tensor, or per slice along quantized_dimension.
ir::Quant read_quantization(const Reader& r, const tfl::Tensor& t, const ir::Tensor& out,
                            const std::string& label) {
  ir::Quant quant;
  const tfl::QuantizationParameters* q = t.quantization();
  if (q && q->details_type() != tfl::QuantizationDetails::NONE)
    r.fail(
        fmt::format("{}: custom quantization details are not supported; expected "
                    "scale/zero_point quantization",
                    label));
  const size_t num_scales = (q && q->scale()) ? q->scale()->size() : 0;
  const size_t num_zero_points = (q && q->zero_point()) ? q->zero_point()->size() : 0;
  if (num_scales == 0 || out.type == DType::f32) return quant;
  if (num_zero_points != num_scales)
    r.fail(fmt::format("{}: quantization has {} scales and {} zero points; expected equal counts",
                       label, num_scales, num_zero_points));
  int axis = q->quantized_dimension();
  // Converters give per-channel biases the filter's quantized_dimension (e.g. 3 for a
  // depthwise bias of shape [C]); on a rank-1 tensor the only possible axis is 0.
  if (num_scales > 1 && out.shape.size() == 1 && static_cast<int64_t>(num_scales) == out.shape[0])
    axis = 0;
  if (num_scales > 1) {
    if (axis < 0 || static_cast<size_t>(axis) >= out.shape.size())
      r.fail(fmt::format("{}: quantized_dimension {} is outside shape {}; expected 0..{}", label,
                         axis, shape_string(out.shape), static_cast<int>(out.shape.size()) - 1));
    if (static_cast<int64_t>(num_scales) != out.shape[static_cast<size_t>(axis)])
      r.fail(fmt::format("{}: {} scales along dimension {} of shape {}; expected 1 or {}", label,
                         num_scales, axis, shape_string(out.shape),
                         out.shape[static_cast<size_t>(axis)]));
    quant.axis = axis;
  }
  const int64_t zp_min = out.type == DType::i8 ? -128 : std::numeric_limits<int32_t>::min();
  const int64_t zp_max = out.type == DType::i8 ? 127 : std::numeric_limits<int32_t>::max();
  for (size_t i = 0; i < num_scales; ++i) {
    const float s = q->scale()->Get(static_cast<flatbuffers::uoffset_t>(i));
    // The Verifier checks a vector's 4-byte alignment only, so an int64 element may sit
    // at a 4-byte boundary in a damaged file: copy the bytes instead of loading in place.
    int64_t zp;
    std::memcpy(&zp, q->zero_point()->Data() + i * sizeof(int64_t), sizeof(int64_t));
    if (!std::isfinite(s) || s <= 0.0f)
      r.fail(fmt::format("{}: scale[{}] = {}; expected a finite value > 0", label, i, s));
    if (zp < zp_min || zp > zp_max)
      r.fail(fmt::format("{}: zero_point[{}] = {}; expected {}..{}", label, i, zp, zp_min, zp_max));
    quant.scale.push_back(s);
    quant.zero_point.push_back(static_cast<int32_t>(zp));
  }
  return quant;
}

// Whether TFLite operator CAST is the only op reading or writing `index` (and some op does):
// CAST converts the stored integers and ignores quantization (micro/kernels/cast.cc), so
// there an INT8 tensor may be a plain integer tensor without a scale.
bool only_cast_touches(const tfl::Model& model, const tfl::SubGraph& subgraph, int index) {
  const auto* codes = model.operator_codes();
  if (!subgraph.operators()) return false;
  bool touched = false;
  for (const tfl::Operator* op : *subgraph.operators()) {
    bool uses = false;
    for (const auto* list : {op->inputs(), op->outputs()})
      if (list && std::find(list->begin(), list->end(), index) != list->end()) uses = true;
    if (!uses) continue;
    if (!codes || op->opcode_index() >= codes->size()) return false;
    const tfl::OperatorCode& code = *codes->Get(op->opcode_index());
    const int32_t builtin = std::max(static_cast<int32_t>(code.deprecated_builtin_code()),
                                     static_cast<int32_t>(code.builtin_code()));
    if (builtin != static_cast<int32_t>(tfl::BuiltinOperator::CAST)) return false;
    touched = true;
  }
  return touched;
}

}  // namespace

ir::Tensor Reader::convert_tensor(int index) const {
  const tfl::Tensor& t = *subgraph_.tensors()->Get(static_cast<flatbuffers::uoffset_t>(index));
  const std::string label = tensor_label(index);
  ir::Tensor out;
  out.name = t.name() ? printable(t.name()->str(), 1024) : std::string();

  if (t.sparsity())
    fail(fmt::format("{}: sparse tensors are not supported; expected dense tensors", label));
  if (t.shape()) {
    if (t.shape()->size() > static_cast<flatbuffers::uoffset_t>(kMaxRank))
      fail(fmt::format("{}: rank {}; expected at most {}", label, t.shape()->size(), kMaxRank));
    out.shape.assign(t.shape()->begin(), t.shape()->end());
  }
  const TypeInfo info = type_info(*this, t, label);
  out.type = info.type;
  const int64_t elements = checked_elements(*this, out.shape, info.file_element_bytes, label);

  out.data = constant_bytes(index, t, elements * info.file_element_bytes);
  out.constant = !out.data.empty();
  // A variable tensor starts at zero (TFLM resets it so); an initial value would be lost.
  out.variable = t.is_variable();
  if (out.variable && out.constant)
    fail(
        fmt::format("{}: a variable tensor with an initial value; expected an empty buffer "
                    "(the state starts at zero)",
                    label));
  // An INT64 tensor an op writes (ARG_MAX's indices) runs as int32: the indices of a tensor
  // of at most 2^31 elements fit. Model inputs stay refused: their values are unknown here.
  if (t.type() == tfl::TensorType::INT64) {
    const auto* inputs = subgraph_.inputs();
    if (!out.constant && inputs &&
        std::find(inputs->begin(), inputs->end(), index) != inputs->end())
      fail(
          fmt::format("{}: INT64 model inputs are not supported; expected INT64 only for "
                      "constants (e.g. shapes) and op results",
                      label));
    if (out.constant) out.data = narrowed_int64(*this, out.data, elements, label);
  }

  out.quant = read_quantization(*this, t, out, label);
  if (out.type == DType::i8 && !out.quant.present() && !only_cast_touches(model_, subgraph_, index))
    fail(
        fmt::format("{}: INT8 tensor without quantization parameters; expected a scale and "
                    "zero point (only CAST takes a plain int8 tensor)",
                    label));
  return out;
}

}  // namespace tinyforge::tflite_import
