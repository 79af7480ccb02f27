// sluice check [--quick] [--repair] [--json]
#include <cstdio>
#include <nlohmann/json.hpp>
#include <set>

#include "cli/cli.h"
#include "engine/check.h"

namespace sluice::cli {

int CmdCheck(const GlobalFlags& g, bool quick, bool repair) {
  auto project = OpenProject(g);
  if (!project.ok()) return Fail(project.status());
  CheckOptions options;
  options.verify_contents = !quick;
  options.repair = repair;
  auto report = CheckProject(**project, options);
  if (!report.ok()) return Fail(report.status());

  // A problem is settled when --repair rebuilt its batch.
  std::set<int64_t> rebuilt;
  for (const RepairOutcome& r : report->repairs) {
    if (r.state == "committed") rebuilt.insert(r.batch_id);
  }
  bool open_problems = false;
  for (const CheckProblem& p : report->problems) {
    bool settled =
        p.batch_id != 0 && rebuilt.count(p.batch_id) && p.kind != "archive" && p.kind != "unknown";
    open_problems = open_problems || !settled;
  }

  if (g.json) {
    nlohmann::json problems = nlohmann::json::array();
    for (const CheckProblem& p : report->problems) {
      problems.push_back({{"kind", p.kind},
                          {"key", p.key},
                          {"table", p.table},
                          {"batch_id", p.batch_id},
                          {"detail", p.detail}});
    }
    nlohmann::json repairs = nlohmann::json::array();
    for (const RepairOutcome& r : report->repairs) {
      repairs.push_back({{"batch_id", r.batch_id}, {"state", r.state}, {"note", r.note}});
    }
    nlohmann::json out = {{"ok", !open_problems},
                          {"files_checked", report->files_checked},
                          {"archives_checked", report->archives_checked},
                          {"bytes_hashed", report->bytes_hashed},
                          {"problems", problems},
                          {"repairs", repairs}};
    std::printf("%s\n", out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  } else {
    for (const CheckProblem& p : report->problems) {
      std::printf("%-10s %s", p.kind.c_str(), p.key.empty() ? "-" : p.key.c_str());
      if (!p.table.empty()) std::printf(" (table %s)", p.table.c_str());
      if (p.batch_id != 0) std::printf(" batch %lld", static_cast<long long>(p.batch_id));
      std::printf(": %s\n", p.detail.c_str());
    }
    for (const RepairOutcome& r : report->repairs) {
      std::printf("repair     batch %lld: %s (%s)\n", static_cast<long long>(r.batch_id),
                  r.state.c_str(), r.note.c_str());
    }
    std::printf("checked %lld lake file(s), %lld archived input(s)%s: %s\n",
                static_cast<long long>(report->files_checked),
                static_cast<long long>(report->archives_checked), quick ? " (sizes only)" : "",
                report->problems.empty() ? "no problems"
                : open_problems
                    ? (std::to_string(report->problems.size()) + " problem(s)" +
                       (repair ? "" : "; `sluice check --repair` rebuilds damaged batches"))
                          .c_str()
                    : "every problem repaired");
  }
  return open_problems ? 3 : 0;
}

}  // namespace sluice::cli
