// SHA-256 through OpenSSL's EVP digest interface.

#include "crypto/sha256.hpp"

#include <openssl/evp.h>

#include <cstdlib>

namespace vellum::crypto {
namespace {

struct md_ctx_deleter {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
using md_ctx_ptr = std::unique_ptr<EVP_MD_CTX, md_ctx_deleter>;

// A failure here means OpenSSL cannot allocate or its default provider is
// missing: nothing a caller could handle, so stop.
void check(int ok) {
  if (ok != 1) std::abort();
}

// SHA-256 fetched from the default provider once. EVP_sha256() makes
// OpenSSL 3 look the algorithm up again on every digest (a lock and a
// hash-table search), which cost more than hashing a short leaf.
const EVP_MD* sha256_md() {
  static EVP_MD* const md = [] {
    EVP_MD* m = EVP_MD_fetch(nullptr, "SHA2-256", nullptr);
    if (m == nullptr) std::abort();
    return m;
  }();
  return md;
}

md_ctx_ptr new_context() {
  md_ctx_ptr ctx(EVP_MD_CTX_new());
  if (!ctx) std::abort();
  check(EVP_DigestInit_ex(ctx.get(), sha256_md(), nullptr));
  return ctx;
}

}  // namespace

struct sha256_hasher::impl {
  md_ctx_ptr ctx = new_context();
};

sha256_hasher::sha256_hasher() : impl_(std::make_unique<impl>()) {}
sha256_hasher::~sha256_hasher() = default;
sha256_hasher::sha256_hasher(sha256_hasher&&) noexcept = default;
sha256_hasher& sha256_hasher::operator=(sha256_hasher&&) noexcept = default;

void sha256_hasher::update(byte_view data) {
  if (!data.empty()) check(EVP_DigestUpdate(impl_->ctx.get(), data.data(), data.size()));
}

void sha256_hasher::update(std::string_view data) {
  if (!data.empty()) check(EVP_DigestUpdate(impl_->ctx.get(), data.data(), data.size()));
}

hash sha256_hasher::finish() {
  hash out{};
  unsigned int len = 0;
  check(EVP_DigestFinal_ex(impl_->ctx.get(), out.data(), &len));
  if (len != out.size()) std::abort();
  check(EVP_DigestInit_ex(impl_->ctx.get(), sha256_md(), nullptr));
  return out;
}

hash sha256(byte_view data) {
  hash out{};
  unsigned int len = 0;
  check(EVP_Digest(data.data(), data.size(), out.data(), &len, sha256_md(), nullptr));
  if (len != out.size()) std::abort();
  return out;
}

hash sha256(std::string_view data) {
  return sha256(byte_view(reinterpret_cast<const std::uint8_t*>(data.data()), data.size()));
}

}  // namespace vellum::crypto
