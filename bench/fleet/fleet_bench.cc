// The fleet on loopback at scale (scripts/fleet_bench, bench/results/fleet.md): a Mosquitto
// broker with TLS and a login per device, `tinyforge fleet serve` as its own process on
// SQLite, and N emulated devices (1% each sending garbage, replaying, forging).
//
//   1. throughput: every device queues 4 records at once; records ingested per second
//      and the devices' publish-to-ack latency while the service works through the backlog;
//   2. restarts: 2 more records each, and while they are in flight the service is killed
//      with SIGKILL and started again; 2 more, and the broker likewise; afterwards every
//      device's stored records are compared with what it emitted (lost = emitted - stored;
//      any forged or malformed record accepted would show as a device with more stored than
//      emitted).
//
// The devices run in as many forked simulator processes as the descriptor limit requires
// (3 descriptors per device, fleet/simulator.cc), which report through shared memory.
//
//   fleet_bench TINYFORGE_CLI WORK_DIR DEVICES OUT.md
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iomanip>
#include <map>
#include <new>
#include <thread>

#include "fleet/database.h"
#include "fleet/process.h"
#include "fleet/simulator.h"
#include "fleet/store.h"
#include "ir/error.h"
#include "runtime/ota/testing/ota_test_device.h"

namespace {

using namespace tinyforge;
using namespace tinyforge::fleet;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

pid_t start_service(const std::string& cli, const std::string& dir, int port) {
  return spawn({cli, "fleet", "serve", "--broker", "mqtts://127.0.0.1:" + std::to_string(port),
                "--ca", dir + "/ca.crt", "--credentials", dir + "/credentials", "--db",
                dir + "/fleet.db", "--http", "127.0.0.1:0", "--quiet"},
               false);
}

void kill9(pid_t pid) {
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
}

double quantile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[static_cast<size_t>(q * static_cast<double>(v.size() - 1))];
}

// The simulated fleet split over processes. Each part is a Simulator in a forked child that
// copies its counters into shared memory every 20 ms and takes its record limit from it.
class SplitFleet {
 public:
  SplitFleet(const SimulationOptions& options, const std::string& dir) : dir_(dir) {
    const long per_part = (raise_descriptor_limit() - 64) / 3;
    const int parts = static_cast<int>((options.devices + per_part - 1) / per_part);
    if (parts > kMaxParts) throw Error("fleet_bench: too many devices for the descriptor limit");
    void* memory =
        mmap(nullptr, sizeof(Shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (memory == MAP_FAILED) throw Error("fleet_bench: cannot map shared memory");
    shared_ = new (memory) Shared;
    std::vector<Credential> logins;
    for (const Credential& c : options.credentials)
      if (c.user != kServiceUser) logins.push_back(c);
    for (int k = 0; k < parts; ++k) {
      SimulationOptions part = options;
      const int first = k * options.devices / parts, end = (k + 1) * options.devices / parts;
      part.devices = end - first;
      part.credentials.assign(logins.begin() + first, logins.begin() + end);
      if (k > 0) part.faults = {};  // the misbehaving devices are the first part's
      const pid_t pid = fork();
      if (pid < 0) throw Error("fleet_bench: cannot fork a simulator process");
      if (pid == 0) _exit(run_part(part, k));  // never the parent's destructors
      pids_.push_back(pid);
    }
    wait_for_parts(kConnected);
  }
  ~SplitFleet() {
    shared_->command = kFinish;
    for (pid_t pid : pids_) waitpid(pid, nullptr, 0);
    munmap(shared_, sizeof(Shared));
  }

  void set_record_limit(uint32_t records) { shared_->record_limit = records; }
  // Sleeps until `done()`; the parts work meanwhile.
  void run(const std::function<bool()>& done) {
    while (!done()) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  int64_t emitted() const { return sum(&Part::emitted); }
  int64_t acknowledged() const { return sum(&Part::acknowledged); }
  int64_t queued() const { return emitted() - acknowledged(); }
  int64_t dropped() const { return sum(&Part::dropped); }
  // Once, after the first phase: every part's publish-to-ack latencies so far.
  std::vector<double> ack_latencies_ms() {
    shared_->command = kWriteLatencies;
    wait_for_parts(kLatenciesWritten);
    shared_->command = kRun;
    std::vector<double> all;
    for (size_t k = 0; k < pids_.size(); ++k) {
      std::ifstream in(file_of(static_cast<int>(k), "latencies"));
      for (double ms; in >> ms;) all.push_back(ms);
    }
    return all;
  }
  // At the end: records emitted per device id.
  std::map<std::string, int64_t> emitted_by_device() {
    shared_->command = kFinish;
    wait_for_parts(kDevicesWritten);
    std::map<std::string, int64_t> out;
    for (size_t k = 0; k < pids_.size(); ++k) {
      std::ifstream in(file_of(static_cast<int>(k), "devices"));
      std::string id;
      for (int64_t n; in >> id >> n;) out[id] = n;
    }
    return out;
  }
  size_t parts() const { return pids_.size(); }

 private:
  static constexpr int kMaxParts = 16;
  enum Command { kRun, kWriteLatencies, kFinish };
  enum State { kStarting, kConnected, kLatenciesWritten, kDevicesWritten, kFailed };
  struct Part {
    std::atomic<int64_t> emitted{0}, acknowledged{0}, dropped{0};
    std::atomic<int> state{kStarting};
  };
  struct Shared {
    std::atomic<uint32_t> record_limit{0};  // 0: the devices stay idle
    std::atomic<int> command{kRun};
    Part parts[kMaxParts];
  };

  int64_t sum(std::atomic<int64_t> Part::*field) const {
    int64_t n = 0;
    for (size_t k = 0; k < pids_.size(); ++k) n += (shared_->parts[k].*field).load();
    return n;
  }
  std::string file_of(int part, const char* what) const {
    return dir_ + "/part-" + std::to_string(part) + "." + what;
  }
  void wait_for_parts(State state) {
    for (size_t k = 0; k < pids_.size(); ++k) {
      while (shared_->parts[k].state < state) {
        if (waitpid(pids_[k], nullptr, WNOHANG) == pids_[k])
          throw Error("fleet_bench: simulator process " + std::to_string(k) + " died");
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
      if (shared_->parts[k].state == kFailed)
        throw Error("fleet_bench: simulator process " + std::to_string(k) + " failed");
    }
  }
  // In the child: the part's devices until told to finish.
  int run_part(const SimulationOptions& options, int k) {
    Part& me = shared_->parts[k];
    try {
      Simulator simulator(options);
      me.state = kConnected;
      const std::atomic<bool> never{false};
      const auto step_until = [&](int command) {
        simulator.run(
            [&] {
              me.emitted = simulator.emitted();
              me.acknowledged = simulator.acknowledged();
              me.dropped = simulator.dropped();
              const uint32_t limit = shared_->record_limit;
              simulator.set_working(limit > 0);
              simulator.set_record_limit(limit);
              return shared_->command >= command;
            },
            never);
      };
      step_until(kWriteLatencies);
      if (shared_->command == kWriteLatencies) {
        std::ofstream out(file_of(k, "latencies"));
        for (double ms : simulator.ack_latencies_ms()) out << ms << "\n";
      }
      me.state = kLatenciesWritten;
      step_until(kFinish);
      std::ofstream out(file_of(k, "devices"));
      for (const auto& d : simulator.devices()) out << d->id() << " " << d->emitted() << "\n";
      out.close();
      me.state = kDevicesWritten;
      return 0;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "fleet_bench: simulator process %d: %s\n", k, e.what());
      me.state = kFailed;
      return 1;
    }
  }

  std::string dir_;
  Shared* shared_ = nullptr;
  std::vector<pid_t> pids_;
};

}  // namespace

int run_bench(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: fleet_bench TINYFORGE_CLI WORK_DIR DEVICES OUT.md\n");
    return 2;
  }
  const std::string cli = argv[1], dir = argv[2], out_path = argv[4];
  const int devices = std::stoi(argv[3]);
  std::filesystem::remove_all(dir);
  const int port = LocalBroker::free_port();
  LocalBroker broker(dir, port, devices);
  broker.start();
  pid_t service = start_service(cli, dir, port);
  struct KillOnExit {  // the service must not outlive a failed run
    pid_t& pid;
    ~KillOnExit() {
      if (pid > 0) kill9(pid);
    }
  } service_guard{service};
  std::this_thread::sleep_for(std::chrono::seconds(1));

  const ota::KeyPair keys = ota::testing::test_keys();
  SimulationOptions sim;
  sim.broker = broker.address();
  sim.credentials = broker.credentials();
  sim.devices = devices;
  const int faulty = std::max(1, devices / 100);
  sim.faults.garbage = sim.faults.replay = sim.faults.forger = faulty;
  sim.factory_package =
      ota::testing::make_package(ota::testing::test_plan(600, 1), {1, 0, 0}, 1, keys);
  sim.public_key = keys.public_key;
  sim.window = 10;
  sim.inference_interval_ms = 1;
  sim.arena_bytes = 4096;
  const auto connect_start = Clock::now();
  SplitFleet simulator(sim, dir);
  const double connect_s = seconds_since(connect_start);
  std::fprintf(stderr, "fleet_bench: %d devices in %zu processes connected in %.1f s\n", devices,
               simulator.parts(), connect_s);

  const auto deadline = [](double s) {
    const auto end = Clock::now() + std::chrono::milliseconds(static_cast<int64_t>(s * 1000));
    return [end] { return Clock::now() > end; };
  };
  // 1. Throughput with a backlog of 4 records per device.
  simulator.set_record_limit(4);
  const auto phase1 = Clock::now();
  const std::function<bool()> too_long = deadline(600);
  simulator.run([&] { return simulator.acknowledged() >= 4LL * devices || too_long(); });
  const double phase1_s = seconds_since(phase1);
  const int64_t phase1_acked = simulator.acknowledged();
  const std::vector<double> latencies = simulator.ack_latencies_ms();
  std::fprintf(stderr, "fleet_bench: %lld records in %.1f s\n",
               static_cast<long long>(phase1_acked), phase1_s);

  // 2. and 3. Two more records each, and while they are in flight the service is killed
  // with SIGKILL and started again; then likewise the broker.
  const auto through_restart = [&](uint32_t limit, const std::function<void()>& restart,
                                   int64_t* in_flight) {
    simulator.set_record_limit(limit);
    std::atomic<bool> restarted{false};
    std::thread chaos([&] {
      // Until every device emitted its records (or 10 s): the restart is to find most of
      // them in flight.
      const std::function<bool()> waited = deadline(10);
      while (simulator.emitted() < int64_t{limit} * devices && !waited())
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      *in_flight = simulator.queued();
      restart();
      restarted = true;
    });
    const auto start = Clock::now();
    const std::function<bool()> give_up = deadline(600);
    simulator.run([&] {
      return (restarted && simulator.acknowledged() >= int64_t{limit} * devices) || give_up();
    });
    chaos.join();
    return seconds_since(start);
  };
  int64_t service_in_flight = 0, broker_in_flight = 0;
  const double service_restart_s = through_restart(
      6,
      [&] {
        kill9(service);
        std::this_thread::sleep_for(std::chrono::seconds(1));
        service = start_service(cli, dir, port);
      },
      &service_in_flight);
  std::fprintf(stderr, "fleet_bench: service restart with %lld records in flight: %.1f s\n",
               static_cast<long long>(service_in_flight), service_restart_s);
  const double broker_restart_s = through_restart(
      8,
      [&] {
        broker.stop(true);
        std::this_thread::sleep_for(std::chrono::seconds(1));
        broker.start();
      },
      &broker_in_flight);
  std::fprintf(stderr, "fleet_bench: broker restart with %lld records in flight: %.1f s\n",
               static_cast<long long>(broker_in_flight), broker_restart_s);
  std::this_thread::sleep_for(std::chrono::seconds(1));
  kill(service, SIGTERM);
  waitpid(service, nullptr, 0);
  service = -1;

  auto db = open_database(dir + "/fleet.db");
  Store store(*db);
  std::map<std::string, int64_t> stored;
  for (const Row& row : db->query("SELECT device_id, COUNT(*) FROM records GROUP BY device_id", {}))
    stored[*row[0]] = as_int(row[1]);
  int64_t emitted = 0, lost = 0, surplus_devices = 0, stored_total = 0;
  for (const auto& [id, n] : simulator.emitted_by_device()) {
    emitted += n;
    const int64_t s = stored.count(id) ? stored[id] : 0;
    stored_total += s;
    if (s < n) lost += n - s;
    if (s > n) ++surplus_devices;
  }
  const std::map<std::string, int64_t> refused = store.rejections();
  auto refused_of = [&](const char* reason) {
    return refused.count(reason) ? refused.at(reason) : int64_t{0};
  };

  std::ofstream md(out_path);
  md << std::fixed << std::setprecision(1);
  md << "# Fleet service on loopback\n\n"
     << "Regenerate: `scripts/fleet_bench [DEVICES]` (default 1000; the largest run and what "
        "limits it: docs/fleet.md). One machine: Mosquitto "
        "2.0 (TLS, a password per device, the ACL of docs/fleet.md), `tinyforge fleet serve` "
        "on SQLite (WAL, synchronous=FULL: a record is on disk before its ack), and "
     << devices << " emulated devices (real OTA agent, runtime and telemetry; " << faulty
     << " each sending garbage, replaying old records, forging records of another "
        "device) in "
     << simulator.parts()
     << " simulator process(es) of 2 threads. Machine: " << std::thread::hardware_concurrency()
     << " hardware threads, shared with other work while measured.\n\n"
     << "| figure | value |\n|---|---|\n"
     << "| devices connected (TLS handshakes, logins) | " << devices << " in " << connect_s
     << " s |\n"
     << "| records ingested, throughput phase (4 queued per device) | " << phase1_acked << " in "
     << phase1_s << " s |\n"
     << "| **records ingested per second** | **" << static_cast<int64_t>(phase1_acked / phase1_s)
     << "** |\n"
     << "| publish-to-ack latency p50 (device side, through a backlog of " << 4 * devices << ") | "
     << quantile(latencies, 0.5) << " ms |\n"
     << "| publish-to-ack latency p99 | " << quantile(latencies, 0.99) << " ms |\n"
     << "| service kill -9 and restart, " << service_in_flight
     << " records in flight | every record acknowledged after " << service_restart_s << " s |\n"
     << "| broker kill -9 and restart, " << broker_in_flight
     << " records in flight | every record acknowledged after " << broker_restart_s << " s |\n"
     << "| records emitted by the devices (both phases) | " << emitted << " |\n"
     << "| records stored | " << stored_total << " |\n"
     << "| **records lost** (emitted, not stored) | **" << lost << "** |\n"
     << "| records the devices' rings overwrote | " << simulator.dropped() << " |\n"
     << "| **forged or malformed records accepted** (devices with more stored than emitted) "
        "| **"
     << surplus_devices << "** |\n"
     << "| refused: malformed_record | " << refused_of("malformed_record") << " |\n"
     << "| refused: device_mismatch (forged id) | " << refused_of("device_mismatch") << " |\n"
     << "| refused: stale_sequence (replays, retransmissions) | " << refused_of("stale_sequence")
     << " |\n\n"
     << "The publish-to-ack latency is what a device waits between sending a record and "
        "knowing it is committed; in the throughput phase every device sends at once, so it "
        "is mostly the time the service takes to work through the backlog ahead of it. "
        "Forged records sent on another device's topic are dropped by the broker's ACL and "
        "never reach the service; those on the forger's own topic are refused as "
        "device_mismatch.\n";
  std::fprintf(stderr, "fleet_bench: wrote %s (lost %lld, surplus devices %lld)\n",
               out_path.c_str(), static_cast<long long>(lost),
               static_cast<long long>(surplus_devices));
  return lost == 0 && surplus_devices == 0 ? 0 : 1;
}

int main(int argc, char** argv) {
  try {  // caught so that the broker and the service are stopped on the way out
    return run_bench(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fleet_bench: %s\n", e.what());
    return 1;
  }
}
