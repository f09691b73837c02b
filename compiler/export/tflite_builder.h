// Internal to the TFLite writer: the model being built (flatbuffers builder, buffers,
// tensors, operator codes) and the per-op mapping that fills it (tflite_ops_writer.cc).
#pragma once
#include <flatbuffers/flatbuffers.h>

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "ir/graph.h"
#include "tflite_schema_generated.h"

namespace tinyforge::tflite_export {

class ModelBuilder {
 public:
  explicit ModelBuilder(const ir::Graph& graph);

  const ir::Graph& graph() const { return graph_; }
  flatbuffers::FlatBufferBuilder& fbb() { return fbb_; }

  // TFLite tensor index of IR tensor `t` (written on first use); -1 stays -1.
  int32_t tensor(int t);
  // A new tensor that is not in the IR: an int32 constant or an activation.
  int32_t constant_i32(const std::string& name, const std::vector<int32_t>& shape,
                       const std::vector<int32_t>& values);
  int32_t constant(const ir::Tensor& t);
  int32_t activation(const ir::Tensor& t);

  // Operator-code index of (builtin, version), added on first use.
  uint32_t opcode(tfl::BuiltinOperator builtin, int32_t version);

  void add_operator(tfl::BuiltinOperator builtin, int32_t version,
                    const std::vector<int32_t>& inputs, const std::vector<int32_t>& outputs,
                    tfl::BuiltinOptions options_type = tfl::BuiltinOptions::NONE,
                    flatbuffers::Offset<void> options = 0);

  std::vector<uint8_t> finish();

 private:
  int32_t write_tensor(const ir::Tensor& t, bool with_data);

  const ir::Graph& graph_;
  flatbuffers::FlatBufferBuilder fbb_;
  std::vector<flatbuffers::Offset<tfl::Buffer>> buffers_;
  std::vector<flatbuffers::Offset<tfl::Tensor>> tensors_;
  std::vector<int32_t> tensor_index_;  // IR index -> TFLite index, -1 until written
  std::vector<flatbuffers::Offset<tfl::OperatorCode>> codes_;
  std::map<std::pair<int32_t, int32_t>, uint32_t> code_index_;
  std::vector<flatbuffers::Offset<tfl::Operator>> operators_;
};

// Writes the TFLite operator(s) for IR node `node_index` (tflite_ops_writer.cc).
void write_node(ModelBuilder& b, size_t node_index);

}  // namespace tinyforge::tflite_export
