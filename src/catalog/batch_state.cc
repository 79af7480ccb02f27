#include <array>
#include <string>
#include <utility>

#include "catalog/catalog.h"

namespace sluice {

namespace {

// The stored spelling of each state: these strings are in catalog files on
// disk, so they never change.
constexpr std::array<std::pair<BatchState, std::string_view>, 8> kNames = {{
    {BatchState::kLanded, "landed"},
    {BatchState::kQueued, "queued"},
    {BatchState::kProcessing, "processing"},
    {BatchState::kCommitting, "committing"},
    {BatchState::kCommitted, "committed"},
    {BatchState::kFailed, "failed"},
    {BatchState::kQuarantined, "quarantined"},
    {BatchState::kDamaged, "damaged"},
}};

}  // namespace

std::string_view BatchStateName(BatchState s) {
  for (const auto& [state, name] : kNames) {
    if (state == s) return name;
  }
  return "unknown";
}

Result<BatchState> ParseBatchState(std::string_view name) {
  for (const auto& [state, n] : kNames) {
    if (n == name) return state;
  }
  std::string known;
  for (const auto& entry : kNames) {
    if (!known.empty()) known += ", ";
    known += entry.second;
  }
  return Status::InvalidArgument("unknown batch state '" + std::string(name) +
                                 "' (expected one of: " + known + ")");
}

namespace {

constexpr std::array<std::pair<DeliveryState, std::string_view>, 4> kDeliveryNames = {{
    {DeliveryState::kPending, "pending"},
    {DeliveryState::kLoading, "loading"},
    {DeliveryState::kDelivered, "delivered"},
    {DeliveryState::kFailed, "failed"},
}};

}  // namespace

std::string_view DeliveryStateName(DeliveryState s) {
  for (const auto& [state, name] : kDeliveryNames) {
    if (state == s) return name;
  }
  return "unknown";
}

Result<DeliveryState> ParseDeliveryState(std::string_view name) {
  for (const auto& [state, n] : kDeliveryNames) {
    if (n == name) return state;
  }
  return Status::DataLoss("unknown delivery state '" + std::string(name) + "'");
}

namespace {

constexpr std::array<std::pair<ExportState, std::string_view>, 4> kExportNames = {{
    {ExportState::kQueued, "queued"},
    {ExportState::kRunning, "running"},
    {ExportState::kDone, "done"},
    {ExportState::kFailed, "failed"},
}};

}  // namespace

std::string_view ExportStateName(ExportState s) {
  for (const auto& [state, name] : kExportNames) {
    if (state == s) return name;
  }
  return "unknown";
}

Result<ExportState> ParseExportState(std::string_view name) {
  for (const auto& [state, n] : kExportNames) {
    if (n == name) return state;
  }
  return Status::DataLoss("unknown export state '" + std::string(name) + "'");
}

}  // namespace sluice
