// TFLite's int16 lookup tables, made on the host as TFLite's Prepare() makes them, and added
// to the graph as constant inputs the int16 kernels read (Softmax, UnaryMath; the lookup is
// runtime/kernels/reference/lut_int16.h).
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "ir/graph.h"

namespace tinyforge::plan {

// TFLite's LUTPopulate<int16_t> (kernels/internal/common.h, LUTPopulateInt16 with float as
// FloatT), in float as there: f sampled at the 512 steps of the int16 input range
// (input_scale, input_zero_point) and at its end, in units of output_scale (zero point 0),
// each sample lowered by half the error linear interpolation makes at the step's midpoint.
std::vector<int16_t> lut_int16(const std::function<float(float)>& f, float input_scale,
                               int32_t input_zero_point, float output_scale);

// A constant int16 tensor of the table's kInt16LutSize entries; returns its index.
int add_lut_int16(ir::Graph& g, const std::string& name, const std::vector<int16_t>& lut);

}  // namespace tinyforge::plan
