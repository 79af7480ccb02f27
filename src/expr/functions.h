// The scalar function library, one file per family. Each family adds its
// FunctionDefs to the registry (functions.cc); the registry is built once
// and looked up by lower-case name.
//
// Writing a function: a BindFn checks/casts the arguments (FunctionBinder)
// and returns the result type, possibly keeping compiled state (a regex, a
// format) in the call; a KernelFn loops over the selected rows with
// ForRows, reading args[k] (Vec accessors answer for constants too) and
// writing `out` (mutable_ints/floats/bools, or BeginStrings/PutString/
// EndStrings for strings). A row that cannot be computed calls
// ctx->Fail(row, call, "reason") and out->SetNull(row).
#pragma once

#include <vector>

#include "expr/expr.h"

namespace sluice::expr {

void AddStringFunctions(std::vector<FunctionDef>* out);    // functions_string.cc
void AddDateTimeFunctions(std::vector<FunctionDef>* out);  // functions_datetime.cc
void AddMathFunctions(std::vector<FunctionDef>* out);      // functions_math.cc
void AddHashFunctions(std::vector<FunctionDef>* out);      // functions_hash.cc

// Bind helpers shared by the families.
// Every argument must be (or convert implicitly to) `type`.
Status ArgsAre(FunctionBinder& b, const DataType& type);
// Argument i must be a string (a NULL literal is accepted).
Status ArgIsString(FunctionBinder& b, size_t i);
// Argument i must be an integer; it is converted to int64.
Status ArgIsInteger(FunctionBinder& b, size_t i);

}  // namespace sluice::expr
