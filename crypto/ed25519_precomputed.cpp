// Ed25519 verification with per-key tables. Arithmetic modulo p = 2^255 - 19
// in five 51-bit limbs (products in unsigned __int128); points on
// -x^2 + y^2 = 1 + d x^2 y^2 in extended coordinates (Hisil, Wong, Carter,
// Dawson 2008, "Twisted Edwards curves revisited"), whose addition formula is
// complete on this curve, so no special cases are needed.
//
// Every constant except the group order is derived at start-up from small
// integers (d = -121665/121666, sqrt(-1) = 2^((p-1)/4), B has y = 4/5 and even
// x), and the tests check the results against the encodings in RFC 8032.

#include "crypto/ed25519_precomputed.hpp"

#include <openssl/bn.h>
#include <openssl/evp.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

// Limb bounds (see "Field elements" below) are checked in debug builds and
// in the sanitizer and fuzz builds (VELLUM_CHECK_LIMBS); a broken bound
// aborts naming the function.
#if !defined(NDEBUG) || defined(VELLUM_CHECK_LIMBS)
#define VELLUM_LIMBS_BELOW(f, bits, where) check_limbs(f, bits, where)
#else
#define VELLUM_LIMBS_BELOW(f, bits, where) static_cast<void>(0)
#endif

namespace vellum::crypto {
namespace {

using u64 = std::uint64_t;
__extension__ using u128 = unsigned __int128;  // GCC and Clang on 64-bit targets
constexpr u64 mask51 = (u64{1} << 51) - 1;

// ---------------------------------------------------------------------------
// Field elements. Limbs of "reduced" values (results of mul/sq) are below
// 2^51 + 2^13. mul and sq accept limbs below 2^54 (their largest column then
// stays below 2^115 and carry_columns' c * 19 below 2^64); the largest input
// any formula below makes is dbl's f = 2Z^2 + (X^2 - Y^2), below 7 * 2^51.
// sub() needs a reduced subtrahend. Adding a term to a formula means
// checking these bounds again.

struct fe {
  u64 v[5];
};

constexpr fe fe_small(u64 n) { return fe{{n, 0, 0, 0, 0}}; }

[[maybe_unused]] inline void check_limbs(const fe& f, int bits, const char* where) {
  for (u64 limb : f.v) {
    if (limb >> bits) {
      std::fprintf(stderr, "ed25519_precomputed: %s: a limb is not below 2^%d\n", where, bits);
      std::abort();
    }
  }
}

inline fe add(const fe& a, const fe& b) {
  return fe{{a.v[0] + b.v[0], a.v[1] + b.v[1], a.v[2] + b.v[2], a.v[3] + b.v[3], a.v[4] + b.v[4]}};
}

// a - b + 4p, so no limb goes negative for b's limbs below 2^53.
inline fe sub(const fe& a, const fe& b) {
  VELLUM_LIMBS_BELOW(b, 53, "sub");
  constexpr u64 four_p0 = 4 * ((u64{1} << 51) - 19);
  constexpr u64 four_pi = 4 * ((u64{1} << 51) - 1);
  return fe{{a.v[0] + four_p0 - b.v[0], a.v[1] + four_pi - b.v[1], a.v[2] + four_pi - b.v[2],
             a.v[3] + four_pi - b.v[3], a.v[4] + four_pi - b.v[4]}};
}

// Carries the five 128-bit columns into reduced limbs. r4's columns carry
// no factor 19, so r4 >> 51 stays below 2^60 and times 19 fits 64 bits.
inline fe carry_columns(u128 r0, u128 r1, u128 r2, u128 r3, u128 r4) {
  fe h;
  r1 += static_cast<u64>(r0 >> 51);
  h.v[0] = static_cast<u64>(r0) & mask51;
  r2 += static_cast<u64>(r1 >> 51);
  h.v[1] = static_cast<u64>(r1) & mask51;
  r3 += static_cast<u64>(r2 >> 51);
  h.v[2] = static_cast<u64>(r2) & mask51;
  r4 += static_cast<u64>(r3 >> 51);
  h.v[3] = static_cast<u64>(r3) & mask51;
  const u64 c = static_cast<u64>(r4 >> 51);
  h.v[4] = static_cast<u64>(r4) & mask51;
  h.v[0] += c * 19;
  h.v[1] += h.v[0] >> 51;
  h.v[0] &= mask51;
  return h;
}

inline fe mul(const fe& f, const fe& g) {
  VELLUM_LIMBS_BELOW(f, 54, "mul");
  VELLUM_LIMBS_BELOW(g, 54, "mul");
  const u64 f0 = f.v[0], f1 = f.v[1], f2 = f.v[2], f3 = f.v[3], f4 = f.v[4];
  const u64 g0 = g.v[0], g1 = g.v[1], g2 = g.v[2], g3 = g.v[3], g4 = g.v[4];
  const u64 g1_19 = 19 * g1, g2_19 = 19 * g2, g3_19 = 19 * g3, g4_19 = 19 * g4;
  const u128 r0 = u128{f0} * g0 + u128{f1} * g4_19 + u128{f2} * g3_19 + u128{f3} * g2_19 +
                  u128{f4} * g1_19;
  const u128 r1 = u128{f0} * g1 + u128{f1} * g0 + u128{f2} * g4_19 + u128{f3} * g3_19 +
                  u128{f4} * g2_19;
  const u128 r2 = u128{f0} * g2 + u128{f1} * g1 + u128{f2} * g0 + u128{f3} * g4_19 +
                  u128{f4} * g3_19;
  const u128 r3 =
      u128{f0} * g3 + u128{f1} * g2 + u128{f2} * g1 + u128{f3} * g0 + u128{f4} * g4_19;
  const u128 r4 = u128{f0} * g4 + u128{f1} * g3 + u128{f2} * g2 + u128{f3} * g1 + u128{f4} * g0;
  return carry_columns(r0, r1, r2, r3, r4);
}

inline fe sq(const fe& f) {
  VELLUM_LIMBS_BELOW(f, 54, "sq");
  const u64 f0 = f.v[0], f1 = f.v[1], f2 = f.v[2], f3 = f.v[3], f4 = f.v[4];
  const u64 f0_2 = 2 * f0, f1_2 = 2 * f1;
  const u64 f3_19 = 19 * f3, f4_19 = 19 * f4;
  const u128 r0 = u128{f0} * f0 + u128{f1_2} * f4_19 + u128{2 * f2} * f3_19;
  const u128 r1 = u128{f0_2} * f1 + u128{2 * f2} * f4_19 + u128{f3} * f3_19;
  const u128 r2 = u128{f0_2} * f2 + u128{f1} * f1 + u128{2 * f3} * f4_19;
  const u128 r3 = u128{f0_2} * f3 + u128{f1_2} * f2 + u128{f4} * f4_19;
  const u128 r4 = u128{f0_2} * f4 + u128{f1_2} * f3 + u128{f2} * f2;
  return carry_columns(r0, r1, r2, r3, r4);
}

fe sq_times(fe f, int n) {
  for (int i = 0; i < n; ++i) f = sq(f);
  return f;
}

// The unique representative below p, limbs below 2^51.
fe canonical(fe h) {
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 4; ++i) {
      h.v[i + 1] += h.v[i] >> 51;
      h.v[i] &= mask51;
    }
    const u64 c = h.v[4] >> 51;
    h.v[4] &= mask51;
    h.v[0] += 19 * c;
  }
  // Now below 2^255: subtract p once if h >= p, i.e. if h + 19 >= 2^255.
  u64 q = (h.v[0] + 19) >> 51;
  for (int i = 1; i < 5; ++i) q = (h.v[i] + q) >> 51;
  h.v[0] += 19 * q;
  for (int i = 0; i < 4; ++i) {
    h.v[i + 1] += h.v[i] >> 51;
    h.v[i] &= mask51;
  }
  h.v[4] &= mask51;
  return h;
}

using fe_bytes = std::array<std::uint8_t, 32>;

u64 load64(const std::uint8_t* p) {
  u64 w = 0;
  for (int i = 7; i >= 0; --i) w = (w << 8) | p[i];
  return w;
}

void store64(std::uint8_t* p, u64 w) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<std::uint8_t>(w >> (8 * i));
}

// The low 255 bits of s (bit 255 is ignored), possibly not below p.
fe from_bytes(const std::uint8_t* s) {
  const u64 w0 = load64(s), w1 = load64(s + 8), w2 = load64(s + 16), w3 = load64(s + 24);
  return fe{{w0 & mask51, ((w0 >> 51) | (w1 << 13)) & mask51, ((w1 >> 38) | (w2 << 26)) & mask51,
             ((w2 >> 25) | (w3 << 39)) & mask51, (w3 >> 12) & mask51}};
}

fe_bytes to_bytes(const fe& f) {
  const fe h = canonical(f);
  fe_bytes s;
  store64(s.data(), h.v[0] | (h.v[1] << 51));
  store64(s.data() + 8, (h.v[1] >> 13) | (h.v[2] << 38));
  store64(s.data() + 16, (h.v[2] >> 26) | (h.v[3] << 25));
  store64(s.data() + 24, (h.v[3] >> 39) | (h.v[4] << 12));
  return s;
}

bool equal(const fe& a, const fe& b) { return to_bytes(a) == to_bytes(b); }
bool is_zero(const fe& a) { return to_bytes(a) == fe_bytes{}; }
bool is_negative(const fe& a) { return (to_bytes(a)[0] & 1) != 0; }
// Not for the hot path: sub() needs its subtrahend reduced, so reduce first.
fe neg(const fe& a) { return sub(fe_small(0), canonical(a)); }

// z^(2^250 - 1), and z^11 on the side (both exponentiations below need it).
fe pow_2_250_minus_1(const fe& z, fe* z11) {
  const fe z2 = sq(z);
  const fe z9 = mul(z, sq_times(z2, 2));
  *z11 = mul(z2, z9);
  const fe z_5 = mul(z9, sq(*z11));                  // 2^5 - 1
  const fe z_10 = mul(sq_times(z_5, 5), z_5);        // 2^10 - 1
  const fe z_20 = mul(sq_times(z_10, 10), z_10);     // 2^20 - 1
  const fe z_40 = mul(sq_times(z_20, 20), z_20);     // 2^40 - 1
  const fe z_50 = mul(sq_times(z_40, 10), z_10);     // 2^50 - 1
  const fe z_100 = mul(sq_times(z_50, 50), z_50);    // 2^100 - 1
  const fe z_200 = mul(sq_times(z_100, 100), z_100);  // 2^200 - 1
  return mul(sq_times(z_200, 50), z_50);             // 2^250 - 1
}

// z^(p - 2) = 1/z (0 for z = 0).
fe invert(const fe& z) {
  fe z11;
  const fe t = pow_2_250_minus_1(z, &z11);
  return mul(sq_times(t, 5), z11);  // 2^255 - 32 + 11 = p - 2
}

// z^((p - 5) / 8) = z^(2^252 - 3), the core of the square root.
fe pow_p58(const fe& z) {
  fe z11;
  const fe t = pow_2_250_minus_1(z, &z11);
  return mul(sq_times(t, 2), z);
}

// ---------------------------------------------------------------------------
// Constants

struct constants {
  fe d;         // -121665 / 121666
  fe d2;        // 2d
  fe sqrt_m1;   // a square root of -1
};

const constants& consts() {
  static const constants c = [] {
    constants k;
    k.d = neg(mul(fe_small(121665), invert(fe_small(121666))));
    k.d = canonical(k.d);
    k.d2 = canonical(add(k.d, k.d));
    // 2^((p-1)/4) = 2^(2^253 - 5) = (2^(2^250-1))^8 * 2^3.
    fe unused;
    k.sqrt_m1 = canonical(mul(sq_times(pow_2_250_minus_1(fe_small(2), &unused), 3), fe_small(8)));
    return k;
  }();
  return c;
}

// ---------------------------------------------------------------------------
// Points

struct point {  // extended: x = X/Z, y = Y/Z, x*y = T/Z
  fe X, Y, Z, T;
};

struct niels {  // an affine point, ready to add: y + x, y - x, 2d*x*y
  fe ypx, ymx, xy2d;
};

point identity() { return point{fe_small(0), fe_small(1), fe_small(1), fe_small(0)}; }

// p + q (both extended), the unified formula "add-2008-hwcd-3" with k = 2d.
point add(const point& p, const point& q) {
  const fe a = mul(sub(p.Y, p.X), sub(q.Y, q.X));
  const fe b = mul(add(p.Y, p.X), add(q.Y, q.X));
  const fe c = mul(mul(p.T, q.T), consts().d2);
  const fe zz = mul(p.Z, q.Z);
  const fe d = add(zz, zz);
  const fe e = sub(b, a), f = sub(d, c), g = add(d, c), h = add(b, a);
  return point{mul(e, f), mul(g, h), mul(f, g), mul(e, h)};
}

// p + q for an affine q (seven multiplications), or p - q when Negate:
// -q = (-x, y) swaps y + x with y - x and negates 2dxy.
template <bool Negate>
point madd(const point& p, const niels& q) {
  const fe a = mul(sub(p.Y, p.X), Negate ? q.ypx : q.ymx);
  const fe b = mul(add(p.Y, p.X), Negate ? q.ymx : q.ypx);
  const fe c = mul(p.T, q.xy2d);
  const fe d = add(p.Z, p.Z);
  const fe e = sub(b, a), h = add(b, a);
  const fe f = Negate ? add(d, c) : sub(d, c);
  const fe g = Negate ? sub(d, c) : add(d, c);
  return point{mul(e, f), mul(g, h), mul(f, g), mul(e, h)};
}

// 2p, "dbl-2008-hwcd" for a = -1 (with E, F, G negated, which cancels).
point dbl(const point& p) {
  const fe a = sq(p.X), b = sq(p.Y);
  const fe zz = sq(p.Z);
  const fe c = add(zz, zz);
  const fe h = add(a, b);
  const fe e = sub(h, sq(add(p.X, p.Y)));
  const fe g = sub(a, b);
  const fe f = add(c, g);
  return point{mul(e, f), mul(g, h), mul(f, g), mul(e, h)};
}

fe_bytes encode(const point& p) {
  const fe zi = invert(p.Z);
  const fe x = mul(p.X, zi), y = mul(p.Y, zi);
  fe_bytes s = to_bytes(y);
  if (is_negative(x)) s[31] |= 0x80;
  return s;
}

// RFC 8032 §5.1.3, refusing what is not canonical: y must be below p and
// x = 0 must come with sign bit 0.
std::optional<point> decode(const std::uint8_t* s) {
  const fe y = from_bytes(s);
  fe_bytes low;
  std::memcpy(low.data(), s, 32);
  low[31] &= 0x7f;
  if (to_bytes(y) != low) return std::nullopt;
  const bool sign = (s[31] & 0x80) != 0;

  const constants& k = consts();
  const fe yy = sq(y);
  const fe u = sub(yy, fe_small(1));
  const fe v = add(mul(k.d, yy), fe_small(1));
  const fe v3 = mul(sq(v), v);
  const fe v7 = mul(sq(v3), v);
  fe x = mul(mul(u, v3), pow_p58(mul(u, v7)));
  const fe vxx = mul(v, sq(x));
  if (!equal(vxx, u)) {
    if (!equal(vxx, neg(u))) return std::nullopt;
    x = mul(x, k.sqrt_m1);
  }
  if (is_zero(x) && sign) return std::nullopt;
  if (is_negative(x) != sign) x = neg(x);
  x = canonical(x);
  return point{x, y, fe_small(1), mul(x, y)};
}

bool is_identity(const point& p) { return is_zero(p.X) && equal(p.Y, p.Z); }

// [n]p for a little-endian 32-byte n, double and add from the top bit.
point scalar_mul(const point& p, const std::uint8_t* n) {
  point h = identity();
  for (int bit = 255; bit >= 0; --bit) {
    h = dbl(h);
    if ((n[bit / 8] >> (bit % 8)) & 1) h = add(h, p);
  }
  return h;
}

}  // namespace

// j * 256^i * P for i = 0..31, j = 1..8, affine.
struct ed25519_precomputed::table {
  niels rows[32][8];

  explicit table(const point& p) {
    std::vector<point> pts(256);
    point base = p;
    for (int i = 0; i < 32; ++i) {
      point m = base;
      pts[i * 8] = m;
      for (int j = 1; j < 8; ++j) {
        m = add(m, base);
        pts[i * 8 + j] = m;
      }
      if (i + 1 < 32) {
        for (int n = 0; n < 8; ++n) base = dbl(base);
      }
    }
    // One inversion for all 256 Z (Montgomery's trick).
    std::vector<fe> prefix(pts.size());
    fe acc = fe_small(1);
    for (std::size_t i = 0; i < pts.size(); ++i) {
      prefix[i] = acc;
      acc = mul(acc, pts[i].Z);
    }
    fe inv = invert(acc);
    for (std::size_t i = pts.size(); i-- > 0;) {
      const fe zi = mul(inv, prefix[i]);
      inv = mul(inv, pts[i].Z);
      const fe x = mul(pts[i].X, zi), y = mul(pts[i].Y, zi);
      niels& n = rows[i / 8][i % 8];
      n.ypx = canonical(add(y, x));
      n.ymx = canonical(sub(y, x));
      n.xy2d = canonical(mul(mul(x, y), consts().d2));
    }
  }
};

namespace {

const ed25519_precomputed::table& base_table() {
  static const ed25519_precomputed::table t = [] {
    // B: y = 4/5, x even.
    const fe y = canonical(mul(fe_small(4), invert(fe_small(5))));
    const fe_bytes s = to_bytes(y);
    auto b = decode(s.data());
    if (!b) std::abort();
    return ed25519_precomputed::table(*b);
  }();
  return t;
}

// a (32 bytes, below 2^255) as 64 signed digits in [-8, 8]: a = sum e[i] 16^i.
std::array<std::int8_t, 64> radix16(const std::uint8_t* a) {
  std::array<std::int8_t, 64> e;
  for (int i = 0; i < 32; ++i) {
    e[2 * i] = static_cast<std::int8_t>(a[i] & 15);
    e[2 * i + 1] = static_cast<std::int8_t>(a[i] >> 4);
  }
  int carry = 0;
  for (int i = 0; i < 63; ++i) {
    int v = e[i] + carry;
    carry = (v + 8) >> 4;
    v -= carry << 4;
    e[i] = static_cast<std::int8_t>(v);
  }
  e[63] = static_cast<std::int8_t>(e[63] + carry);
  return e;
}

// h + digit * row (row[j] = (j+1) * Q), or minus when negate.
inline void add_digit(point& h, const niels (&row)[8], int digit, bool negate) {
  if (negate) digit = -digit;
  if (digit > 0) h = madd<false>(h, row[digit - 1]);
  else if (digit < 0) h = madd<true>(h, row[-digit - 1]);
}

// The group order L, little-endian.
constexpr std::array<std::uint8_t, 32> group_order = {
    0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10};

bool below_order(const std::uint8_t* s) {
  for (int i = 31; i >= 0; --i) {
    if (s[i] != group_order[i]) return s[i] < group_order[i];
  }
  return false;  // equal to L
}

const EVP_MD* sha512_md() {
  static EVP_MD* const md = [] {
    EVP_MD* m = EVP_MD_fetch(nullptr, "SHA2-512", nullptr);
    if (m == nullptr) std::abort();
    return m;
  }();
  return md;
}

struct openssl_deleter {
  void operator()(BIGNUM* b) const { BN_free(b); }
  void operator()(BN_CTX* c) const { BN_CTX_free(c); }
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};

// k = SHA-512(R || A || M) mod L, little-endian.
bool challenge(byte_view r, const std::array<std::uint8_t, 32>& a, byte_view msg,
               std::uint8_t out[32]) {
  // Per thread, made on first use; an allocation that failed is retried on
  // the next call (until then this verify fails, as OpenSSL's would).
  thread_local std::unique_ptr<EVP_MD_CTX, openssl_deleter> ctx;
  thread_local std::unique_ptr<BN_CTX, openssl_deleter> bn_ctx;
  thread_local std::unique_ptr<BIGNUM, openssl_deleter> order;
  thread_local std::unique_ptr<BIGNUM, openssl_deleter> h;
  if (!ctx) ctx.reset(EVP_MD_CTX_new());
  if (!bn_ctx) bn_ctx.reset(BN_CTX_new());
  if (!order) order.reset(BN_lebin2bn(group_order.data(), 32, nullptr));
  if (!h) h.reset(BN_new());
  if (!ctx || !bn_ctx || !order || !h) return false;
  unsigned char digest[64];
  unsigned int len = 0;
  if (EVP_DigestInit_ex(ctx.get(), sha512_md(), nullptr) != 1 ||
      EVP_DigestUpdate(ctx.get(), r.data(), r.size()) != 1 ||
      EVP_DigestUpdate(ctx.get(), a.data(), a.size()) != 1 ||
      (!msg.empty() && EVP_DigestUpdate(ctx.get(), msg.data(), msg.size()) != 1) ||
      EVP_DigestFinal_ex(ctx.get(), digest, &len) != 1 || len != 64) {
    return false;
  }
  return BN_lebin2bn(digest, 64, h.get()) != nullptr &&
         BN_nnmod(h.get(), h.get(), order.get(), bn_ctx.get()) == 1 &&
         BN_bn2lebinpad(h.get(), out, 32) == 32;
}

}  // namespace

std::string_view to_string(ed25519_key_problem p) {
  switch (p) {
    case ed25519_key_problem::none: return {};
    case ed25519_key_problem::not_canonical: return "not the canonical encoding of a curve point";
    case ed25519_key_problem::not_on_curve: return "not a point of the curve";
    case ed25519_key_problem::small_order: return "a point of small order";
    case ed25519_key_problem::mixed_order: return "a point with a small-order (torsion) component";
  }
  return {};
}

ed25519_key_problem ed25519_check_public_key(byte_view public_key) {
  if (public_key.size() != 32) return ed25519_key_problem::not_canonical;
  fe_bytes low;
  std::memcpy(low.data(), public_key.data(), 32);
  low[31] &= 0x7f;
  if (to_bytes(from_bytes(public_key.data())) != low) return ed25519_key_problem::not_canonical;
  const auto a = decode(public_key.data());
  if (!a) {
    // decode refuses y >= p (checked above), no x, and x = 0 written negative.
    const bool negative_zero = (public_key[31] & 0x80) != 0 && [&] {
      fe_bytes positive;
      std::memcpy(positive.data(), public_key.data(), 32);
      positive[31] &= 0x7f;
      return decode(positive.data()).has_value();
    }();
    return negative_zero ? ed25519_key_problem::not_canonical : ed25519_key_problem::not_on_curve;
  }
  point a8 = *a;
  for (int i = 0; i < 3; ++i) a8 = dbl(a8);
  if (is_identity(a8)) return ed25519_key_problem::small_order;
  if (!is_identity(scalar_mul(*a, group_order.data()))) return ed25519_key_problem::mixed_order;
  return ed25519_key_problem::none;
}

std::optional<ed25519_precomputed> ed25519_precomputed::make(byte_view public_key) {
  if (public_key.size() != 32) return std::nullopt;
  auto a = decode(public_key.data());
  if (!a) return std::nullopt;
  std::array<std::uint8_t, 32> key;
  std::memcpy(key.data(), public_key.data(), 32);
  base_table();  // built once, here rather than in the first verify
  return ed25519_precomputed(key, std::make_shared<const table>(*a));
}

bool ed25519_precomputed::verify(byte_view msg, byte_view sig) const {
  if (!table_ || sig.size() != 64) return false;  // !table_: moved from
  const byte_view r = sig.first(32);
  const std::uint8_t* s = sig.data() + 32;
  if (!below_order(s)) return false;
  std::uint8_t k[32];
  if (!challenge(r, key_, msg, k)) return false;

  const auto es = radix16(s);
  const auto ek = radix16(k);
  const table& bt = base_table();
  const table& at = *table_;
  // [S]B - [k]A = 16 * (odd digits) + (even digits).
  point h = identity();
  for (int i = 1; i < 64; i += 2) {
    add_digit(h, bt.rows[i / 2], es[i], false);
    add_digit(h, at.rows[i / 2], ek[i], true);
  }
  for (int n = 0; n < 4; ++n) h = dbl(h);
  for (int i = 0; i < 64; i += 2) {
    add_digit(h, bt.rows[i / 2], es[i], false);
    add_digit(h, at.rows[i / 2], ek[i], true);
  }
  const fe_bytes check = encode(h);
  return std::memcmp(check.data(), r.data(), 32) == 0;
}

}  // namespace vellum::crypto
