#include "expr/functions.h"

namespace sluice::expr {

void AddHashFunctions(std::vector<FunctionDef>* /*out*/) {}

}  // namespace sluice::expr
