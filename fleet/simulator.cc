#include "fleet/simulator.h"

#include <algorithm>
#include <chrono>
#include <thread>

#include "fleet/process.h"
#include "ir/error.h"
#include "ota/package_writer.h"

namespace tinyforge::fleet {
namespace {

constexpr long kSpareDescriptors = 64;  // files, the dashboard, the database
// Reconnects (blocking, then a TLS handshake) allowed per 20 ms, about the rate at which
// one Mosquitto process on this machine completes logins (6000 in 23 to 33 s). After a
// broker restart every device would reconnect at once; at 6000 devices they then kept
// closing their sessions right after the login and the run never ended (docs/fleet.md).
constexpr int kReconnectsPerTick = 5;

}  // namespace

Simulator::Simulator(const SimulationOptions& options) : options_(options) {
  // Each device holds 3 descriptors: its socket and libmosquitto's wake-up socket pair.
  const long limit = raise_descriptor_limit();
  if (3L * options.devices + kSpareDescriptors > limit)
    throw Error("simulate: " + std::to_string(options.devices) + " devices need " +
                std::to_string(3L * options.devices + kSpareDescriptors) +
                " open descriptors in one process but the limit is " + std::to_string(limit) +
                " (raise `ulimit -Hn`, or split the devices over several simulators)");
  std::vector<Credential> logins;
  for (const Credential& c : options.credentials)
    if (c.user != kServiceUser) logins.push_back(c);
  if (static_cast<int>(logins.size()) < options.devices)
    throw Error("simulate: " + std::to_string(options.devices) + " devices but credentials for " +
                std::to_string(logins.size()) + " (fleet broker --devices N writes them)");
  const FaultCounts& f = options.faults;
  std::vector<Fault> faults;
  for (const auto& [fault, n] :
       {std::pair{Fault::power_cut, f.power_cut}, std::pair{Fault::garbage, f.garbage},
        std::pair{Fault::replay, f.replay}, std::pair{Fault::forger, f.forger},
        std::pair{Fault::drift, f.drift}})
    faults.insert(faults.end(), static_cast<size_t>(std::max(0, n)), fault);
  for (int i = 0; i < options.devices; ++i) {
    SimDeviceConfig c;
    c.id = logins[i].user;
    c.password = logins[i].password;
    c.broker = options.broker;
    c.factory_package = options.factory_package;
    c.public_key = options.public_key;
    c.window = options.window;
    c.inference_interval_ms = options.inference_interval_ms;
    c.arena_bytes = options.arena_bytes;
    c.seed = static_cast<uint32_t>(i + 1);
    c.fault = static_cast<size_t>(i) < faults.size() ? faults[i] : Fault::none;
    c.may_reconnect = [this] { return reconnects_left_.fetch_sub(1) > 0; };
    devices_.push_back(std::make_unique<SimDevice>(c));
  }
  connect_all();
}

void Simulator::connect_all() {
  // In batches, each finishing its TLS handshakes and logins before the next: a connection
  // left silent while thousands of others open is closed by the broker. The devices of
  // earlier batches get network time now and then for their keepalives.
  constexpr size_t kBatch = 64, kKeepaliveEvery = 1024;
  for (size_t first = 0; first < devices_.size(); first += kBatch) {
    const size_t end = std::min(devices_.size(), first + kBatch);
    reconnects_left_ = static_cast<int>(kBatch);  // for a handshake that fails here
    for (size_t i = first; i < end; ++i) devices_[i]->connect();
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    for (bool all = false; !all && std::chrono::steady_clock::now() < give_up;) {
      all = true;
      for (size_t i = first; i < end; ++i) all = devices_[i]->poll_network() && all;
    }
    if (first % kKeepaliveEvery == 0)
      for (size_t i = 0; i < first; ++i) devices_[i]->poll_network();
  }
}

void Simulator::run(const std::function<bool()>& done, const std::atomic<bool>& stop) {
  std::atomic<bool> finished{false};
  std::vector<std::thread> workers;
  const int threads = std::max(1, options_.threads);
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      while (!finished && !stop) {
        for (size_t i = static_cast<size_t>(t); i < devices_.size(); i += threads) {
          SimDevice& d = *devices_[i];
          d.step(working_ && (record_limit_ == 0 || d.emitted() < record_limit_));
        }
        std::this_thread::yield();
      }
    });
  }
  while (!stop && !done()) {
    reconnects_left_ = kReconnectsPerTick;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  finished = true;
  for (std::thread& w : workers) w.join();
}

int64_t Simulator::emitted() const {
  int64_t n = 0;
  for (const auto& d : devices_) n += d->emitted();
  return n;
}

int64_t Simulator::acknowledged() const {
  int64_t n = 0;
  for (const auto& d : devices_) n += d->acknowledged();
  return n;
}

int64_t Simulator::queued() const { return emitted() - acknowledged(); }

int64_t Simulator::dropped() const {
  int64_t n = 0;
  for (const auto& d : devices_) n += d->dropped();
  return n;
}

std::vector<double> Simulator::ack_latencies_ms() const {
  std::vector<double> all;
  for (const auto& d : devices_)
    all.insert(all.end(), d->ack_latencies_ms().begin(), d->ack_latencies_ms().end());
  return all;
}

std::map<std::string, int> Simulator::devices_by_model() const {
  std::map<std::string, int> out;
  for (const auto& d : devices_) {
    const ota::ImageInfo& r = d->running();
    ++out[r.valid ? std::string(r.model_id) + " " + ota::semver_text(r.version) : ""];
  }
  return out;
}

}  // namespace tinyforge::fleet
