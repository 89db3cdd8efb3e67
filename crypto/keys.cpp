// Ed25519 and P-256 keys on OpenSSL 3 EVP_PKEY.
//
// Every OpenSSL object is owned by a unique_ptr; every call is checked; on
// failure the OpenSSL error queue is cleared so a later, unrelated call never
// sees a stale error. Keys are imported through the provider interfaces only
// (EVP_PKEY_new_raw_*_key, EVP_PKEY_fromdata, PEM decoders).

#include "crypto/keys.hpp"

#include "crypto/encoding.hpp"
#include "crypto/ijson.hpp"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <filesystem>

namespace vellum::crypto {

namespace {

template <auto Free>
struct deleter {
  template <class T>
  void operator()(T* p) const {
    Free(p);
  }
};
using pkey_ptr = std::unique_ptr<EVP_PKEY, deleter<EVP_PKEY_free>>;
using pkey_ctx_ptr = std::unique_ptr<EVP_PKEY_CTX, deleter<EVP_PKEY_CTX_free>>;
using md_ctx_ptr = std::unique_ptr<EVP_MD_CTX, deleter<EVP_MD_CTX_free>>;
using bio_ptr = std::unique_ptr<BIO, deleter<BIO_free>>;
using bn_ptr = std::unique_ptr<BIGNUM, deleter<BN_free>>;
using ecdsa_sig_ptr = std::unique_ptr<ECDSA_SIG, deleter<ECDSA_SIG_free>>;
using param_bld_ptr = std::unique_ptr<OSSL_PARAM_BLD, deleter<OSSL_PARAM_BLD_free>>;
using params_ptr = std::unique_ptr<OSSL_PARAM, deleter<OSSL_PARAM_free>>;

constexpr std::size_t ed25519_key_size = 32;
constexpr std::size_t p256_coordinate_size = 32;
constexpr std::size_t raw_signature_size = 64;
constexpr const char* p256_group = "prime256v1";

// Returns e after dropping whatever OpenSSL queued while failing.
boost::system::error_code fail(errc e) {
  ERR_clear_error();
  return make_error_code(e);
}

// OpenSSL failing where no input can be blamed (allocation, missing
// provider) in a function that cannot report errors: stop.
[[noreturn]] void die() { std::abort(); }

// OpenSSL wants a non-null pointer even for empty messages.
const unsigned char* data_or_empty(byte_view b) {
  static const unsigned char empty = 0;
  return b.empty() ? &empty : b.data();
}

// Classifies a key OpenSSL decoded: Ed25519, P-256, or unsupported.
result<key_type> classify(const EVP_PKEY* pkey) {
  if (EVP_PKEY_is_a(pkey, "ED25519")) return key_type::ed25519;
  if (EVP_PKEY_is_a(pkey, "EC")) {
    std::array<char, 64> group{};
    std::size_t len = 0;
    if (EVP_PKEY_get_group_name(pkey, group.data(), group.size(), &len) != 1) {
      return fail(errc::unsupported_key);
    }
    const std::string_view name(group.data(), len);
    if (name == p256_group || name == "P-256") return key_type::p256;
  }
  return fail(errc::unsupported_key);
}

// EVP_PKEY_public_check: the point is on the curve and not the identity.
result<void> check_public_point(EVP_PKEY* pkey) {
  pkey_ctx_ptr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey, nullptr));
  if (!ctx) return fail(errc::internal);
  if (EVP_PKEY_public_check(ctx.get()) != 1) return fail(errc::malformed_key);
  return {};
}

// A P-256 public key from its uncompressed point 0x04 || x || y.
result<pkey_ptr> p256_from_point(const bytes& point) {
  pkey_ctx_ptr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
  if (!ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1) return fail(errc::internal);
  std::array<OSSL_PARAM, 3> params{
      OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, const_cast<char*>(p256_group),
                                       0),
      OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY,
                                        const_cast<std::uint8_t*>(point.data()), point.size()),
      OSSL_PARAM_construct_end()};
  EVP_PKEY* raw = nullptr;
  if (EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.data()) != 1) {
    return fail(errc::malformed_key);
  }
  pkey_ptr pkey(raw);
  if (auto ok = check_public_point(pkey.get()); !ok) return ok.error();
  return pkey;
}

result<pkey_ptr> ed25519_from_raw(byte_view raw) {
  if (raw.size() != ed25519_key_size) return fail(errc::malformed_key);
  pkey_ptr pkey(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, raw.data(), raw.size()));
  if (!pkey) return fail(errc::malformed_key);
  return pkey;
}

// x and y of a P-256 key, each left-padded to 32 bytes.
bytes p256_point(const EVP_PKEY* pkey) {
  BIGNUM* x_raw = nullptr;
  BIGNUM* y_raw = nullptr;
  const bool got_x = EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_X, &x_raw) == 1;
  bn_ptr x(x_raw);
  const bool got_y = EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_Y, &y_raw) == 1;
  bn_ptr y(y_raw);
  if (!got_x || !got_y) die();
  bytes point(1 + 2 * p256_coordinate_size);
  point[0] = 0x04;
  if (BN_bn2binpad(x.get(), point.data() + 1, p256_coordinate_size) < 0 ||
      BN_bn2binpad(y.get(), point.data() + 1 + p256_coordinate_size, p256_coordinate_size) < 0) {
    die();
  }
  return point;
}

bytes ed25519_raw(const EVP_PKEY* pkey) {
  bytes out(ed25519_key_size);
  std::size_t len = out.size();
  if (EVP_PKEY_get_raw_public_key(pkey, out.data(), &len) != 1 || len != out.size()) die();
  return out;
}

std::string bio_contents(BIO* bio) {
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio, &data);
  if (len <= 0 || data == nullptr) die();
  return std::string(data, static_cast<std::size_t>(len));
}

// Trims surrounding whitespace and requires exactly one PEM block with the
// given label; returns the trimmed text.
result<std::string_view> single_pem_block(std::string_view pem, std::string_view label) {
  const auto first = pem.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return fail(errc::malformed_key);
  pem = pem.substr(first, pem.find_last_not_of(" \t\r\n") - first + 1);
  const std::string begin = "-----BEGIN " + std::string(label) + "-----";
  const std::string end = "-----END " + std::string(label) + "-----";
  if (!pem.starts_with(begin) || !pem.ends_with(end)) return fail(errc::malformed_key);
  if (pem.find("-----BEGIN", begin.size()) != std::string_view::npos) {
    return fail(errc::malformed_key);
  }
  return pem;
}

bio_ptr memory_bio(std::string_view text) {
  if (text.size() > INT_MAX) return nullptr;
  return bio_ptr(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
}

// Never prompt for a pass phrase: encrypted private keys are refused.
int no_passphrase(char*, int, int, void*) { return -1; }

// A JWK member that must be a string; nullptr if absent or not a string.
const boost::json::string* jwk_string(const boost::json::object& jwk, std::string_view name) {
  const auto* v = jwk.if_contains(name);
  return v ? v->if_string() : nullptr;
}

// A base64url JWK member decoding to exactly n bytes.
result<bytes> jwk_bytes(const boost::json::object& jwk, std::string_view name, std::size_t n) {
  const auto* s = jwk_string(jwk, name);
  if (!s) return fail(errc::malformed_key);
  auto decoded = base64url_decode(std::string_view(*s));
  if (!decoded || decoded->size() != n) return fail(errc::malformed_key);
  return decoded;
}

enum class jwk_kind { okp_ed25519, ec_p256 };

// Checks kty/crv: malformed_key when missing or not strings, unsupported_key
// for other key types or curves.
result<jwk_kind> jwk_kind_of(const boost::json::object& jwk) {
  const auto* kty = jwk_string(jwk, "kty");
  const auto* crv = jwk_string(jwk, "crv");
  if (!kty) return fail(errc::malformed_key);
  if (*kty != "OKP" && *kty != "EC") return fail(errc::unsupported_key);
  if (!crv) return fail(errc::malformed_key);
  if (*kty == "OKP" && *crv == "Ed25519") return jwk_kind::okp_ed25519;
  if (*kty == "EC" && *crv == "P-256") return jwk_kind::ec_p256;
  return fail(errc::unsupported_key);
}

// The uncompressed point 0x04 || x || y from a P-256 JWK.
result<bytes> jwk_p256_point(const boost::json::object& jwk) {
  auto x = jwk_bytes(jwk, "x", p256_coordinate_size);
  if (!x) return x.error();
  auto y = jwk_bytes(jwk, "y", p256_coordinate_size);
  if (!y) return y.error();
  bytes point;
  point.reserve(1 + 2 * p256_coordinate_size);
  point.push_back(0x04);
  point.insert(point.end(), x->begin(), x->end());
  point.insert(point.end(), y->begin(), y->end());
  return point;
}

// raw r||s (64 bytes) -> DER ECDSA-Sig-Value.
result<bytes> raw_to_der(byte_view sig) {
  ecdsa_sig_ptr esig(ECDSA_SIG_new());
  if (!esig) return fail(errc::internal);
  bn_ptr r(BN_bin2bn(sig.data(), p256_coordinate_size, nullptr));
  bn_ptr s(BN_bin2bn(sig.data() + p256_coordinate_size, p256_coordinate_size, nullptr));
  if (!r || !s) return fail(errc::internal);
  if (ECDSA_SIG_set0(esig.get(), r.get(), s.get()) != 1) return fail(errc::internal);
  r.release();  // now owned by esig
  s.release();
  unsigned char* der = nullptr;
  const int len = i2d_ECDSA_SIG(esig.get(), &der);
  if (len <= 0 || der == nullptr) return fail(errc::internal);
  bytes out(der, der + len);
  OPENSSL_free(der);
  return out;
}

// DER ECDSA-Sig-Value -> raw r||s, each left-padded to 32 bytes.
result<bytes> der_to_raw(const bytes& der) {
  const unsigned char* p = der.data();
  ecdsa_sig_ptr esig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size())));
  if (!esig) return fail(errc::internal);
  const BIGNUM* r = nullptr;
  const BIGNUM* s = nullptr;
  ECDSA_SIG_get0(esig.get(), &r, &s);
  bytes out(raw_signature_size);
  if (BN_bn2binpad(r, out.data(), p256_coordinate_size) < 0 ||
      BN_bn2binpad(s, out.data() + p256_coordinate_size, p256_coordinate_size) < 0) {
    return fail(errc::internal);
  }
  return out;
}

}  // namespace

std::string_view to_string(key_type t) {
  switch (t) {
    case key_type::ed25519: return "Ed25519";
    case key_type::p256: return "P-256";
  }
  return "unknown";
}

// ---------------------------------------------------------------------------
// public_key

struct public_key::impl {
  pkey_ptr pkey;
};

result<public_key> public_key::from_pem(std::string_view pem) {
  auto block = single_pem_block(pem, "PUBLIC KEY");
  if (!block) return block.error();
  bio_ptr bio = memory_bio(*block);
  if (!bio) return fail(errc::malformed_key);
  pkey_ptr pkey(PEM_read_bio_PUBKEY(bio.get(), nullptr, no_passphrase, nullptr));
  if (!pkey) return fail(errc::malformed_key);
  auto type = classify(pkey.get());
  if (!type) return type.error();
  if (*type == key_type::p256) {
    if (auto ok = check_public_point(pkey.get()); !ok) return ok.error();
  }
  return public_key(std::make_shared<const impl>(impl{std::move(pkey)}), *type);
}

result<public_key> public_key::from_jwk(const boost::json::object& jwk) {
  if (jwk.contains("d")) return fail(errc::malformed_key);  // private key material
  auto kind = jwk_kind_of(jwk);
  if (!kind) return kind.error();
  if (*kind == jwk_kind::okp_ed25519) {
    auto x = jwk_bytes(jwk, "x", ed25519_key_size);
    if (!x) return x.error();
    return from_ed25519_raw(*x);
  }
  auto point = jwk_p256_point(jwk);
  if (!point) return point.error();
  auto pkey = p256_from_point(*point);
  if (!pkey) return pkey.error();
  return public_key(std::make_shared<const impl>(impl{std::move(*pkey)}), key_type::p256);
}

result<public_key> public_key::from_jwk_text(std::string_view json) {
  auto value = parse_ijson(json);
  if (!value || !value->is_object()) return fail(errc::malformed_key);
  return from_jwk(value->get_object());
}

result<public_key> public_key::from_ed25519_raw(byte_view raw) {
  auto pkey = ed25519_from_raw(raw);
  if (!pkey) return pkey.error();
  return public_key(std::make_shared<const impl>(impl{std::move(*pkey)}), key_type::ed25519);
}

std::string public_key::to_pem() const {
  bio_ptr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PUBKEY(bio.get(), impl_->pkey.get()) != 1) die();
  return bio_contents(bio.get());
}

boost::json::object public_key::to_jwk() const {
  boost::json::object jwk;
  if (type_ == key_type::ed25519) {
    jwk["kty"] = "OKP";
    jwk["crv"] = "Ed25519";
    jwk["x"] = base64url_encode(ed25519_raw(impl_->pkey.get()));
  } else {
    const bytes point = p256_point(impl_->pkey.get());
    const byte_view coords(point);
    jwk["kty"] = "EC";
    jwk["crv"] = "P-256";
    jwk["x"] = base64url_encode(coords.subspan(1, p256_coordinate_size));
    jwk["y"] = base64url_encode(coords.subspan(1 + p256_coordinate_size));
  }
  return jwk;
}

bytes public_key::raw() const {
  return type_ == key_type::ed25519 ? ed25519_raw(impl_->pkey.get())
                                    : p256_point(impl_->pkey.get());
}

result<void> public_key::verify(byte_view msg, byte_view sig) const {
  if (sig.size() != raw_signature_size) return fail(errc::bad_signature);
  bytes der;
  byte_view to_check = sig;
  const EVP_MD* md = nullptr;
  if (type_ == key_type::p256) {
    auto converted = raw_to_der(sig);
    if (!converted) return converted.error();
    der = std::move(*converted);
    to_check = der;
    md = EVP_sha256();
  }
  md_ctx_ptr ctx(EVP_MD_CTX_new());
  if (!ctx) return fail(errc::internal);
  if (EVP_DigestVerifyInit(ctx.get(), nullptr, md, nullptr, impl_->pkey.get()) != 1) {
    return fail(errc::internal);
  }
  if (EVP_DigestVerify(ctx.get(), to_check.data(), to_check.size(), data_or_empty(msg),
                       msg.size()) != 1) {
    return fail(errc::bad_signature);
  }
  return {};
}

namespace {

// The public half of a private EVP_PKEY, as a key of its own (so a
// public_key never carries private material).
result<pkey_ptr> public_half(const EVP_PKEY* pkey, key_type t) {
  if (t == key_type::ed25519) return ed25519_from_raw(ed25519_raw(pkey));
  return p256_from_point(p256_point(pkey));
}

}  // namespace

// ---------------------------------------------------------------------------
// private_key

struct private_key::impl {
  pkey_ptr pkey;
};

namespace {

// A decoded private key, checked, with its public half split off.
struct key_parts {
  pkey_ptr priv;
  pkey_ptr pub;
  key_type type;
};

result<key_parts> split_private(pkey_ptr priv) {
  auto type = classify(priv.get());
  if (!type) return type.error();
  if (*type == key_type::p256) {
    // Full check: scalar in range, point on the curve, and d·G == (x, y).
    pkey_ctx_ptr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, priv.get(), nullptr));
    if (!ctx) return fail(errc::internal);
    if (EVP_PKEY_check(ctx.get()) != 1) return fail(errc::malformed_key);
  }
  auto pub = public_half(priv.get(), *type);
  if (!pub) return pub.error();
  return key_parts{std::move(priv), std::move(*pub), *type};
}

// The P-256 key pair of a JWK with "d", "x" and "y".
result<pkey_ptr> p256_private_from_jwk(const boost::json::object& jwk) {
  auto d = jwk_bytes(jwk, "d", p256_coordinate_size);
  if (!d) return d.error();
  auto point = jwk_p256_point(jwk);
  if (!point) return point.error();
  bn_ptr priv(BN_bin2bn(d->data(), static_cast<int>(d->size()), nullptr));
  param_bld_ptr bld(OSSL_PARAM_BLD_new());
  if (!priv || !bld) return fail(errc::internal);
  if (OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, p256_group, 0) != 1 ||
      OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point->data(),
                                       point->size()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_PRIV_KEY, priv.get()) != 1) {
    return fail(errc::internal);
  }
  params_ptr params(OSSL_PARAM_BLD_to_param(bld.get()));
  pkey_ctx_ptr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1) return fail(errc::internal);
  EVP_PKEY* raw = nullptr;
  if (EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_KEYPAIR, params.get()) != 1) {
    return fail(errc::malformed_key);
  }
  return pkey_ptr(raw);
}

}  // namespace

namespace {

std::shared_ptr<const public_key::impl> share_public(pkey_ptr pkey) {
  return std::make_shared<const public_key::impl>(public_key::impl{std::move(pkey)});
}

std::shared_ptr<const private_key::impl> share_private(pkey_ptr pkey) {
  return std::make_shared<const private_key::impl>(private_key::impl{std::move(pkey)});
}

}  // namespace

result<private_key> private_key::generate(key_type t) {
  pkey_ptr generated(t == key_type::ed25519 ? EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519")
                                            : EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  if (!generated) return fail(errc::internal);
  auto parts = split_private(std::move(generated));
  if (!parts) return parts.error();
  return private_key(share_private(std::move(parts->priv)), parts->type,
                     crypto::public_key(share_public(std::move(parts->pub)), parts->type));
}

result<private_key> private_key::from_pem(std::string_view pem) {
  auto block = single_pem_block(pem, "PRIVATE KEY");
  if (!block) return block.error();
  bio_ptr bio = memory_bio(*block);
  if (!bio) return fail(errc::malformed_key);
  pkey_ptr decoded(PEM_read_bio_PrivateKey(bio.get(), nullptr, no_passphrase, nullptr));
  if (!decoded) return fail(errc::malformed_key);
  auto parts = split_private(std::move(decoded));
  if (!parts) return parts.error();
  return private_key(share_private(std::move(parts->priv)), parts->type,
                     crypto::public_key(share_public(std::move(parts->pub)), parts->type));
}

result<private_key> private_key::from_ed25519_seed(byte_view seed32) {
  if (seed32.size() != ed25519_key_size) return fail(errc::malformed_key);
  pkey_ptr seeded(
      EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, seed32.data(), seed32.size()));
  if (!seeded) return fail(errc::malformed_key);
  auto parts = split_private(std::move(seeded));
  if (!parts) return parts.error();
  return private_key(share_private(std::move(parts->priv)), parts->type,
                     crypto::public_key(share_public(std::move(parts->pub)), parts->type));
}

result<private_key> private_key::from_jwk(const boost::json::object& jwk) {
  auto kind = jwk_kind_of(jwk);
  if (!kind) return kind.error();
  if (*kind == jwk_kind::okp_ed25519) {
    auto d = jwk_bytes(jwk, "d", ed25519_key_size);
    auto x = jwk_bytes(jwk, "x", ed25519_key_size);
    if (!d || !x) return fail(errc::malformed_key);
    auto key = from_ed25519_seed(*d);
    if (!key) return key.error();
    // "x" must be the public key that belongs to "d".
    if (key->public_key().raw() != *x) return fail(errc::malformed_key);
    return key;
  }
  auto pair = p256_private_from_jwk(jwk);
  if (!pair) return pair.error();
  auto parts = split_private(std::move(*pair));  // EVP_PKEY_check: d and (x, y) match
  if (!parts) return parts.error();
  return private_key(share_private(std::move(parts->priv)), parts->type,
                     crypto::public_key(share_public(std::move(parts->pub)), parts->type));
}

std::string private_key::to_pem() const {
  bio_ptr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PrivateKey(bio.get(), impl_->pkey.get(), nullptr, nullptr, 0, nullptr,
                                       nullptr) != 1) {
    die();
  }
  return bio_contents(bio.get());
}

result<bytes> private_key::sign(byte_view msg) const {
  md_ctx_ptr ctx(EVP_MD_CTX_new());
  if (!ctx) return fail(errc::internal);
  const EVP_MD* md = type_ == key_type::p256 ? EVP_sha256() : nullptr;
  if (EVP_DigestSignInit(ctx.get(), nullptr, md, nullptr, impl_->pkey.get()) != 1) {
    return fail(errc::internal);
  }
  // First call asks for the maximum length (a DER signature for P-256).
  std::size_t len = 0;
  if (EVP_DigestSign(ctx.get(), nullptr, &len, data_or_empty(msg), msg.size()) != 1) {
    return fail(errc::internal);
  }
  bytes sig(len);
  if (EVP_DigestSign(ctx.get(), sig.data(), &len, data_or_empty(msg), msg.size()) != 1) {
    return fail(errc::internal);
  }
  sig.resize(len);
  if (type_ == key_type::p256) return der_to_raw(sig);
  if (sig.size() != raw_signature_size) return fail(errc::internal);
  return sig;
}

// ---------------------------------------------------------------------------
// Secrets

bool equal_constant_time(byte_view a, byte_view b) {
  if (a.size() != b.size()) return false;  // lengths are not secret
  if (a.empty()) return true;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

bytes random_bytes(std::size_t n) {
  bytes out(n);
  std::size_t done = 0;
  while (done < n) {
    const int chunk = static_cast<int>(std::min<std::size_t>(n - done, INT_MAX));
    if (RAND_bytes(out.data() + done, chunk) != 1) std::abort();
    done += static_cast<std::size_t>(chunk);
  }
  return out;
}

}  // namespace vellum::crypto
