#include "store/internal/rename_no_replace.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

namespace sluice::internal {

namespace {

int LinkThenUnlink(const std::string& from, const std::string& to) {
  if (::link(from.c_str(), to.c_str()) != 0) return errno;
  if (::unlink(from.c_str()) != 0) {
    const int err = errno;
    // Both names now hold the object; taking the new one back keeps the move
    // all-or-nothing for the caller, who sees the unlink's error.
    ::unlink(to.c_str());
    return err;
  }
  return 0;
}

}  // namespace

int RenameNoReplace(const std::string& from, const std::string& to, NoReplaceMethod method) {
#if defined(RENAME_NOREPLACE)
  if (method == NoReplaceMethod::kRenameat2) {
    if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0) return 0;
    const int err = errno;
    if (err != EINVAL && err != ENOSYS) return err;
  }
#endif
  (void)method;
  return LinkThenUnlink(from, to);
}

}  // namespace sluice::internal
