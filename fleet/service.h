// `tinyforge fleet serve`: takes telemetry records off the broker (devices/<id>/telemetry,
// QoS 1, a persistent session), checks each (decode_record: size, version, CRC, ranges; the
// record's device id against the topic's, which the broker's ACL ties to the device's
// login), stores the new ones in batches and only then acknowledges them on
// devices/<id>/ack, so a record is either in the database or still in the device's ring.
// Everything refused is counted by reason in the database, never stored.
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <string>

#include "fleet/mqtt.h"
#include "fleet/store.h"

namespace tinyforge::fleet {

// Topics of one device.
std::string telemetry_topic(const std::string& device);
std::string ack_topic(const std::string& device);
std::string update_topic(const std::string& device);

// An ack: the (boot_count, sequence) of the last record stored, 8 bytes little-endian.
constexpr size_t kAckBytes = 8;

// Checks one message. On success fills `out` (received now); otherwise sets `reason` to
// "malformed_topic", "malformed_record" or "device_mismatch" and `detail` to why.
bool check_message(const std::string& topic, const uint8_t* data, size_t size, Received* out,
                   std::string* reason, std::string* detail);

struct ServiceOptions {
  BrokerAddress broker;
  std::string username = "tinyforge-fleet";
  std::string password;
  size_t max_batch = 1000;                      // records per transaction
  std::function<void(const std::string&)> log;  // one line per refused message; may be empty
};

class Service {
 public:
  Service(Store& store, const ServiceOptions& options);
  ~Service();
  // Ingests until `stop` is set (checked at least every 100 ms).
  void run(const std::atomic<bool>& stop);
  int64_t stored() const { return stored_; }
  int64_t rejected() const { return rejected_; }

 private:
  struct Impl;
  Impl* impl_;
  Store& store_;
  ServiceOptions options_;
  std::atomic<int64_t> stored_{0}, rejected_{0};
};

}  // namespace tinyforge::fleet
