#include "tinyforge/telemetry.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "tinyforge/plan_format.h"

namespace tinyforge::telemetry {
namespace {

TensorView int8_view(std::vector<int8_t>& values, int32_t channels) {
  TensorView v{};
  v.type = DType::i8;
  v.rank = 2;
  v.dims[0] = static_cast<int32_t>(values.size()) / channels;
  v.dims[1] = channels;
  v.dims[2] = v.dims[3] = 1;
  v.data = values.data();
  v.bytes = static_cast<uint32_t>(values.size());
  return v;
}

ota::ImageInfo image(const char* id, uint32_t major) {
  ota::ImageInfo info{};
  info.valid = true;
  std::strncpy(info.model_id, id, sizeof(info.model_id) - 1);
  info.version = {major, 2, 3};
  for (uint32_t i = 0; i < kHashBytes; ++i) info.payload_sha256[i] = static_cast<uint8_t>(i * 7);
  return info;
}

// A window with every part filled: 3 channels of random int8 input, 10 classes.
Collector busy_collector(uint32_t seed) {
  Collector c;
  EXPECT_EQ(c.init("dev-07", 4, 1, 2), Status::ok);
  c.set_model(image("kws", 1));
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> value(-128, 127);
  for (int n = 0; n < 20; ++n) {
    std::vector<int8_t> in(12);
    for (int8_t& v : in) v = static_cast<int8_t>(value(rng));
    c.observe_input(int8_view(in, 3));
    std::vector<int8_t> out(10, -100);
    out[n % 10] = 50;
    c.observe_result(Status::ok, int8_view(out, 10), 1000u + 400u * n);
  }
  c.count_error(Status::self_test_failed);
  c.observe_result(Status::bad_shape, TensorView{}, 0);
  return c;
}

std::vector<uint8_t> encoded(const Record& r) {
  std::vector<uint8_t> bytes(kRecordBytes);
  EXPECT_EQ(encode_record(r, bytes.data()), Status::ok);
  return bytes;
}

void restamp_crc(std::vector<uint8_t>& bytes) {
  const uint32_t at = static_cast<uint32_t>(bytes.size()) - 4;
  const uint32_t crc = crc32(bytes.data(), at);
  for (int i = 0; i < 4; ++i) bytes[at + i] = static_cast<uint8_t>(crc >> (8 * i));
}

TEST(TelemetryRecord, RoundTripsEveryField) {
  const Record r = busy_collector(1).current();
  const std::vector<uint8_t> bytes = encoded(r);
  Record back{};
  const char* what = nullptr;
  ASSERT_EQ(decode_record(bytes.data(), bytes.size(), &back, &what), Status::ok) << what;
  EXPECT_STREQ(back.device_id, "dev-07");
  EXPECT_STREQ(back.model_id, "kws");
  EXPECT_EQ(back.version[0], 1u);
  EXPECT_EQ(back.boot_count, 4u);
  EXPECT_EQ(back.update_count, 1u);
  EXPECT_EQ(back.rollback_count, 2u);
  EXPECT_EQ(back.inference_count, 21u);
  EXPECT_EQ(back.errors[static_cast<int>(Status::self_test_failed)], 1u);
  EXPECT_EQ(back.errors[static_cast<int>(Status::bad_shape)], 1u);
  EXPECT_EQ(back.num_classes, 10u);
  EXPECT_EQ(back.num_channels, 3u);
  EXPECT_EQ(std::memcmp(&back.model_sha256, &r.model_sha256, kHashBytes), 0);
  EXPECT_EQ(std::memcmp(back.latency, r.latency, sizeof(r.latency)), 0);
  EXPECT_EQ(std::memcmp(back.classes, r.classes, sizeof(r.classes)), 0);
  for (uint32_t c = 0; c < kMaxChannels; ++c) {
    EXPECT_EQ(back.channels[c].sum, r.channels[c].sum);
    EXPECT_EQ(back.channels[c].sum_sq, r.channels[c].sum_sq);
    EXPECT_EQ(back.channels[c].min, r.channels[c].min);
    EXPECT_EQ(back.channels[c].max, r.channels[c].max);
    EXPECT_EQ(back.channels[c].count, r.channels[c].count);
  }
}

TEST(TelemetryRecord, AnyFlippedBitIsRefused) {
  std::vector<uint8_t> bytes = encoded(busy_collector(2).current());
  Record out{};
  for (size_t bit = 0; bit < bytes.size() * 8; ++bit) {
    bytes[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
    EXPECT_NE(decode_record(bytes.data(), bytes.size(), &out, nullptr), Status::ok) << bit;
    bytes[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
  }
}

TEST(TelemetryRecord, RefusesWrongSizesMagicAndVersion) {
  std::vector<uint8_t> bytes = encoded(busy_collector(3).current());
  Record out{};
  EXPECT_EQ(decode_record(bytes.data(), 11, &out, nullptr), Status::truncated);
  EXPECT_EQ(decode_record(bytes.data(), kRecordBytes - 1, &out, nullptr), Status::truncated);
  bytes.push_back(0);
  EXPECT_EQ(decode_record(bytes.data(), bytes.size(), &out, nullptr), Status::too_large);
  bytes.pop_back();
  std::vector<uint8_t> wrong = bytes;
  wrong[0] = 'X';
  EXPECT_EQ(decode_record(wrong.data(), wrong.size(), &out, nullptr), Status::bad_magic);
  wrong = bytes;
  wrong[4] = 2;  // major 2
  restamp_crc(wrong);
  EXPECT_EQ(decode_record(wrong.data(), wrong.size(), &out, nullptr), Status::bad_version);
  wrong = bytes;
  wrong[8] += 4;  // 1.0 with another size
  EXPECT_EQ(decode_record(wrong.data(), wrong.size(), &out, nullptr), Status::bad_params);
}

TEST(TelemetryRecord, ReadsALongerNewerMinorVersion) {
  std::vector<uint8_t> bytes = encoded(busy_collector(4).current());
  bytes.insert(bytes.end() - 4, {9, 9, 9, 9, 9, 9, 9, 9});  // a 1.1 field before the CRC
  bytes[6] = 1;
  bytes[8] = static_cast<uint8_t>(bytes.size());
  bytes[9] = static_cast<uint8_t>(bytes.size() >> 8);
  restamp_crc(bytes);
  Record out{};
  ASSERT_EQ(decode_record(bytes.data(), bytes.size(), &out, nullptr), Status::ok);
  EXPECT_EQ(out.inference_count, 21u);
}

// Each row breaks one range rule with a correct CRC: the reader names the rule.
TEST(TelemetryRecord, RefusesEveryOutOfRangeField) {
  const Record good = busy_collector(5).current();
  struct Case {
    const char* name;
    void (*breaks)(std::vector<uint8_t>&);
  };
  const Case cases[] = {
      {"device id empty", [](std::vector<uint8_t>& b) { std::memset(&b[12], 0, 16); }},
      {"device id wildcard", [](std::vector<uint8_t>& b) { b[12] = '+'; }},
      {"device id slash", [](std::vector<uint8_t>& b) { b[13] = '/'; }},
      {"device id not padded", [](std::vector<uint8_t>& b) { b[27] = 'x'; }},
      {"model id control char", [](std::vector<uint8_t>& b) { b[36] = 0x07; }},
      {"error count for ok", [](std::vector<uint8_t>& b) { b[256] = 1; }},
      {"error count past the last status", [](std::vector<uint8_t>& b) { b[256 + 62] = 1; }},
      {"num_classes 17", [](std::vector<uint8_t>& b) { b[320] = 17; }},
      {"class beyond num_classes", [](std::vector<uint8_t>& b) { b[324 + 4 * 12] = 1; }},
      {"more classes than inferences", [](std::vector<uint8_t>& b) { b[324 + 3] = 1; }},
      {"more latencies than inferences", [](std::vector<uint8_t>& b) { b[128 + 3] = 1; }},
      {"num_channels 9", [](std::vector<uint8_t>& b) { b[322] = 9; }},
      {"channel beyond num_channels", [](std::vector<uint8_t>& b) { b[388 + 28 * 5] = 1; }},
      {"saturated above count", [](std::vector<uint8_t>& b) { b[388 + 4 + 3] = 1; }},
      {"min above max", [](std::vector<uint8_t>& b) { b[388 + 8] = 0x7f, b[388 + 9] = 0; }},
      {"max above 255", [](std::vector<uint8_t>& b) { b[388 + 11] = 1; }},
      {"sum above count * max", [](std::vector<uint8_t>& b) { b[388 + 12 + 6] = 1; }},
      {"sum_sq too large", [](std::vector<uint8_t>& b) { b[388 + 20 + 6] = 1; }},
      {"version without a model", [](std::vector<uint8_t>& b) { std::memset(&b[36], 0, 32); }},
  };
  const std::vector<uint8_t> bytes = encoded(good);
  for (const Case& c : cases) {
    std::vector<uint8_t> bad = bytes;
    c.breaks(bad);
    restamp_crc(bad);
    Record out{};
    const char* what = nullptr;
    EXPECT_EQ(decode_record(bad.data(), bad.size(), &out, &what), Status::bad_params) << c.name;
    EXPECT_NE(what, nullptr) << c.name;
    // What the reader refuses, the writer refuses too.
    EXPECT_NE(encode_record(out, bad.data()), Status::ok) << c.name;
  }
}

TEST(TelemetryCollector, LatencyBucketsAreLog2OfCycles) {
  Collector c;
  ASSERT_EQ(c.init("d", 0, 0, 0), Status::ok);
  TensorView none{};
  const uint32_t cycles[] = {0, 1, 2, 3, 1023, 1024, 0xFFFFFFFFu};
  for (uint32_t n : cycles) c.observe_result(Status::ok, none, n);
  const Record& r = c.current();
  EXPECT_EQ(r.latency[0], 2u);  // 0 and 1
  EXPECT_EQ(r.latency[1], 2u);  // 2 and 3
  EXPECT_EQ(r.latency[9], 1u);
  EXPECT_EQ(r.latency[10], 1u);
  EXPECT_EQ(r.latency[31], 1u);
}

TEST(TelemetryCollector, ChannelStatisticsMatchADirectComputation) {
  Collector c;
  ASSERT_EQ(c.init("d", 0, 0, 0), Status::ok);
  std::vector<int8_t> all;
  std::mt19937 rng(9);
  std::normal_distribution<double> noise(20, 30);
  for (int n = 0; n < 50; ++n) {
    std::vector<int8_t> in(2 * 10);  // 10 channels: 8 and 9 fold into slots 0 and 1
    for (int8_t& v : in) v = static_cast<int8_t>(std::clamp(noise(rng), -128.0, 127.0));
    c.observe_input(int8_view(in, 10));
    all.insert(all.end(), in.begin(), in.end());
  }
  const Record& r = c.current();
  ASSERT_EQ(r.num_channels, kMaxChannels);
  for (uint32_t slot = 0; slot < kMaxChannels; ++slot) {
    int64_t sum = 0, count = 0, saturated = 0;
    double sq = 0;
    int lo = 999, hi = -999;
    for (size_t i = 0; i < all.size(); ++i) {
      if ((i % 10) % kMaxChannels != slot) continue;
      const int v = all[i];
      sum += v, sq += double(v) * v, ++count;
      saturated += v == -128 || v == 127;
      lo = std::min(lo, v), hi = std::max(hi, v);
    }
    const ChannelStats& s = r.channels[slot];
    EXPECT_EQ(s.count, count);
    EXPECT_EQ(s.sum, sum);
    EXPECT_EQ(s.sum_sq, static_cast<uint64_t>(sq));
    EXPECT_EQ(s.min, lo);
    EXPECT_EQ(s.max, hi);
    EXPECT_EQ(s.saturated, saturated);
  }
}

TEST(TelemetryCollector, EmitStartsANewWindowAndKeepsCounters) {
  Collector c = busy_collector(6);
  c.count_boot_outcome(ota::BootOutcome::confirmed_update);
  c.count_boot_outcome(ota::BootOutcome::rolled_back_reset);
  c.count_boot_outcome(ota::BootOutcome::normal);
  std::vector<uint8_t> memory(kRecordBytes * 2 + 100);
  Ring ring;
  ASSERT_EQ(ring.init(memory.data(), static_cast<uint32_t>(memory.size())), Status::ok);
  ASSERT_EQ(c.emit(&ring), Status::ok);
  EXPECT_EQ(c.current().sequence, 1u);
  EXPECT_EQ(c.current().inference_count, 0u);
  EXPECT_EQ(c.current().channels[0].count, 0u);
  EXPECT_EQ(c.current().update_count, 2u);
  EXPECT_EQ(c.current().rollback_count, 3u);
  EXPECT_STREQ(c.current().model_id, "kws");
  Record first{};
  ASSERT_EQ(decode_record(ring.front(), kRecordBytes, &first, nullptr), Status::ok);
  EXPECT_EQ(first.sequence, 0u);
  EXPECT_EQ(first.inference_count, 21u);
}

TEST(TelemetryRing, OverwritesTheOldestWhenFullAndCountsIt) {
  std::vector<uint8_t> memory(kRecordBytes * 3);
  Ring ring;
  ASSERT_EQ(ring.init(memory.data(), kRecordBytes - 1), Status::bad_params);
  ASSERT_EQ(ring.init(memory.data(), static_cast<uint32_t>(memory.size())), Status::ok);
  Collector c;
  ASSERT_EQ(c.init("ring", 1, 0, 0), Status::ok);
  for (int i = 0; i < 5; ++i) ASSERT_EQ(c.emit(&ring), Status::ok);
  EXPECT_EQ(ring.count(), 3u);
  EXPECT_EQ(ring.dropped(), 2u);
  for (uint32_t expected = 2; expected < 5; ++expected) {
    Record r{};
    ASSERT_EQ(decode_record(ring.front(), kRecordBytes, &r, nullptr), Status::ok);
    EXPECT_EQ(r.sequence, expected);
    ring.pop();
  }
  EXPECT_EQ(ring.front(), nullptr);
  c.emit(&ring);
  Record last{};
  ASSERT_EQ(decode_record(ring.front(), kRecordBytes, &last, nullptr), Status::ok);
  EXPECT_EQ(last.dropped_records, 2u);  // the device tells the server what it lost
}

TEST(TelemetryCollector, RefusesBadDeviceIds) {
  Collector c;
  EXPECT_EQ(c.init("", 0, 0, 0), Status::bad_params);
  EXPECT_EQ(c.init("a/b", 0, 0, 0), Status::bad_params);
  EXPECT_EQ(c.init("12345678901234567", 0, 0, 0), Status::bad_params);
  EXPECT_EQ(c.init(nullptr, 0, 0, 0), Status::bad_params);
  EXPECT_EQ(c.init("1234567890123456", 0, 0, 0), Status::ok);
  Ring ring;
  Collector unset;
  EXPECT_EQ(unset.emit(&ring), Status::not_initialized);
}

}  // namespace
}  // namespace tinyforge::telemetry
