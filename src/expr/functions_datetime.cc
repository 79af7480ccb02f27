#include "expr/functions.h"

namespace sluice::expr {

void AddDateTimeFunctions(std::vector<FunctionDef>* /*out*/) {}

}  // namespace sluice::expr
