// tinyforge fleet broker|serve|simulate|rollout|baseline: the production loop after an OTA
// update ships (docs/fleet.md): telemetry over MQTT into SQLite or PostgreSQL, a dashboard,
// emulated devices, staged rollouts that halt on bad telemetry.
#include <fmt/format.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>

#include "cli/commands.h"
#include "cli/contract.h"
#include "fleet/baseline.h"
#include "fleet/dashboard.h"
#include "fleet/local_broker.h"
#include "fleet/rollout.h"
#include "fleet/service.h"
#include "fleet/simulator.h"
#include "io/files.h"
#include "ota/signing_keys.h"

namespace tinyforge::cli {
namespace {

using namespace tinyforge::fleet;

std::atomic<bool> g_stop{false};

void stop_on_signals() {
  struct sigaction action {};
  action.sa_handler = [](int) { g_stop = true; };
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

// The connection options every networked fleet command shares.
struct Connection {
  std::string broker = "mqtts://127.0.0.1:8883";
  std::string ca;
  std::string credentials;

  void add(CLI::App* cmd) {
    cmd->add_option("--broker", broker, "the MQTT broker, mqtts://HOST:PORT or mqtt://HOST:PORT")
        ->capture_default_str();
    cmd->add_option("--ca", ca, "the broker's CA certificate (PEM), for mqtts");
    cmd->add_option("--credentials", credentials,
                    "`user password` lines: the service's and the devices' logins (fleet "
                    "broker writes them)")
        ->required();
  }
  BrokerAddress address() const { return parse_broker_url(broker, ca); }
};

struct DatabaseOption {
  std::string where = "fleet.db";
  void add(CLI::App* cmd) {
    cmd->add_option("--db", where,
                    "SQLite file, or a PostgreSQL URL postgresql://USER@HOST:PORT/DB")
        ->capture_default_str();
  }
};

void add_broker(CLI::App& fleet) {
  auto* cmd = fleet.add_subcommand(
      "broker", "Run a Mosquitto broker for a fleet: TLS, a login per device, topic ACLs");
  struct Options {
    std::string dir;
    int devices = 10;
    int port = 8883;
  };
  auto o = std::make_shared<Options>();
  cmd->add_option("--dir", o->dir, "folder for its certificates, credentials and data")->required();
  cmd->add_option("--devices", o->devices, "device logins to create: device-00000, ...")
      ->check(CLI::Range(1, 1000000))
      ->capture_default_str();
  cmd->add_option("--port", o->port, "TCP port on 127.0.0.1")
      ->check(CLI::Range(1, 65535))
      ->capture_default_str();
  cmd->footer(
      "Runs until Ctrl-C. Devices may publish only to devices/<login>/telemetry and read only "
      "their own ack and update topics (docs/fleet.md).");
  cmd->callback([o] {
    stop_on_signals();
    LocalBroker broker(o->dir, o->port, o->devices);
    broker.start();
    std::printf("broker: mqtts://127.0.0.1:%d --ca %s/ca.crt --credentials %s/credentials\n",
                o->port, o->dir.c_str(), o->dir.c_str());
    std::fflush(stdout);
    while (!g_stop) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    broker.stop(false);
  });
}

void add_serve(CLI::App& fleet) {
  auto* cmd = fleet.add_subcommand(
      "serve", "Ingest device telemetry from MQTT into a database; serve the dashboard");
  struct Options {
    Connection connection;
    DatabaseOption db;
    std::string http = "127.0.0.1:8080";
    std::vector<std::string> baselines;
    AlarmLimits limits;
  };
  auto o = std::make_shared<Options>();
  o->connection.add(cmd);
  o->db.add(cmd);
  cmd->add_option("--http", o->http, "HOST:PORT of the dashboard (PORT 0: any free port)")
      ->capture_default_str();
  cmd->add_option("--baseline", o->baselines,
                  "input statistics of a model version (fleet baseline), for drift scores");
  cmd->add_option("--drift-alarm", o->limits.drift, "alarm above this drift score")
      ->capture_default_str();
  cmd->add_option("--error-alarm", o->limits.error_rate,
                  "alarm above this share of inferences with errors")
      ->capture_default_str();
  cmd->footer("Runs until Ctrl-C or SIGTERM; records are acknowledged once committed.");
  cmd->callback([o] {
    stop_on_signals();
    const size_t colon = o->http.rfind(':');
    if (colon == std::string::npos) throw UsageError("--http: expected HOST:PORT");
    const int http_port = std::stoi(o->http.substr(colon + 1));
    const std::vector<Credential> logins = read_credentials(o->connection.credentials);
    ServiceOptions options;
    options.broker = o->connection.address();
    options.password = password_of(logins, kServiceUser);
    options.log = [](const std::string& line) { note("fleet: " + line); };
    // Two connections: the ingest writes, the dashboard reads (SQLite in WAL mode).
    std::unique_ptr<fleet::Database> ingest_db = open_database(o->db.where);
    std::unique_ptr<fleet::Database> dashboard_db = open_database(o->db.where);
    Store store(*ingest_db);
    for (const std::string& path : o->baselines) {
      const std::vector<uint8_t> bytes = io::read_file(path);
      telemetry::Record baseline{};
      const char* what = "";
      if (telemetry::decode_record(bytes.data(), bytes.size(), &baseline, &what) != Status::ok)
        throw Error(path + ": not a telemetry record: " + what + " (write it with fleet baseline)");
      store.set_baseline(baseline);
    }
    Store dashboard_store(*dashboard_db);
    std::mutex dashboard_lock;
    Dashboard dashboard(dashboard_store, dashboard_lock, o->limits);
    const int port = dashboard.start(o->http.substr(0, colon), http_port);
    Service service(store, options);
    std::printf("fleet: ingesting from %s into %s; dashboard http://%s:%d/\n",
                o->connection.broker.c_str(), store.database().engine().c_str(),
                o->http.substr(0, colon).c_str(), port);
    std::fflush(stdout);
    service.run(g_stop);
    note(fmt::format("fleet: stored {} records, refused {}", service.stored(), service.rejected()));
  });
}

void add_simulate(CLI::App& fleet) {
  auto* cmd = fleet.add_subcommand(
      "simulate", "Emulate N devices (real OTA agent, runtime, telemetry) publishing telemetry");
  struct Options {
    Connection connection;
    SimulationOptions sim;
    std::string package, pub;
    int records = 5;
    int seconds = 60;
    Result result;
  };
  auto o = std::make_shared<Options>();
  o->connection.add(cmd);
  cmd->add_option("--devices", o->sim.devices, "devices to emulate")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  cmd->add_option("--package", o->package, "signed package every device runs at first (.tfu)")
      ->required();
  cmd->add_option("--pub", o->pub, "the public key the devices trust (KEY.pub)")->required();
  cmd->add_option("--records", o->records, "records each device sends, then stop")
      ->check(CLI::Range(1, 1000000))
      ->capture_default_str();
  cmd->add_option("--window", o->sim.window, "inferences per record")
      ->check(CLI::Range(1, 1000000))
      ->capture_default_str();
  cmd->add_option("--interval", o->sim.inference_interval_ms,
                  "milliseconds between a device's inferences")
      ->check(CLI::Range(0.0, 60000.0))
      ->capture_default_str();
  cmd->add_option("--seconds", o->seconds, "give up after this long")
      ->check(CLI::Range(1, 86400))
      ->capture_default_str();
  cmd->add_option("--threads", o->sim.threads, "threads stepping the devices")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  cmd->add_option("--power-cut", o->sim.faults.power_cut,
                  "devices that lose power in the middle of their first update");
  cmd->add_option("--garbage", o->sim.faults.garbage,
                  "devices that also send random bytes and damaged records");
  cmd->add_option("--replay", o->sim.faults.replay, "devices that also resend an old record");
  cmd->add_option("--forger", o->sim.faults.forger,
                  "devices that also send records in another device's name");
  cmd->add_option("--drift", o->sim.faults.drift, "devices whose input distribution shifts");
  o->result.add_flag(cmd);
  cmd->callback([o] {
    stop_on_signals();
    o->sim.broker = o->connection.address();
    o->sim.credentials = read_credentials(o->connection.credentials);
    o->sim.factory_package = io::read_file(o->package);
    o->sim.public_key = ota::load_public_key(o->pub);
    Simulator simulator(o->sim);
    const int64_t want = static_cast<int64_t>(o->records) * o->sim.devices;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(o->seconds);
    simulator.run(
        [&] {
          return simulator.acknowledged() >= want || std::chrono::steady_clock::now() > deadline;
        },
        g_stop);
    std::vector<double> latencies = simulator.ack_latencies_ms();
    std::sort(latencies.begin(), latencies.end());
    auto quantile = [&](double q) {
      return latencies.empty() ? 0.0 : latencies[static_cast<size_t>(q * (latencies.size() - 1))];
    };
    nlohmann::ordered_json j;
    j["devices"] = o->sim.devices;
    j["emitted"] = simulator.emitted();
    j["acknowledged"] = simulator.acknowledged();
    j["ack_latency_ms_p50"] = quantile(0.5);
    j["ack_latency_ms_p99"] = quantile(0.99);
    j["devices_by_model"] = simulator.devices_by_model();
    o->result.print(j, fmt::format("{} devices: {} records emitted, {} acknowledged "
                                   "(p50 {:.1f} ms, p99 {:.1f} ms)\n",
                                   o->sim.devices, simulator.emitted(), simulator.acknowledged(),
                                   quantile(0.5), quantile(0.99)));
    if (simulator.acknowledged() < want) throw Exit{kExitInput};
  });
}

void add_rollout(CLI::App& fleet) {
  auto* cmd = fleet.add_subcommand(
      "rollout", "Roll a signed update out in stages; halt and roll back on bad telemetry");
  struct Options {
    std::string package, rollback, percents = "5,25,100", halt_on = "error_rate>1%";
    Connection connection;
    DatabaseOption db;
    double watch = 30;
    std::string actor;
    Result result;
  };
  auto o = std::make_shared<Options>();
  cmd->add_option("PACKAGE", o->package, "the signed update (.tfu)")->required();
  o->connection.add(cmd);
  o->db.add(cmd);
  cmd->add_option("--percent", o->percents, "cumulative stages, e.g. 5,25,100")
      ->capture_default_str();
  cmd->add_option("--halt-on", o->halt_on, "rules, e.g. error_rate>1%,drift>3")
      ->capture_default_str();
  cmd->add_option("--watch", o->watch, "seconds to watch each stage at most")
      ->check(CLI::Range(0.1, 86400.0))
      ->capture_default_str();
  cmd->add_option("--rollback-package", o->rollback,
                  "what devices already on the update get when it halts (the previous model, "
                  "signed with a higher counter)");
  cmd->add_option("--actor", o->actor, "who runs the rollout, for the audit log (default $USER)");
  o->result.add_flag(cmd);
  cmd->footer("Exit 0 when every stage passed, 3 when a halt rule stopped it (docs/fleet.md).");
  cmd->callback([o] {
    RolloutPlan plan;
    try {
      plan.percents = parse_percents(o->percents);
      plan.halt_on = parse_halt_rules(o->halt_on);
    } catch (const Error& e) {
      throw UsageError(e.what());
    }
    plan.package = io::read_file(o->package);
    plan.model = package_model(plan.package, o->package);
    if (!o->rollback.empty()) {
      plan.rollback_package = io::read_file(o->rollback);
      package_model(plan.rollback_package, o->rollback);  // readable before anything is sent
    }
    plan.watch_ms = static_cast<int64_t>(o->watch * 1000);
    const char* user = std::getenv("USER");
    plan.actor = !o->actor.empty() ? o->actor : user != nullptr ? user : "unknown";
    const std::vector<Credential> logins = read_credentials(o->connection.credentials);
    for (const Credential& c : logins)
      if (c.user != kServiceUser) plan.devices.push_back(c.user);
    std::unique_ptr<fleet::Database> db = open_database(o->db.where);
    Store store(*db);
    MqttClient client(o->connection.address(), "tinyforge-rollout", kServiceUser,
                      password_of(logins, kServiceUser), true, [](auto&&...) {});
    client.wait_connected(10000);
    client.start();
    const RolloutResult result = run_rollout(
        store, plan,
        [&](const std::string& topic, const std::vector<uint8_t>& bytes) {
          return client.publish(topic, bytes.data(), bytes.size());
        },
        [](const std::string& line) { note("rollout: " + line); });
    nlohmann::ordered_json j;
    j["model"] = plan.model;
    j["completed"] = result.completed;
    j["halted_stage"] = nullptr;
    if (result.halted_stage >= 0) j["halted_stage"] = result.halted_stage + 1;
    j["reason"] = result.reason;
    o->result.print(j, result.completed ? plan.model + ": rolled out to every device\n"
                                        : fmt::format("{}: halted at stage {}: {}\n", plan.model,
                                                      result.halted_stage + 1, result.reason));
    if (!result.completed) throw Exit{kExitBudget};
  });
}

void add_baseline(CLI::App& fleet) {
  auto* cmd = fleet.add_subcommand(
      "baseline", "Record the input statistics of a package's model on calibration data");
  struct Options {
    std::string package, input, output;
  };
  auto o = std::make_shared<Options>();
  cmd->add_option("PACKAGE", o->package, "the signed update (.tfu) whose plan runs")->required();
  cmd->add_option("-i,--input", o->input, "raw int8/uint8 tensors of the model's first input")
      ->required();
  cmd->add_option("-o,--output", o->output, "the baseline, a telemetry record (.tft)")->required();
  cmd->footer("fleet serve --baseline FILE compares devices with it (drift score).");
  cmd->callback([o] {
    check_output(o->output, {o->package, o->input});
    const telemetry::Record r =
        input_baseline(io::read_file(o->package), io::read_file(o->input), o->package);
    std::vector<uint8_t> bytes(telemetry::kRecordBytes);
    if (telemetry::encode_record(r, bytes.data()) != Status::ok)
      throw Error(o->package + ": the statistics do not fit a telemetry record");
    io::write_file(o->output, bytes);
    note(fmt::format("baseline of {}: {} inputs, {} channels", model_label(r), r.channels[0].count,
                     r.num_channels));
  });
}

}  // namespace

void add_fleet(CLI::App& app) {
  auto* fleet = app.add_subcommand(
      "fleet", "Device telemetry, the fleet service and dashboard, simulation, staged rollouts");
  fleet->require_subcommand(1);
  add_broker(*fleet);
  add_serve(*fleet);
  add_simulate(*fleet);
  add_rollout(*fleet);
  add_baseline(*fleet);
}

}  // namespace tinyforge::cli
