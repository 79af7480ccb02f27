#include "expr/like.h"

#include <algorithm>
#include <cctype>

namespace sluice::expr {
namespace {

char Fold(char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); }

// Length in bytes of the UTF-8 character starting at s[i] (1 for bytes that
// do not start a well-formed sequence).
size_t CharLen(std::string_view s, size_t i) {
  unsigned char c = static_cast<unsigned char>(s[i]);
  size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 1;
  return std::min(len, s.size() - i);
}

}  // namespace

Result<LikePattern> LikePattern::Compile(std::string_view pattern, bool ignore_case) {
  LikePattern p;
  p.ignore_case_ = ignore_case;
  for (size_t i = 0; i < pattern.size(); ++i) {
    char c = pattern[i];
    if (c == '\\') {
      if (i + 1 == pattern.size()) {
        return Status::InvalidArgument("LIKE pattern ends with an escape character '\\'");
      }
      c = pattern[++i];
    } else if (c == '%') {
      if (p.pieces_.empty() || p.pieces_.back().kind != Piece::kAny) {
        p.pieces_.push_back({Piece::kAny, ""});
      }
      continue;
    } else if (c == '_') {
      p.pieces_.push_back({Piece::kOne, ""});
      continue;
    }
    if (ignore_case) c = Fold(c);
    if (p.pieces_.empty() || p.pieces_.back().kind != Piece::kLiteral) {
      p.pieces_.push_back({Piece::kLiteral, ""});
    }
    p.pieces_.back().text += c;
  }
  auto kinds = [&](std::initializer_list<Piece::Kind> ks) {
    if (ks.size() != p.pieces_.size()) return false;
    size_t k = 0;
    for (auto kind : ks) {
      if (p.pieces_[k++].kind != kind) return false;
    }
    return true;
  };
  if (p.pieces_.empty()) {
    p.shape_ = Shape::kExact;
  } else if (kinds({Piece::kLiteral})) {
    p.shape_ = Shape::kExact;
    p.literal_ = p.pieces_[0].text;
  } else if (kinds({Piece::kLiteral, Piece::kAny})) {
    p.shape_ = Shape::kPrefix;
    p.literal_ = p.pieces_[0].text;
  } else if (kinds({Piece::kAny, Piece::kLiteral})) {
    p.shape_ = Shape::kSuffix;
    p.literal_ = p.pieces_[1].text;
  } else if (kinds({Piece::kAny, Piece::kLiteral, Piece::kAny})) {
    p.shape_ = Shape::kContains;
    p.literal_ = p.pieces_[1].text;
  } else if (kinds({Piece::kAny})) {
    p.shape_ = Shape::kContains;  // "%" matches everything, like contains ""
  }
  return p;
}

bool LikePattern::Matches(std::string_view s, std::string* scratch) const {
  if (ignore_case_) {
    scratch->assign(s.data(), s.size());
    for (char& c : *scratch) c = Fold(c);
    s = *scratch;
  }
  switch (shape_) {
    case Shape::kExact:
      return s == literal_;
    case Shape::kPrefix:
      return s.substr(0, literal_.size()) == literal_;
    case Shape::kSuffix:
      return s.size() >= literal_.size() && s.substr(s.size() - literal_.size()) == literal_;
    case Shape::kContains:
      return s.find(literal_) != std::string_view::npos;
    case Shape::kGeneral:
      return MatchGeneral(s);
  }
  return false;
}

bool LikePattern::MatchGeneral(std::string_view s) const {
  // Iterative matching with backtracking to the last `%` (linear in practice,
  // at worst |s| x |pattern|; never exponential).
  size_t pi = 0, si = 0;
  size_t star_pi = std::string::npos, star_si = 0;
  const size_t np = pieces_.size();
  while (true) {
    if (pi < np) {
      const Piece& p = pieces_[pi];
      if (p.kind == Piece::kAny) {
        star_pi = pi++;
        star_si = si;
        continue;
      }
      if (p.kind == Piece::kOne && si < s.size()) {
        si += CharLen(s, si);
        ++pi;
        continue;
      }
      if (p.kind == Piece::kLiteral && s.substr(si, p.text.size()) == p.text) {
        si += p.text.size();
        ++pi;
        continue;
      }
    } else if (si == s.size()) {
      return true;
    }
    // Mismatch: let the last `%` swallow one more character.
    if (star_pi == std::string::npos || star_si >= s.size()) return false;
    star_si += CharLen(s, star_si);
    si = star_si;
    pi = star_pi + 1;
  }
}

}  // namespace sluice::expr
