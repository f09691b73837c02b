// `tinyforge fleet simulate`: many SimDevices driven by a few threads (each thread steps
// its share of devices in turn, so 10,000 devices need no 10,000 threads).
#pragma once
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "fleet/local_broker.h"
#include "fleet/sim_device.h"

namespace tinyforge::fleet {

struct FaultCounts {
  int power_cut = 0, garbage = 0, replay = 0, forger = 0, drift = 0;
};

struct SimulationOptions {
  BrokerAddress broker;
  std::vector<Credential> credentials;  // devices log in as these (the service's is skipped)
  int devices = 10;
  FaultCounts faults;  // the first devices misbehave, in the order of FaultCounts' fields
  std::vector<uint8_t> factory_package;
  std::array<uint8_t, 32> public_key{};
  uint32_t window = 20;  // inferences per record
  double inference_interval_ms = 10;
  uint32_t arena_bytes = 64 * 1024;
  int threads = 2;
};

class Simulator {
 public:
  explicit Simulator(const SimulationOptions& options);  // builds and connects every device
  // Steps every device until `done()` is true (checked between rounds) or `stop` is set.
  void run(const std::function<bool()>& done, const std::atomic<bool>& stop);

  // Devices stop inferring and emitting (they still send what they hold) while false.
  void set_working(bool working) { working_ = working; }
  // A device stops emitting once it emitted this many records in all (0: no limit).
  void set_record_limit(uint32_t records) { record_limit_ = records; }
  std::vector<std::unique_ptr<SimDevice>>& devices() { return devices_; }
  int64_t emitted() const;
  int64_t acknowledged() const;
  int64_t queued() const;  // emitted, not yet acknowledged
  int64_t dropped() const;
  // Only while run() is not running:
  std::vector<double> ack_latencies_ms() const;
  std::map<std::string, int> devices_by_model() const;  // "model_id version" -> devices

 private:
  void connect_all();  // every device, logged in
  SimulationOptions options_;
  std::vector<std::unique_ptr<SimDevice>> devices_;
  std::atomic<bool> working_{true};
  std::atomic<uint32_t> record_limit_{0};
  std::atomic<int> reconnects_left_{0};  // refilled by run() every round of its clock
};

}  // namespace tinyforge::fleet
