#include <spdlog/spdlog.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "cli/cli.h"
#include "core/clock.h"
#include "engine/server.h"
#include "server/auth.h"
#include "server/service.h"

namespace sluice::cli {

namespace {

// The first SIGTERM/SIGINT drains (stop); a second one forces the server out.
std::atomic<bool> g_stop{false};
std::atomic<bool> g_force{false};
std::atomic<int> g_signals{0};
extern "C" void OnSignal(int) {
  if (g_signals.fetch_add(1) == 0) {
    g_stop = true;
  } else {
    g_force = true;
  }
}

// Exit codes (README "Exit codes"): 3 when an --exit-when-idle run finished
// but left work undone, 4 when a second signal cut the drain short.
constexpr int kExitUndone = 3;
constexpr int kExitForced = 4;

// After the second signal the server normally returns within milliseconds
// (attempts stand down at their next chunk of input). Something that does
// not check in between (a long landing scan, a busy database) must not keep
// the operator waiting: past this the process ends anyway. That is as safe
// as a kill -9, which sluice is built to survive (leases expire, fencing
// refuses late writes, staging of unfinished attempts is collected later).
constexpr auto kForceDeadline = std::chrono::seconds(5);

void PrintProblems(const ServerReport& report) {
  if (report.problems.empty()) return;
  std::fprintf(stderr, "sluice server: %zu problem(s) left work undone:\n",
               report.problems.size() + static_cast<size_t>(report.more_problems));
  for (const std::string& p : report.problems) std::fprintf(stderr, "  %s\n", p.c_str());
  if (report.more_problems > 0) {
    std::fprintf(stderr, "  ... and %lld more\n", static_cast<long long>(report.more_problems));
  }
}

}  // namespace

int CmdServer(const GlobalFlags& g, bool exit_when_idle, const ServerFlags& flags) {
  Stopwatch watch;
  auto project = OpenProject(g);
  if (!project.ok()) return Fail(project.status());
  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);

  std::atomic<bool> finished{false};
  std::thread watchdog([&finished] {
    while (!finished && !g_force) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    if (finished) return;
    const auto deadline = std::chrono::steady_clock::now() + kForceDeadline;
    while (!finished && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (finished) return;
    std::fprintf(stderr,
                 "sluice server: forced exit; attempts still running are retried by the next "
                 "run\n");
    std::_Exit(kExitForced);
  });

  // The HTTP service answers while the workers run and while they drain
  // (/readyz then says so); it stops last.
  std::unique_ptr<server::Service> service;
  if (!flags.no_http && (!exit_when_idle || !flags.listen.empty())) {
    // Deploy the pipeline files before the first request can arrive: an
    // upload to a pipeline whose file is there must not get a 404 because
    // the scheduler has not read the files yet. RunServer syncs again and
    // reports what could not be deployed.
    if (auto synced = (*project)->SyncPipelines(); !synced.ok()) {
      spdlog::warn("pipeline sync before listening: {}", synced.status().ToString());
    }
    server::ServiceOptions so;
    so.config = (*project)->config().server;
    if (!flags.listen.empty()) so.config.listen = flags.listen;
    so.reuse_port = flags.reuse_port;
    so.draining = &g_stop;
    so.version = SLUICE_VERSION_STRING;
    auto started = server::Service::Start(**project, so);
    if (!started.ok()) {
      finished = true;
      watchdog.join();
      return Fail(started.status());
    }
    service = std::move(*started);
    // The address, for people and for scripts that asked for port 0.
    std::printf("sluice server: listening on %s\n", service->url().c_str());
    std::fflush(stdout);
  }

  ServerOptions opts;
  opts.exit_when_idle = exit_when_idle;
  opts.force_stop = &g_force;
  ServerReport report;
  Status st = RunServer(**project, opts, g_stop, &report);
  if (service != nullptr) service->Stop();
  finished = true;
  watchdog.join();
  if (!st.ok()) return Fail(st);
  PrintProblems(report);
  std::fprintf(stderr,
               "sluice server: stopped after %.2f s (batches this run: %lld committed, %lld "
               "quarantined, %lld failed)\n",
               watch.Seconds(), static_cast<long long>(report.committed),
               static_cast<long long>(report.quarantined), static_cast<long long>(report.failed));
  if (report.forced) {
    std::fprintf(stderr,
                 "sluice server: forced to stop by a second signal: %d attempt(s) cancelled, "
                 "their batches are retried by the next run\n",
                 report.cancelled);
    return kExitForced;
  }
  // A daemon stopped by SIGTERM drained as asked (0); a run that was to do
  // everything there was and could not says so.
  if (exit_when_idle && !report.problems.empty()) return kExitUndone;
  return 0;
}

int CmdToken(const std::string& name, const std::string& role) {
  auto token = server::NewToken();
  if (!token.ok()) return Fail(token.status());
  std::printf("%s\n", token->first.c_str());
  std::fprintf(stderr,
               "sluice token: give the line above to '%s' (it is not stored anywhere) and add "
               "this to server.tokens in sluice.yaml:\n"
               "    - { name: %s, role: %s, sha256: %s }\n",
               name.c_str(), name.c_str(), role.c_str(), token->second.c_str());
  return 0;
}

}  // namespace sluice::cli
