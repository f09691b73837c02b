// Builds the known-answer self-test block; see self_test_writer.h.
#include "ota/self_test_writer.h"

#include <cmath>
#include <cstring>
#include <string>

#include "host/host_runner.h"
#include "ir/graph.h"
#include "tinyforge/ota/known_answer.h"

namespace tinyforge::ota {
namespace {

void put_u32(std::vector<uint8_t>& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

void put_tensor(std::vector<uint8_t>& out, const uint8_t* data, uint32_t size) {
  put_u32(out, size);
  out.insert(out.end(), data, data + size);
  while (out.size() % 4 != 0) out.push_back(0);
}

uint32_t next(uint32_t& state) {  // xorshift32: the same input on every host
  state ^= state << 13;
  state ^= state >> 17;
  state ^= state << 5;
  return state;
}

}  // namespace

std::vector<uint8_t> make_self_test(const std::vector<uint8_t>& blob, const SelfTestSpec& spec) {
  host::HostRunner runner(blob, "self-test plan");
  const Runtime& rt = runner.runtime();
  std::vector<std::vector<uint8_t>> inputs = spec.inputs;
  if (!inputs.empty() && inputs.size() != rt.num_inputs())
    throw tinyforge::Error("self-test: the model has " + std::to_string(rt.num_inputs()) +
                           " inputs, got " + std::to_string(inputs.size()));
  uint32_t state = spec.seed | 1;
  for (uint32_t i = 0; i < rt.num_inputs(); ++i) {
    const TensorView in = rt.input(i);
    if (spec.inputs.empty()) {
      std::vector<uint8_t> bytes(in.bytes);
      if (in.type == DType::f32) {
        for (uint32_t k = 0; k + 4 <= in.bytes; k += 4) {
          const float v = static_cast<float>(next(state) % 2001) / 1000.0f - 1.0f;
          std::memcpy(bytes.data() + k, &v, 4);
        }
      } else {
        for (uint8_t& b : bytes) b = static_cast<uint8_t>(next(state) >> 11);
      }
      inputs.push_back(std::move(bytes));
    } else if (inputs[i].size() != in.bytes) {
      throw tinyforge::Error("self-test: input " + std::to_string(i) + " must be " +
                             std::to_string(in.bytes) + " bytes, got " +
                             std::to_string(inputs[i].size()));
    }
  }
  const std::vector<std::vector<uint8_t>> outputs = runner.run(inputs, 1);

  float float_tolerance = spec.float_tolerance;
  if (float_tolerance < 0) {
    float largest = 0;
    for (uint32_t i = 0; i < rt.num_outputs(); ++i) {
      if (rt.output(i).type != DType::f32) continue;
      for (size_t k = 0; k + 4 <= outputs[i].size(); k += 4) {
        float v;
        std::memcpy(&v, outputs[i].data() + k, 4);
        if (!std::isfinite(v))
          throw tinyforge::Error("self-test: the model outputs a non-finite value");
        largest = std::fmax(largest, std::fabs(v));
      }
    }
    float_tolerance = 1e-3f * (1.0f + largest);
  }

  std::vector<uint8_t> block;
  put_u32(block, kSelfTestMagic);
  block.push_back(static_cast<uint8_t>(rt.num_inputs()));
  block.push_back(static_cast<uint8_t>(rt.num_inputs() >> 8));
  block.push_back(static_cast<uint8_t>(rt.num_outputs()));
  block.push_back(static_cast<uint8_t>(rt.num_outputs() >> 8));
  put_u32(block, spec.int_tolerance);
  uint32_t bits;
  std::memcpy(&bits, &float_tolerance, 4);
  put_u32(block, bits);
  for (const auto& in : inputs) put_tensor(block, in.data(), static_cast<uint32_t>(in.size()));
  for (const auto& out : outputs) put_tensor(block, out.data(), static_cast<uint32_t>(out.size()));
  return block;
}

}  // namespace tinyforge::ota
