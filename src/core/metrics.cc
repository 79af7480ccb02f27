#include "core/metrics.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <set>
#include <utility>

namespace sluice::metrics {

namespace {

[[noreturn]] void MetricsMisuse(std::string_view what, std::string_view name) {
  std::fprintf(stderr, "metrics: %.*s: %.*s\n", static_cast<int>(what.size()), what.data(),
               static_cast<int>(name.size()), name.data());
  std::abort();
}

bool ValidMetricName(std::string_view n) {
  if (n.empty()) return false;
  for (size_t i = 0; i < n.size(); ++i) {
    const char c = n[i];
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
    if (!alpha && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

bool ValidLabelName(std::string_view n) {
  if (n.empty() || n.starts_with("__")) return false;
  for (size_t i = 0; i < n.size(); ++i) {
    const char c = n[i];
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    if (!alpha && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

void CheckNames(std::string_view name, const std::vector<std::string>& labels, Type type) {
  if (!ValidMetricName(name)) MetricsMisuse("invalid metric name", name);
  std::set<std::string_view> seen;
  for (const std::string& l : labels) {
    if (!ValidLabelName(l)) MetricsMisuse("invalid label name", l);
    if (type == Type::kHistogram && l == "le") MetricsMisuse("a histogram cannot have label", l);
    if (!seen.insert(l).second) MetricsMisuse("repeated label name", l);
  }
}

// Length of the valid UTF-8 sequence at s[i], or 0 if there is none.
size_t Utf8Length(std::string_view s, size_t i) {
  const auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = b(i);
  if (c < 0x80) return 1;
  size_t n = 0;
  uint32_t min = 0;
  if ((c & 0xE0) == 0xC0) {
    n = 2;
    min = 0x80;
  } else if ((c & 0xF0) == 0xE0) {
    n = 3;
    min = 0x800;
  } else if ((c & 0xF8) == 0xF0) {
    n = 4;
    min = 0x10000;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  uint32_t cp = c & (0x7F >> n);
  for (size_t k = 1; k < n; ++k) {
    if ((b(i + k) & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b(i + k) & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return n;
}

std::string Escape(std::string_view v, bool quotes) {
  std::string out;
  out.reserve(v.size());
  for (size_t i = 0; i < v.size();) {
    const char c = v[i];
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '"' && quotes) {
      out += "\\\"";
    } else {
      const size_t n = Utf8Length(v, i);
      if (n == 0) {
        out += "\xEF\xBF\xBD";  // U+FFFD
        ++i;
        continue;
      }
      out.append(v.substr(i, n));
      i += n;
      continue;
    }
    ++i;
  }
  return out;
}

std::string_view TypeName(Type t) {
  switch (t) {
    case Type::kCounter:
      return "counter";
    case Type::kGauge:
      return "gauge";
    case Type::kHistogram:
      return "histogram";
  }
  return "untyped";
}

// `{a="x",b="y"` without the closing brace (so that a histogram can add le),
// or "" when there are no labels.
std::string LabelText(const std::vector<std::string>& names,
                      const std::vector<std::string>& values) {
  if (names.empty()) return "";
  std::string out = "{";
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += ',';
    out += names[i];
    out += "=\"";
    out += EscapeLabelValue(values[i]);
    out += '"';
  }
  return out;
}

void Line(std::string& out, std::string_view name, const std::string& labels, double v) {
  out += name;
  if (!labels.empty()) {
    out += labels;
    out += '}';
  }
  out += ' ';
  out += FormatValue(v);
  out += '\n';
}

void Header(std::string& out, std::string_view name, std::string_view help, Type type) {
  out += "# HELP ";
  out += name;
  out += ' ';
  out += EscapeHelp(help);
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += TypeName(type);
  out += '\n';
}

}  // namespace

std::string FormatValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v == std::floor(v) && std::fabs(v) < 1e15) {
    return std::to_string(static_cast<int64_t>(v));
  }
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof(buf), v);
  return std::string(buf, r.ptr);
}

std::string EscapeLabelValue(std::string_view v) { return Escape(v, true); }

std::string EscapeHelp(std::string_view v) { return Escape(v, false); }

// --- Histogram ---------------------------------------------------------------

Histogram::Histogram(std::shared_ptr<const std::vector<double>> bounds)
    : bounds_(std::move(bounds)),
      counts_(std::make_unique<std::atomic<uint64_t>[]>(bounds_->size() + 1)) {}

void Histogram::Observe(double v) {
  const std::vector<double>& b = *bounds_;
  // le is inclusive: v goes to the first bucket whose bound is >= v; NaN
  // and values past the last bound to +Inf.
  size_t i = std::isnan(v) ? b.size() : std::lower_bound(b.begin(), b.end(), v) - b.begin();
  counts_[i].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(v, std::memory_order_relaxed);
}

Histogram::Snapshot Histogram::Read() const {
  Snapshot s;
  s.cumulative.resize(bounds_->size() + 1);
  uint64_t total = 0;
  for (size_t i = 0; i <= bounds_->size(); ++i) {
    total += counts_[i].load(std::memory_order_relaxed);
    s.cumulative[i] = total;
  }
  s.count = total;
  s.sum = sum_.load(std::memory_order_relaxed);
  return s;
}

std::vector<double> ExponentialBuckets(double start, double factor, int count) {
  std::vector<double> out;
  double v = start;
  for (int i = 0; i < count; ++i, v *= factor) out.push_back(v);
  return out;
}

const std::vector<double>& DurationBuckets() {
  static const std::vector<double> kBuckets = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
                                               2.5,   5,    10,    30,   60,  120,  300, 600};
  return kBuckets;
}

// --- Family ------------------------------------------------------------------

template <typename T>
Family<T>::Family(std::string name, std::vector<std::string> label_names,
                  std::shared_ptr<const std::vector<double>> bounds)
    : name_(std::move(name)), label_names_(std::move(label_names)), bounds_(std::move(bounds)) {}

template <typename T>
T& Family<T>::With(std::initializer_list<std::string_view> values) {
  std::vector<std::string> v;
  v.reserve(values.size());
  for (std::string_view s : values) v.emplace_back(s);
  return Find(std::move(v));
}

template <typename T>
T& Family<T>::With(const std::vector<std::string>& values) {
  return Find(values);
}

template <typename T>
T& Family<T>::Find(std::vector<std::string> values) {
  if (values.size() != label_names_.size()) MetricsMisuse("wrong number of label values", name_);
  {
    std::shared_lock lock(mu_);
    auto it = series_.find(values);
    if (it != series_.end()) return *it->second;
  }
  std::unique_lock lock(mu_);
  std::unique_ptr<T>& slot = series_[std::move(values)];
  if (slot == nullptr) {
    if constexpr (std::is_same_v<T, Histogram>) {
      slot = std::make_unique<Histogram>(bounds_);
    } else {
      slot = std::make_unique<T>();
    }
  }
  return *slot;
}

template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

// --- callbacks ---------------------------------------------------------------

struct CallbackHandle::Entry {
  std::string name;
  std::string help;
  std::vector<std::string> label_names;
  std::mutex mu;  // held while the callback runs, and to clear it
  GaugeCallback callback;
  std::atomic<bool> live{true};
};

CallbackHandle::CallbackHandle(CallbackHandle&& other) noexcept : entry_(std::move(other.entry_)) {}

CallbackHandle& CallbackHandle::operator=(CallbackHandle&& other) noexcept {
  if (this != &other) {
    Reset();
    entry_ = std::move(other.entry_);
  }
  return *this;
}

CallbackHandle::~CallbackHandle() { Reset(); }

void CallbackHandle::Reset() {
  if (entry_ == nullptr) return;
  {
    std::lock_guard lock(entry_->mu);
    entry_->callback = nullptr;
    entry_->live = false;
  }
  entry_.reset();
}

// --- Registry ----------------------------------------------------------------

struct Registry::Impl {
  struct Static {
    Type type;
    std::string help;
    std::vector<std::string> label_names;
    std::unique_ptr<Family<Counter>> counter;
    std::unique_ptr<Family<Gauge>> gauge;
    std::unique_ptr<Family<Histogram>> histogram;
    std::vector<double> bounds;
  };
  mutable std::mutex mu;
  std::map<std::string, Static, std::less<>> families;
  // Callback families by name; several callbacks may share one (their
  // samples merge, the first of a label set wins). Dead entries are pruned.
  mutable std::map<std::string, std::vector<std::shared_ptr<CallbackHandle::Entry>>, std::less<>>
      callbacks;

  Static& Add(std::string_view name, std::string_view help, std::vector<std::string> labels,
              Type type, const std::vector<double>* bounds) {
    CheckNames(name, labels, type);
    std::lock_guard lock(mu);
    auto cb = callbacks.find(name);
    if (cb != callbacks.end() && !cb->second.empty()) {
      MetricsMisuse("name already used by a gauge callback", name);
    }
    auto it = families.find(name);
    if (it != families.end()) {
      Static& f = it->second;
      if (f.type != type || f.label_names != labels || (bounds != nullptr && f.bounds != *bounds)) {
        MetricsMisuse("registered again with another type, labels or buckets", name);
      }
      return f;
    }
    Static& f = families[std::string(name)];
    f.type = type;
    f.help = std::string(help);
    f.label_names = labels;
    switch (type) {
      case Type::kCounter:
        f.counter = std::make_unique<Family<Counter>>(std::string(name), labels, nullptr);
        break;
      case Type::kGauge:
        f.gauge = std::make_unique<Family<Gauge>>(std::string(name), labels, nullptr);
        break;
      case Type::kHistogram: {
        f.bounds = *bounds;
        if (f.bounds.empty() || !std::is_sorted(f.bounds.begin(), f.bounds.end()) ||
            std::adjacent_find(f.bounds.begin(), f.bounds.end()) != f.bounds.end() ||
            !std::isfinite(f.bounds.back())) {
          MetricsMisuse("histogram buckets must be finite and strictly increasing", name);
        }
        f.histogram = std::make_unique<Family<Histogram>>(
            std::string(name), labels, std::make_shared<const std::vector<double>>(f.bounds));
        break;
      }
    }
    return f;
  }
};

Registry::Registry() : impl_(std::make_unique<Impl>()) {}

Registry::~Registry() = default;

Family<Counter>& Registry::AddCounter(std::string_view name, std::string_view help,
                                      std::vector<std::string> label_names) {
  return *impl_->Add(name, help, std::move(label_names), Type::kCounter, nullptr).counter;
}

Family<Gauge>& Registry::AddGauge(std::string_view name, std::string_view help,
                                  std::vector<std::string> label_names) {
  return *impl_->Add(name, help, std::move(label_names), Type::kGauge, nullptr).gauge;
}

Family<Histogram>& Registry::AddHistogram(std::string_view name, std::string_view help,
                                          std::vector<std::string> label_names,
                                          const std::vector<double>& bounds) {
  return *impl_->Add(name, help, std::move(label_names), Type::kHistogram, &bounds).histogram;
}

CallbackHandle Registry::AddGaugeCallback(std::string_view name, std::string_view help,
                                          std::vector<std::string> label_names,
                                          GaugeCallback callback) {
  CheckNames(name, label_names, Type::kGauge);
  auto entry = std::make_shared<CallbackHandle::Entry>();
  entry->name = std::string(name);
  entry->help = std::string(help);
  entry->label_names = std::move(label_names);
  entry->callback = std::move(callback);
  std::lock_guard lock(impl_->mu);
  if (impl_->families.find(name) != impl_->families.end()) {
    MetricsMisuse("gauge callback name already used by another family", name);
  }
  auto& list = impl_->callbacks[std::string(name)];
  std::erase_if(list, [](const auto& e) { return !e->live; });
  for (const auto& e : list) {
    if (e->label_names != entry->label_names) {
      MetricsMisuse("gauge callback registered again with other labels", name);
    }
  }
  list.push_back(entry);
  return CallbackHandle(entry);
}

std::string Registry::Render() const {
  // What to write, by name: static families are read under their own locks,
  // callbacks are called without the registry's.
  struct Item {
    const Impl::Static* family = nullptr;
    std::vector<std::shared_ptr<CallbackHandle::Entry>> callbacks;
  };
  std::map<std::string, Item, std::less<>> items;
  {
    std::lock_guard lock(impl_->mu);
    for (const auto& [name, f] : impl_->families) items[name].family = &f;
    for (auto it = impl_->callbacks.begin(); it != impl_->callbacks.end();) {
      std::erase_if(it->second, [](const auto& e) { return !e->live; });
      if (it->second.empty()) {
        it = impl_->callbacks.erase(it);
        continue;
      }
      items[it->first].callbacks = it->second;
      ++it;
    }
  }
  std::string out;
  for (const auto& entry : items) {
    // Not a structured binding: lambdas below capture the name, which
    // clang before 16 refuses for bindings.
    const std::string& name = entry.first;
    const auto& item = entry.second;
    if (item.family != nullptr) {
      const Impl::Static& f = *item.family;
      std::string body;
      auto simple = [&](const std::vector<std::string>& values, double v) {
        Line(body, name, LabelText(f.label_names, values), v);
      };
      switch (f.type) {
        case Type::kCounter:
          f.counter->ForEach(
              [&](const auto& values, const Counter& c) { simple(values, c.Value()); });
          break;
        case Type::kGauge:
          f.gauge->ForEach([&](const auto& values, const Gauge& g) { simple(values, g.Value()); });
          break;
        case Type::kHistogram: {
          const std::string bucket = name + "_bucket";
          f.histogram->ForEach([&](const auto& values, const Histogram& h) {
            const Histogram::Snapshot s = h.Read();
            const std::string labels = LabelText(f.label_names, values);
            const std::string prefix = labels.empty() ? "{" : labels + ",";
            for (size_t i = 0; i < s.cumulative.size(); ++i) {
              const std::string le =
                  i < f.bounds.size() ? FormatValue(f.bounds[i]) : std::string("+Inf");
              Line(body, bucket, prefix + "le=\"" + le + "\"",
                   static_cast<double>(s.cumulative[i]));
            }
            Line(body, name + "_sum", labels, s.sum);
            Line(body, name + "_count", labels, static_cast<double>(s.count));
          });
          break;
        }
      }
      if (body.empty()) continue;
      Header(out, name, f.help, f.type);
      out += body;
      continue;
    }
    std::map<std::vector<std::string>, double> samples;
    std::string help;
    std::vector<std::string> label_names;
    for (const auto& e : item.callbacks) {
      std::lock_guard lock(e->mu);
      if (!e->callback) continue;
      if (help.empty()) {
        help = e->help;
        label_names = e->label_names;
      }
      for (Sample& s : e->callback()) {
        if (s.labels.size() != e->label_names.size()) continue;
        samples.emplace(std::move(s.labels), s.value);
      }
    }
    if (samples.empty()) continue;
    Header(out, name, help, Type::kGauge);
    for (const auto& [values, v] : samples) Line(out, name, LabelText(label_names, values), v);
  }
  return out;
}

Registry& Default() {
  static Registry* registry = new Registry();  // never destroyed: used until exit
  return *registry;
}

namespace {

struct ErrorFamilies {
  Family<Counter>& errors = Default().AddCounter(
      "sluice_errors_total",
      "Errors met, by the port they came from (store, catalog, queue, output, processing) and "
      "their class (transient, permanent, fenced).",
      {"port", "class"});
  Family<Counter>& retries = Default().AddCounter(
      "sluice_retries_total",
      "Work handed back to be tried again after an error, by the error's port and class.",
      {"port", "class"});
  ErrorFamilies() {
    for (const char* port : {"store", "catalog", "queue", "output", "processing", "export"}) {
      for (ErrorClass c : {ErrorClass::kTransient, ErrorClass::kPermanent, ErrorClass::kFenced}) {
        errors.With({port, ErrorClassName(c)});
        retries.With({port, ErrorClassName(c)});
      }
    }
  }
};

ErrorFamilies& Errors() {
  static ErrorFamilies* f = new ErrorFamilies();  // never destroyed, as Default()
  return *f;
}

}  // namespace

void InitErrorMetrics() { Errors(); }

void CountError(std::string_view port, ErrorClass cls, bool retried) {
  Errors().errors.With({port, ErrorClassName(cls)}).Inc();
  if (retried) Errors().retries.With({port, ErrorClassName(cls)}).Inc();
}

void CountError(std::string_view port, const Status& st, bool retried) {
  if (st.ok()) return;
  CountError(port, ClassifyError(st), retried);
}

}  // namespace sluice::metrics
