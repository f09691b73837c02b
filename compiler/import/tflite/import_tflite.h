// TFLite importer: a .tflite flatbuffer -> Graph IR.
//
// The file is first checked by the flatbuffers Verifier (against tflite_schema.fbs), then
// every field the importer uses is validated before use: one subgraph, indices in range,
// dims positive with sizes under 2 GiB, constant data exactly the tensor's size,
// consistent quantization, supported dtypes and ops, shapes consistent with each op.
// Anything else throws tinyforge::Error with one line: "<source>: <op/tensor>: <what>; expected
// <what>". Never crashes on bad input.
//
// Supported builtins: CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED, AVERAGE_POOL_2D,
// MAX_POOL_2D, ADD, RESHAPE, SOFTMAX, QUANTIZE, DEQUANTIZE; dtypes FLOAT32, INT8, INT32
// (INT64 constants are narrowed to INT32 when their values fit).
//
// Weight-only ("hybrid") quantized models, where an int8 constant filter feeds a float32
// op, are imported with that filter dequantized to float32 (real = scale * (q - zp)).
//
// Only the tensors that ops and model I/O use enter the graph; ir tensor indices are
// therefore not TFLite's (tensor names are kept).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

#include "ir/graph.h"

namespace tinyforge {

ir::Graph import_tflite(const uint8_t* data, size_t size, const std::string& source_name);
ir::Graph import_tflite_file(const std::string& path);

}  // namespace tinyforge
