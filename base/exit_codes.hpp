#pragma once
// The exit statuses of all three programs (vellumd, vellum, vellum-verify),
// one table so scripts can tell the cases apart (docs/cli.md, "Exit codes").

namespace vellum::exit_code {

inline constexpr int ok = 0;           // done; verified
inline constexpr int failed = 1;       // verification failed, an event refused, an fsck finding
inline constexpr int usage = 2;        // bad arguments or configuration, unreadable input
inline constexpr int not_found = 3;    // the file, stream, event or checkpoint asked for does not exist
inline constexpr int unavailable = 4;  // the server is unreachable, or refused the credentials

}  // namespace vellum::exit_code
