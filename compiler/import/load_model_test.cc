// Files are told apart by content: TFLite identifier, plan-blob and package magic, and an
// ONNX ModelProto recognised by walking its protobuf fields.
#include "import/load_model.h"

#include <gtest/gtest.h>

#include <cstring>

#include "onnx_seed_models.h"
#include "tinyforge/plan_format.h"

namespace tinyforge {
namespace {

TEST(FileKind, OnnxByContent) {
  for (const auto& [name, bytes] : onnx_test::onnx_seed_models()) {
    const std::vector<uint8_t> b(bytes.begin(), bytes.end());
    EXPECT_EQ(detect_file_kind(b), FileKind::onnx) << name;
    // Cut inside a field: the walk runs past the end and refuses it.
    const std::vector<uint8_t> cut(b.begin(), b.begin() + static_cast<long>(b.size() / 2));
    EXPECT_NE(detect_file_kind(cut), FileKind::onnx) << name;
  }
}

TEST(FileKind, MagicsAndGarbage) {
  std::vector<uint8_t> tflite = {0x1c, 0, 0, 0, 'T', 'F', 'L', '3', 0, 0};
  EXPECT_EQ(detect_file_kind(tflite), FileKind::tflite);
  std::vector<uint8_t> blob(8, 0);
  const uint32_t magic = kPlanMagic;
  std::memcpy(blob.data(), &magic, 4);
  EXPECT_EQ(detect_file_kind(blob), FileKind::plan_blob);
  EXPECT_EQ(detect_file_kind({}), FileKind::unknown);
  const std::string text = "ir_version: 7\ngraph { }\n";
  EXPECT_EQ(detect_file_kind(std::vector<uint8_t>(text.begin(), text.end())), FileKind::unknown);
  // A valid protobuf without a graph is not a model.
  EXPECT_EQ(detect_file_kind({0x08, 0x07}), FileKind::unknown);
}

TEST(FileKind, Extensions) {
  EXPECT_EQ(kind_from_extension("a/m.tflite"), FileKind::tflite);
  EXPECT_EQ(kind_from_extension("m.onnx"), FileKind::onnx);
  EXPECT_EQ(kind_from_extension("m.tfp"), FileKind::plan_blob);
  EXPECT_EQ(kind_from_extension("u.tfu"), FileKind::ota_package);
  EXPECT_EQ(kind_from_extension("m.bin"), FileKind::unknown);
}

}  // namespace
}  // namespace tinyforge
