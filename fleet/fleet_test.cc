// The fleet end to end on loopback: a Mosquitto broker with TLS, per-device logins and
// ACLs; the service ingesting into SQLite; emulated devices (real OTA agent, runtime and
// telemetry) including ones that cut power mid-update, send garbage, replay and forge; and
// staged rollouts, one of which must halt at its first stage.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <thread>

#include "fleet/baseline.h"
#include "fleet/dashboard.h"
#include "fleet/process.h"
#include "fleet/rollout.h"
#include "fleet/service.h"
#include "fleet/simulator.h"
#include "fleet_servers.h"
#include "headless_chromium.h"
#include "host/host_runner.h"
#include "ir/error.h"
#include "runtime/ota/testing/ota_test_device.h"
#include "shared_data.h"

namespace tinyforge::fleet {
namespace {

namespace ot = ota::testing;

std::vector<uint8_t> encoded(const telemetry::Record& r) {
  std::vector<uint8_t> bytes(telemetry::kRecordBytes);
  EXPECT_EQ(telemetry::encode_record(r, bytes.data()), Status::ok);
  return bytes;
}

telemetry::Record record_of(const char* device, uint32_t boot, uint32_t sequence) {
  telemetry::Collector c;
  EXPECT_EQ(c.init(device, boot, 0, 0), Status::ok);
  telemetry::Record r = c.current();
  r.sequence = sequence;
  return r;
}

TEST(FleetMessages, ChecksTopicRecordAndDeviceId) {
  const std::vector<uint8_t> good = encoded(record_of("dev-1", 1, 0));
  Received out;
  std::string reason, detail;
  EXPECT_TRUE(
      check_message("devices/dev-1/telemetry", good.data(), good.size(), &out, &reason, &detail));
  EXPECT_STREQ(out.record.device_id, "dev-1");
  EXPECT_FALSE(
      check_message("devices/dev-2/telemetry", good.data(), good.size(), &out, &reason, &detail));
  EXPECT_EQ(reason, "device_mismatch");
  for (const char* topic : {"devices//telemetry", "devices/dev-1/ack", "dev-1/telemetry"}) {
    EXPECT_FALSE(check_message(topic, good.data(), good.size(), &out, &reason, &detail));
    EXPECT_EQ(reason, "malformed_topic") << topic;
  }
  std::vector<uint8_t> bad = good;
  bad[100] ^= 1;
  EXPECT_FALSE(
      check_message("devices/dev-1/telemetry", bad.data(), bad.size(), &out, &reason, &detail));
  EXPECT_EQ(reason, "malformed_record");
  EXPECT_NE(detail.find("CRC"), std::string::npos) << detail;
}

TEST(FleetRollout, ParsesRulesStagesAndOrdersDevices) {
  const std::vector<HaltRule> rules = parse_halt_rules("error_rate>1%,drift>2.5");
  ASSERT_EQ(rules.size(), 2u);
  EXPECT_DOUBLE_EQ(rules[0].limit, 0.01);
  EXPECT_EQ(rules[1].metric, "drift");
  EXPECT_THROW(parse_halt_rules("latency>3"), Error);
  EXPECT_THROW(parse_halt_rules("drift>x"), Error);
  EXPECT_EQ(parse_percents("5,25,100"), (std::vector<int>{5, 25, 100}));
  EXPECT_THROW(parse_percents("25,5,100"), Error);
  EXPECT_THROW(parse_percents("5,25"), Error);
  const std::vector<std::string> fleet = {"a", "b", "c", "d", "e"};
  EXPECT_EQ(rollout_order(fleet), rollout_order({"e", "d", "c", "b", "a"}));
}

// A device that loses power in the middle of an update reboots on its old model, takes the
// update again and runs it; no network needed.
TEST(FleetDevice, RecoversFromAPowerCutMidUpdate) {
  const ota::KeyPair keys = ot::test_keys();
  SimDeviceConfig c;
  c.id = "cut";
  c.factory_package = ot::make_package(ot::test_plan(600, 1), {1, 0, 0}, 1, keys);
  c.public_key = keys.public_key;
  c.fault = Fault::power_cut;
  SimDevice device(c);
  ASSERT_TRUE(device.running().valid);
  const std::vector<uint8_t> update = ot::make_package(ot::test_plan(600, 2), {1, 1, 0}, 2, keys);
  device.receive_update(update.data(), update.size());
  device.step();
  EXPECT_EQ(device.running().version.minor, 1u);
  EXPECT_EQ(device.boot_count(), 4u);  // factory: 2 boots; the cut; the update
}

TEST(FleetSimulator, RefusesMoreDevicesThanItsDescriptorLimitAllows) {
  SimulationOptions sim;
  sim.devices = static_cast<int>(raise_descriptor_limit() / 3);  // 3 descriptors per device
  try {
    Simulator simulator(sim);
    FAIL() << "accepted " << sim.devices << " devices";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("open descriptors"), std::string::npos) << e.what();
  }
}

TEST(FleetDevice, WaitsLongerForEachUnansweredResend) {
  const double first = resend_after_ms(0, false);
  EXPECT_GT(first, 0);
  EXPECT_EQ(resend_after_ms(first, true), 2 * first);
  double wait = first;
  for (int i = 0; i < 20; ++i) wait = resend_after_ms(wait, true);
  EXPECT_LT(wait, 60000);  // bounded: a device still retries within a minute
  EXPECT_EQ(resend_after_ms(wait, false), first);  // an answered record starts over
}

// One broker, service and simulated fleet shared by the end-to-end tests below.
class FleetLoop : public ::testing::Test {
 protected:
  static constexpr int kDevices = 6;  // power_cut, garbage, replay, forger, drift, normal

  void SetUp() override {
    if (!testing::have_mosquitto())
      TINYFORGE_SKIP_MISSING(
          "mosquitto, mosquitto_passwd or openssl not found "
          "(Debian mosquitto, openssl)");
    folder_ = testing::temp_folder("fleet");
    broker_ = std::make_unique<LocalBroker>(folder_.string(), LocalBroker::free_port(), kDevices);
    broker_->start();
    db_path_ = (folder_ / "fleet.db").string();
    service_db_ = open_database(db_path_);
    service_store_ = std::make_unique<Store>(*service_db_);
    ServiceOptions options;
    options.broker = broker_->address();
    options.password = password_of(broker_->credentials(), kServiceUser);
    service_ = std::make_unique<Service>(*service_store_, options);
    service_thread_ = std::thread([this] { service_->run(stop_service_); });
    view_db_ = open_database(db_path_);
    view_ = std::make_unique<Store>(*view_db_);

    keys_ = ot::test_keys();
    plan_ = ot::test_plan(600, 1);
    factory_ = ot::make_package(plan_, {1, 0, 0}, 1, keys_);
    SimulationOptions sim;
    sim.broker = broker_->address();
    sim.credentials = broker_->credentials();
    sim.devices = kDevices;
    sim.faults = {1, 1, 1, 1, 1};
    sim.factory_package = factory_;
    sim.public_key = keys_.public_key;
    sim.window = 10;
    simulator_ = std::make_unique<Simulator>(sim);
  }

  void TearDown() override {
    simulator_.reset();
    stop_service_ = true;
    if (service_thread_.joinable()) service_thread_.join();
    service_.reset();
    broker_.reset();
    if (!folder_.empty()) std::filesystem::remove_all(folder_.parent_path());
  }

  // Runs the fleet until `done` or 15 s.
  void run_until(const std::function<bool()>& done) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
    std::atomic<bool> never{false};
    simulator_->run([&] { return done() || std::chrono::steady_clock::now() > deadline; }, never);
  }

  std::filesystem::path folder_;
  std::unique_ptr<LocalBroker> broker_;
  std::string db_path_;
  std::unique_ptr<Database> service_db_, view_db_;
  std::unique_ptr<Store> service_store_, view_;
  std::unique_ptr<Service> service_;
  std::atomic<bool> stop_service_{false};
  std::thread service_thread_;
  ota::KeyPair keys_;
  std::vector<uint8_t> plan_, factory_;
  std::unique_ptr<Simulator> simulator_;
};

TEST_F(FleetLoop, StoresEveryAcknowledgedRecordAndRefusesTheRest) {
  // The simulated fleet's baseline: the same synthetic inputs, no shift.
  telemetry::Record baseline{};
  {
    host::HostRunner runner(plan_, "plan");
    TensorView in = runner.runtime().input(0);
    std::vector<uint8_t> data;
    std::mt19937 rng(7);
    std::vector<uint8_t> one(in.bytes);
    in.data = one.data();
    for (int n = 0; n < 200; ++n) {
      synthetic_input(rng, 0, in);
      data.insert(data.end(), one.begin(), one.end());
    }
    baseline = input_baseline(factory_, data, "factory");
  }
  view_->set_baseline(baseline);

  run_until([&] { return simulator_->acknowledged() >= 4 * kDevices; });
  ASSERT_GE(simulator_->acknowledged(), 4 * kDevices);

  // Another device's topic, with its own record: the broker's ACL drops it.
  MqttClient intruder(broker_->address(), "intruder", LocalBroker::device_name(1),
                      password_of(broker_->credentials(), LocalBroker::device_name(1)), true,
                      [](auto&&...) {});
  intruder.wait_connected(5000);
  intruder.start();
  const std::vector<uint8_t> forged = encoded(record_of("device-00002", 999, 999));
  intruder.publish(telemetry_topic("device-00002"), forged.data(), forged.size());
  // Logins are checked: a wrong password is refused at connect.
  MqttClient guess(broker_->address(), "guess", LocalBroker::device_name(2), "wrong", true,
                   [](auto&&...) {});
  EXPECT_THROW(guess.wait_connected(5000), Error);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));

  const int64_t acknowledged = simulator_->acknowledged();
  const int64_t stored = view_->record_count();
  EXPECT_GE(stored, acknowledged);  // every acknowledged record is in the database
  EXPECT_LE(stored, simulator_->emitted());
  const std::map<std::string, int64_t> refused = view_->rejections();
  EXPECT_GT(refused.count("malformed_record") ? refused.at("malformed_record") : 0, 0);
  EXPECT_GT(refused.count("device_mismatch") ? refused.at("device_mismatch") : 0, 0);
  EXPECT_GT(refused.count("stale_sequence") ? refused.at("stale_sequence") : 0, 0);
  for (const DeviceRow& d : view_->devices()) {
    EXPECT_NE(d.sequence, 999) << d.device_id << ": a forged record was stored";
    EXPECT_EQ(d.model, "kws 1.0.0") << d.device_id;
  }
  // Drift: the device with shifted inputs stands out, the others do not.
  const std::map<std::string, double> drift = view_->drift();
  EXPECT_GT(drift.at(LocalBroker::device_name(4)), 3.0);
  EXPECT_LT(drift.at(LocalBroker::device_name(5)), 1.0);
  // The dashboard's summary says the same as the database.
  const nlohmann::json summary = summary_json(*view_, AlarmLimits{});
  EXPECT_EQ(summary["devices"], kDevices);
  EXPECT_EQ(summary["records"], view_->record_count());
  bool drift_alarm = false;
  for (const auto& a : summary["alarms"])
    drift_alarm |= a["kind"] == "drift" && a["device_id"] == LocalBroker::device_name(4);
  EXPECT_TRUE(drift_alarm);

  // The dashboard in headless Chromium: self-contained, no console error, and the numbers
  // on the page are the database's.
  for (const char* outside : {"http:", "https:", "src=", "<link", "@import"})
    EXPECT_EQ(std::string(dashboard_page()).find(outside), std::string::npos) << outside;
  if (!testing::have_chromium())
    TINYFORGE_SKIP_MISSING("chromium not installed (scripts/bootstrap)");
  std::mutex lock;
  Dashboard dashboard(*view_, lock, AlarmLimits{});
  const int port = dashboard.start("127.0.0.1", 0);
  const testing::Browser page = testing::open_in_chromium(
      "http://127.0.0.1:" + std::to_string(port) + "/", folder_.parent_path(), 4000);
  dashboard.stop();
  EXPECT_TRUE(page.ran) << page.log;
  EXPECT_EQ(page.log.find("Uncaught"), std::string::npos) << page.log;
  EXPECT_EQ(page.log.find(":CONSOLE"), std::string::npos) << page.log;
  EXPECT_NE(page.dom.find("data-loaded=\"yes\""), std::string::npos) << page.dom;
  EXPECT_NE(page.dom.find("id=\"device-count\">" + std::to_string(kDevices) + "<"),
            std::string::npos);
  EXPECT_NE(page.dom.find("id=\"record-count\">" + std::to_string(view_->record_count()) + "<"),
            std::string::npos);
  EXPECT_NE(
      page.dom.find("id=\"alarm-count\">" +
                    std::to_string(summary_json(*view_, AlarmLimits{})["alarms"].size()) + "<"),
      std::string::npos);
}

TEST_F(FleetLoop, RolloutCompletesAGoodUpdateAndHaltsABadOneAtTheFirstStage) {
  run_until([&] { return simulator_->acknowledged() >= kDevices; });
  MqttClient publisher(broker_->address(), "rollout", kServiceUser,
                       password_of(broker_->credentials(), kServiceUser), true, [](auto&&...) {});
  publisher.wait_connected(5000);
  publisher.start();
  auto publish = [&](const std::string& topic, const std::vector<uint8_t>& bytes) {
    return publisher.publish(topic, bytes.data(), bytes.size());
  };
  RolloutPlan plan;
  for (int i = 0; i < kDevices; ++i) plan.devices.push_back(LocalBroker::device_name(i));
  plan.percents = {50, 100};
  plan.halt_on = parse_halt_rules("error_rate>1%");
  plan.watch_ms = 12000;
  plan.min_reporting = 1.0;
  plan.actor = "test";

  // A good update: every device, including the one that loses power mid-update, ends on it.
  plan.package = ot::make_package(ot::test_plan(600, 2), {1, 1, 0}, 2, keys_);
  plan.model = package_model(plan.package, "update");
  std::atomic<bool> stop{false};
  std::thread fleet([&] { simulator_->run([] { return false; }, stop); });
  const RolloutResult good = run_rollout(*view_, plan, publish, [](const std::string&) {});
  EXPECT_TRUE(good.completed) << good.reason;

  // A bad one (built for another target): the first cohort reports the refusal, the rollout
  // halts, the rest of the fleet never receives it.
  plan.package = ot::make_package(ot::test_plan(600, 3), {1, 2, 0}, 3, keys_, "cortex-m7");
  plan.model = package_model(plan.package, "update");
  plan.rollback_package = ot::make_package(ot::test_plan(600, 2), {1, 1, 1}, 4, keys_);
  const RolloutResult bad = run_rollout(*view_, plan, publish, [](const std::string&) {});
  stop = true;
  fleet.join();
  EXPECT_FALSE(bad.completed);
  EXPECT_EQ(bad.halted_stage, 0);
  EXPECT_NE(bad.reason.find("error_rate"), std::string::npos) << bad.reason;

  const std::map<std::string, int> on = simulator_->devices_by_model();
  EXPECT_EQ(on.at("kws 1.1.0"), kDevices);
  int cut_reboots = 0;
  for (const DeviceRow& d : view_->devices()) cut_reboots += d.boot_count > 3;
  EXPECT_GE(cut_reboots, 1);  // the power-cut device rebooted once more, then installed
  std::vector<std::string> actions;
  for (const AuditEntry& e : view_->audit_log()) {
    actions.push_back(e.action);
    EXPECT_EQ(e.actor, "test");
  }
  EXPECT_EQ(actions,
            (std::vector<std::string>{"rollout_start", "stage_start", "stage_passed", "stage_start",
                                      "stage_passed", "rollout_complete", "rollout_start",
                                      "stage_start", "halt", "rollback"}));
}

}  // namespace
}  // namespace tinyforge::fleet
