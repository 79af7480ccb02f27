// Text <-> value conversions shared by decoders, inference, sinks and the CLI.
//
// Parsers are strict (the whole input must be consumed, no surrounding spaces
// unless stated) and never allocate. They return false on a malformed or
// out-of-range value; callers turn that into a bad-record reason.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/types.h"

namespace sluice {

bool ParseBool(std::string_view s, bool* out);  // true/false/t/f/yes/no/y/n/1/0, any case
bool ParseInt32(std::string_view s, int32_t* out);
bool ParseInt64(std::string_view s, int64_t* out);
bool ParseFloat64(std::string_view s, double* out);  // also nan, inf, -inf
// "12.5", "-0.07", "3" into an unscaled int64 with `scale` digits; fails if the
// value needs more than `precision` digits or more than `scale` fraction digits
// that are not zero.
bool ParseDecimal(std::string_view s, int precision, int scale, int64_t* out);
// YYYY-MM-DD
bool ParseDate(std::string_view s, int32_t* days);
// ISO-8601 and common variants: "YYYY-MM-DD", "YYYY-MM-DD HH:MM[:SS[.ffffff]]",
// 'T' or ' ' separator, optional "Z" or "+HH[:MM]"/"-HH[:MM]" offset
// (converted to UTC). Microsecond precision; extra fraction digits are truncated.
bool ParseTimestamp(std::string_view s, int64_t* micros);

// `s` without leading and trailing blanks (spaces and tabs).
std::string_view TrimBlanks(std::string_view s);
// ASCII case-insensitive equality (names in headers, keywords).
bool EqualsIgnoreCase(std::string_view a, std::string_view b);
// The length of the valid UTF-8 sequence at s[i], or 0 when the bytes there
// are not one (a stray continuation byte, overlong forms, surrogates, values
// past U+10FFFF, a sequence cut short).
size_t Utf8SequenceAt(std::string_view s, size_t i);
// `s` with A-Z lowered (other bytes unchanged): the key EqualsIgnoreCase
// compares by, for maps of names.
std::string AsciiLower(std::string_view s);

// `name` as it may appear in a message or log line: control bytes (NUL
// included) and bytes that are not valid UTF-8 as \n, \t, \r or \xNN, and
// a name longer than 200 bytes cut to its first 200 with "...".
std::string EscapeName(std::string_view name);

// The name in `known` nearest to `name` by edit distance (a small typo or an
// abbreviation), or "" if none is close. For "did you mean" hints.
std::string ClosestName(std::string_view name, const std::vector<std::string>& known);

// 10^n for n in 0..18 (every scale and precision a decimal can have).
int64_t Pow10(int n);

std::string FormatDecimal(int64_t unscaled, int scale);
std::string FormatDate(int32_t days);         // YYYY-MM-DD
std::string FormatTimestamp(int64_t micros);  // YYYY-MM-DDTHH:MM:SS[.ffffff]Z
// Days since epoch <-> civil date (proleptic Gregorian).
int32_t DaysFromCivil(int y, unsigned m, unsigned d);
void CivilFromDays(int32_t days, int* y, unsigned* m, unsigned* d);

}  // namespace sluice
