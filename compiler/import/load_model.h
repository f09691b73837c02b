// Recognizes what a file is from its content (TFLite flatbuffer, ONNX protobuf, plan blob,
// OTA package), never from its name, and loads models into the Graph IR.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "ir/graph.h"

namespace tinyforge {

enum class FileKind { tflite, onnx, plan_blob, ota_package, unknown };

// TFLite: file identifier "TFL3" at byte 4. Plan blob: magic "TFP1". OTA package: magic
// "TFU1". ONNX has no magic: the bytes must parse as a protobuf ModelProto whose top-level
// fields all fit the file, with an ir_version (field 1) and a graph (field 7).
FileKind detect_file_kind(const std::vector<uint8_t>& bytes);

// What the extension of `path` claims (.tflite, .onnx, .tfp, .tfu), unknown for others.
FileKind kind_from_extension(const std::string& path);
const char* file_kind_name(FileKind kind);

// Loads a TFLite or ONNX model; throws tinyforge::Error for anything else.
ir::Graph load_model(const std::string& path);

}  // namespace tinyforge
