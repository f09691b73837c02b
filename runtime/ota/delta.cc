// Streaming decoder of delta updates; see tinyforge/ota/delta.h and docs/ota-format.md.
// Every field is checked against the announced sizes before it is used; the decoder never
// reads the base outside [0, base_size) and never produces more than output_size bytes.
#include "tinyforge/ota/delta.h"

#include <cstring>

namespace tinyforge::ota {
namespace {

uint32_t load_u32(const uint8_t* p) {
  return uint32_t{p[0]} | (uint32_t{p[1]} << 8) | (uint32_t{p[2]} << 16) | (uint32_t{p[3]} << 24);
}

// Sign-extends the low 4 bits (-8..7) or the low 2 bits (-2..1) of `v`.
uint8_t nibble(uint32_t v) { return static_cast<uint8_t>((v & 8u) ? (v & 15u) | 0xF0u : v & 15u); }
uint8_t crumb(uint32_t v) { return static_cast<uint8_t>((v & 2u) ? (v & 3u) | 0xFCu : v & 3u); }

uint32_t token_values(uint8_t token) {
  const uint32_t n = (token & 0x3Fu) + 1;
  switch (token >> 6) {
    case 2:
      return 2 * n;
    case 3:
      return 4 * n;
    default:
      return n;
  }
}

}  // namespace

void DeltaDecoder::start(uint32_t base_size, uint32_t output_size) {
  phase_ = Phase::header;
  have_ = 0;
  left_ = 0;
  token_left_ = 0;
  base_size_ = base_size;
  output_size_ = output_size;
  produced_ = 0;
  out_len_ = 0;
  base_at_ = 0;
  base_len_ = 0;
}

Status DeltaDecoder::fail(Status s) {
  phase_ = Phase::failed;
  return s;
}

Status DeltaDecoder::flush(const DeltaSink& sink) {
  if (out_len_ == 0) return Status::ok;
  const Status s = sink.write(sink.context, out_, out_len_);
  out_len_ = 0;
  return s;
}

Status DeltaDecoder::emit(uint8_t value, const DeltaSink& sink) {
  if (op_ == DeltaOp::add) {
    if (source_ < base_at_ || source_ - base_at_ >= base_len_) {
      const uint32_t rest = base_size_ - source_;  // > 0: checked at the command
      base_len_ = rest < kBufferBytes ? rest : kBufferBytes;
      base_at_ = source_;
      const Status s = sink.read_base(sink.context, base_at_, base_, base_len_);
      if (s != Status::ok) {
        base_len_ = 0;
        return s;
      }
    }
    value = static_cast<uint8_t>(value + base_[source_ - base_at_]);
    ++source_;
  }
  out_[out_len_++] = value;
  --left_;
  ++produced_;
  return out_len_ == kBufferBytes ? flush(sink) : Status::ok;
}

Status DeltaDecoder::run_copy(const DeltaSink& sink) {
  while (left_ > 0) {
    if (out_len_ == kBufferBytes) {
      const Status s = flush(sink);
      if (s != Status::ok) return s;
    }
    const uint32_t room = kBufferBytes - out_len_;
    const uint32_t n = left_ < room ? left_ : room;
    const Status s = sink.read_base(sink.context, source_, out_ + out_len_, n);
    if (s != Status::ok) return s;
    out_len_ += n;
    source_ += n;
    left_ -= n;
    produced_ += n;
  }
  return out_len_ == kBufferBytes ? flush(sink) : Status::ok;
}

// A command's 9 bytes are in field_: check them all, then run a copy at once.
Status DeltaDecoder::start_command(const DeltaSink& sink) {
  const uint8_t op = field_[0];
  const uint32_t length = load_u32(field_ + 1);
  const uint32_t source = load_u32(field_ + 5);
  if (op < static_cast<uint8_t>(DeltaOp::copy) || op > static_cast<uint8_t>(DeltaOp::literal))
    return Status::bad_delta;
  if (length == 0 || length > output_size_ - produced_) return Status::bad_delta;
  op_ = static_cast<DeltaOp>(op);
  if (op_ == DeltaOp::literal ? source != 0 : uint64_t{source} + length > base_size_)
    return Status::bad_delta;
  left_ = length;
  source_ = source;
  if (op_ != DeltaOp::copy) {
    phase_ = Phase::token;
    return Status::ok;
  }
  const Status s = run_copy(sink);
  if (s != Status::ok) return s;
  phase_ = produced_ == output_size_ ? Phase::done : Phase::command;
  return Status::ok;
}

Status DeltaDecoder::take_field(const DeltaSink& sink) {
  have_ = 0;
  if (phase_ == Phase::command) return start_command(sink);
  if (load_u32(field_) != kDeltaMagic) return Status::bad_delta;
  if (load_u32(field_ + 4) != base_size_) return Status::wrong_base;
  if (load_u32(field_ + 8) != output_size_ || load_u32(field_ + 12) != 0) return Status::bad_delta;
  phase_ = output_size_ == 0 ? Phase::done : Phase::command;
  return Status::ok;
}

Status DeltaDecoder::feed(const uint8_t* data, size_t size, const DeltaSink& sink) {
  for (size_t i = 0; i < size; ++i) {
    const uint8_t b = data[i];
    Status s = Status::ok;
    switch (phase_) {
      case Phase::header:
      case Phase::command: {
        field_[have_++] = b;
        const uint32_t want = phase_ == Phase::header ? kDeltaHeaderBytes : kDeltaCommandBytes;
        if (have_ == want) s = take_field(sink);
        break;
      }
      case Phase::token: {
        if (token_values(b) > left_) return fail(Status::bad_delta);
        token_ = b;
        const uint32_t n = (b & 0x3Fu) + 1;
        if ((b >> 6) == 0) {
          for (uint32_t k = 0; k < n && s == Status::ok; ++k) s = emit(0, sink);
        } else {
          token_left_ = n;
          phase_ = Phase::token_bytes;
        }
        break;
      }
      case Phase::token_bytes: {
        const uint32_t kind = token_ >> 6;
        if (kind == 1) {
          s = emit(b, sink);
        } else if (kind == 2) {
          s = emit(nibble(b & 15u), sink);
          if (s == Status::ok) s = emit(nibble(b >> 4), sink);
        } else {
          for (uint32_t k = 0; k < 4 && s == Status::ok; ++k) s = emit(crumb(b >> (2 * k)), sink);
        }
        if (--token_left_ == 0) phase_ = Phase::token;
        break;
      }
      case Phase::failed:
      case Phase::done:
        return fail(Status::bad_delta);  // after an error, or bytes past the end
    }
    if (s != Status::ok) return fail(s);
    if ((phase_ == Phase::token) && left_ == 0)
      phase_ = produced_ == output_size_ ? Phase::done : Phase::command;
  }
  return Status::ok;
}

Status DeltaDecoder::finish(const DeltaSink& sink) {
  if (phase_ != Phase::done) return fail(Status::bad_delta);
  const Status s = flush(sink);
  return s == Status::ok ? s : fail(s);
}

}  // namespace tinyforge::ota
