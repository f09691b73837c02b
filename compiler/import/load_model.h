// Recognizes what a file is from its content (TFLite flatbuffer, plan blob, ...) and
// loads models into the Graph IR.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "ir/graph.h"

namespace tinyforge {

enum class FileKind { tflite, onnx, plan_blob, ota_package, unknown };

// TFLite: file identifier "TFL3" at byte 4. Plan blob: magic "TFP1". OTA package: magic
// "TFU1". ONNX (protobuf, no magic): by the ".onnx" extension.
FileKind detect_file_kind(const std::vector<uint8_t>& bytes, const std::string& path);

// Loads a .tflite or .onnx model; throws tinyforge::Error for anything else.
ir::Graph load_model(const std::string& path);

}  // namespace tinyforge
