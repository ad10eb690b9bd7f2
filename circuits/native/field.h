// BN254 base field Fq and scalar field Fr: 4 x 64-bit limbs, little-endian, Montgomery form with R = 2^256 —
// the same bytes ffjavascript/snarkjs keep in .zkey sections, so points are used in place without conversion.
#pragma once
#include <cstdint>
#include <cstring>

namespace mfi {

typedef unsigned __int128 u128;

struct FieldParams {
  uint64_t p[4];
  uint64_t inv;  // -p^-1 mod 2^64
  uint64_t r2[4];  // R^2 mod p
  uint64_t one[4];  // R mod p
};

static inline bool geq4(const uint64_t* a, const uint64_t* b) {
  for (int i = 3; i >= 0; i--) {
    if (a[i] != b[i]) return a[i] > b[i];
  }
  return true;
}
static inline uint64_t sub4(uint64_t* r, const uint64_t* a, const uint64_t* b) {
  uint64_t borrow = 0;
  for (int i = 0; i < 4; i++) {
    u128 d = (u128)a[i] - b[i] - borrow;
    r[i] = (uint64_t)d;
    borrow = (uint64_t)(d >> 64) ? 1 : 0;
  }
  return borrow;
}
static inline uint64_t add4(uint64_t* r, const uint64_t* a, const uint64_t* b) {
  uint64_t carry = 0;
  for (int i = 0; i < 4; i++) {
    u128 s = (u128)a[i] + b[i] + carry;
    r[i] = (uint64_t)s;
    carry = (uint64_t)(s >> 64);
  }
  return carry;
}

template <const FieldParams& P>
struct Fp {
  uint64_t v[4];

  static Fp zero() { Fp r; memset(r.v, 0, 32); return r; }
  static Fp one() { Fp r; memcpy(r.v, P.one, 32); return r; }
  bool isZero() const { return (v[0] | v[1] | v[2] | v[3]) == 0; }
  bool operator==(const Fp& o) const { return memcmp(v, o.v, 32) == 0; }
  bool operator!=(const Fp& o) const { return !(*this == o); }

  friend Fp operator+(const Fp& a, const Fp& b) {
    Fp r;
    uint64_t c = add4(r.v, a.v, b.v);
    if (c || geq4(r.v, P.p)) sub4(r.v, r.v, P.p);
    return r;
  }
  friend Fp operator-(const Fp& a, const Fp& b) {
    Fp r;
    if (sub4(r.v, a.v, b.v)) add4(r.v, r.v, P.p);
    return r;
  }
  Fp neg() const { return isZero() ? *this : zero() - *this; }
  Fp dbl() const { return *this + *this; }

  // CIOS Montgomery multiplication: a * b * 2^-256 mod p.
  friend Fp operator*(const Fp& a, const Fp& b) {
    uint64_t t[6] = {0, 0, 0, 0, 0, 0};
    for (int i = 0; i < 4; i++) {
      uint64_t c = 0;
      for (int j = 0; j < 4; j++) {
        u128 x = (u128)a.v[j] * b.v[i] + t[j] + c;
        t[j] = (uint64_t)x;
        c = (uint64_t)(x >> 64);
      }
      u128 s = (u128)t[4] + c;
      t[4] = (uint64_t)s;
      t[5] = (uint64_t)(s >> 64);
      uint64_t m = t[0] * P.inv;
      u128 x = (u128)m * P.p[0] + t[0];
      c = (uint64_t)(x >> 64);
      for (int j = 1; j < 4; j++) {
        x = (u128)m * P.p[j] + t[j] + c;
        t[j - 1] = (uint64_t)x;
        c = (uint64_t)(x >> 64);
      }
      s = (u128)t[4] + c;
      t[3] = (uint64_t)s;
      t[4] = t[5] + (uint64_t)(s >> 64);
    }
    Fp r;
    memcpy(r.v, t, 32);
    if (t[4] || geq4(r.v, P.p)) sub4(r.v, r.v, P.p);
    return r;
  }
  Fp sq() const { return *this * *this; }

  // From a standard-form integer < p.
  static Fp fromStd(const uint64_t* x) {
    Fp a, r2;
    memcpy(a.v, x, 32);
    memcpy(r2.v, P.r2, 32);
    return a * r2;
  }
  void toStd(uint64_t* out) const {
    Fp one1 = zero();
    one1.v[0] = 1;
    Fp r = *this * one1;
    memcpy(out, r.v, 32);
  }
  Fp pow(const uint64_t* e) const {
    Fp r = one(), b = *this;
    for (int i = 0; i < 256; i++) {
      if ((e[i / 64] >> (i % 64)) & 1) r = r * b;
      b = b.sq();
    }
    return r;
  }
  Fp inv() const {
    uint64_t e[4], two[4] = {2, 0, 0, 0};
    sub4(e, P.p, two);
    return pow(e);
  }
};

// Fills inv, r2, one from p alone (so no derived constant is typed by hand).
static inline void initParams(FieldParams& P) {
  uint64_t x = 1;  // Newton: x = p0^-1 mod 2^64
  for (int i = 0; i < 7; i++) x *= 2 - P.p[0] * x;
  P.inv = (uint64_t)0 - x;
  uint64_t a[4] = {1, 0, 0, 0};
  for (int i = 0; i < 512; i++) {  // a = 2^512 mod p by doubling
    uint64_t c = add4(a, a, a);
    if (c || geq4(a, P.p)) sub4(a, a, P.p);
    if (i == 255) memcpy(P.one, a, 32);
  }
  memcpy(P.r2, a, 32);
}

extern FieldParams FQ_P, FR_P;
typedef Fp<FQ_P> Fq;
typedef Fp<FR_P> Fr;

// Fq2 = Fq[u] / (u^2 + 1).
struct Fq2 {
  Fq a, b;
  static Fq2 zero() { return {Fq::zero(), Fq::zero()}; }
  static Fq2 one() { return {Fq::one(), Fq::zero()}; }
  bool isZero() const { return a.isZero() && b.isZero(); }
  bool operator==(const Fq2& o) const { return a == o.a && b == o.b; }
  bool operator!=(const Fq2& o) const { return !(*this == o); }
  friend Fq2 operator+(const Fq2& x, const Fq2& y) { return {x.a + y.a, x.b + y.b}; }
  friend Fq2 operator-(const Fq2& x, const Fq2& y) { return {x.a - y.a, x.b - y.b}; }
  friend Fq2 operator*(const Fq2& x, const Fq2& y) {
    Fq aa = x.a * y.a, bb = x.b * y.b;
    Fq m = (x.a + x.b) * (y.a + y.b);
    return {aa - bb, m - aa - bb};
  }
  Fq2 sq() const { return *this * *this; }
  Fq2 dbl() const { return *this + *this; }
  Fq2 neg() const { return {a.neg(), b.neg()}; }
  Fq2 inv() const {
    Fq n = (a.sq() + b.sq()).inv();
    return {a * n, (b * n).neg()};
  }
};

}  // namespace mfi
