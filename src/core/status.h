// Status and Result<T>: how every sluice function reports a recoverable failure.
//
// A Status is either OK or a code plus a message written for the person who will
// read it (name the file, line and field where there is one). Result<T> holds a
// value or a non-OK Status. Both are [[nodiscard]]: ignore one on purpose with
// .IgnoreError() so that the choice is visible.
//
// Choosing a code: the split that matters to callers is retryable vs permanent.
//   kUnavailable        transient; the same call may succeed later (I/O hiccup, busy DB, lease
//   lost). kInvalidArgument    the input is wrong (bad config, bad record, bad file); retrying
//   cannot help. kFailedPrecondition the system is not in a state where the call can run (e.g.
//   batch already committed). kNotFound, kAlreadyExists  as named. kDataLoss           stored data
//   is corrupt or truncated. kIOError            the operating system refused a file operation.
//   kInternal           a bug in sluice.
//   kUnimplemented      this backend cannot do the operation at all (an S3 store has no rename;
//   a test server lacks an API); permanent, the caller needs another way.
#pragma once

#include <cassert>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace sluice {

enum class StatusCode : int {
  kOk = 0,
  kInvalidArgument,
  kNotFound,
  kAlreadyExists,
  kFailedPrecondition,
  kUnavailable,
  kDataLoss,
  kIOError,
  kAborted,
  kInternal,
  kUnimplemented,
};

std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message);

  static Status OK() { return Status(); }
  static Status InvalidArgument(std::string msg) {
    return {StatusCode::kInvalidArgument, std::move(msg)};
  }
  static Status NotFound(std::string msg) { return {StatusCode::kNotFound, std::move(msg)}; }
  static Status AlreadyExists(std::string msg) {
    return {StatusCode::kAlreadyExists, std::move(msg)};
  }
  static Status FailedPrecondition(std::string msg) {
    return {StatusCode::kFailedPrecondition, std::move(msg)};
  }
  static Status Unavailable(std::string msg) { return {StatusCode::kUnavailable, std::move(msg)}; }
  static Status DataLoss(std::string msg) { return {StatusCode::kDataLoss, std::move(msg)}; }
  static Status IOError(std::string msg) { return {StatusCode::kIOError, std::move(msg)}; }
  static Status Aborted(std::string msg) { return {StatusCode::kAborted, std::move(msg)}; }
  static Status Internal(std::string msg) { return {StatusCode::kInternal, std::move(msg)}; }
  static Status Unimplemented(std::string msg) {
    return {StatusCode::kUnimplemented, std::move(msg)};
  }

  bool ok() const { return state_ == nullptr; }
  StatusCode code() const { return state_ ? state_->code : StatusCode::kOk; }
  const std::string& message() const;
  // The same call may succeed later (ClassifyError(*this) == kTransient).
  bool IsRetryable() const { return code() == StatusCode::kUnavailable; }
  // "CODE: message", or "OK".
  std::string ToString() const;
  // Returns a copy whose message is "prefix: message".
  Status WithContext(std::string_view prefix) const;
  void IgnoreError() const {}

 private:
  struct State {
    StatusCode code;
    std::string message;
  };
  std::shared_ptr<const State> state_;
};

// The one retry taxonomy. Every decision to retry, give up or stand down is
// made from this, never from message text:
//   kTransient  the same work may succeed later (kUnavailable: a busy or full
//               disk, a busy database, a timeout); retried with backoff up to
//               the pipeline's max_attempts.
//   kFenced     this worker no longer owns the work (kAborted: its lease was
//               taken over or a newer attempt started); it stops and touches
//               nothing, the owner decides.
//   kPermanent  everything else: bad input, bad spec, a refused file name,
//               corrupt data, a bug. Retrying cannot help; the batch fails
//               with the reason and can be replayed after a fix.
// Ports map their native errors once (ErrnoError below; the SQLite code map
// in catalog/sqlite_db.cc), so this classification is all a caller needs.
enum class ErrorClass { kTransient, kPermanent, kFenced };
ErrorClass ClassifyError(const Status& status);
std::string_view ErrorClassName(ErrorClass c);  // "transient", "permanent", "fenced"

// A Status for a failed system call: `what` plus strerror(err). errno values
// that describe a passing condition (EAGAIN, EINTR, EIO, ENOSPC, EDQUOT,
// EMFILE, ENFILE, ENOMEM, EBUSY, ETIMEDOUT, ESTALE, ...) become kUnavailable;
// the rest (ENAMETOOLONG, EACCES, EROFS, EISDIR, ELOOP, ...) kIOError, which
// is permanent.
Status ErrnoError(int err, std::string what);

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}        // NOLINT(google-explicit-constructor)
  Result(Status status) : v_(std::move(status)) {  // NOLINT(google-explicit-constructor)
    assert(!std::get<Status>(v_).ok() && "Result built from an OK Status");
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  Status status() const { return ok() ? Status::OK() : std::get<Status>(v_); }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T value_or(T other) const { return ok() ? value() : other; }
  void IgnoreError() const {}

 private:
  std::variant<Status, T> v_;
};

}  // namespace sluice

#define SLUICE_CONCAT_INNER(a, b) a##b
#define SLUICE_CONCAT(a, b) SLUICE_CONCAT_INNER(a, b)

#define RETURN_IF_ERROR(expr)      \
  do {                             \
    ::sluice::Status _st = (expr); \
    if (!_st.ok()) return _st;     \
  } while (0)

#define SLUICE_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                 \
  if (!tmp.ok()) return tmp.status();                \
  lhs = std::move(tmp).value()

#define ASSIGN_OR_RETURN(lhs, expr) \
  SLUICE_ASSIGN_OR_RETURN_IMPL(SLUICE_CONCAT(_res_, __LINE__), lhs, expr)
