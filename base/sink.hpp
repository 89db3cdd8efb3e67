#pragma once
// A body produced by one room and carried by another: the ledger writes an
// export, an analytics stream or a page into a byte_sink; the server owns the
// wire and decides how the chunks reach the socket (bounded, with
// back-pressure). Producers know nothing of HTTP; transports know nothing of
// the ledger.

#include <functional>
#include <string_view>

namespace vellum {

// Takes the next chunk of a body, in order (it may block for back-pressure).
// Returns false when the reader went away: the producer then stops and reports
// boost::system::errc::operation_canceled.
using byte_sink = std::function<bool(std::string_view chunk)>;

}  // namespace vellum
