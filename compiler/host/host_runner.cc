#include "host/host_runner.h"

#include <fmt/format.h>

#include <cstring>

#include "ir/graph.h"

namespace tinyforge::host {

HostRunner::HostRunner(const std::vector<uint8_t>& blob, const std::string& source)
    : plan_(blob, source), source_(source) {
  // One host buffer per memory region of the plan (one for a plan without regions).
  const uint32_t num_regions = Runtime::num_regions(plan_.data());
  std::vector<ArenaRegion> regions;
  for (uint32_t r = 0; r < num_regions; ++r) {
    const uint32_t size = Runtime::region_size(plan_.data(), r);
    arenas_.emplace_back(size / 4 + 1, 0);
    regions.push_back({reinterpret_cast<uint8_t*>(arenas_.back().data()), size});
  }
  const Status s = runtime_.init(plan_.data(), plan_.size(), regions.data(), num_regions);
  if (s != Status::ok)
    throw tinyforge::Error(fmt::format("{}: runtime init failed: {}", source, status_name(s)));
}

std::vector<std::vector<uint8_t>> HostRunner::run(const std::vector<std::vector<uint8_t>>& inputs,
                                                  uint32_t cases) {
  const uint32_t n_in = runtime_.num_inputs(), n_out = runtime_.num_outputs();
  if (inputs.size() != n_in)
    throw tinyforge::Error(
        fmt::format("{}: the model has {} input(s), {} given", source_, n_in, inputs.size()));
  for (uint32_t i = 0; i < n_in; ++i)
    if (inputs[i].size() < uint64_t{cases} * input_bytes(i))
      throw tinyforge::Error(
          fmt::format("{}: input {} holds {} bytes, {} case(s) of {} bytes need {}", source_, i,
                      inputs[i].size(), cases, input_bytes(i), uint64_t{cases} * input_bytes(i)));
  std::vector<std::vector<uint8_t>> outputs(n_out);
  for (uint32_t c = 0; c < cases; ++c) {
    for (uint32_t i = 0; i < n_in; ++i) {
      const TensorView v = runtime_.input(i);
      std::memcpy(v.data, inputs[i].data() + uint64_t{c} * v.bytes, v.bytes);
    }
    const Status s = runtime_.invoke();
    if (s != Status::ok)
      throw tinyforge::Error(fmt::format("{}: invoke failed: {}", source_, status_name(s)));
    for (uint32_t o = 0; o < n_out; ++o) {
      const TensorView v = runtime_.output(o);
      const auto* p = static_cast<const uint8_t*>(v.data);
      outputs[o].insert(outputs[o].end(), p, p + v.bytes);
    }
  }
  return outputs;
}

}  // namespace tinyforge::host
