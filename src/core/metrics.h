// Metrics: counters, gauges and histograms with label sets, and their
// Prometheus text exposition (format 0.0.4). No dependency beyond the
// standard library; no Status (a bad name is a programmer error and aborts).
//
// A family is a name, a help line, label names and a type; a series is one
// set of label values in a family. Updating a series is a few atomic
// operations. Finding a series takes a shared (reader) lock on its family,
// so threads never wait for each other to find existing series; creating a
// new label set takes the family's lock exclusively, once. Series are never
// removed, so references to them stay valid for the registry's life: keep
// label cardinality bounded (pipelines, outputs, task kinds, never batch ids).
//
//   static metrics::Family<metrics::Counter>& rows = metrics::Default().AddCounter(
//       "sluice_rows_total", "Rows by direction.", {"pipeline", "direction"});
//   rows.With({spec.name, "in"}).Inc(n);
//
// Gauge callbacks are evaluated at scrape time (values read from the catalog
// or the queue); the returned handle unregisters the callback when destroyed.
//
// Render() writes families sorted by name and series sorted by label values,
// each family with `# HELP` and `# TYPE`; a family without any series is left
// out. Histograms write cumulative `_bucket{le="..."}` lines (ending with
// le="+Inf", equal to `_count`), then `_sum` and `_count`.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace sluice::metrics {

enum class Type { kCounter, kGauge, kHistogram };

// Goes up only (Prometheus: reset when the process restarts).
class Counter {
 public:
  void Inc(double v = 1) {
    if (v > 0) value_.fetch_add(v, std::memory_order_relaxed);
  }
  double Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

class Gauge {
 public:
  void Set(double v) { value_.store(v, std::memory_order_relaxed); }
  void Add(double v) { value_.fetch_add(v, std::memory_order_relaxed); }
  void Inc() { Add(1); }
  void Dec() { Add(-1); }
  double Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

// Fixed buckets (upper bounds, ascending; +Inf is implied).
class Histogram {
 public:
  explicit Histogram(std::shared_ptr<const std::vector<double>> bounds);
  void Observe(double v);

  struct Snapshot {
    std::vector<uint64_t> cumulative;  // one per bound, then +Inf (== count)
    double sum = 0;
    uint64_t count = 0;
  };
  Snapshot Read() const;
  const std::vector<double>& bounds() const { return *bounds_; }

 private:
  std::shared_ptr<const std::vector<double>> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> counts_;  // per bucket, not cumulative; last = +Inf
  std::atomic<double> sum_{0};
};

// Buckets `start`, start*factor, ... (`count` of them).
std::vector<double> ExponentialBuckets(double start, double factor, int count);
// 5 ms to 10 min: request, task and batch durations.
const std::vector<double>& DurationBuckets();

// The series of one family by label values (as many as the family has
// label names; a wrong count is a programmer error and aborts).
template <typename T>
class Family {
 public:
  T& With(std::initializer_list<std::string_view> values);
  T& With(const std::vector<std::string>& values);
  // The one series of a family without labels.
  T& Get() { return With({}); }

  // For Render: every series, sorted by label values.
  template <typename F>
  void ForEach(F&& f) const {
    std::shared_lock lock(mu_);
    for (const auto& [labels, series] : series_) f(labels, *series);
  }
  const std::vector<std::string>& label_names() const { return label_names_; }

  // Made by Registry (Add*); `bounds` only for histograms.
  Family(std::string name, std::vector<std::string> label_names,
         std::shared_ptr<const std::vector<double>> bounds);

 private:
  T& Find(std::vector<std::string> values);

  const std::string name_;
  const std::vector<std::string> label_names_;
  std::shared_ptr<const std::vector<double>> bounds_;  // histograms only
  mutable std::shared_mutex mu_;
  std::map<std::vector<std::string>, std::unique_ptr<T>> series_;
};

// A value a gauge callback reports: label values (one per label name) and
// the value.
struct Sample {
  std::vector<std::string> labels;
  double value = 0;
};
using GaugeCallback = std::function<std::vector<Sample>()>;

class Registry;

// Unregisters its callback when destroyed (or reset); a scrape in progress
// finishes its call first, and no call starts after.
class CallbackHandle {
 public:
  CallbackHandle() = default;
  CallbackHandle(CallbackHandle&& other) noexcept;
  CallbackHandle& operator=(CallbackHandle&& other) noexcept;
  ~CallbackHandle();
  void Reset();

  struct Entry;

 private:
  friend class Registry;
  explicit CallbackHandle(std::shared_ptr<Entry> entry) : entry_(std::move(entry)) {}
  std::shared_ptr<Entry> entry_;
};

class Registry {
 public:
  Registry();
  ~Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // The family `name`, created on first use. Asking again with the same
  // type and label names returns the same family (the first help wins);
  // another type or other label names abort, as do names that Prometheus
  // would refuse.
  Family<Counter>& AddCounter(std::string_view name, std::string_view help,
                              std::vector<std::string> label_names = {});
  Family<Gauge>& AddGauge(std::string_view name, std::string_view help,
                          std::vector<std::string> label_names = {});
  Family<Histogram>& AddHistogram(std::string_view name, std::string_view help,
                                  std::vector<std::string> label_names,
                                  const std::vector<double>& bounds = DurationBuckets());

  // A gauge family whose series `callback` returns at each Render (called
  // without any registry lock held; a sample whose label count is wrong, or
  // a repeat of one label set, is skipped). The name must not be any other
  // family's.
  [[nodiscard]] CallbackHandle AddGaugeCallback(std::string_view name, std::string_view help,
                                                std::vector<std::string> label_names,
                                                GaugeCallback callback);

  // The exposition text, format 0.0.4.
  std::string Render() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// The process-wide registry the engine and the server use.
Registry& Default();

// Formatting helpers (exposed for tests): a sample value ("1", "0.25",
// "+Inf", "NaN"), a label value escaped for the inside of quotes (\\, \",
// \n; invalid UTF-8 becomes U+FFFD), a HELP text escaped (\\, \n).
std::string FormatValue(double v);
std::string EscapeLabelValue(std::string_view v);
std::string EscapeHelp(std::string_view v);

// sluice_errors_total{port,class} and sluice_retries_total{port,class} in
// the default registry, shared by every part of the engine and the service.
// Ports: store, catalog, queue, output, processing, export; every port and class is
// exported at 0 from the first count, so a rate() needs no first error.
// Counts one error of `port` (and one retry when `retried`).
void CountError(std::string_view port, ErrorClass cls, bool retried);
// The same for a Status (nothing when it is OK).
void CountError(std::string_view port, const Status& st, bool retried);
// Exports both families with every port and class at 0 (the service calls
// it when it starts serving /metrics).
void InitErrorMetrics();

}  // namespace sluice::metrics
