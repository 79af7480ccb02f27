// Moving a file without ever replacing another: the primitive under
// LocalObjectStore::Rename, apart so that tests can force each method.
#pragma once

#include <string>

namespace sluice::internal {

enum class NoReplaceMethod {
  // renameat2(RENAME_NOREPLACE); where the file system does not support it
  // (EINVAL, ENOSYS: some network and FUSE file systems), kLink.
  kRenameat2,
  // link() then unlink(): link() fails with EEXIST when the target exists.
  // A crash between the two leaves the file under both names (one inode).
  kLink,
};

// Moves `from` to `to` on one file system unless `to` exists, atomically: of
// two callers racing for one `to`, only one succeeds. Returns 0 or an errno:
// EEXIST (`to` exists; nothing changed), ENOENT (no `from`), EXDEV (different
// file systems), EPERM/EOPNOTSUPP from a file system with neither
// RENAME_NOREPLACE nor hard links (then nothing is moved: sluice never falls
// back to a rename that could replace).
int RenameNoReplace(const std::string& from, const std::string& to,
                    NoReplaceMethod method = NoReplaceMethod::kRenameat2);

}  // namespace sluice::internal
