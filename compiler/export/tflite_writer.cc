#include "export/tflite_writer.h"

#include <fmt/format.h>

#include <algorithm>

#include "export/tflite_builder.h"
#include "io/files.h"

namespace tinyforge::tflite_export {
namespace {

// schema.fbs: the version of the format this writer follows.
constexpr uint32_t kSchemaVersion = 3;
// schema.fbs: Buffer.data is declared (force_align: 16).
constexpr size_t kBufferAlignment = 16;
// schema.fbs: builtin codes above 127 store this in the byte-sized deprecated field.
constexpr int32_t kPlaceholderForGreaterOpCodes = 127;

tfl::TensorType tensor_type(const ir::Tensor& t) {
  switch (t.type) {
    case DType::f32:
      return tfl::TensorType::FLOAT32;
    case DType::i8:
      return tfl::TensorType::INT8;
    case DType::i32:
      return tfl::TensorType::INT32;
    case DType::u8:
      return tfl::TensorType::UINT8;
    case DType::i16:
      return tfl::TensorType::INT16;
    case DType::u32:
      return tfl::TensorType::UINT32;
    case DType::u64:
      return tfl::TensorType::UINT64;
  }
  throw tinyforge::Error(fmt::format("tensor '{}': element type {} has no TFLite equivalent",
                                     t.name, static_cast<int>(t.type)));
}

}  // namespace

ModelBuilder::ModelBuilder(const ir::Graph& graph)
    : graph_(graph), tensor_index_(graph.tensors.size(), -1) {
  buffers_.push_back(tfl::CreateBuffer(fbb_));  // buffer 0: the empty sentinel
}

int32_t ModelBuilder::write_tensor(const ir::Tensor& t, bool with_data) {
  uint32_t buffer = 0;
  if (with_data) {
    if (static_cast<int64_t>(t.data.size()) != t.bytes())
      throw tinyforge::Error(
          fmt::format("tensor '{}': {} bytes of data for shape [{}]; expected {}", t.name,
                      t.data.size(), fmt::join(t.shape, ","), t.bytes()));
    fbb_.ForceVectorAlignment(t.data.size(), sizeof(uint8_t), kBufferAlignment);
    const auto data = fbb_.CreateVector(t.data);
    buffer = static_cast<uint32_t>(buffers_.size());
    buffers_.push_back(tfl::CreateBuffer(fbb_, data));
  }
  flatbuffers::Offset<tfl::QuantizationParameters> quant = 0;
  if (t.quant.present()) {
    std::vector<int64_t> zero_points(t.quant.zero_point.begin(), t.quant.zero_point.end());
    if (zero_points.empty()) zero_points.assign(t.quant.scale.size(), 0);
    const auto scale = fbb_.CreateVector(t.quant.scale);
    const auto zp = fbb_.CreateVector(zero_points);
    quant = tfl::CreateQuantizationParameters(fbb_, 0, 0, scale, zp, tfl::QuantizationDetails::NONE,
                                              0, t.quant.axis);
  }
  const auto shape = fbb_.CreateVector(t.shape);
  const auto name = fbb_.CreateString(t.name);
  tensors_.push_back(
      tfl::CreateTensor(fbb_, shape, tensor_type(t), buffer, name, quant, t.variable));
  return static_cast<int32_t>(tensors_.size()) - 1;
}

int32_t ModelBuilder::tensor(int t) {
  if (t < 0) return -1;
  int32_t& index = tensor_index_.at(static_cast<size_t>(t));
  if (index < 0) {
    const ir::Tensor& src = graph_.tensors[static_cast<size_t>(t)];
    index = write_tensor(src, src.constant);
  }
  return index;
}

int32_t ModelBuilder::constant(const ir::Tensor& t) { return write_tensor(t, true); }
int32_t ModelBuilder::activation(const ir::Tensor& t) { return write_tensor(t, false); }

int32_t ModelBuilder::constant_i32(const std::string& name, const std::vector<int32_t>& shape,
                                   const std::vector<int32_t>& values) {
  ir::Tensor t;
  t.name = name;
  t.type = DType::i32;
  t.shape = shape;
  t.constant = true;
  t.data.resize(values.size() * sizeof(int32_t));
  if (!values.empty()) std::memcpy(t.data.data(), values.data(), t.data.size());  // LE host
  return constant(t);
}

uint32_t ModelBuilder::opcode(tfl::BuiltinOperator builtin, int32_t version) {
  const auto key = std::make_pair(static_cast<int32_t>(builtin), version);
  const auto found = code_index_.find(key);
  if (found != code_index_.end()) return found->second;
  const int8_t deprecated =
      static_cast<int8_t>(std::min(static_cast<int32_t>(builtin), kPlaceholderForGreaterOpCodes));
  codes_.push_back(tfl::CreateOperatorCode(fbb_, deprecated, 0, version, builtin));
  const auto index = static_cast<uint32_t>(codes_.size()) - 1;
  code_index_.emplace(key, index);
  return index;
}

void ModelBuilder::add_operator(tfl::BuiltinOperator builtin, int32_t version,
                                const std::vector<int32_t>& inputs,
                                const std::vector<int32_t>& outputs,
                                tfl::BuiltinOptions options_type,
                                flatbuffers::Offset<void> options) {
  const uint32_t code = opcode(builtin, version);
  const auto in = fbb_.CreateVector(inputs);
  const auto out = fbb_.CreateVector(outputs);
  operators_.push_back(tfl::CreateOperator(fbb_, code, in, out, options_type, options));
}

void ModelBuilder::add_custom_operator(const std::string& custom_code, int32_t version,
                                       const std::vector<int32_t>& inputs,
                                       const std::vector<int32_t>& outputs,
                                       const std::vector<uint8_t>& options) {
  const auto key = std::make_pair(custom_code, version);
  auto found = custom_code_index_.find(key);
  if (found == custom_code_index_.end()) {
    const auto code_name = fbb_.CreateString(custom_code);
    const auto builtin = tfl::BuiltinOperator::CUSTOM;
    codes_.push_back(
        tfl::CreateOperatorCode(fbb_, static_cast<int8_t>(builtin), code_name, version, builtin));
    found = custom_code_index_.emplace(key, static_cast<uint32_t>(codes_.size()) - 1).first;
  }
  const auto in = fbb_.CreateVector(inputs);
  const auto out = fbb_.CreateVector(outputs);
  const auto custom_options = options.empty() ? 0 : fbb_.CreateVector(options);
  operators_.push_back(tfl::CreateOperator(fbb_, found->second, in, out, tfl::BuiltinOptions::NONE,
                                           0, custom_options,
                                           tfl::CustomOptionsFormat::FLEXBUFFERS));
}

std::vector<uint8_t> ModelBuilder::finish() {
  std::vector<int32_t> inputs, outputs;
  for (int t : graph_.inputs) inputs.push_back(tensor(t));
  for (int t : graph_.outputs) outputs.push_back(tensor(t));
  const auto tensors = fbb_.CreateVector(tensors_);
  const auto in = fbb_.CreateVector(inputs);
  const auto out = fbb_.CreateVector(outputs);
  const auto ops = fbb_.CreateVector(operators_);
  const auto name = fbb_.CreateString("main");
  const auto subgraph = tfl::CreateSubGraph(fbb_, tensors, in, out, ops, name);
  const auto subgraphs = fbb_.CreateVector(&subgraph, 1);
  const auto codes = fbb_.CreateVector(codes_);
  const auto buffers = fbb_.CreateVector(buffers_);
  const auto description = fbb_.CreateString("tinyforge");
  const auto model = tfl::CreateModel(fbb_, kSchemaVersion, codes, subgraphs, description, buffers);
  tfl::FinishModelBuffer(fbb_, model);
  return std::vector<uint8_t>(fbb_.GetBufferPointer(), fbb_.GetBufferPointer() + fbb_.GetSize());
}

std::vector<uint8_t> write_tflite(const ir::Graph& graph) {
  graph.check();
  ModelBuilder b(graph);
  // Tensors in IR order (those the model uses), then each node's operators.
  std::vector<char> used(graph.tensors.size(), 0);
  for (int t : graph.inputs) used[static_cast<size_t>(t)] = 1;
  for (int t : graph.outputs) used[static_cast<size_t>(t)] = 1;
  for (const ir::Node& n : graph.nodes) {
    for (int t : n.inputs)
      if (t >= 0) used[static_cast<size_t>(t)] = 1;
    for (int t : n.outputs) used[static_cast<size_t>(t)] = 1;
  }
  for (size_t t = 0; t < graph.tensors.size(); ++t)
    if (used[t]) b.tensor(static_cast<int>(t));
  for (size_t i = 0; i < graph.nodes.size(); ++i) write_node(b, i);
  return b.finish();
}

void write_tflite_file(const ir::Graph& graph, const std::string& path) {
  io::write_file(path, write_tflite(graph));
}

}  // namespace tinyforge::tflite_export
