// Delta encoder; see delta_writer.h. A greedy matcher in the spirit of bsdiff (copy what
// is unchanged, send small bytewise differences against the aligned old bytes, literals
// for what is new), with the simple token coding of tinyforge/ota/delta.h for the values.
#include "ota/delta_writer.h"

#include <sodium.h>

#include <algorithm>
#include <string>
#include <unordered_map>

#include "ir/graph.h"
#include "tinyforge/ota/delta.h"

namespace tinyforge::ota {
namespace {

constexpr size_t kGram = 8;             // bytes hashed to find moved ranges
constexpr size_t kMaxCandidates = 16;   // base positions kept per hash
constexpr size_t kMinAlignedCopy = 48;  // shorter unchanged runs stay inside an add
constexpr size_t kMinMovedCopy = 24;    // a copy from a new alignment

void put_u32(std::vector<uint8_t>& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

void put_command(std::vector<uint8_t>& out, DeltaOp op, size_t length, size_t source) {
  out.push_back(static_cast<uint8_t>(op));
  put_u32(out, static_cast<uint32_t>(length));
  put_u32(out, static_cast<uint32_t>(source));
}

bool fits(uint8_t v, int bits) {
  const int s = static_cast<int8_t>(v);
  return s >= -(1 << (bits - 1)) && s < (1 << (bits - 1));
}

bool all_fit(const std::vector<uint8_t>& v, size_t at, size_t n, int bits) {
  if (at + n > v.size()) return false;
  for (size_t k = at; k < at + n; ++k)
    if (!fits(v[k], bits)) return false;
  return true;
}

size_t zeros_at(const std::vector<uint8_t>& v, size_t at, size_t limit) {
  size_t n = 0;
  while (at + n < v.size() && n < limit && v[at + n] == 0) ++n;
  return n;
}

// Token coding of `v` (see delta.h): zero runs, 2-bit and 4-bit packed runs, raw bytes.
std::vector<uint8_t> encode_values(const std::vector<uint8_t>& v) {
  std::vector<uint8_t> out;
  size_t i = 0;
  while (i < v.size()) {
    const size_t z = zeros_at(v, i, 64);
    if (z >= 2 || (z == 1 && i + 1 == v.size())) {
      out.push_back(static_cast<uint8_t>(z - 1));
      i += z;
    } else if (all_fit(v, i, 4, 2)) {
      size_t groups = 0;
      while (groups < 64 && all_fit(v, i + 4 * groups, 4, 2) &&
             zeros_at(v, i + 4 * groups, 12) < 12)
        ++groups;
      out.push_back(static_cast<uint8_t>(0xC0 | (groups - 1)));
      for (size_t g = 0; g < groups; ++g, i += 4)
        out.push_back(static_cast<uint8_t>((v[i] & 3) | ((v[i + 1] & 3) << 2) |
                                           ((v[i + 2] & 3) << 4) | ((v[i + 3] & 3) << 6)));
    } else if (all_fit(v, i, 2, 4)) {
      size_t pairs = 0;
      while (pairs < 64 && all_fit(v, i + 2 * pairs, 2, 4) && !all_fit(v, i + 2 * pairs, 8, 2) &&
             zeros_at(v, i + 2 * pairs, 6) < 6)
        ++pairs;
      if (pairs == 0) pairs = 1;
      out.push_back(static_cast<uint8_t>(0x80 | (pairs - 1)));
      for (size_t p = 0; p < pairs; ++p, i += 2)
        out.push_back(static_cast<uint8_t>((v[i] & 15) | ((v[i + 1] & 15) << 4)));
    } else {
      size_t n = 1;
      while (n < 64 && i + n < v.size() && zeros_at(v, i + n, 3) < 3 && !all_fit(v, i + n, 8, 2) &&
             !all_fit(v, i + n, 4, 4))
        ++n;
      out.push_back(static_cast<uint8_t>(0x40 | (n - 1)));
      out.insert(out.end(), v.begin() + static_cast<std::ptrdiff_t>(i),
                 v.begin() + static_cast<std::ptrdiff_t>(i + n));
      i += n;
    }
  }
  return out;
}

uint64_t gram_at(const std::vector<uint8_t>& v, size_t at) {
  uint64_t h = 0;
  for (size_t k = 0; k < kGram; ++k) h = (h << 8) | v[at + k];
  return h;
}

class Encoder {
 public:
  Encoder(const std::vector<uint8_t>& base, const std::vector<uint8_t>& target)
      : base_(base), target_(target) {
    for (size_t at = 0; at + kGram <= base_.size(); ++at) {
      auto& list = index_[gram_at(base_, at)];
      if (list.size() < kMaxCandidates) list.push_back(at);
    }
  }

  std::vector<uint8_t> run() {
    put_u32(out_, kDeltaMagic);
    put_u32(out_, static_cast<uint32_t>(base_.size()));
    put_u32(out_, static_cast<uint32_t>(target_.size()));
    put_u32(out_, 0);
    size_t i = 0, pending = 0;
    int64_t align = 0;  // base offset - target offset of the last copy
    while (i < target_.size()) {
      const int64_t aligned = static_cast<int64_t>(i) + align;
      size_t best_len = 0, best_src = 0;
      if (aligned >= 0 && static_cast<size_t>(aligned) < base_.size()) {
        best_src = static_cast<size_t>(aligned);
        best_len = match(i, best_src);
      }
      size_t need = kMinAlignedCopy;
      if (best_len < kMinAlignedCopy && i + kGram <= target_.size()) {
        const auto found = index_.find(gram_at(target_, i));
        if (found != index_.end())
          for (size_t src : found->second) {
            const size_t len = match(i, src);
            if (len > best_len && len >= kMinMovedCopy) {
              best_len = len;
              best_src = src;
              need = kMinMovedCopy;
            }
          }
      }
      if (best_len < need) {
        ++i;
        continue;
      }
      flush(pending, i, align);
      put_command(out_, DeltaOp::copy, best_len, best_src);
      align = static_cast<int64_t>(best_src) - static_cast<int64_t>(i);
      i += best_len;
      pending = i;
    }
    flush(pending, target_.size(), align);
    return out_;
  }

 private:
  size_t match(size_t at, size_t src) const {
    size_t n = 0;
    while (at + n < target_.size() && src + n < base_.size() && target_[at + n] == base_[src + n])
      ++n;
    return n;
  }

  void literal(size_t begin, size_t end) {
    if (begin == end) return;
    put_command(out_, DeltaOp::literal, end - begin, 0);
    const std::vector<uint8_t> tokens =
        encode_values(std::vector<uint8_t>(target_.begin() + static_cast<std::ptrdiff_t>(begin),
                                           target_.begin() + static_cast<std::ptrdiff_t>(end)));
    out_.insert(out_.end(), tokens.begin(), tokens.end());
  }

  // Target bytes [begin, end) that no copy covers: differences against the base at the
  // current alignment where that is cheaper than the bytes themselves.
  void flush(size_t begin, size_t end, int64_t align) {
    if (begin == end) return;
    const int64_t lo = std::max<int64_t>(static_cast<int64_t>(begin), -align);
    const int64_t hi =
        std::min<int64_t>(static_cast<int64_t>(end), static_cast<int64_t>(base_.size()) - align);
    if (lo >= hi) return literal(begin, end);
    const size_t a = static_cast<size_t>(lo), b = static_cast<size_t>(hi);
    std::vector<uint8_t> diff(b - a), raw(b - a);
    for (size_t k = a; k < b; ++k) {
      raw[k - a] = target_[k];
      diff[k - a] = static_cast<uint8_t>(target_[k] - base_[static_cast<size_t>(k + align)]);
    }
    const std::vector<uint8_t> as_add = encode_values(diff);
    if (as_add.size() >= encode_values(raw).size()) return literal(begin, end);
    literal(begin, a);
    put_command(out_, DeltaOp::add, b - a, static_cast<size_t>(static_cast<int64_t>(a) + align));
    out_.insert(out_.end(), as_add.begin(), as_add.end());
    literal(b, end);
  }

  const std::vector<uint8_t>& base_;
  const std::vector<uint8_t>& target_;
  std::unordered_map<uint64_t, std::vector<size_t>> index_;
  std::vector<uint8_t> out_;
};

struct VectorSink {
  const std::vector<uint8_t>* base;
  std::vector<uint8_t>* out;
  static Status read(void* self, uint32_t offset, uint8_t* to, uint32_t size) {
    const auto* s = static_cast<VectorSink*>(self);
    std::copy_n(s->base->begin() + offset, size, to);
    return Status::ok;
  }
  static Status write(void* self, const uint8_t* data, uint32_t size) {
    auto* s = static_cast<VectorSink*>(self);
    s->out->insert(s->out->end(), data, data + size);
    return Status::ok;
  }
};

}  // namespace

std::vector<uint8_t> encode_delta(const std::vector<uint8_t>& base,
                                  const std::vector<uint8_t>& target) {
  if (base.size() > 0xffffffffull || target.size() > 0xffffffffull)
    throw tinyforge::Error("delta: images larger than 4 GiB");
  return Encoder(base, target).run();
}

std::vector<uint8_t> apply_delta(const std::vector<uint8_t>& base,
                                 const std::vector<uint8_t>& delta, uint32_t output_size,
                                 Status* status) {
  std::vector<uint8_t> out;
  VectorSink sink{&base, &out};
  const DeltaSink callbacks{&sink, &VectorSink::read, &VectorSink::write};
  DeltaDecoder decoder;
  decoder.start(static_cast<uint32_t>(base.size()), output_size);
  *status = decoder.feed(delta.data(), delta.size(), callbacks);
  if (*status == Status::ok) *status = decoder.finish(callbacks);
  return out;
}

std::vector<uint8_t> base_image(const std::vector<uint8_t>& plan) {
  std::vector<uint8_t> base = plan;
  while (base.size() % 4 != 0) base.push_back(0);
  return base;
}

std::vector<uint8_t> write_delta_package(const PackageSpec& spec_in,
                                         const std::vector<uint8_t>& base_plan,
                                         const std::vector<uint8_t>& plan, const SecretKey& key,
                                         const std::vector<uint8_t>& self_test) {
  if (sodium_init() < 0) throw tinyforge::Error("libsodium failed to initialize");
  PackageSpec spec = spec_in;
  const std::vector<uint8_t> payload = package_payload(&spec, plan, key, self_test);
  const std::vector<uint8_t> base = base_image(base_plan);
  std::array<uint8_t, kDigestBytes> base_digest;
  crypto_hash_sha256(base_digest.data(), base.data(), base.size());
  spec.base_sha256 = base_digest;
  const std::vector<uint8_t> delta = encode_delta(base, payload);
  Status s;
  if (apply_delta(base, delta, static_cast<uint32_t>(payload.size()), &s) != payload ||
      s != Status::ok)
    throw tinyforge::Error("delta: the stream does not rebuild the payload (encoder bug)");
  spec.delta_size = static_cast<uint32_t>(delta.size());
  crypto_hash_sha256(spec.delta_sha256.data(), delta.data(), delta.size());
  const std::vector<uint8_t> manifest = encode_manifest(spec, payload);
  if (manifest.size() > kMaxManifestBytes)
    throw tinyforge::Error("manifest of " + std::to_string(manifest.size()) + " bytes exceeds " +
                           std::to_string(kMaxManifestBytes));
  return assemble_package(manifest, delta, key);
}

}  // namespace tinyforge::ota
