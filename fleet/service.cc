#include "fleet/service.h"

#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <vector>

#include "tinyforge/status.h"

namespace tinyforge::fleet {

std::string telemetry_topic(const std::string& device) {
  return "devices/" + device + "/telemetry";
}
std::string ack_topic(const std::string& device) { return "devices/" + device + "/ack"; }
std::string update_topic(const std::string& device) { return "devices/" + device + "/update"; }

bool check_message(const std::string& topic, const uint8_t* data, size_t size, Received* out,
                   std::string* reason, std::string* detail) {
  const std::string prefix = "devices/", suffix = "/telemetry";
  if (topic.size() <= prefix.size() + suffix.size() || topic.rfind(prefix, 0) != 0 ||
      topic.compare(topic.size() - suffix.size(), suffix.size(), suffix) != 0) {
    *reason = "malformed_topic";
    *detail = "not devices/<id>/telemetry";
    return false;
  }
  const std::string device =
      topic.substr(prefix.size(), topic.size() - prefix.size() - suffix.size());
  const char* what = "";
  const Status status = telemetry::decode_record(data, size, &out->record, &what);
  if (status != Status::ok) {
    *reason = "malformed_record";
    *detail = std::string(status_name(status)) + ": " + what;
    return false;
  }
  if (device != out->record.device_id) {
    *reason = "device_mismatch";
    *detail = "record of " + std::string(out->record.device_id) + " on " + device + "'s topic";
    return false;
  }
  out->received_ms = now_ms();
  return true;
}

struct Service::Impl {
  struct Message {
    std::string topic;
    std::vector<uint8_t> bytes;
  };
  std::mutex mutex;
  std::condition_variable ready;
  std::deque<Message> queue;
  std::unique_ptr<MqttClient> client;
};

Service::Service(Store& store, const ServiceOptions& options)
    : impl_(new Impl), store_(store), options_(options) {
  impl_->client = std::make_unique<MqttClient>(
      options.broker, options.username, options.username, options.password, false,
      [this](const std::string& topic, const uint8_t* data, size_t size) {
        {
          std::lock_guard<std::mutex> lock(impl_->mutex);
          impl_->queue.push_back({topic, std::vector<uint8_t>(data, data + size)});
        }
        impl_->ready.notify_one();
      });
  impl_->client->wait_connected(10000);
  impl_->client->subscribe("devices/+/telemetry");
  impl_->client->start();
}

Service::~Service() {
  impl_->client.reset();
  delete impl_;
}

void Service::run(const std::atomic<bool>& stop) {
  while (!stop) {
    std::vector<Impl::Message> batch;
    {
      std::unique_lock<std::mutex> lock(impl_->mutex);
      impl_->ready.wait_for(lock, std::chrono::milliseconds(100),
                            [&] { return !impl_->queue.empty(); });
      while (!impl_->queue.empty() && batch.size() < options_.max_batch) {
        batch.push_back(std::move(impl_->queue.front()));
        impl_->queue.pop_front();
      }
    }
    if (batch.empty()) continue;
    std::vector<Received> valid;
    std::map<std::string, int64_t> refused;
    for (const Impl::Message& m : batch) {
      Received r;
      std::string reason, detail;
      if (check_message(m.topic, m.bytes.data(), m.bytes.size(), &r, &reason, &detail)) {
        valid.push_back(r);
      } else {
        ++refused[reason];
        if (options_.log) options_.log("refused a message on " + m.topic + ": " + detail);
      }
    }
    const std::vector<bool> stored = store_.add_records(valid);
    for (const auto& [reason, n] : refused) store_.count_rejection(reason, n);
    // Acknowledged only now that they are committed; a stale record is acknowledged too, so
    // a device whose ack was lost stops sending it again.
    for (size_t i = 0; i < valid.size(); ++i) {
      const telemetry::Record& r = valid[i].record;
      uint8_t ack[kAckBytes];
      for (int b = 0; b < 4; ++b) {
        ack[b] = static_cast<uint8_t>(r.boot_count >> (8 * b));
        ack[4 + b] = static_cast<uint8_t>(r.sequence >> (8 * b));
      }
      impl_->client->publish(ack_topic(r.device_id), ack, sizeof ack, 0);
      ++(stored[i] ? stored_ : rejected_);
    }
    for (const auto& entry : refused) rejected_ += entry.second;
  }
}

}  // namespace tinyforge::fleet
