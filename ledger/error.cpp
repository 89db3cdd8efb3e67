// The ledger module's error category and its default clock.

#include "ledger/ledger.hpp"

#include <chrono>
#include <string>

namespace vellum::ledger {
namespace {

// boost::system::error_category has a protected non-virtual destructor by
// design; the instance is never destroyed, so codes stay valid at exit.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnon-virtual-dtor"
class category final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "vellum.ledger"; }

  std::string message(int ev) const override { return describe(ev); }

  char const* message(int ev, char* /*buffer*/, std::size_t /*len*/) const noexcept override {
    return describe(ev);
  }

 private:
  static const char* describe(int ev) noexcept {
    switch (static_cast<errc>(ev)) {
      case errc::ok: return "success";
      case errc::not_found: return "not found";
      case errc::revision_conflict: return "expected revision does not match the stream";
      case errc::event_id_conflict: return "event id already used by a different statement";
      case errc::storage_full: return "storage is full; nothing was written";
      case errc::io_error: return "storage input/output failed";
      case errc::corrupt: return "stored data is corrupt";
      case errc::invalid_argument: return "invalid argument";
      case errc::overloaded: return "sequencer queue is full";
      case errc::shutting_down: return "sequencer is shutting down";
      case errc::key_error: return "log key file is unreadable or malformed";
      case errc::reference_not_found: return "the corrected event is not an event of this stream";
    }
    return "unknown ledger error";
  }
};
#pragma GCC diagnostic pop

}  // namespace

const boost::system::error_category& ledger_category() noexcept {
  static const category* const instance = new category();
  return *instance;
}

std::uint64_t system_clock_us() {
  using namespace std::chrono;
  const auto now = duration_cast<microseconds>(system_clock::now().time_since_epoch()).count();
  return now < 0 ? 0 : static_cast<std::uint64_t>(now);
}

}  // namespace vellum::ledger
