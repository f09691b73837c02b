#include "quantize/bias_correction.h"

#include <cstring>

namespace tinyforge::quantize {

ir::Tensor corrected_bias(const ir::WeightGeometry& geometry, const ir::Tensor& w,
                          const ir::Tensor& wq, const ir::Tensor* bias,
                          const std::vector<double>& means) {
  const int32_t channels = geometry.out_channels;
  ir::Tensor b;
  if (bias) {
    b = *bias;
  } else {
    b.name = w.name + "/bias";
    b.type = DType::f32;
    b.shape = {channels};
    b.constant = true;
    b.data.assign(static_cast<size_t>(channels) * 4, 0);
  }
  const size_t scales = wq.quant.scale.size();
  if (means.size() != static_cast<size_t>(geometry.c) || geometry.c < 1 ||
      w.elements() != int64_t{channels} * geometry.patch() ||
      (scales != 1 && scales != static_cast<size_t>(channels)) || b.elements() != channels)
    return b;

  std::vector<double> shift(static_cast<size_t>(channels), 0.0);
  for (int32_t oc = 0; oc < channels; ++oc)
    for (int32_t e = 0; e < geometry.patch(); ++e) {
      const auto i = static_cast<size_t>(geometry.weight_index(oc, e));
      const double rounded =
          static_cast<double>(wq.quant.scale[scales == 1 ? 0 : static_cast<size_t>(oc)]) *
          static_cast<int8_t>(wq.data[i]);
      shift[static_cast<size_t>(oc)] += (rounded - w.at<float>(static_cast<int64_t>(i))) *
                                        means[static_cast<size_t>(geometry.input_channel(oc, e))];
    }
  for (int32_t c = 0; c < channels; ++c) {
    const float v = static_cast<float>(b.at<float>(c) - shift[static_cast<size_t>(c)]);
    std::memcpy(b.data.data() + static_cast<size_t>(c) * 4, &v, 4);
  }
  return b;
}

}  // namespace tinyforge::quantize
