#include <csignal>
#include <cstdio>

#include "cli/cli.h"
#include "core/clock.h"
#include "engine/server.h"

namespace sluice::cli {

namespace {
std::atomic<bool> g_stop{false};
extern "C" void OnSignal(int) { g_stop = true; }
}  // namespace

int CmdServer(const GlobalFlags& g, bool exit_when_idle) {
  Stopwatch watch;
  auto project = OpenProject(g);
  if (!project.ok()) return Fail(project.status());
  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  ServerOptions opts;
  opts.exit_when_idle = exit_when_idle;
  Status st = RunServer(**project, opts, g_stop);
  if (!st.ok()) return Fail(st);
  std::fprintf(stderr, "sluice server: stopped after %.2f s\n", watch.Seconds());
  return 0;
}

}  // namespace sluice::cli
