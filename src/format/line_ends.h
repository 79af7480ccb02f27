// CSV files whose lines end in a lone CR (classic Mac OS, some exports).
//
// The CSV reader ends records at LF (with or without a CR before it). A file
// whose first line break outside quotes is a CR not followed by LF would read
// as one long header line; WithLfLineEnds looks at the start of the stream
// (up to 1 MiB, until its first line break) and, for such a file, replaces
// every CR with LF byte for byte, so offsets, sizes and record boundaries
// stay where they were. A quoted line break in such a file is a CR too and
// reads as LF, like every line break of the file. Other inputs pass through.
#pragma once

#include <memory>

#include "core/io.h"

namespace sluice {

std::unique_ptr<InputStream> WithLfLineEnds(std::unique_ptr<InputStream> in, char quote);
// The same over a stream the caller keeps (it must outlive the result).
std::unique_ptr<InputStream> WithLfLineEnds(InputStream* in, char quote);

}  // namespace sluice
