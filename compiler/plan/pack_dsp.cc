#include "plan/pack_dsp.h"

#include <algorithm>
#include <climits>
#include <cstdlib>

namespace tinyforge::plan {
namespace {

int32_t ceil_div(int32_t a, int32_t b) { return (a + b - 1) / b; }

uint32_t byte(int32_t v) {
  return static_cast<uint32_t>(static_cast<uint8_t>(static_cast<int8_t>(v)));
}

// The two words of group g for channels A and B (rows of `k` elements; B may be absent).
void dual_words(const int8_t* a, const int8_t* b, int32_t k, int32_t g, uint32_t out[2]) {
  for (int word = 0; word < 2; ++word) {
    uint32_t w = 0;
    for (int lane = 0; lane < 2; ++lane) {
      const int32_t e = 4 * g + word + 2 * lane;  // word 0: elements 4g, 4g+2; word 1: 4g+1, 4g+3
      const int32_t av = e < k ? a[e] : 0;
      const int32_t bv = (b != nullptr && e < k) ? b[e] : 0;
      const int32_t b_adjusted = bv - (av < 0 ? 1 : 0);  // lane = A + 256 * B (packed.h)
      w |= (byte(av) | byte(b_adjusted) << 8) << (16 * lane);
    }
    out[word] = w;
  }
}

}  // namespace

bool dual_packable(const std::vector<int8_t>& weights) {
  return std::find(weights.begin(), weights.end(), static_cast<int8_t>(-128)) == weights.end();
}

std::vector<int32_t> pack_conv_filter(const std::vector<int8_t>& filter, int32_t oc, int32_t k) {
  const int32_t groups = ceil_div(k, 4);
  std::vector<int32_t> words;
  words.reserve(static_cast<size_t>(ceil_div(oc, 2)) * 2 * groups);
  auto row = [&](int32_t c) {
    return c < oc ? filter.data() + static_cast<size_t>(c) * k : nullptr;
  };
  int32_t c = 0;
  for (; c + 4 <= oc; c += 4) {  // quads: the two pairs' words interleaved (packed.h)
    for (int32_t g = 0; g < groups; ++g) {
      uint32_t p[2], q[2];
      dual_words(row(c), row(c + 1), k, g, p);
      dual_words(row(c + 2), row(c + 3), k, g, q);
      for (uint32_t w : {p[0], q[0], p[1], q[1]}) words.push_back(static_cast<int32_t>(w));
    }
  }
  for (; c < oc; c += 2) {
    for (int32_t g = 0; g < groups; ++g) {
      uint32_t w[2];
      dual_words(row(c), row(c + 1), k, g, w);
      words.push_back(static_cast<int32_t>(w[0]));
      words.push_back(static_cast<int32_t>(w[1]));
    }
  }
  return words;
}

std::vector<int8_t> depthwise_filter_as_conv(const std::vector<int8_t>& filter, int32_t taps,
                                             int32_t in_c, int32_t multiplier) {
  const int32_t oc = in_c * multiplier;
  std::vector<int8_t> conv(static_cast<size_t>(oc) * taps * in_c, 0);
  for (int32_t c = 0; c < oc; ++c)
    for (int32_t t = 0; t < taps; ++t)
      conv[(static_cast<size_t>(c) * taps + t) * in_c + c / multiplier] =
          filter[static_cast<size_t>(t) * oc + c];
  return conv;
}

std::vector<int32_t> pack_fc_filter(const std::vector<int8_t>& filter, int32_t units,
                                    int32_t depth) {
  const int32_t groups = ceil_div(depth, 4);
  std::vector<int32_t> words;
  words.reserve(static_cast<size_t>(ceil_div(units, kFcUnitsPerRow)) * kFcUnitsPerRow * groups);
  auto row = [&](int32_t u) {
    return u < units ? filter.data() + static_cast<size_t>(u) * depth : nullptr;
  };
  static const int8_t kZeros[4] = {0, 0, 0, 0};
  for (int32_t u = 0; u < units; u += kFcUnitsPerRow) {
    for (int32_t g = 0; g < groups; ++g) {
      for (int32_t pair = 0; pair < kFcUnitsPerRow / 2; ++pair) {
        const int8_t* a = row(u + 2 * pair);
        const int8_t* b = row(u + 2 * pair + 1);
        uint32_t w[2] = {0, 0};
        if (a != nullptr)
          dual_words(a, b, depth, g, w);
        else
          dual_words(kZeros, nullptr, 0, 0, w);
        words.push_back(static_cast<int32_t>(w[0]));
        words.push_back(static_cast<int32_t>(w[1]));
      }
    }
  }
  return words;
}

std::vector<int32_t> pack_depthwise_filter(const std::vector<int8_t>& filter, int32_t taps,
                                           int32_t channels) {
  std::vector<int32_t> words;
  auto at = [&](int32_t t, int32_t c) -> int32_t {
    return c < channels ? filter[static_cast<size_t>(t) * channels + c] : 0;
  };
  for (int32_t q = 0; q < channels; q += 4) {
    for (int32_t t = 0; t < taps; ++t) {
      words.push_back(static_cast<int32_t>((static_cast<uint32_t>(at(t, q)) & 0xFFFFu) |
                                           static_cast<uint32_t>(at(t, q + 2)) << 16));
      words.push_back(static_cast<int32_t>((static_cast<uint32_t>(at(t, q + 1)) & 0xFFFFu) |
                                           static_cast<uint32_t>(at(t, q + 3)) << 16));
    }
  }
  return words;
}

bool fast_requant_ok(int32_t multiplier, int32_t shift) {
  return multiplier >= (1 << 30) && shift <= -1 && shift >= -kFastMaxShift;
}

int32_t multiply_by_quantized_multiplier(int32_t x, int32_t multiplier, int32_t shift) {
  shift = std::clamp(shift, -31, 31);
  const int left = shift > 0 ? shift : 0;
  const int right = shift > 0 ? 0 : -shift;
  const int32_t shifted = static_cast<int32_t>(static_cast<uint32_t>(x) << left);
  int32_t high;  // SaturatingRoundingDoublingHighMul
  if (shifted == INT32_MIN && multiplier == INT32_MIN) {
    high = INT32_MAX;
  } else {
    const int64_t ab = int64_t{shifted} * multiplier;
    const int64_t nudge = ab >= 0 ? (int64_t{1} << 30) : (1 - (int64_t{1} << 30));
    high = static_cast<int32_t>((ab + nudge) / (int64_t{1} << 31));
  }
  // RoundingDivideByPOT: round half away from zero.
  const int32_t mask = static_cast<int32_t>((int64_t{1} << right) - 1);
  const int32_t remainder = high & mask;
  const int32_t threshold = (mask >> 1) + (high < 0 ? 1 : 0);
  return (high >> right) + (remainder > threshold ? 1 : 0);
}

std::vector<int64_t> accumulator_spreads(const std::vector<int8_t>& weights, int32_t channels,
                                         int32_t per_channel, int64_t x_max) {
  std::vector<int64_t> spread(static_cast<size_t>(channels), 0);
  for (int32_t c = 0; c < channels; ++c)
    for (int32_t k = 0; k < per_channel; ++k)
      spread[c] += std::llabs(weights[static_cast<size_t>(c) * per_channel + k]) * x_max;
  return spread;
}

int32_t dual_run_groups(const std::vector<int64_t>& spreads, int32_t groups) {
  for (size_t c = 1; c < spreads.size(); c += 2)  // channel B of each pair
    if (spreads[c] >= (int64_t{1} << 23)) return kDualChunkGroups;
  return std::max(groups, kDualChunkGroups);
}

namespace {

struct ChannelForm {
  enum Kind { fast, constant, exact } kind;
  int32_t value = 0;  // constant: the output before the clamp
};

// How channel (multiplier, shift) with accumulators in [bias - spread, bias + spread] can
// be requantized.
ChannelForm channel_form(int32_t bias, int32_t multiplier, int32_t shift, int32_t zero_point,
                         int64_t spread) {
  const int64_t lo = int64_t{bias} - spread, hi = int64_t{bias} + spread;
  const bool no_wrap = lo >= INT32_MIN && hi <= INT32_MAX;
  // MultiplyByQuantizedMultiplier is non-decreasing in its input for a multiplier >= 0
  // as long as the left shift does not wrap: equal ends mean one value throughout.
  const int left = shift > 0 ? std::min(shift, 31) : 0;
  if (no_wrap && multiplier >= 0 && lo >= -(int64_t{1} << (31 - left)) &&
      hi < (int64_t{1} << (31 - left))) {
    const int32_t z_lo =
        multiply_by_quantized_multiplier(static_cast<int32_t>(lo), multiplier, shift);
    const int32_t z_hi =
        multiply_by_quantized_multiplier(static_cast<int32_t>(hi), multiplier, shift);
    if (z_lo == z_hi) return {ChannelForm::constant, std::clamp(z_lo + zero_point, -256, 256)};
  }
  if (fast_requant_ok(multiplier, shift)) return {ChannelForm::fast};
  // Shifts past kFastMaxShift: exact while |a| < 2^30 and the rounding constant fits.
  const int32_t e = -shift;
  if (multiplier >= (1 << 30) && e > kFastMaxShift && e <= 23 && lo > -(int64_t{1} << 30) &&
      hi < (int64_t{1} << 30))
    return {ChannelForm::fast};
  return {ChannelForm::exact};
}

}  // namespace

SparseFilter sparse_fc_filter(const std::vector<int8_t>& filter, int32_t units, int32_t depth) {
  SparseFilter f;
  for (int32_t u = 0; u < units; ++u) {
    const size_t before = f.weights.size();
    int32_t column = 0;  // the column the row's pointer is at
    for (int32_t i = 0; i < depth; ++i) {
      const int8_t w = filter[static_cast<size_t>(u) * depth + i];
      if (w == 0) continue;
      while (i - column > kSparseMaxStep) {  // a zero entry carries the pointer forward
        f.weights.push_back(0);
        f.steps.push_back(static_cast<uint8_t>(kSparseMaxStep));
        column += kSparseMaxStep;
      }
      f.weights.push_back(w);
      f.steps.push_back(static_cast<uint8_t>(i - column));
      column = i;
    }
    while ((f.weights.size() - before) % 4 != 0) {  // the kernel reads four entries a turn
      f.weights.push_back(0);
      f.steps.push_back(0);
    }
    f.entries.push_back(static_cast<int32_t>(f.weights.size() - before));
  }
  if (f.weights.empty() && units > 0) {  // all zero: four zero entries (a tensor is not empty)
    f.weights.assign(4, 0);
    f.steps.assign(4, 0);
    f.entries[0] = 4;
  }
  return f;
}

ChannelRecords make_channel_records(const std::vector<int32_t>& bias,
                                    const std::vector<int32_t>& multiplier,
                                    const std::vector<int32_t>& shift, int32_t output_zero_point,
                                    const std::vector<int64_t>& spread) {
  ChannelRecords r;
  const size_t n = multiplier.size();
  std::vector<ChannelForm> forms;
  bool fast = true;
  for (size_t c = 0; c < n; ++c) {
    forms.push_back(channel_form(bias[c], multiplier[c], shift[c], output_zero_point, spread[c]));
    fast = fast && forms.back().kind != ChannelForm::exact;
  }
  r.mode = fast ? RequantMode::fast : RequantMode::exact;
  for (size_t c = 0; c < n; ++c) {
    r.words.push_back(bias[c]);
    if (!fast) {
      r.words.insert(r.words.end(), {multiplier[c], shift[c], 0});
    } else if (forms[c].kind == ChannelForm::constant) {
      r.words.insert(r.words.end(), {0, 1, 2 * forms[c].value + 1});
    } else {
      const int32_t e = -shift[c];
      r.words.insert(r.words.end(),
                     {multiplier[c], e, (1 << (e - 1)) + output_zero_point * (1 << e)});
    }
  }
  return r;
}

AddTable make_add_table(const AddParams& p) {
  AddTable t;
  t.words.resize(kAddTableWords);
  int64_t bound = 0;
  for (int input = 0; input < 2; ++input) {
    const int32_t offset = input == 0 ? p.input1_offset : p.input2_offset;
    const int32_t multiplier = input == 0 ? p.input1_multiplier : p.input2_multiplier;
    const int32_t shift = input == 0 ? p.input1_shift : p.input2_shift;
    int64_t largest = 0;
    for (int32_t v = -128; v < 128; ++v) {
      const int32_t shifted =
          static_cast<int32_t>(static_cast<uint32_t>(v + offset) << (p.left_shift & 31));
      const int32_t scaled = multiply_by_quantized_multiplier(shifted, multiplier, shift);
      t.words[static_cast<size_t>(256 * input + v + 128)] = scaled;
      largest = std::max<int64_t>(largest, std::llabs(scaled));
    }
    bound += largest;
  }
  const bool fast =
      bound < (int64_t{1} << 30) && fast_requant_ok(p.output_multiplier, p.output_shift);
  t.mode = fast ? RequantMode::fast : RequantMode::exact;
  int32_t* stage = t.words.data() + kAddTableStage;
  stage[0] = 0;
  stage[1] = p.output_multiplier;
  if (fast) {
    const int32_t e = -p.output_shift;
    stage[2] = e;
    stage[3] = (1 << (e - 1)) + p.output_offset * (1 << e);
  } else {
    stage[2] = p.output_shift;
    stage[3] = 0;
  }
  return t;
}

}  // namespace tinyforge::plan
