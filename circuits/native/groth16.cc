#include "groth16.h"
#include <thread>
#include <vector>

namespace mfi {

FieldParams FQ_P = {{0x3c208c16d87cfd47ULL, 0x97816a916871ca8dULL, 0xb85045b68181585dULL, 0x30644e72e131a029ULL}};
FieldParams FR_P = {{0x43e1f593f0000001ULL, 0x2833e84879b97091ULL, 0xb85045b68181585dULL, 0x30644e72e131a029ULL}};
const uint64_t FR_MODULUS[4] = {0x43e1f593f0000001ULL, 0x2833e84879b97091ULL, 0xb85045b68181585dULL,
                                0x30644e72e131a029ULL};

static struct Init {
  Init() {
    initParams(FQ_P);
    initParams(FR_P);
  }
} init_;

int msmThreads() {
  unsigned h = std::thread::hardware_concurrency();
  return h == 0 ? 1 : (int)std::min(h, 16u);
}

static const int FR_S = 28;

// w_28 = 5^((r - 1) / 2^28): 5 is the quadratic non-residue ffjavascript picks; w_k = w_{k+1}^2.
Fr rootOfUnity(int log) {
  uint64_t t[4];
  memcpy(t, FR_MODULUS, 32);
  t[0] -= 1;
  for (int i = 0; i < FR_S; i++) {  // (r - 1) >> 28
    for (int j = 0; j < 4; j++) t[j] = (t[j] >> 1) | (j < 3 ? t[j + 1] << 63 : 0);
  }
  uint64_t five[4] = {5, 0, 0, 0};
  Fr w = Fr::fromStd(five).pow(t);
  for (int i = FR_S; i > log; i--) w = w.sq();
  return w;
}

bool ntt(Fr* a, int log, bool inverse, int threads) {
  if (log < 0 || log > FR_S) return false;
  size_t n = (size_t)1 << log;
  for (size_t i = 1, j = 0; i < n; i++) {  // bit-reversal permutation
    size_t bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) std::swap(a[i], a[j]);
  }
  Fr w = rootOfUnity(log);
  if (inverse) w = w.inv();
  // Twiddles of the last stage; stage with half-length len uses every (n/2/len)-th.
  std::vector<Fr> tw(n / 2 > 0 ? n / 2 : 1);
  tw[0] = Fr::one();
  for (size_t i = 1; i < n / 2; i++) tw[i] = tw[i - 1] * w;
  for (size_t len = 1; len < n; len <<= 1) {
    size_t step = n / (2 * len);
    size_t blocks = n / (2 * len);
    auto stage = [&](size_t from, size_t to) {
      for (size_t blk = from; blk < to; blk++) {
        Fr* x = a + blk * 2 * len;
        for (size_t k = 0; k < len; k++) {
          Fr u = x[k], v = x[k + len] * tw[k * step];
          x[k] = u + v;
          x[k + len] = u - v;
        }
      }
    };
    if (threads > 1 && blocks >= 2 && n >= 4096) {
      std::vector<std::thread> ts;
      size_t per = (blocks + threads - 1) / threads;
      for (int t = 1; t < threads; t++) {
        size_t f = t * per, e = std::min(blocks, f + per);
        if (f < e) ts.emplace_back(stage, f, e);
      }
      stage(0, std::min(blocks, per));
      for (auto& th : ts) th.join();
    } else if (threads > 1 && n >= 4096) {
      // One block (the last stage): split its butterflies instead.
      auto half = [&](size_t from, size_t to) {
        for (size_t k = from; k < to; k++) {
          Fr u = a[k], v = a[k + len] * tw[k * step];
          a[k] = u + v;
          a[k + len] = u - v;
        }
      };
      std::vector<std::thread> ts;
      size_t per = (len + threads - 1) / threads;
      for (int t = 1; t < threads; t++) {
        size_t f = t * per, e = std::min(len, f + per);
        if (f < e) ts.emplace_back(half, f, e);
      }
      half(0, std::min(len, per));
      for (auto& th : ts) th.join();
    } else {
      stage(0, blocks);
    }
  }
  if (inverse) {
    uint64_t nn[4] = {n, 0, 0, 0};
    Fr ninv = Fr::fromStd(nn).inv();
    for (size_t i = 0; i < n; i++) a[i] = a[i] * ninv;
  }
  return true;
}

static Fr loadFr(const uint8_t* p) {  // raw bytes, reduced below r so Montgomery arithmetic stays exact
  Fr x;
  memcpy(x.v, p, 32);
  reduceScalar(x.v);
  return x;
}

static void storeStd(uint8_t* out, const Fq& x) {
  uint64_t v[4];
  x.toStd(v);
  memcpy(out, v, 32);
}

std::string prove(const ProveInput& in, uint8_t* out) {
  const size_t n = in.domainSize;
  int log = 0;
  while (((size_t)1 << log) < n) log++;
  if (n == 0 || ((size_t)1 << log) != n) return "domain size is not a power of two";
  if (log + 1 > FR_S) return "domain size is beyond what the odd-coset step supports (2^27)";
  if (in.nPublic + 1 > in.nVars) return "more public signals than variables";
  if (in.coeffsLen < 4) return "the coefficient section is truncated";
  uint32_t nCoef;
  memcpy(&nCoef, in.coeffs, 4);
  const size_t sCoef = 12 + 32;
  if (in.coeffsLen != 4 + (size_t)nCoef * sCoef) return "the coefficient section's length does not match its count";

  std::vector<Fr> w(in.nVars);
  for (size_t i = 0; i < in.nVars; i++) w[i] = loadFr(in.witness + 32 * i);
  std::vector<Fr> a(n, Fr::zero()), b(n, Fr::zero()), c(n);
  for (size_t i = 0; i < nCoef; i++) {
    const uint8_t* e = in.coeffs + 4 + i * sCoef;
    uint32_t m, row, sig;
    memcpy(&m, e, 4);
    memcpy(&row, e + 4, 4);
    memcpy(&sig, e + 8, 4);
    if (m > 1 || row >= n || sig >= in.nVars) return "a coefficient refers to a matrix, row or signal out of range";
    Fr v = loadFr(e + 12) * w[sig];  // coefficients are stored so that this product is in Montgomery form
    if (m == 0)
      a[row] = a[row] + v;
    else
      b[row] = b[row] + v;
  }
  for (size_t i = 0; i < n; i++) c[i] = a[i] * b[i];
  const Fr inc = rootOfUnity(log + 1);
  auto toOddCoset = [&](std::vector<Fr>& v) {
    ntt(v.data(), log, true, in.threads);
    Fr k = Fr::one();
    for (size_t i = 0; i < n; i++) v[i] = v[i] * k, k = k * inc;
    ntt(v.data(), log, false, in.threads);
  };
  toOddCoset(a);
  toOddCoset(b);
  toOddCoset(c);
  std::vector<uint64_t> h(4 * n), ws(4 * in.nVars);
  for (size_t i = 0; i < n; i++) (a[i] * b[i] - c[i]).toStd(&h[4 * i]);
  memcpy(ws.data(), in.witness, 32 * in.nVars);
  a.clear(), b.clear(), c.clear();

  const G1A* hdr1 = (const G1A*)in.header;
  const G2A* hdr2 = (const G2A*)(in.header + 3 * 64);
  const G1A &alpha1 = hdr1[0], &beta1 = hdr1[1], &delta1 = hdr1[2];
  const G2A &beta2 = hdr2[0], &delta2 = hdr2[1];
  uint64_t r[4], s[4], rs[4];
  memcpy(r, in.rs, 32);
  memcpy(s, in.rs + 32, 32);
  reduceScalar(r);
  reduceScalar(s);
  (Fr::fromStd(r) * Fr::fromStd(s)).toStd(rs);

  G1J piA = msm((const G1A*)in.A, ws.data(), in.nVars, in.threads);
  G1J piB1 = msm((const G1A*)in.B1, ws.data(), in.nVars, in.threads);
  G2J piB = msm((const G2A*)in.B2, ws.data(), in.nVars, in.threads);
  const size_t priv = in.nPublic + 1;
  G1J piC = msm((const G1A*)in.C, ws.data() + 4 * priv, in.nVars - priv, in.threads);
  G1J resH = msm((const G1A*)in.H, h.data(), n, in.threads);

  piA = piA.addAffine(alpha1).add(G1J::from(delta1).mul(r));
  piB = piB.addAffine(beta2).add(G2J::from(delta2).mul(s));
  piB1 = piB1.addAffine(beta1).add(G1J::from(delta1).mul(s));
  piC = piC.add(resH).add(piA.mul(s)).add(piB1.mul(r)).add(G1J::from(delta1).mul(rs).neg());

  G1A pa = piA.toAffine(), pc = piC.toAffine();
  G2A pb = piB.toAffine();
  storeStd(out, pa.x);
  storeStd(out + 32, pa.y);
  storeStd(out + 64, pb.x.a);
  storeStd(out + 96, pb.x.b);
  storeStd(out + 128, pb.y.a);
  storeStd(out + 160, pb.y.b);
  storeStd(out + 192, pc.x);
  storeStd(out + 224, pc.y);
  return "";
}

}  // namespace mfi
