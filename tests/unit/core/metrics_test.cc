#include "core/metrics.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <limits>
#include <string>
#include <thread>
#include <vector>

namespace sluice::metrics {
namespace {

TEST(MetricsFormat, Values) {
  EXPECT_EQ(FormatValue(0), "0");
  EXPECT_EQ(FormatValue(42), "42");
  EXPECT_EQ(FormatValue(-3), "-3");
  EXPECT_EQ(FormatValue(0.25), "0.25");
  EXPECT_EQ(FormatValue(0.005), "0.005");
  EXPECT_EQ(FormatValue(2.5), "2.5");
  EXPECT_EQ(FormatValue(123456789012), "123456789012");
  EXPECT_EQ(FormatValue(1e20), "1e+20");
  EXPECT_EQ(FormatValue(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(FormatValue(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(FormatValue(std::nan("")), "NaN");
}

TEST(MetricsFormat, Escaping) {
  EXPECT_EQ(EscapeLabelValue("plain"), "plain");
  EXPECT_EQ(EscapeLabelValue("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
  // HELP keeps quotes as they are.
  EXPECT_EQ(EscapeHelp("say \"hi\"\\\n"), "say \"hi\"\\\\\\n");
  // Valid UTF-8 passes; invalid bytes become U+FFFD, one per byte.
  EXPECT_EQ(EscapeLabelValue("caf\xC3\xA9"), "caf\xC3\xA9");
  EXPECT_EQ(EscapeLabelValue("a\xFF\xC3z"), "a\xEF\xBF\xBD\xEF\xBF\xBDz");
  EXPECT_EQ(EscapeLabelValue("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // surrogate
  EXPECT_EQ(EscapeLabelValue("\xC0\xAF"), "\xEF\xBF\xBD\xEF\xBF\xBD");                  // overlong
}

TEST(MetricsRegistry, ExpositionIsExact) {
  Registry r;
  // Registered out of order: families come out sorted by name, series by
  // label values.
  auto& rows = r.AddCounter("test_rows_total", "Rows seen.", {"pipeline", "direction"});
  rows.With({"orders", "out"}).Inc(7);
  rows.With({"a\"b\\c\nd", "in"}).Inc();
  rows.With({"orders", "in"}).Inc(10);
  auto& up = r.AddGauge("test_alpha", "A gauge\nwith two lines \\ and a backslash.");
  up.Get().Set(1.5);
  auto& lat = r.AddHistogram("test_latency_seconds", "Latency.", {"kind"}, {0.1, 1, 10});
  lat.With({"x"}).Observe(0.05);
  lat.With({"x"}).Observe(0.1);  // le is inclusive: counted in le="0.1"
  lat.With({"x"}).Observe(5);
  lat.With({"x"}).Observe(100);  // past the last bound: only +Inf
  r.AddCounter("test_unused_total", "Never incremented, no series: left out.", {"a"});

  EXPECT_EQ(r.Render(),
            std::string("# HELP test_alpha A gauge\\nwith two lines \\\\ and a backslash.\n"
                        "# TYPE test_alpha gauge\n"
                        "test_alpha 1.5\n"
                        "# HELP test_latency_seconds Latency.\n"
                        "# TYPE test_latency_seconds histogram\n"
                        "test_latency_seconds_bucket{kind=\"x\",le=\"0.1\"} 2\n"
                        "test_latency_seconds_bucket{kind=\"x\",le=\"1\"} 2\n"
                        "test_latency_seconds_bucket{kind=\"x\",le=\"10\"} 3\n"
                        "test_latency_seconds_bucket{kind=\"x\",le=\"+Inf\"} 4\n"
                        "test_latency_seconds_sum{kind=\"x\"} ") +
                FormatValue(0.0 + 0.05 + 0.1 + 5 + 100) +
                "\n"
                "test_latency_seconds_count{kind=\"x\"} 4\n"
                "# HELP test_rows_total Rows seen.\n"
                "# TYPE test_rows_total counter\n"
                "test_rows_total{pipeline=\"a\\\"b\\\\c\\nd\",direction=\"in\"} 1\n"
                "test_rows_total{pipeline=\"orders\",direction=\"in\"} 10\n"
                "test_rows_total{pipeline=\"orders\",direction=\"out\"} 7\n");
}

TEST(MetricsRegistry, HistogramWithoutLabelsAndNaN) {
  Registry r;
  auto& h = r.AddHistogram("test_h_seconds", "H.", {}, {1});
  h.Get().Observe(1);
  h.Get().Observe(std::nan(""));  // counted in +Inf only
  EXPECT_EQ(r.Render(),
            "# HELP test_h_seconds H.\n"
            "# TYPE test_h_seconds histogram\n"
            "test_h_seconds_bucket{le=\"1\"} 1\n"
            "test_h_seconds_bucket{le=\"+Inf\"} 2\n"
            "test_h_seconds_sum NaN\n"
            "test_h_seconds_count 2\n");
}

TEST(MetricsRegistry, SameFamilyOnSecondAdd) {
  Registry r;
  auto& a = r.AddCounter("test_x_total", "First help.", {"k"});
  auto& b = r.AddCounter("test_x_total", "Second help.", {"k"});
  EXPECT_EQ(&a, &b);
  a.With({"v"}).Inc();
  b.With({"v"}).Inc(2);
  EXPECT_EQ(&a.With({"v"}), &b.With({"v"}));
  EXPECT_EQ(a.With({"v"}).Value(), 3);
  EXPECT_NE(r.Render().find("# HELP test_x_total First help.\n"), std::string::npos);
}

TEST(MetricsRegistry, CounterIgnoresNegativeAndGaugeMoves) {
  Registry r;
  Counter& c = r.AddCounter("test_c_total", "C.").Get();
  c.Inc(2);
  c.Inc(-5);
  EXPECT_EQ(c.Value(), 2);
  Gauge& g = r.AddGauge("test_g", "G.").Get();
  g.Inc();
  g.Inc();
  g.Dec();
  g.Add(0.5);
  EXPECT_EQ(g.Value(), 1.5);
  g.Set(-1);
  EXPECT_EQ(g.Value(), -1);
}

TEST(MetricsRegistryDeathTest, MisuseAborts) {
  Registry r;
  auto& f = r.AddCounter("test_d_total", "D.", {"a", "b"});
  EXPECT_DEATH(f.With({"only one"}), "wrong number of label values");
  EXPECT_DEATH(r.AddGauge("test_d_total", "D.", {"a", "b"}), "another type");
  EXPECT_DEATH(r.AddCounter("bad-name", "x"), "invalid metric name");
  EXPECT_DEATH(r.AddCounter("test_e_total", "x", {"__reserved"}), "invalid label name");
  EXPECT_DEATH(r.AddHistogram("test_h", "x", {"le"}), "cannot have label");
  EXPECT_DEATH(r.AddHistogram("test_h2", "x", {}, {1, 1}), "strictly increasing");
}

TEST(MetricsRegistry, ConcurrentUpdatesAreExact) {
  Registry r;
  auto& counts = r.AddCounter("test_n_total", "N.", {"t"});
  auto& hist = r.AddHistogram("test_obs_seconds", "O.", {"t"}, {0.5, 1.5});
  auto& gauge = r.AddGauge("test_busy", "B.");
  constexpr int kThreads = 8;
  constexpr int kIters = 20000;
  std::atomic<bool> go{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      while (!go) std::this_thread::yield();
      for (int i = 0; i < kIters; ++i) {
        counts.With({"shared"}).Inc();
        // Label sets created concurrently by several threads at once.
        counts.With({"k" + std::to_string(i % 50)}).Inc();
        hist.With({"shared"}).Observe(i % 2 == 0 ? 1.0 : 2.0);
        gauge.Get().Inc();
        gauge.Get().Dec();
      }
    });
  }
  // Scrapes while the updates run: every one must see consistent histograms
  // (the +Inf bucket equals _count).
  std::thread scraper([&] {
    while (!go) std::this_thread::yield();
    for (int i = 0; i < 50; ++i) {
      const std::string text = r.Render();
      const auto inf = text.find("test_obs_seconds_bucket{t=\"shared\",le=\"+Inf\"} ");
      const auto cnt = text.find("test_obs_seconds_count{t=\"shared\"} ");
      if (inf == std::string::npos) continue;
      ASSERT_NE(cnt, std::string::npos);
      const auto value_at = [&](size_t pos) {
        const size_t sp = text.find(' ', text.find('}', pos)) + 1;
        return text.substr(sp, text.find('\n', sp) - sp);
      };
      EXPECT_EQ(value_at(inf), value_at(cnt));
    }
  });
  go = true;
  for (auto& t : threads) t.join();
  scraper.join();
  EXPECT_EQ(counts.With({"shared"}).Value(), kThreads * kIters);
  double spread = 0;
  for (int k = 0; k < 50; ++k) spread += counts.With({"k" + std::to_string(k)}).Value();
  EXPECT_EQ(spread, kThreads * kIters);
  const Histogram::Snapshot s = hist.With({"shared"}).Read();
  EXPECT_EQ(s.count, static_cast<uint64_t>(kThreads * kIters));
  EXPECT_EQ(s.cumulative[0], 0u);
  EXPECT_EQ(s.cumulative[1], static_cast<uint64_t>(kThreads * kIters / 2));
  EXPECT_EQ(s.sum, 1.5 * kThreads * kIters);
  EXPECT_EQ(gauge.Get().Value(), 0);
}

TEST(MetricsRegistry, GaugeCallbacks) {
  Registry r;
  int calls = 0;
  double depth = 3;
  CallbackHandle h = r.AddGaugeCallback("test_queue_depth", "Depth.", {"kind"}, [&] {
    ++calls;
    return std::vector<Sample>{{{"process"}, depth}, {{"load"}, 0}, {{"bad", "count"}, 9}};
  });
  r.AddCounter("test_a_total", "A.").Get().Inc();
  r.AddCounter("test_z_total", "Z.").Get().Inc();
  const std::string want1 =
      "# HELP test_a_total A.\n# TYPE test_a_total counter\ntest_a_total 1\n"
      "# HELP test_queue_depth Depth.\n# TYPE test_queue_depth gauge\n"
      "test_queue_depth{kind=\"load\"} 0\n"
      "test_queue_depth{kind=\"process\"} 3\n"
      "# HELP test_z_total Z.\n# TYPE test_z_total counter\ntest_z_total 1\n";
  EXPECT_EQ(r.Render(), want1);
  depth = 5;
  EXPECT_NE(r.Render().find("test_queue_depth{kind=\"process\"} 5\n"), std::string::npos);
  EXPECT_EQ(calls, 2);

  // A second callback of the same name merges in; the first of a label set wins.
  CallbackHandle h2 = r.AddGaugeCallback("test_queue_depth", "Depth.", {"kind"}, [] {
    return std::vector<Sample>{{{"process"}, 100}, {{"extra"}, 1}};
  });
  std::string text = r.Render();
  EXPECT_NE(text.find("test_queue_depth{kind=\"process\"} 5\n"), std::string::npos) << text;
  EXPECT_NE(text.find("test_queue_depth{kind=\"extra\"} 1\n"), std::string::npos) << text;
  EXPECT_EQ(text.find("} 100\n"), std::string::npos) << text;

  // Unregistered: never called again, and its family goes once no callback is left.
  h.Reset();
  h2 = CallbackHandle();
  const int before = calls;
  text = r.Render();
  EXPECT_EQ(calls, before);
  EXPECT_EQ(text.find("test_queue_depth"), std::string::npos) << text;
  // The name is free again.
  CallbackHandle h3 = r.AddGaugeCallback("test_queue_depth", "Depth.", {"kind"}, [] {
    return std::vector<Sample>{{{"process"}, 1}};
  });
  EXPECT_NE(r.Render().find("test_queue_depth{kind=\"process\"} 1\n"), std::string::npos);
}

TEST(MetricsRegistry, CallbackUnregisteredWhileScraping) {
  Registry r;
  std::atomic<int> live{1};
  std::atomic<bool> stop{false};
  auto handle = std::make_unique<CallbackHandle>(r.AddGaugeCallback("test_cb", "C.", {}, [&] {
    // Runs only while its handle exists: Reset waits for a call in progress.
    EXPECT_EQ(live.load(), 1);
    return std::vector<Sample>{{{}, 1}};
  }));
  std::thread scraper([&] {
    while (!stop) r.Render();
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  handle.reset();
  live = 0;  // after Reset returned: a call now would fail the expectation
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  stop = true;
  scraper.join();
  EXPECT_EQ(r.Render(), "");
}

TEST(MetricsRegistry, DefaultIsOneRegistry) { EXPECT_EQ(&Default(), &Default()); }

TEST(MetricsRegistry, Buckets) {
  EXPECT_EQ(ExponentialBuckets(1, 2, 4), (std::vector<double>{1, 2, 4, 8}));
  const auto& d = DurationBuckets();
  EXPECT_TRUE(std::is_sorted(d.begin(), d.end()));
  EXPECT_EQ(d.front(), 0.005);
  EXPECT_EQ(d.back(), 600);
}

}  // namespace
}  // namespace sluice::metrics
