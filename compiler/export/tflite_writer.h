// TFLite writer: Graph IR -> .tflite flatbuffer (schema version 3, identifier "TFL3"),
// readable by our importer, the TFLite interpreter and other TFLite consumers.
//
// What is written, following tensorflow/lite/schema/schema.fbs:
// - one subgraph; tensors in IR order (only those an op or the model I/O uses), then the
//   small int32 constants some ops take as operands (RESHAPE's new shape, TRANSPOSE's
//   perm, PAD's paddings);
// - buffers: buffer 0 is the empty sentinel, every constant tensor gets its own buffer
//   (16-byte aligned data), activations point at buffer 0;
// - quantization: scale and zero point per tensor, or per channel along
//   quantized_dimension (int8 conv filters: axis 0, depthwise: axis 3);
// - operator codes: one per (builtin, version), with builtin_code and
//   deprecated_builtin_code both set (the latter saturated at 127 as TFLite does for
//   newer codes); versions as TFLite's op_version.cc assigns them for the op's dtypes;
// - builtin options of every op (strides, padding, fused activation, beta, ...).
// IR explicit padding is written as SAME or VALID when it is equivalent; a conv with any
// other padding gets a PAD op in front; a pool with other padding is refused.
// Throws tinyforge::Error naming the node for graphs TFLite cannot express.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "ir/graph.h"

namespace tinyforge::tflite_export {

std::vector<uint8_t> write_tflite(const ir::Graph& graph);
void write_tflite_file(const ir::Graph& graph, const std::string& path);

}  // namespace tinyforge::tflite_export
