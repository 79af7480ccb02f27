// The route step's contract with the pipeline runner (see route_op.cc).
#pragma once

#include <string>
#include <vector>

#include "core/status.h"
#include "transform/operator.h"

namespace sluice {

// The hidden int32 column the route step adds: the index of each row's route
// in RouteNames(). Never reaches an output.
inline constexpr const char* kRouteColumn = "\x01route";
// The route of rows that no condition matched.
inline constexpr const char* kOtherRoute = "other";

// The routes a route step defines, in order, `other` last.
Result<std::vector<std::string>> RouteNames(const StepSpec& spec);

}  // namespace sluice
