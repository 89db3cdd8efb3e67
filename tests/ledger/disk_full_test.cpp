// A disk that is really full: the data directory on a tiny tmpfs (needs root
// and mount(2); skipped with a message otherwise). Appends must fail with
// storage_full and write nothing, every acknowledged event must stay intact,
// and appending must work again once space is freed.

#include "ledger_test_util.hpp"

#include <boost/test/unit_test.hpp>

#include <sys/mount.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>


using namespace vellum::ledger;

namespace {

// A 6 MiB tmpfs mounted on a fresh directory, unmounted when done.
struct tiny_disk {
  vellum::test::temp_dir dir;
  bool mounted = false;
  tiny_disk() {
    if (::geteuid() != 0) return;
    mounted = ::mount("tmpfs", dir.str().c_str(), "tmpfs", 0, "size=6m") == 0;
  }
  ~tiny_disk() {
    if (mounted) ::umount2(dir.str().c_str(), MNT_DETACH);
  }
  // A ledger on this disk, fsync on, whose map grows by itself until the
  // disk, not the map, is full.
  vellum::ledger::options ledger_options(const test::manual_clock& clock) const {
    vellum::ledger::options o = test::test_options(dir, clock);
    o.initial_map_size = std::size_t{1} << 20;
    o.sync = true;
    return o;
  }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(disk_full)

BOOST_AUTO_TEST_CASE(full_disk_refuses_with_storage_full_and_keeps_every_acknowledged_event) {
  tiny_disk disk;
  if (!disk.mounted) {
    BOOST_TEST_MESSAGE("skipped: needs root to mount a small tmpfs");
    return;
  }
  test::manual_clock clock;
  const options o = disk.ledger_options(clock);
  auto l = test::open_or_fail(o);
  test::statement_factory f;
  // Fill most of the disk with a file we can delete later, then append until refused.
  {
    std::ofstream filler(disk.dir.path() / "filler", std::ios::binary);
    const std::string mib(1 << 20, 'f');
    for (int i = 0; i < 3; ++i) filler << mib;
  }
  std::vector<receipt> acked;
  vellum::status refusal;
  for (int batch = 0; batch < 2000 && !refusal; ++batch) {
    std::vector<statement> b;
    for (int i = 0; i < 16; ++i) b.push_back(f.make("full-" + std::to_string(i % 4), expected_revision::any(), {}, 2000));
    auto out = l->append(b);
    for (auto& r : out) {
      if (r.error) refusal = r.error;
      else acked.push_back(r.rcpt);
    }
  }
  BOOST_TEST_REQUIRE(!!refusal, "the disk never filled up");
  BOOST_TEST(refusal == errc::storage_full, refusal.message());
  // Readiness says so, until a commit succeeds again.
  auto ready = l->ready_to_write(0);
  BOOST_TEST(!ready);
  if (!ready) {
    BOOST_TEST(ready.error() == errc::storage_full);
    BOOST_TEST(ready.error().message().find("the latest commit failed") != std::string::npos, ready.error().message());
  }
  BOOST_TEST_REQUIRE(!acked.empty());
  const std::uint64_t size_at_refusal = l->tree_size();
  BOOST_TEST(size_at_refusal == acked.size());  // nothing half-written

  // Space again: the same ledger appends, and everything verifies.
  std::filesystem::remove(disk.dir.path() / "filler");
  auto more = test::append_one(*l, f.make("full-0"));
  BOOST_TEST(more.seq == size_at_refusal);
  BOOST_TEST(l->ready_to_write(0).has_value());
  // ... and while the file system has less free than asked for (6 MiB disk).
  auto roomy = l->ready_to_write(std::uint64_t{64} << 20);
  BOOST_TEST(!roomy);
  if (!roomy) BOOST_TEST(roomy.error().message().find("KiB free") != std::string::npos, roomy.error().message());
  const std::string vkey = l->verifier_key();
  l.reset();
  auto report = fsck(o.data_dir);
  BOOST_TEST_REQUIRE(report.has_value());
  BOOST_TEST(report->ok(), (report->problems.empty() ? "" : report->problems.front().what));
  auto reopened = test::open_or_fail(o);
  for (std::size_t i = 0; i < acked.size(); i += 7) {
    auto e = reopened->event_by_seq(acked[i].seq);
    BOOST_TEST_REQUIRE(e.has_value());
    BOOST_TEST(e->record == acked[i].record);
  }
  test::verify_receipt(more, vkey);
}

BOOST_AUTO_TEST_CASE(a_failed_commit_fails_the_batch_prepared_on_it_and_nothing_is_half_written) {
  tiny_disk disk;
  if (!disk.mounted) {
    BOOST_TEST_MESSAGE("skipped: needs root to mount a small tmpfs");
    return;
  }
  test::manual_clock clock;
  const options o = disk.ledger_options(clock);
  auto l = test::open_or_fail(o);
  test::statement_factory f;
  const receipt kept = test::append_one(*l, f.make("pipe"));
  std::vector<statement> first, second;
  for (int i = 0; i < 64; ++i) first.push_back(f.make("pipe", expected_revision::any(), {}, 4000));
  second.push_back(f.make("pipe", expected_revision::exact(64)));  // needs the first batch
  auto a = l->prepare(first);
  auto b = l->prepare(second);
  // Now fill the disk to the last byte.
  {
    std::ofstream filler(disk.dir.path() / "filler", std::ios::binary);
    const std::string kib(1024, 'f');
    for (int i = 0; i < 8 * 1024 && filler.write(kib.data(), kib.size()); ++i) {
    }
  }
  auto out_a = l->commit(std::move(a));
  auto out_b = l->commit(std::move(b));
  BOOST_TEST_REQUIRE(out_a.size() == first.size());
  for (const auto& x : out_a) BOOST_TEST(x.error == errc::storage_full, x.error.message());
  BOOST_TEST(out_b.at(0).error == errc::storage_full, out_b.at(0).error.message());
  BOOST_TEST(l->tree_size() == 1u);

  // Space again: preparing starts from the store (seq 1, revision 1).
  std::filesystem::remove(disk.dir.path() / "filler");
  auto again = test::append_one(*l, f.make("pipe", expected_revision::exact(0)));
  BOOST_TEST(again.seq == 1u);
  BOOST_TEST(again.revision == 1u);
  const std::string vkey = l->verifier_key();
  l.reset();
  auto report = fsck(o.data_dir);
  BOOST_TEST_REQUIRE(report.has_value());
  BOOST_TEST(report->ok(), (report->problems.empty() ? "" : report->problems.front().what));
  test::verify_receipt(kept, vkey);
  test::verify_receipt(again, vkey);
}

BOOST_AUTO_TEST_SUITE_END()
