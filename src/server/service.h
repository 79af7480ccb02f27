// The HTTP service of `sluice server`: the API, health checks (and, as they
// are added, metrics and the dashboard) on one listener, beside the
// scheduler and workers of engine/server.h.
//
// Shutdown order: on the first SIGTERM/SIGINT the workers drain (RunServer
// returns once tasks in flight finish) while the listener keeps answering,
// with /readyz at 503 so a balancer stops sending work; then Stop() closes
// the listener and lets requests in flight (streams included) finish.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "core/status.h"
#include "engine/project.h"
#include "pipeline/config.h"

namespace sluice::server {

struct ServiceOptions {
  ServerConfig config;      // the project's `server:` block, with flag overrides applied
  bool reuse_port = false;  // SO_REUSEPORT: let a new process take the port over
  const std::atomic<bool>* draining = nullptr;
  std::string version;
};

class Service {
 public:
  // Checks the configuration (listen address, TLS files, tokens for a
  // non-loopback address), binds and starts answering.
  static Result<std::unique_ptr<Service>> Start(Project& project, const ServiceOptions& options);
  ~Service();

  // "http://127.0.0.1:8080"
  std::string url() const;
  int port() const;
  // Requests being served right now.
  int active_requests() const;
  void Stop();

  struct Impl;

 private:
  explicit Service(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace sluice::server
