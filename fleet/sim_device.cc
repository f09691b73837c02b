#include "fleet/sim_device.h"

#include <algorithm>
#include <chrono>
#include <cstring>

#include "fleet/rollout.h"
#include "fleet/service.h"
#include "ir/error.h"

namespace tinyforge::fleet {
namespace {

constexpr uint32_t kPageBytes = 4096, kWriteUnit = 8;
constexpr uint32_t kRingRecords = 8;

double steady_ms() {
  return std::chrono::duration<double, std::milli>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

uint32_t round_up(uint32_t n, uint32_t unit) { return (n + unit - 1) / unit * unit; }

uint32_t get32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0] | (p[1] << 8) | (p[2] << 16)) | (uint32_t{p[3]} << 24);
}

}  // namespace

double resend_after_ms(double previous_wait_ms, bool unanswered) {
  constexpr double kFirstMs = 3000, kLongestMs = 48000;
  return unanswered ? std::clamp(2 * previous_wait_ms, kFirstMs, kLongestMs) : kFirstMs;
}

void synthetic_input(std::mt19937& rng, int32_t shift, const TensorView& input) {
  if (input.data == nullptr || input.type != DType::i8) return;
  const int32_t channels = input.rank == 0 ? 1 : input.dims[input.rank - 1];
  std::normal_distribution<double> noise(0, 15);
  auto* data = static_cast<int8_t*>(input.data);
  for (int32_t i = 0; i < input.elements(); ++i) {
    const double v = 10.0 * (i % channels % 8) - 20 + shift + noise(rng);
    data[i] = static_cast<int8_t>(std::clamp(v, -128.0, 127.0));
  }
}

SimDevice::SimDevice(const SimDeviceConfig& config)
    : config_(config), arena_((config.arena_bytes + 3) / 4), rng_(config.seed) {
  const uint32_t slot =
      round_up(static_cast<uint32_t>(2 * config.factory_package.size()) + 8192, kPageBytes);
  flash_memory_.resize(2 * slot + 4 * kPageBytes);
  flash_.init(flash_memory_.data(), static_cast<uint32_t>(flash_memory_.size()), kPageBytes,
              kWriteUnit);
  std::memcpy(keys_[0], config.public_key.data(), 32);
  agent_config_.flash = flash_.flash();
  agent_config_.mapped_flash = flash_memory_.data();
  ota::lay_out_contiguous(agent_config_, slot, kPageBytes);
  agent_config_.keys = keys_;
  agent_config_.num_keys = 1;
  target_ = package_manifest(config.factory_package, "the factory package")
                .target;  // the agent keeps the pointer
  agent_config_.target = target_.c_str();
  agent_config_.arena = reinterpret_cast<uint8_t*>(arena_.data());
  agent_config_.arena_size = static_cast<uint32_t>(arena_.size() * 4);
  ring_memory_.resize(kRingRecords * telemetry::kRecordBytes);
  ring_.init(ring_memory_.data(), static_cast<uint32_t>(ring_memory_.size()));
  boot();
  install(config.factory_package);
  if (!agent_.running().valid) throw Error(config.id + ": the factory package did not install");
}

void SimDevice::connect() {
  client_ =
      std::make_unique<MqttClient>(config_.broker, config_.id, config_.id, config_.password, false,
                                   [this](const std::string& topic, const uint8_t* data,
                                          size_t size) { on_message(topic, data, size); });
  if (config_.may_reconnect) client_->set_reconnect_gate(config_.may_reconnect);
  client_->subscribe(ack_topic(config_.id));
  client_->subscribe(update_topic(config_.id));
}

bool SimDevice::poll_network() {
  client_->poll(0);
  return client_->connected();
}

void SimDevice::boot() {
  flash_.power_on();
  agent_ = ota::UpdateAgent{};
  ++boot_count_;
  collector_.init(config_.id.c_str(), boot_count_, update_count_, rollback_count_);
  runtime_ = Runtime{};
  if (agent_.init(agent_config_) != Status::ok) return;
  const Status booted = agent_.boot(nullptr, nullptr);
  ota::VersionReport report{};
  agent_.report(&report);
  collector_.count_boot_outcome(report.last_boot);
  update_count_ = collector_.current().update_count;  // the firmware persists these
  rollback_count_ = collector_.current().rollback_count;
  if (booted != Status::ok) return;
  const ota::ImageInfo& image = agent_.running();
  collector_.set_model(image);
  const Status s = runtime_.init(flash_memory_.data() + image.payload_address, image.plan_size,
                                 reinterpret_cast<uint8_t*>(arena_.data()),
                                 static_cast<uint32_t>(arena_.size() * 4));
  if (s != Status::ok) collector_.count_error(s);
}

void SimDevice::install(const std::vector<uint8_t>& package) {
  if (config_.fault == Fault::power_cut && !cut_done_ && agent_.running().valid) {
    cut_done_ = true;  // at one of the first erases or writes of the update
    flash_.arm_cut(flash_.operations() + 1 + rng_() % 4, ota::testing::NorFlashSim::Cut::torn,
                   config_.seed);
  }
  Status s = agent_.begin_update();
  for (size_t at = 0; s == Status::ok && at < package.size(); at += 1024)
    s = agent_.write_update(package.data() + at, std::min<size_t>(1024, package.size() - at));
  if (s == Status::ok) s = agent_.finish_update();
  flash_.disarm();  // a cut the install did not reach must not fire later
  if (s == Status::power_lost) {
    boot();            // the boot count tells the server; not a model error
    install(package);  // the download starts over
    return;
  }
  if (s != Status::ok) {
    collector_.count_error(s);
    return;
  }
  boot();  // into the pending update: its self-test, then confirmed or rolled back
}

void SimDevice::step(bool working) {
  if (client_) client_->poll(0);
  if (!incoming_update_.empty()) {
    const std::vector<uint8_t> package = std::move(incoming_update_);
    incoming_update_.clear();
    install(package);
  }
  const double now = steady_ms();
  if (working && now < next_inference_ms_) working = false;  // not yet: network only
  if (working) next_inference_ms_ = now + config_.inference_interval_ms;
  if (working && runtime_.initialized()) {
    const int32_t shift = config_.fault == Fault::drift ? 60 : 0;
    synthetic_input(rng_, shift, runtime_.input(0));
    collector_.observe_input(runtime_.input(0));
    const auto start = std::chrono::steady_clock::now();
    const Status s = runtime_.invoke();
    const auto nanoseconds = std::chrono::duration_cast<std::chrono::nanoseconds>(
                                 std::chrono::steady_clock::now() - start)
                                 .count();
    // The host has no cycle counter: the simulator reports nanoseconds in its place.
    collector_.observe_result(s, runtime_.output(0),
                              static_cast<uint32_t>(std::min<int64_t>(nanoseconds, UINT32_MAX)));
  }
  if (working && ++inferences_in_window_ >= config_.window) {
    inferences_in_window_ = 0;
    if (collector_.emit(&ring_) == Status::ok) {
      ++emitted_;
      // A full ring overwrote its oldest record, the one in flight: its ack is of no use.
      if (ring_.dropped() != dropped_) in_flight_ = false;
      dropped_ = ring_.dropped();
      misbehave();
    }
  }
  const bool connected = client_ && client_->connected();
  if (connected && !was_connected_) in_flight_ = false;  // a new session: send again now
  was_connected_ = connected;
  if (connected && (!in_flight_ || steady_ms() - sent_at_ms_ > resend_wait_ms_)) send_front();
}

void SimDevice::receive_update(const uint8_t* package, size_t size) {
  incoming_update_.assign(package, package + size);
}

void SimDevice::send_front() {
  const uint8_t* front = ring_.front();
  if (front == nullptr) return;
  resend_wait_ms_ = resend_after_ms(resend_wait_ms_, in_flight_);
  in_flight_ = client_->publish(telemetry_topic(config_.id), front, telemetry::kRecordBytes);
  sent_at_ms_ = steady_ms();
}

void SimDevice::on_message(const std::string& topic, const uint8_t* data, size_t size) {
  if (topic == update_topic(config_.id)) {
    receive_update(data, size);
    return;
  }
  const uint8_t* front = ring_.front();
  if (topic != ack_topic(config_.id) || size != kAckBytes || front == nullptr || !in_flight_)
    return;
  // Byte offsets of boot_count and sequence: docs/telemetry.md.
  if (get32(data) != get32(front + 28) || get32(data + 4) != get32(front + 32)) return;
  if (config_.fault == Fault::replay && first_acked_.empty())
    first_acked_.assign(front, front + telemetry::kRecordBytes);
  ring_.pop();
  ++acknowledged_;
  in_flight_ = false;
  latencies_.push_back(steady_ms() - sent_at_ms_);
}

void SimDevice::misbehave() {
  if (!client_) return;
  const std::string own = telemetry_topic(config_.id);
  switch (config_.fault) {
    case Fault::garbage: {
      std::vector<uint8_t> junk(rng_() % 800);
      for (uint8_t& b : junk) b = static_cast<uint8_t>(rng_());
      client_->publish(own, junk.data(), junk.size());
      if (const uint8_t* front = ring_.front()) {  // a record damaged on the way
        std::vector<uint8_t> damaged(front, front + telemetry::kRecordBytes);
        damaged[rng_() % damaged.size()] ^= 0x10;
        client_->publish(own, damaged.data(), damaged.size());
      }
      break;
    }
    case Fault::replay:
      if (!first_acked_.empty()) client_->publish(own, first_acked_.data(), first_acked_.size());
      break;
    case Fault::forger: {
      telemetry::Record forged = collector_.current();
      std::strcpy(forged.device_id, "device-00000");  // someone else's id, own login
      uint8_t bytes[telemetry::kRecordBytes];
      if (telemetry::encode_record(forged, bytes) == Status::ok) {
        client_->publish(own, bytes, sizeof bytes);
        // Once, on the other device's topic: the broker's ACL drops it (and Mosquitto 2.0
        // then closes the forger's connection; it reconnects).
        if (!forged_elsewhere_)
          client_->publish(telemetry_topic("device-00000"), bytes, sizeof bytes);
        forged_elsewhere_ = true;
      }
      break;
    }
    default:
      break;
  }
}

}  // namespace tinyforge::fleet
