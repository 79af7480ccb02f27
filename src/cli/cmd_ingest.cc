#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <mutex>

#include "cli/cli.h"
#include "cli/format_util.h"
#include "core/clock.h"
#include "core/config_text.h"
#include "core/value_text.h"
#include "engine/ingest.h"

namespace sluice::cli {

int CmdInfer(const GlobalFlags& g, const std::string& file) {
  std::string name = std::filesystem::path(file).filename().string();
  name = name.substr(0, name.find('.'));
  std::string clean;
  for (char c : name) {
    clean.push_back(std::isalnum(static_cast<unsigned char>(c))
                        ? static_cast<char>(std::tolower(static_cast<unsigned char>(c)))
                        : '_');
  }
  if (clean.empty() || std::isdigit(static_cast<unsigned char>(clean[0]))) clean = "t_" + clean;
  auto spec = InferPipeline(file, clean, g.sample_rows);
  if (!spec.ok()) return Fail(spec.status());
  std::fputs(RenderPipeline(*spec).c_str(), stdout);
  return 0;
}

namespace {

// Prints a one-line progress display on stderr when it is a terminal.
class ProgressLine {
 public:
  ProgressLine() : enabled_(::isatty(STDERR_FILENO) == 1) {}
  ~ProgressLine() { Clear(); }

  void Update(const ProcessProgress& p) {
    if (!enabled_) return;
    std::lock_guard lock(mu_);
    auto now = std::chrono::steady_clock::now();
    if (now - last_ < std::chrono::milliseconds(200)) return;
    last_ = now;
    double rate = p.seconds > 0 ? p.rows_read / p.seconds : 0;
    std::string line = "batch " + std::to_string(p.batch_id) + ": " +
                       HumanBytes(static_cast<double>(p.bytes_done));
    if (p.bytes_total > 0) {
      line += " / " + HumanBytes(static_cast<double>(p.bytes_total));
      double frac = static_cast<double>(p.bytes_done) / p.bytes_total;
      char pct[16];
      std::snprintf(pct, sizeof(pct), " (%.0f%%)", frac * 100);
      line += pct;
      if (frac > 0.01 && p.seconds > 0.5) {
        double eta = p.seconds / frac - p.seconds;
        char e[32];
        std::snprintf(e, sizeof(e), ", ETA %.0fs", eta);
        line += e;
      }
    }
    line += ", " + HumanCount(static_cast<double>(p.rows_read)) + " rows, " + HumanCount(rate) +
            " rows/s";
    std::fprintf(stderr, "\r\033[K%s", line.c_str());
    shown_ = true;
  }
  void Clear() {
    if (enabled_ && shown_) std::fprintf(stderr, "\r\033[K");
    shown_ = false;
  }

 private:
  bool enabled_;
  bool shown_ = false;
  std::mutex mu_;
  std::chrono::steady_clock::time_point last_{};
};

}  // namespace

int CmdIngest(const GlobalFlags& g, const std::string& pipeline, const std::string& table,
              const std::vector<std::string>& files) {
  Stopwatch watch;
  for (const std::string& f : files) {
    if (!std::filesystem::is_regular_file(f)) {
      return Fail(Status::NotFound("input file '" + f + "' does not exist"));
    }
  }
  if (!table.empty() && !ValidPipelineName(table)) {
    // Checked before anything is created: the name becomes a pipeline file,
    // a catalog entry and a lake directory.
    return Fail(Status::InvalidArgument("--table '" + EscapeName(table) +
                                        "': a table name is 1-64 characters of a-z, 0-9 and _"));
  }
  auto project = OpenProject(g);
  if (!project.ok()) return Fail(project.status());
  std::string name = pipeline;
  if (!table.empty()) {
    auto msg = EnsureTablePipeline(**project, table, files.front(), g.sample_rows);
    if (!msg.ok()) return Fail(msg.status());
    std::fprintf(stderr, "sluice: %s\n", msg->c_str());
    name = table;
  }
  ProgressLine progress;
  IngestOptions opts;
  opts.pipeline = name;
  opts.files = files;
  opts.on_progress = [&](const ProcessProgress& p) { progress.Update(p); };
  if (g.delivery_wait == "0" || g.delivery_wait == "0s") {
    opts.delivery_wait = std::chrono::milliseconds(0);
  } else {
    auto wait = ParseDuration(g.delivery_wait);
    if (!wait.ok()) return Fail(wait.status().WithContext("--delivery-wait"));
    opts.delivery_wait = *wait;
  }
  auto reports = RunIngest(**project, opts);
  progress.Clear();
  if (!reports.ok()) return Fail(reports.status());

  int bad = 0;
  std::printf("%-8s %-12s %12s %12s %12s %10s %10s %8s  %s\n", "batch", "state", "rows_read",
              "rows_written", "quarantined", "skipped", "dupes", "seconds", "file");
  for (const IngestReport& r : *reports) {
    std::printf(
        "%-8lld %-12s %12lld %12lld %12lld %10lld %10lld %8.2f  %s\n",
        static_cast<long long>(r.batch_id), r.state.c_str(),
        static_cast<long long>(r.stats.rows_read), static_cast<long long>(r.stats.rows_written),
        static_cast<long long>(r.stats.rows_quarantined),
        static_cast<long long>(r.stats.rows_skipped),
        static_cast<long long>(r.stats.duplicates_removed), r.stats.seconds, r.file.c_str());
    if (!r.note.empty()) std::printf("         %s\n", r.note.c_str());
    if (r.state == "failed" || r.state == "quarantined") ++bad;
    PrintDeliveries(r.deliveries, r.batch_id, /*delivered_too=*/true);
    for (const Delivery& d : r.deliveries) {
      if (d.state == DeliveryState::kFailed) ++bad;
    }
  }
  // Where the data went: every table the pipeline writes, from the catalog.
  auto spec = (*project)->catalog().GetActiveVersion(name);
  if (spec.ok()) {
    auto parsed = ParsePipeline(spec->spec_text, spec->source_path, (*project)->references());
    if (parsed.ok()) {
      for (const SinkSpec& out : parsed->outputs) {
        if (out.kind != "table") continue;
        std::string t = out.args.value("table", "");
        auto info = (*project)->catalog().GetTable(t);
        if (!info.ok()) continue;
        std::printf("table %s: %lld rows in %lld file(s) under %s\n", t.c_str(),
                    static_cast<long long>(info->num_rows), static_cast<long long>(info->num_files),
                    (*project)->store().Locate("lake/" + t).c_str());
      }
    }
  }
  std::printf("done in %.2f s\n", watch.Seconds());
  if (bad > 0 && !table.empty()) {
    std::string where = "the pipeline file";
    if (spec.ok() && !spec->source_path.empty()) where = spec->source_path;
    std::fprintf(stderr,
                 "sluice: %s; for table '%s', edit %s, then `sluice replay BATCH "
                 "--latest-version` for each batch above (or remove the pipeline and ingest "
                 "again with --sample-rows)\n",
                 InferredSchemaHint(g.sample_rows).c_str(), table.c_str(), where.c_str());
  }
  return bad > 0 ? 3 : 0;  // 3: some batch failed or was quarantined (see README)
}

}  // namespace sluice::cli
