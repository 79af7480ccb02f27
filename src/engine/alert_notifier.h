// AlertNotifier: calls the optional alert webhook for deadline and freshness
// alerts (a batch at risk of missing its pipeline's deadline, a batch that
// missed it, a pipeline with no batch within `expect_every`), without ever
// holding up processing.
//
// Notify() only queues the event; one sender thread POSTs each event as JSON
// (AlertEventJson) with libcurl, `Content-Type: application/json`,
// `User-Agent: sluice` and the optional `Authorization` header.
//
// Outcomes of one POST (the retry taxonomy of architecture section 5, mapped
// once here for HTTP):
//   sent       a 2xx answer.
//   transient  5xx, 408, 429, a connection error, a timeout: tried again
//              after first_backoff, doubled after each failure up to
//              max_backoff, or after the `Retry-After: <seconds>` of a 429 or
//              503 (capped by max_backoff). After max_tries tries the event is
//              given up.
//   permanent  any other 4xx, a 1xx or 3xx final answer (redirects are not
//              followed), a malformed URL, a TLS certificate that does not
//              verify: given up at once. A hook that refuses the request, or
//              has moved, will not change its mind by itself.
// No jitter: one sender per process sends a few events; servers that share
// a hook may retry in step, which is harmless at alert rates.
//
// Order: events are sent one at a time in the order they were notified.
// While an event waits for its retry, later events wait behind it (they stay
// queued, and past max_queued the oldest is dropped). Alerts are rare, a
// receiver can read them as a timeline, and a hook that fails one event
// fails the next too, so overtaking would buy little but reordering.
//
// Accounting: every event ends exactly once as sent, failed (given up: a
// permanent answer, max_tries used, or still unsent when Stop's grace ran
// out) or dropped (queue full, or notified after Stop). Each is counted in
// stats() and in the process-wide metrics `sluice_alerts_total{kind,outcome}`
// (outcome sent|failed|dropped); every try after the first counts
// `sluice_alert_retries_total{kind}`. Failed and dropped events are logged
// (warn) with the hook shown as scheme://host[:port]/path only: never its
// credentials, query or the Authorization value.
//
// Threading: every method may be called from any thread. Stop() and the
// destructor wait for the sender thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <thread>

#include "core/status.h"
#include "core/thread_annotations.h"

namespace sluice {

struct AlertEvent {
  std::string kind;  // "at_risk" | "missed" | "stale"
  std::string pipeline;
  int64_t batch_id = 0;         // 0 for "stale"
  int64_t deadline_us = 0;      // at_risk, missed: the batch's deadline (us since epoch)
  int64_t estimate_us = 0;      // at_risk: the estimated completion time
  int64_t last_batch_us = 0;    // stale: when the last batch arrived (0 = never)
  int64_t expect_every_us = 0;  // stale
  int64_t at_us = 0;            // when the alert was raised
  std::string message;          // one human sentence
};

// The webhook body, one JSON object, members in this order:
//   kind, pipeline,
//   batch_id                               at_risk, missed
//   deadline, deadline_us                  at_risk, missed
//   estimate, estimate_us                  at_risk
//   last_batch, last_batch_us              stale (both null when no batch ever arrived)
//   expect_every_us, expect_every_seconds  stale
//   at, at_us, message
// Times are RFC 3339 UTC with milliseconds ("2026-12-07T20:55:39.123Z") and
// also as microseconds since the epoch in the *_us member. Members that do
// not apply to the kind are left out; an unknown kind carries every member
// whose value is set (non-zero).
std::string AlertEventJson(const AlertEvent& e);

// RFC 3339 UTC with milliseconds of `us` microseconds since the epoch
// (rounded down), e.g. "2026-12-07T20:55:39.123Z".
std::string AlertTimeText(int64_t us);

// The webhook's URL fit for a log line: scheme://host[:port]/path, without
// userinfo, query or fragment; "(invalid URL)" when it does not parse.
std::string AlertUrlDisplay(const std::string& url);

struct AlertNotifierOptions {
  // The webhook: an http:// or https:// URL. Userinfo (user:password@) is
  // sent as basic authentication; prefer `authorization`.
  std::string url;
  // Bound of one POST, connecting included. A hook that has not answered by
  // then counts as a transient failure.
  std::chrono::milliseconds timeout{5000};
  // Tries per event (1 = no retry); the event is then given up (failed).
  int max_tries = 6;
  // Wait after the first failed try, doubled after each further one, at
  // most max_backoff (which also caps a server's Retry-After).
  std::chrono::milliseconds first_backoff{1000};
  std::chrono::milliseconds max_backoff{60000};
  // Events waiting to be sent (not counting the one being sent); a new
  // event past it drops the oldest waiting one.
  size_t max_queued = 1000;
  // The Authorization header's value ("Bearer xyz"), sent when not empty.
  std::string authorization;

  // kInvalidArgument for a URL that is not http(s) with a host, a timeout or
  // backoff that is not positive, max_tries < 1 or max_queued < 1.
  Status Validate() const;
};

class AlertNotifier {
 public:
  // Starts the sender thread. With options that do not validate, every event
  // is given up without a POST (callers validate the configuration first).
  explicit AlertNotifier(AlertNotifierOptions options);
  ~AlertNotifier();  // Stop(0)
  AlertNotifier(const AlertNotifier&) = delete;
  AlertNotifier& operator=(const AlertNotifier&) = delete;

  // Queues the event and returns: never waits for the network. When
  // max_queued events are already waiting, the oldest of them is dropped;
  // after Stop the event itself is dropped.
  void Notify(AlertEvent event) EXCLUDES(mu_);

  // Stops the sender and waits for it. Events not yet sent get until `grace`
  // from now to be delivered (retries included), then are given up. A POST
  // in flight when the grace runs out is cancelled, so Stop returns soon
  // after the grace whatever the hook does. Idempotent; a second call can
  // only shorten the grace.
  void Stop(std::chrono::milliseconds grace) EXCLUDES(mu_);

  struct Stats {
    int64_t sent = 0, retries = 0, failed = 0, dropped = 0;
  };
  Stats stats() const EXCLUDES(mu_);

  struct Transport;  // the libcurl handles (alert_notifier.cc)
  struct PostResult;

 private:
  enum class Outcome { kSent, kFailed };

  void Run() EXCLUDES(mu_);
  // Tries one event until it is sent or given up.
  void Deliver(const AlertEvent& event) EXCLUDES(mu_);
  // One POST; cancelled when Stop's grace runs out while it is in flight.
  PostResult Post(const std::string& body) EXCLUDES(mu_);
  // Waits `d`, or until Stop's grace has run out: false in that case.
  bool WaitBackoff(std::chrono::milliseconds d) EXCLUDES(mu_);
  // When Stop's grace runs out; time_point::max() before Stop.
  std::chrono::steady_clock::time_point StopDeadline() const EXCLUDES(mu_);
  void GiveUp(const AlertEvent& event, int tries, const std::string& why) EXCLUDES(mu_);
  void CountOutcome(const std::string& kind, Outcome outcome) EXCLUDES(mu_);

  const AlertNotifierOptions options_;
  const std::string url_display_;
  const std::string invalid_options_;  // Validate()'s message; empty when valid
  std::unique_ptr<Transport> transport_;

  mutable Mutex mu_;
  CondVar cv_{&mu_};  // signalled on Notify and Stop
  std::deque<AlertEvent> queue_ GUARDED_BY(mu_);
  bool stopping_ GUARDED_BY(mu_) = false;
  std::chrono::steady_clock::time_point stop_deadline_ GUARDED_BY(mu_);
  Stats stats_ GUARDED_BY(mu_);

  Mutex join_mu_;  // one Stop at a time joins the thread
  std::thread thread_;
};

}  // namespace sluice
