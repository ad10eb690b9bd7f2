// Short Weierstrass points with a = 0 (BN254 G1 over Fq, G2 over Fq2): Jacobian coordinates, Z = 0 is infinity.
// Formulas from the Explicit-Formulas Database: dbl-2009-l, madd-2007-bl, add-2007-bl; their exceptional cases
// (equal or opposite inputs, infinity) are handled explicitly because MSM inputs may repeat points.
#pragma once
#include "field.h"

namespace mfi {

template <typename F>
struct Affine {
  F x, y;  // (0, 0) is infinity, as in ffjavascript's affine buffers (it is not on the curve: b != 0)
  bool isInf() const { return x.isZero() && y.isZero(); }
};

template <typename F>
struct Jac {
  F x, y, z;
  static Jac inf() { return {F::one(), F::one(), F::zero()}; }
  bool isInf() const { return z.isZero(); }
  static Jac from(const Affine<F>& p) { return p.isInf() ? inf() : Jac{p.x, p.y, F::one()}; }

  Jac dbl() const {
    if (isInf() || y.isZero()) return inf();
    F A = x.sq(), B = y.sq(), C = B.sq();
    F D = ((x + B).sq() - A - C).dbl();
    F E = A.dbl() + A, Fv = E.sq();
    Jac r;
    r.x = Fv - D.dbl();
    r.y = E * (D - r.x) - C.dbl().dbl().dbl();
    r.z = (y * z).dbl();
    return r;
  }

  Jac addAffine(const Affine<F>& q) const {
    if (q.isInf()) return *this;
    if (isInf()) return from(q);
    F Z1Z1 = z.sq();
    F U2 = q.x * Z1Z1, S2 = q.y * z * Z1Z1;
    F H = U2 - x, R = (S2 - y).dbl();
    if (H.isZero()) return R.isZero() ? dbl() : inf();
    F HH = H.sq(), I = HH.dbl().dbl(), J = H * I, V = x * I;
    Jac r;
    r.x = R.sq() - J - V.dbl();
    r.y = R * (V - r.x) - (y * J).dbl();
    r.z = (z + H).sq() - Z1Z1 - HH;
    return r;
  }

  Jac add(const Jac& q) const {
    if (q.isInf()) return *this;
    if (isInf()) return q;
    F Z1Z1 = z.sq(), Z2Z2 = q.z.sq();
    F U1 = x * Z2Z2, U2 = q.x * Z1Z1;
    F S1 = y * q.z * Z2Z2, S2 = q.y * z * Z1Z1;
    F H = U2 - U1, R = (S2 - S1).dbl();
    if (H.isZero()) return R.isZero() ? dbl() : inf();
    F I = H.dbl().sq(), J = H * I, V = U1 * I;
    Jac r;
    r.x = R.sq() - J - V.dbl();
    r.y = R * (V - r.x) - (S1 * J).dbl();
    r.z = ((z + q.z).sq() - Z1Z1 - Z2Z2) * H;
    return r;
  }

  Jac neg() const { return {x, y.neg(), z}; }

  Affine<F> toAffine() const {
    if (isInf()) return {F::zero(), F::zero()};
    F zi = z.inv(), zi2 = zi.sq();
    return {x * zi2, y * zi2 * zi};
  }

  // Scalar given as 4 little-endian 64-bit limbs (standard form).
  Jac mul(const uint64_t* k) const {
    Jac r = inf();
    for (int i = 255; i >= 0; i--) {
      r = r.dbl();
      if ((k[i / 64] >> (i % 64)) & 1) r = r.add(*this);
    }
    return r;
  }
};

typedef Affine<Fq> G1A;
typedef Jac<Fq> G1J;
typedef Affine<Fq2> G2A;
typedef Jac<Fq2> G2J;

}  // namespace mfi
