// The validator at the edges of every range it checks: a record that ends exactly at the end
// of its region is accepted, one byte (or one index) further is refused with the status that
// names the problem. Each damaged blob has a correct checksum, so only the check under test
// can refuse it.
#include <gtest/gtest.h>

#include <cstddef>
#include <cstring>
#include <vector>

#include "emit/plan_writer.h"
#include "plan/plan.h"
#include "tinyforge/runtime.h"

namespace tinyforge {
namespace {

// input t0 i8[2,3] -> Reshape -> t1 i8[6] (output); constant t2 i8[6] -> Reshape -> t3 i8[3,2]
// (output). t3 ends exactly at the end of the 24-byte arena.
std::vector<uint8_t> edge_blob() {
  plan::Plan p;
  auto tensor = [](std::vector<int32_t> shape, uint32_t offset) {
    plan::PlanTensor t;
    t.type = DType::i8;
    t.shape = std::move(shape);
    t.arena_offset = offset;
    return t;
  };
  plan::PlanTensor constant = tensor({6}, 0);
  constant.storage = Storage::constant;
  constant.data = {1, 2, 3, 4, 5, 6};
  p.tensors = {tensor({2, 3}, 0), tensor({6}, 8), constant, tensor({3, 2}, 18)};
  for (uint16_t i : {0, 2}) {
    plan::PlanOp op;
    op.op = OpCode::Reshape;
    op.inputs = {i};
    op.outputs = {static_cast<uint16_t>(i + 1)};
    op.params = plan::params_bytes(ReshapeParams{});
    p.ops.push_back(op);
  }
  p.inputs = {0};
  p.outputs = {1, 3};
  p.arena_size = 24;
  return emit::write_plan_blob(p);
}

PlanHeader header(const std::vector<uint8_t>& b) {
  PlanHeader h;
  std::memcpy(&h, b.data(), sizeof h);
  return h;
}

// Writes `value` at byte `at` and re-signs the blob.
template <typename T>
std::vector<uint8_t> patched(std::vector<uint8_t> b, size_t at, T value) {
  std::memcpy(b.data() + at, &value, sizeof value);
  PlanHeader h = header(b);
  h.checksum = plan_checksum(b.data(), h.total_size);
  std::memcpy(b.data(), &h, sizeof h);
  return b;
}

size_t tensor_field(const PlanHeader& h, uint32_t t, size_t field) {
  return h.tensors_offset + t * sizeof(TensorRecord) + field;
}
size_t op_field(const PlanHeader& h, uint32_t op, size_t field) {
  return h.ops_offset + op * sizeof(OpRecord) + field;
}
size_t index_at(const PlanHeader& h, uint32_t i) { return h.indices_offset + i * sizeof(uint16_t); }

OpRecord op_record(const std::vector<uint8_t>& b, uint32_t i) {
  OpRecord r;
  std::memcpy(&r, b.data() + op_field(header(b), i, 0), sizeof r);
  return r;
}
TensorRecord tensor_record(const std::vector<uint8_t>& b, uint32_t t) {
  TensorRecord r;
  std::memcpy(&r, b.data() + tensor_field(header(b), t, 0), sizeof r);
  return r;
}

Status status_of(const std::vector<uint8_t>& b) {
  std::vector<uint32_t> words((b.size() + 3) / 4);
  std::memcpy(words.data(), b.data(), b.size());
  return validate_plan(reinterpret_cast<const uint8_t*>(words.data()),
                       static_cast<uint32_t>(b.size()));
}

class PlanValidatorEdges : public ::testing::Test {
 protected:
  void SetUp() override {
    good_ = edge_blob();
    h_ = header(good_);
    ASSERT_EQ(status_of(good_), Status::ok);
    ASSERT_EQ(h_.num_tensors, 4u);
    ASSERT_EQ(h_.num_ops, 2u);
    ASSERT_EQ(tensor_record(good_, 2).storage, static_cast<uint8_t>(Storage::constant));
  }
  std::vector<uint8_t> good_;
  PlanHeader h_{};
};

TEST_F(PlanValidatorEdges, ArenaTensorMayEndAtTheArenaEndNotPastIt) {
  const size_t at = tensor_field(h_, 3, offsetof(TensorRecord, offset));
  EXPECT_EQ(status_of(patched<uint32_t>(good_, at, 18)), Status::ok);  // ends at 24 = arena
  EXPECT_EQ(status_of(patched<uint32_t>(good_, at, 19)), Status::out_of_bounds);
  EXPECT_EQ(status_of(patched<uint32_t>(good_, at, 24)), Status::out_of_bounds);
}

TEST_F(PlanValidatorEdges, ConstantMustLieInsideTheDataSection) {
  const uint32_t data_end = h_.data_offset + h_.data_size;
  const uint32_t size = tensor_record(good_, 2).size_bytes;
  const size_t at = tensor_field(h_, 2, offsetof(TensorRecord, offset));
  EXPECT_EQ(status_of(patched<uint32_t>(good_, at, h_.data_offset)), Status::ok);
  EXPECT_EQ(status_of(patched<uint32_t>(good_, at, data_end - size)), Status::ok);
  // One byte before the section (inside the index table) and one byte past its end.
  EXPECT_EQ(status_of(patched<uint32_t>(good_, at, h_.data_offset - 1)), Status::out_of_bounds);
  EXPECT_EQ(status_of(patched<uint32_t>(good_, at, data_end - size + 1)), Status::out_of_bounds);
}

TEST_F(PlanValidatorEdges, OpParamsMustLieInsideTheDataSection) {
  const uint32_t data_end = h_.data_offset + h_.data_size;
  const OpRecord op = op_record(good_, 1);
  ASSERT_EQ(op.params_size, sizeof(ReshapeParams));
  const size_t at = op_field(h_, 1, offsetof(OpRecord, params_offset));
  EXPECT_EQ(status_of(patched<uint32_t>(good_, at, data_end - op.params_size)), Status::ok);
  EXPECT_EQ(status_of(patched<uint32_t>(good_, at, data_end)), Status::out_of_bounds);
  EXPECT_EQ(status_of(patched<uint32_t>(good_, at, h_.data_offset - 4)), Status::out_of_bounds);
}

TEST_F(PlanValidatorEdges, OpIndexListMustLieInsideTheIndexTable) {
  const size_t at = op_field(h_, 1, offsetof(OpRecord, io_at));
  EXPECT_EQ(status_of(patched<uint32_t>(good_, at, h_.num_indices - 1)), Status::out_of_bounds);
  EXPECT_EQ(status_of(patched<uint32_t>(good_, at, 0xFFFFFFFFu)), Status::out_of_bounds);
}

TEST_F(PlanValidatorEdges, TensorIndexOnePastTheLastIsRefused) {
  const OpRecord op = op_record(good_, 1);
  const uint16_t past = static_cast<uint16_t>(h_.num_tensors);
  EXPECT_EQ(status_of(patched<uint16_t>(good_, index_at(h_, op.io_at), past)),
            Status::out_of_bounds);
  EXPECT_EQ(status_of(patched<uint16_t>(good_, index_at(h_, op.io_at + 1), past)),
            Status::out_of_bounds);
  EXPECT_EQ(status_of(patched<uint16_t>(good_, index_at(h_, h_.outputs_at), past)),
            Status::out_of_bounds);
}

TEST_F(PlanValidatorEdges, NothingWritesIntoTheConstants) {
  const OpRecord op = op_record(good_, 0);
  // Op 0's output (t1, i8[6]) redirected to the constant t2 of the same shape.
  EXPECT_EQ(status_of(patched<uint16_t>(good_, index_at(h_, op.io_at + 1), 2)), Status::bad_params);
  // The model input (written by the caller) redirected to the constant.
  EXPECT_EQ(status_of(patched<uint16_t>(good_, index_at(h_, h_.inputs_at), 2)), Status::bad_params);
  // A model output (read by the caller) that is a constant.
  EXPECT_EQ(status_of(patched<uint16_t>(good_, index_at(h_, h_.outputs_at), 2)),
            Status::bad_params);
}

TEST_F(PlanValidatorEdges, TensorSizeMustEqualItsShape) {
  const size_t at = tensor_field(h_, 1, offsetof(TensorRecord, size_bytes));
  EXPECT_EQ(status_of(patched<uint32_t>(good_, at, 7)), Status::bad_shape);
  EXPECT_EQ(status_of(patched<uint32_t>(good_, at, 5)), Status::bad_shape);
}

TEST_F(PlanValidatorEdges, OpcodeOnePastTheTableIsRefused) {
  const size_t at = op_field(h_, 0, offsetof(OpRecord, opcode));
  EXPECT_EQ(status_of(patched<uint16_t>(good_, at, kNumOps)), Status::unsupported_op);
  EXPECT_EQ(status_of(patched<uint16_t>(good_, at, static_cast<uint16_t>(OpCode::Reshape))),
            Status::ok);
}

TEST_F(PlanValidatorEdges, BlobMayNotClaimMoreBytesThanItHas) {
  std::vector<uint8_t> b = good_;
  b.push_back(0);  // a longer buffer holding the same blob: fine
  EXPECT_EQ(status_of(b), Status::ok);
  b = good_;
  const uint32_t longer = h_.total_size + 4;  // checked before the checksum: no re-signing
  std::memcpy(b.data() + offsetof(PlanHeader, total_size), &longer, 4);
  EXPECT_EQ(status_of(b), Status::truncated);
}

}  // namespace
}  // namespace tinyforge
