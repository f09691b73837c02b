// One emulated device of `tinyforge fleet simulate`: simulated NOR flash with the real OTA
// agent, the host build of the device runtime running the installed plan, the telemetry
// Collector and Ring, and an MQTT session under the device's own login. It runs inferences
// on synthetic int8 input, emits a record every `window` inferences, sends the ring's oldest
// record and waits for the service's ack before the next (so records arrive in order and
// none is lost while the service or the broker restarts: an unacked record is sent again),
// and installs the updates it receives, then reboots into them.
//
// The ring lives in memory that survives a reset (as in a .noinit section), so a power cut
// loses no queued record; boot_count rises at every boot.
#pragma once
#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "fleet/mqtt.h"
#include "runtime/ota/testing/nor_flash_sim.h"
#include "tinyforge/ota/agent.h"
#include "tinyforge/runtime.h"
#include "tinyforge/telemetry.h"

namespace tinyforge::fleet {

// How a device misbehaves (a fleet has some of each).
enum class Fault : uint8_t {
  none,
  power_cut,  // loses power in the middle of its first update, then reboots
  garbage,    // also publishes random bytes and corrupted records on its topic
  replay,     // also publishes its first acknowledged record again
  forger,     // also publishes records claiming another device's id
  drift,      // its input distribution shifts (a sensor out of calibration)
};

struct SimDeviceConfig {
  std::string id, password;
  BrokerAddress broker;
  std::vector<uint8_t> factory_package;  // installed at the factory, before the first boot
  std::array<uint8_t, 32> public_key{};
  uint32_t arena_bytes = 64 * 1024;
  uint32_t window = 20;               // inferences per record
  double inference_interval_ms = 10;  // a sensor's pace: at most one inference this often
  Fault fault = Fault::none;
  uint32_t seed = 1;
  std::function<bool()> may_reconnect;  // MqttClient::set_reconnect_gate; empty: always
};

// Synthetic quantized input: channel c ~ N(10 * (c % 8) - 20 + shift, 15), clamped to int8.
// The baseline of the simulated fleet is this with shift 0.
void synthetic_input(std::mt19937& rng, int32_t shift, const TensorView& input);

// How long a device waits for the ack of a record before it sends the record again: 3 s,
// doubled (up to 48 s) each time the previous wait ended unanswered. With a fixed 3 s, a
// service behind by more than 3 s (10,000 devices) received mostly copies it had already
// stored: 70,147 refused as stale against 9,863 stored.
double resend_after_ms(double previous_wait_ms, bool unanswered);

class SimDevice {
 public:
  explicit SimDevice(const SimDeviceConfig& config);  // throws when the factory install fails
  SimDevice(const SimDevice&) = delete;
  SimDevice& operator=(const SimDevice&) = delete;

  void connect();       // opens the MQTT session (throws when refused)
  bool poll_network();  // network work only (handshake, login, keepalive); connected?
  // An update arrived (on devices/<id>/update): installed at the next step().
  void receive_update(const uint8_t* package, size_t size);
  // Network work, and (when `working`) one inference and a record every `window` of them;
  // sends and installs updates as they come either way.
  void step(bool working = true);

  const std::string& id() const { return config_.id; }
  const ota::ImageInfo& running() const { return agent_.running(); }
  uint32_t boot_count() const { return boot_count_; }
  // Safe to read from another thread while step() runs:
  uint32_t emitted() const { return emitted_; }
  uint32_t acknowledged() const { return acknowledged_; }
  uint32_t dropped() const { return dropped_; }  // records the full ring overwrote
  // Only between steps:
  const std::vector<double>& ack_latencies_ms() const { return latencies_; }

 private:
  void boot();
  void install(const std::vector<uint8_t>& package);
  void send_front();
  void misbehave();
  void on_message(const std::string& topic, const uint8_t* data, size_t size);

  SimDeviceConfig config_;
  std::vector<uint8_t> flash_memory_;
  ota::testing::NorFlashSim flash_;
  std::string target_;
  ota::AgentConfig agent_config_{};
  uint8_t keys_[1][32] = {};
  ota::UpdateAgent agent_;
  std::vector<uint32_t> arena_;
  Runtime runtime_;
  telemetry::Collector collector_;
  std::vector<uint8_t> ring_memory_;
  telemetry::Ring ring_;
  std::unique_ptr<MqttClient> client_;
  std::mt19937 rng_;
  uint32_t boot_count_ = 0, update_count_ = 0, rollback_count_ = 0;
  uint32_t inferences_in_window_ = 0;
  std::atomic<uint32_t> emitted_{0}, acknowledged_{0}, dropped_{0};
  bool in_flight_ = false;
  double sent_at_ms_ = 0;
  double resend_wait_ms_ = 0;  // resend_after_ms()
  double next_inference_ms_ = 0;
  std::vector<uint8_t> incoming_update_;
  std::vector<uint8_t> first_acked_;  // the replaying device's old record
  bool cut_done_ = false;
  bool forged_elsewhere_ = false;
  bool was_connected_ = false;
  std::vector<double> latencies_;
};

}  // namespace tinyforge::fleet
