// The Groth16 prover, step for step as snarkjs's groth16_prove.js computes it, so the same zkey and witness give a
// proof of the same statement: A·w and B·w from the zkey's coefficient section, C = A·B pointwise, then for each an
// inverse NTT, a shift onto the odd coset (coefficient i times w_{2n}^i) and an NTT; H = A·B − C there, taken out of
// Montgomery form as the scalars of the H points (section 9).
#pragma once
#include <string>
#include "msm.h"

namespace mfi {

struct ProveInput {
  const uint8_t* header;  // alpha1, beta1, delta1 (G1, 64 bytes each), beta2, delta2 (G2, 128 bytes each): Montgomery
  const uint8_t* coeffs;  // zkey section 4, as stored
  size_t coeffsLen;
  const uint8_t* witness;  // nVars Fr values, standard form (wtns section 2)
  size_t nVars, nPublic, domainSize;
  const uint8_t *A, *B1, *B2, *C, *H;  // zkey sections 5..9
  const uint8_t* rs;  // r, s: standard form
  int threads;
};

// Fills out (256 bytes: pi_a x,y | pi_b x.c0,x.c1,y.c0,y.c1 | pi_c x,y, affine, standard form, little-endian).
// Returns an empty string, or what is wrong with the input.
std::string prove(const ProveInput& in, uint8_t* out);

// In-place NTT over Fr (Montgomery values) of size 2^log: out[i] = sum_j a_j w^(ij), w = the 2^log-th root of unity
// ffjavascript uses; inverse also divides by n. Returns false when log is beyond Fr's 2-adicity (28).
bool ntt(Fr* a, int log, bool inverse, int threads);
Fr rootOfUnity(int log);

}  // namespace mfi
