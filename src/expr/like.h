// LIKE / ILIKE patterns: `%` matches any run of characters, `_` exactly one
// (one byte of ASCII, one UTF-8 character otherwise), `\` escapes the next
// character. ILIKE folds ASCII letters. A pattern is compiled once (when it
// is a constant) into literal segments, with fast paths for `abc`, `abc%`,
// `%abc` and `%abc%`.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace sluice::expr {

class LikePattern {
 public:
  static Result<LikePattern> Compile(std::string_view pattern, bool ignore_case);
  // `scratch` holds ILIKE's case-folded copy of s (reused by the caller).
  bool Matches(std::string_view s, std::string* scratch) const;

 private:
  enum class Shape { kExact, kPrefix, kSuffix, kContains, kGeneral };
  // One token of a general pattern.
  struct Piece {
    enum Kind { kLiteral, kOne, kAny } kind;
    std::string text;
  };
  bool MatchGeneral(std::string_view s) const;

  Shape shape_ = Shape::kGeneral;
  bool ignore_case_ = false;
  std::string literal_;  // for the fast shapes
  std::vector<Piece> pieces_;
};

}  // namespace sluice::expr
