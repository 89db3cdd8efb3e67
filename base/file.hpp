#pragma once
// Whole-file reads and crash-safe writes, in one place for every binary. Errors
// carry the errno as a generic-category code (no_such_file_or_directory,
// permission_denied, …) and a reason that names the path, e.g.
// "cannot read /etc/vellum.json: No such file or directory".

#include "base/status.hpp"

#include <string>
#include <string_view>

namespace vellum {

// The bytes of a file.
[[nodiscard]] result<std::string> read_file(const std::string& path);

// Writes `data` to `path` atomically and durably: a temporary file beside it
// (created 0600, so a private key is never readable by others, even while it
// is written), fsync, chmod `mode`, rename over `path`, fsync of the directory.
// On failure `path` is unchanged and no temporary file is left.
[[nodiscard]] result<void> write_file_atomic(const std::string& path, std::string_view data,
                                             unsigned mode);

// fsync of a directory, so that a rename or a new file in it survives a crash.
[[nodiscard]] result<void> fsync_directory(const std::string& dir);

}  // namespace vellum
