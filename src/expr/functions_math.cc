#include "expr/functions.h"

namespace sluice::expr {

void AddMathFunctions(std::vector<FunctionDef>* /*out*/) {}

}  // namespace sluice::expr
