// Multi-scalar multiplication sum(k_i * P_i), Pippenger's bucket method with signed digits: each window's digit lies
// in [-2^(c-1), 2^(c-1)], so a window needs 2^(c-1) buckets and a negative digit adds -P (free to negate in affine).
// Windows are shared among threads (each thread owns its windows' buckets); results are combined in order.
#pragma once
#include <algorithm>
#include <thread>
#include <vector>
#include "curve.h"

namespace mfi {

extern const uint64_t FR_MODULUS[4];

// Reduces a 256-bit standard-form scalar mod r (at most 5 subtractions: 2^256 / r < 6).
static inline void reduceScalar(uint64_t* k) {
  while (geq4(k, FR_MODULUS)) sub4(k, k, FR_MODULUS);
}

static inline int windowBits(size_t n) {
  // Cost ~ windows * (n + 2^c) point additions; choose the cheapest c.
  int best = 2;
  double bestCost = 1e300;
  for (int c = 2; c <= 20; c++) {
    double windows = (254 + c) / c;
    double cost = windows * ((double)n + (double)(1u << c));
    if (cost < bestCost) bestCost = cost, best = c;
  }
  return best;
}

int msmThreads();

template <typename F>
Jac<F> msm(const Affine<F>* pts, const uint64_t* scalars /* n * 4 limbs, standard form, any 256-bit */, size_t n,
           int threads) {
  if (n == 0) return Jac<F>::inf();
  if (n < 8) {
    Jac<F> acc = Jac<F>::inf();
    for (size_t i = 0; i < n; i++) {
      uint64_t k[4];
      memcpy(k, scalars + 4 * i, 32);
      reduceScalar(k);
      acc = acc.add(Jac<F>::from(pts[i]).mul(k));
    }
    return acc;
  }
  const int c = windowBits(n);
  const int nWin = 254 / c + 2;  // scalars < r < 2^254, plus one window for the last carry
  std::vector<int32_t> digits((size_t)nWin * n);
  for (size_t i = 0; i < n; i++) {
    uint64_t k[4];
    memcpy(k, scalars + 4 * i, 32);
    reduceScalar(k);
    int32_t carry = 0;
    for (int w = 0; w < nWin; w++) {
      int bit = w * c;
      uint64_t d = 0;
      if (bit < 256) {
        int limb = bit / 64, off = bit % 64;
        d = k[limb] >> off;
        if (off + c > 64 && limb < 3) d |= k[limb + 1] << (64 - off);
        d &= ((uint64_t)1 << c) - 1;
      }
      int32_t v = (int32_t)d + carry;
      if (v > (1 << (c - 1))) {
        v -= (1 << c);
        carry = 1;
      } else {
        carry = 0;
      }
      digits[(size_t)w * n + i] = v;
    }
  }
  std::vector<Jac<F>> winSum(nWin);
  auto work = [&](int first, int step) {
    const size_t nb = (size_t)1 << (c - 1);
    std::vector<Jac<F>> buckets(nb);
    for (int w = first; w < nWin; w += step) {
      for (auto& b : buckets) b = Jac<F>::inf();
      const int32_t* dw = &digits[(size_t)w * n];
      for (size_t i = 0; i < n; i++) {
        int32_t d = dw[i];
        if (d == 0 || pts[i].isInf()) continue;
        if (d > 0) {
          buckets[d - 1] = buckets[d - 1].addAffine(pts[i]);
        } else {
          Affine<F> q{pts[i].x, pts[i].y.neg()};
          buckets[-d - 1] = buckets[-d - 1].addAffine(q);
        }
      }
      Jac<F> running = Jac<F>::inf(), sum = Jac<F>::inf();
      for (size_t b = nb; b-- > 0;) {
        running = running.add(buckets[b]);
        sum = sum.add(running);
      }
      winSum[w] = sum;
    }
  };
  threads = std::max(1, std::min(threads, nWin));
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; t++) pool.emplace_back(work, t, threads);
  work(0, threads);
  for (auto& th : pool) th.join();
  Jac<F> acc = Jac<F>::inf();
  for (int w = nWin - 1; w >= 0; w--) {
    for (int j = 0; j < c; j++) acc = acc.dbl();
    acc = acc.add(winSum[w]);
  }
  return acc;
}

}  // namespace mfi
