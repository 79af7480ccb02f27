// `sluice backfill --pipeline P [--since T] [--latest-version] [--window N]`:
// replays a pipeline's batches oldest first, a window at a time, and resumes
// an interrupted run (engine/backfill.h).
#include <cstdio>
#include <string>

#include "cli/cli.h"
#include "core/clock.h"
#include "core/config_text.h"
#include "core/value_text.h"
#include "engine/backfill.h"

namespace sluice::cli {

namespace {

// "2026-12-01", "2026-12-01T08:00:00Z", or a duration back from now ("24h").
Result<int64_t> ParseSince(const std::string& text) {
  if (text.empty()) return int64_t{0};
  int64_t micros = 0;
  if (ParseTimestamp(text, &micros)) return micros;
  auto ago = ParseDuration(text);
  if (ago.ok()) return NowMicros() - ago->count() * 1000;
  return Status::InvalidArgument("--since '" + text +
                                 "': expected a date or time (2026-12-01, "
                                 "2026-12-01T08:00:00Z) or a duration back from now (24h, 90m)");
}

}  // namespace

int CmdBackfill(const GlobalFlags& g, const std::string& pipeline, const std::string& since,
                bool latest_version, int window) {
  auto since_us = ParseSince(since);
  if (!since_us.ok()) return Fail(since_us.status());
  auto project = OpenProject(g);
  if (!project.ok()) return Fail(project.status());
  BackfillOptions options;
  options.pipeline = pipeline;
  options.since_us = *since_us;
  options.latest_version = latest_version;
  options.window = window > 0 ? window : (*project)->config().workers;
  options.on_progress = [](int64_t done, int64_t total) {
    std::fprintf(stderr, "backfill: %lld of %lld batch(es) replayed\n",
                 static_cast<long long>(done), static_cast<long long>(total));
  };
  auto report = RunBackfill(**project, options);
  if (!report.ok()) return Fail(report.status());
  const Backfill& run = report->run;
  if (run.resumed) {
    std::printf("resumed the backfill of %s started %s (after batch %lld, %lld replayed then)\n",
                pipeline.c_str(), FormatTimestamp(run.started_us).c_str(),
                static_cast<long long>(run.cursor_batch_id), static_cast<long long>(run.replayed));
  }
  std::printf("backfill of %s: %lld batch(es) replayed (%s), %lld committed, %lld not\n",
              pipeline.c_str(), static_cast<long long>(report->replayed),
              run.version_id == 0 ? "each with its own version"
                                  : ("version id " + std::to_string(run.version_id)).c_str(),
              static_cast<long long>(report->committed), static_cast<long long>(report->other));
  return report->other > 0 ? 3 : 0;
}

}  // namespace sluice::cli
