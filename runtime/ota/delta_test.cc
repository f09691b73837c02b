// The delta encoder (host) and the device's streaming decoder: round trips on random and
// structured images, chunked feeding, and malformed streams refused before any byte of
// them is used.
#include "tinyforge/ota/delta.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "ota/delta_writer.h"
#include "runtime/ota/testing/ota_test_device.h"

namespace tinyforge::ota {
namespace {

std::vector<uint8_t> random_bytes(std::mt19937& rng, size_t n) {
  std::vector<uint8_t> v(n);
  for (auto& b : v) b = static_cast<uint8_t>(rng());
  return v;
}

// Random edits: changed bytes, small bytewise changes, inserts, deletes, moved blocks.
std::vector<uint8_t> mutate(std::mt19937& rng, std::vector<uint8_t> v, int edits) {
  for (int e = 0; e < edits; ++e) {
    const size_t at = v.empty() ? 0 : rng() % v.size();
    const size_t n = 1 + rng() % 200;
    switch (rng() % 5) {
      case 0:
        for (size_t k = at; k < std::min(v.size(), at + n); ++k) v[k] = static_cast<uint8_t>(rng());
        break;
      case 1:
        for (size_t k = at; k < std::min(v.size(), at + n); ++k)
          v[k] = static_cast<uint8_t>(v[k] + static_cast<int>(rng() % 5) - 2);
        break;
      case 2: {
        const auto ins = random_bytes(rng, n);
        v.insert(v.begin() + static_cast<std::ptrdiff_t>(at), ins.begin(), ins.end());
        break;
      }
      case 3:
        v.erase(v.begin() + static_cast<std::ptrdiff_t>(at),
                v.begin() + static_cast<std::ptrdiff_t>(std::min(v.size(), at + n)));
        break;
      default:
        if (v.size() > 2 * n) {
          const size_t from = rng() % (v.size() - n);
          std::vector<uint8_t> block(v.begin() + static_cast<std::ptrdiff_t>(from),
                                     v.begin() + static_cast<std::ptrdiff_t>(from + n));
          v.insert(v.begin() + static_cast<std::ptrdiff_t>(at), block.begin(), block.end());
        }
    }
  }
  return v;
}

void expect_round_trip(const std::vector<uint8_t>& base, const std::vector<uint8_t>& target,
                       const std::string& what) {
  const std::vector<uint8_t> delta = encode_delta(base, target);
  Status s;
  EXPECT_EQ(apply_delta(base, delta, static_cast<uint32_t>(target.size()), &s), target) << what;
  EXPECT_EQ(s, Status::ok) << what;
}

TEST(OtaDelta, RoundTripOnRandomImages) {
  std::mt19937 rng(7);
  for (int round = 0; round < 60; ++round) {
    const auto base = random_bytes(rng, rng() % 6000);
    expect_round_trip(base, mutate(rng, base, 1 + round % 12), "edit " + std::to_string(round));
    expect_round_trip(base, random_bytes(rng, rng() % 3000), "unrelated " + std::to_string(round));
  }
  expect_round_trip({}, {}, "empty");
  expect_round_trip({}, {1, 2, 3}, "empty base");
  expect_round_trip({1, 2, 3}, {}, "empty target");
  expect_round_trip({5}, {5}, "one byte");
}

TEST(OtaDelta, RoundTripOnPlansAndSizesFollowTheChange) {
  const auto v1 = base_image(testing::test_plan(2600, 1));
  const auto v2 = base_image(testing::test_plan(3000, 2));
  expect_round_trip(v1, v2, "other plan");
  // The same plan is a single copy; every weight nudged by +-1 packs 4 values a byte.
  EXPECT_LE(encode_delta(v1, v1).size(), kDeltaHeaderBytes + kDeltaCommandBytes);
  std::vector<uint8_t> tuned = v1;
  std::mt19937 rng(3);
  for (size_t k = 600; k < 2000; ++k) tuned[k] = static_cast<uint8_t>(tuned[k] + rng() % 3 - 1);
  const auto delta = encode_delta(v1, tuned);
  expect_round_trip(v1, tuned, "tuned");
  EXPECT_LT(delta.size(), 600u) << "1400 bytes changed by at most 1";
  // One changed range costs about its own size, not the image's.
  std::vector<uint8_t> one_range = v1;
  for (size_t k = 1000; k < 1100; ++k) one_range[k] = static_cast<uint8_t>(rng());
  EXPECT_LT(encode_delta(v1, one_range).size(), 200u);
}

TEST(OtaDelta, ChunkedFeedingMatchesWholeStream) {
  std::mt19937 rng(11);
  const auto base = random_bytes(rng, 3000);
  const auto target = mutate(rng, base, 10);
  const auto delta = encode_delta(base, target);
  for (size_t chunk : {1u, 7u, 64u, 1000u}) {
    std::vector<uint8_t> out;
    struct Ctx {
      const std::vector<uint8_t>* base;
      std::vector<uint8_t>* out;
    } ctx{&base, &out};
    const DeltaSink sink{&ctx,
                         [](void* c, uint32_t off, uint8_t* to, uint32_t n) {
                           auto* x = static_cast<Ctx*>(c);
                           EXPECT_LE(off + n, x->base->size());
                           std::memcpy(to, x->base->data() + off, n);
                           return Status::ok;
                         },
                         [](void* c, const uint8_t* d, uint32_t n) {
                           auto* x = static_cast<Ctx*>(c);
                           x->out->insert(x->out->end(), d, d + n);
                           return Status::ok;
                         }};
    DeltaDecoder dec;
    dec.start(static_cast<uint32_t>(base.size()), static_cast<uint32_t>(target.size()));
    for (size_t at = 0; at < delta.size(); at += chunk)
      ASSERT_EQ(dec.feed(delta.data() + at, std::min(chunk, delta.size() - at), sink), Status::ok);
    ASSERT_EQ(dec.finish(sink), Status::ok);
    EXPECT_EQ(out, target) << chunk;
  }
}

std::vector<uint8_t> stream(uint32_t base_size, uint32_t output_size,
                            const std::vector<uint8_t>& body, uint32_t magic = kDeltaMagic) {
  std::vector<uint8_t> s;
  for (uint32_t v : {magic, base_size, output_size, 0u})
    for (int i = 0; i < 4; ++i) s.push_back(static_cast<uint8_t>(v >> (8 * i)));
  s.insert(s.end(), body.begin(), body.end());
  return s;
}

std::vector<uint8_t> command(uint8_t op, uint32_t length, uint32_t source) {
  std::vector<uint8_t> c{op};
  for (uint32_t v : {length, source})
    for (int i = 0; i < 4; ++i) c.push_back(static_cast<uint8_t>(v >> (8 * i)));
  return c;
}

std::vector<uint8_t> cat(std::vector<std::vector<uint8_t>> parts) {
  std::vector<uint8_t> out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

TEST(OtaDelta, MalformedStreamsAreRefused) {
  const std::vector<uint8_t> base(100, 0x11);
  struct Case {
    const char* what;
    std::vector<uint8_t> delta;
    uint32_t output;
    Status want;
  } cases[] = {
      {"bad magic", stream(100, 10, command(1, 10, 0), 0x12345678), 10, Status::bad_delta},
      {"other base size", stream(99, 10, command(1, 10, 0)), 10, Status::wrong_base},
      {"other output size", stream(100, 11, command(1, 11, 0)), 10, Status::bad_delta},
      {"op 0", stream(100, 10, command(0, 10, 0)), 10, Status::bad_delta},
      {"op 4", stream(100, 10, command(4, 10, 0)), 10, Status::bad_delta},
      {"empty command", stream(100, 10, command(1, 0, 0)), 10, Status::bad_delta},
      {"copy past base", stream(100, 10, command(1, 10, 91)), 10, Status::bad_delta},
      {"source wraps", stream(100, 10, command(2, 10, 0xFFFFFFF8u)), 10, Status::bad_delta},
      {"more output than announced", stream(100, 10, command(1, 11, 0)), 10, Status::bad_delta},
      {"copy far past the output", stream(100, 10, command(1, 100, 0)), 10, Status::bad_delta},
      {"packed token far past its command",
       stream(100, 2, cat({command(3, 2, 0), {0xFF}, std::vector<uint8_t>(64, 0x55)})), 2,
       Status::bad_delta},
      {"literal with a source", stream(100, 2, cat({command(3, 2, 1), {0x01}})), 2,
       Status::bad_delta},
      {"token overruns command", stream(100, 2, cat({command(3, 2, 0), {0x02}})), 2,
       Status::bad_delta},
      {"packed token overruns", stream(100, 2, cat({command(2, 2, 0), {0xC0, 0}})), 2,
       Status::bad_delta},
      {"bytes after the end", stream(100, 10, cat({command(1, 10, 0), {0}})), 10,
       Status::bad_delta},
      {"stream ends inside a command",
       [] {
         auto v = stream(100, 10, command(1, 10, 0));
         v.resize(v.size() - 3);
         return v;
       }(),
       10, Status::bad_delta},
      {"output short", stream(100, 10, command(1, 5, 0)), 10, Status::bad_delta},
      {"header only", stream(100, 10, {}), 10, Status::bad_delta},
  };
  for (const Case& c : cases) {
    Status s;
    const auto out = apply_delta(base, c.delta, c.output, &s);
    EXPECT_EQ(s, c.want) << c.what;
    EXPECT_LE(out.size(), c.output) << c.what;
  }
  Status s;
  EXPECT_EQ(apply_delta(base, stream(100, 3, cat({command(3, 3, 0), {0x42, 7, 8, 9}})), 3, &s),
            (std::vector<uint8_t>{7, 8, 9}));
  EXPECT_EQ(s, Status::ok);
}

// Every truncation and every single-byte change of a real stream: refused, or decoded to
// exactly the announced size; never a read outside the base (ASan and the sink check it).
TEST(OtaDelta, DamagedStreamsStayInBounds) {
  std::mt19937 rng(5);
  const auto base = random_bytes(rng, 1500);
  const auto target = mutate(rng, base, 8);
  const auto delta = encode_delta(base, target);
  const uint32_t size = static_cast<uint32_t>(target.size());
  int refused = 0;
  for (size_t cut = 0; cut < delta.size(); ++cut) {
    Status s;
    apply_delta(base, std::vector<uint8_t>(delta.begin(), delta.begin() + cut), size, &s);
    EXPECT_NE(s, Status::ok) << cut;
  }
  for (size_t at = 0; at < delta.size(); ++at) {
    auto bad = delta;
    bad[at] ^= static_cast<uint8_t>(1 + rng() % 255);
    Status s;
    const auto out = apply_delta(base, bad, size, &s);
    if (s != Status::ok)
      ++refused;
    else
      EXPECT_EQ(out.size(), size) << at;
  }
  EXPECT_GT(refused, 0);
}

// The delta record: exact length, needs base_sha256, at most once, critical; and
// verify_package checks a delta package's body against the stream's size and hash.
TEST(OtaDelta, ManifestRecordAndPackageRules) {
  PackageSpec spec;
  spec.model_id = "kws";
  spec.version = {2, 0, 0};
  spec.security_counter = 2;
  spec.base_sha256 = std::array<uint8_t, kDigestBytes>{1};
  spec.delta_size = 40;
  const std::vector<uint8_t> payload(100, 7);
  auto good = encode_manifest(spec, payload);
  Manifest m;
  ASSERT_EQ(parse_manifest(good.data(), static_cast<uint32_t>(good.size()), &m), Status::ok);
  EXPECT_TRUE(m.has_delta);
  EXPECT_EQ(m.delta_size, 40u);
  // The delta record is last (type order); its header is 40 bytes from the end.
  const size_t at = good.size() - 40;
  ASSERT_EQ(good[at] | (good[at + 1] << 8), static_cast<int>(RecordType::delta));
  auto duplicate = good;
  duplicate.insert(duplicate.end(), good.begin() + static_cast<std::ptrdiff_t>(at), good.end());
  EXPECT_EQ(parse_manifest(duplicate.data(), static_cast<uint32_t>(duplicate.size()), &m),
            Status::bad_manifest);
  auto short_record = good;
  short_record[at + 2] = 32;  // length 32, value padded to the same 36 bytes
  EXPECT_EQ(parse_manifest(short_record.data(), static_cast<uint32_t>(short_record.size()), &m),
            Status::bad_manifest);
  PackageSpec no_base = spec;
  no_base.base_sha256.reset();
  EXPECT_THROW(encode_manifest(no_base, payload), tinyforge::Error);
  // Without the base record (removed by hand): refused.
  spec.base_sha256.reset();
  spec.delta_size.reset();
  auto without_base = encode_manifest(spec, payload);
  without_base.insert(without_base.end(), good.begin() + static_cast<std::ptrdiff_t>(at),
                      good.end());
  EXPECT_EQ(parse_manifest(without_base.data(), static_cast<uint32_t>(without_base.size()), &m),
            Status::bad_manifest);

  const auto keys = testing::test_keys();
  const auto v1 = testing::test_plan(2600, 1), v2 = testing::test_plan(3000, 2);
  PackageSpec full;
  full.model_id = "kws";
  full.version = {2, 0, 0};
  full.security_counter = 2;
  const auto pkg = write_delta_package(full, v1, v2, keys.secret_key);
  ASSERT_EQ(verify_package(pkg.data(), pkg.size(), keys.public_key.data(), &m), Status::ok);
  EXPECT_EQ(m.payload_size, v2.size());
  auto longer = pkg;
  longer.push_back(0);
  EXPECT_EQ(verify_package(longer.data(), longer.size(), keys.public_key.data(), &m),
            Status::too_large);
  EXPECT_EQ(verify_package(pkg.data(), pkg.size() - 1, keys.public_key.data(), &m),
            Status::truncated);
  auto flipped = pkg;
  flipped.back() ^= 1;
  EXPECT_EQ(verify_package(flipped.data(), flipped.size(), keys.public_key.data(), &m),
            Status::bad_hash);
}

}  // namespace
}  // namespace tinyforge::ota
