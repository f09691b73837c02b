#include "plan/lut_int16.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <utility>

#include "kernels/reference/lut_int16.h"

namespace tinyforge::plan {

std::vector<int16_t> lut_int16(const std::function<float(float)>& f, float input_scale,
                               int32_t input_zero_point, float output_scale) {
  const float in_min = input_scale * static_cast<float>(-32768 - input_zero_point);
  const float in_max = input_scale * static_cast<float>(32767 - input_zero_point);
  const float out_min = output_scale * -32768.0f, out_max = output_scale * 32767.0f;
  constexpr int kSteps = kInt16LutSize - 1;
  const float step = (in_max - in_min) / kSteps;
  const float half_step = step / 2;
  const float inv = 65536.0f / (out_max - out_min);
  const auto to_int16 = [](float v) {
    return static_cast<int16_t>(std::min(std::max(v, -32768.0f), 32767.0f));
  };
  std::vector<int16_t> lut(kInt16LutSize);
  for (int i = 0; i < kSteps; ++i) {
    const float val = f(in_min + static_cast<float>(i) * step);
    const float val_mid = f(in_min + static_cast<float>(i) * step + half_step);
    const float val_next = f(in_min + static_cast<float>(i + 1) * step);
    const float sample = std::round(val * inv);
    const float mid_interpolated = std::round((val_next * inv + std::round(val * inv)) / 2);
    const float bias = std::round((mid_interpolated - std::round(val_mid * inv)) / 2);
    lut[static_cast<size_t>(i)] = to_int16(sample - bias);
  }
  lut[kSteps] = to_int16(std::round(f(in_max) * inv));
  return lut;
}

int add_lut_int16(ir::Graph& g, const std::string& name, const std::vector<int16_t>& lut) {
  ir::Tensor t;
  t.name = name;
  t.type = DType::i16;
  t.shape = {static_cast<int32_t>(lut.size())};
  t.constant = true;
  t.data.resize(lut.size() * sizeof(int16_t));
  std::memcpy(t.data.data(), lut.data(), t.data.size());  // the host is little-endian
  return g.add_tensor(std::move(t));
}

}  // namespace tinyforge::plan
