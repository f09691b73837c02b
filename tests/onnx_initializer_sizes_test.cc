// ONNX initializers whose stored values do not match their declared shape are refused, in
// both directions (too few and too many) and in both encodings (raw_data and the typed
// float_data field): the importer never reads past the values it was given, and never
// silently ignores extra ones.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "expect_error.h"
#include "import/onnx/onnx_test_builder.h"

namespace tinyforge::onnx_test {
namespace {

// x [1,4] * w [4,2]; `store` fills the initializer w.
template <typename Store>
ModelBuilder matmul_with(Store store) {
  ModelBuilder mb;
  mb.input("x", {1, 4});
  onnx::TensorProto* t = mb.graph().add_initializer();
  t->set_name("w");
  t->set_data_type(onnx::TensorProto::FLOAT);
  t->add_dims(4);
  t->add_dims(2);
  store(*t);
  mb.node("MatMul", {"x", "w"}, {"y"});
  mb.output("y");
  return mb;
}

void raw_floats(onnx::TensorProto& t, size_t n) {
  const std::vector<float> v(n, 0.5f);
  t.set_raw_data(std::string(reinterpret_cast<const char*>(v.data()), n * sizeof(float)));
}

TEST(OnnxInitializerSizes, RawDataMustHoldExactlyTheShape) {
  EXPECT_NO_THROW(matmul_with([](onnx::TensorProto& t) { raw_floats(t, 8); }).import());
  EXPECT_ERROR(matmul_with([](onnx::TensorProto& t) { raw_floats(t, 7); }).import(),
               tinyforge::Error, "raw_data has 28 bytes");
  EXPECT_ERROR(matmul_with([](onnx::TensorProto& t) { raw_floats(t, 9); }).import(),
               tinyforge::Error, "raw_data has 36 bytes");
}

TEST(OnnxInitializerSizes, FloatDataMustHoldExactlyTheShape) {
  auto floats = [](size_t n) {
    return [n](onnx::TensorProto& t) {
      for (size_t i = 0; i < n; ++i) t.add_float_data(0.25f);
    };
  };
  EXPECT_NO_THROW(matmul_with(floats(8)).import());
  EXPECT_ERROR(matmul_with(floats(7)).import(), tinyforge::Error, "float_data holds 7 values");
  EXPECT_ERROR(matmul_with(floats(9)).import(), tinyforge::Error, "float_data holds 9 values");
}

}  // namespace
}  // namespace tinyforge::onnx_test
