// N-API surface of the native prover (plain C API: no npm dependency). Every entry point checks its buffers' lengths
// before touching them and throws a JS RangeError/TypeError instead: a crash here would take the whole process down.
#include <node_api.h>
#include <string>
#include <vector>
#include "groth16.h"

using namespace mfi;

namespace {

bool bytesOf(napi_env env, napi_value v, const uint8_t** data, size_t* len) {
  bool is = false;
  napi_is_typedarray(env, v, &is);
  if (!is) return false;
  napi_typedarray_type type;
  size_t length;
  void* p;
  napi_value ab;
  size_t off;
  if (napi_get_typedarray_info(env, v, &type, &length, &p, &ab, &off) != napi_ok || type != napi_uint8_array)
    return false;
  *data = (const uint8_t*)p;
  *len = length;
  return true;
}

napi_value fail(napi_env env, const std::string& msg, bool range = true) {
  if (range)
    napi_throw_range_error(env, "ERR_MFI_NATIVE_INPUT", msg.c_str());
  else
    napi_throw_type_error(env, "ERR_MFI_NATIVE_INPUT", msg.c_str());
  return nullptr;
}

napi_value newBytes(napi_env env, size_t len, uint8_t** data) {
  napi_value ab, out;
  napi_create_arraybuffer(env, len, (void**)data, &ab);
  napi_create_typedarray(env, napi_uint8_array, len, ab, 0, &out);
  memset(*data, 0, len);
  return out;
}

int threadsArg(napi_env env, napi_value v) {
  int32_t t = 0;
  if (napi_get_value_int32(env, v, &t) != napi_ok || t <= 0) return msmThreads();
  return t > 64 ? 64 : t;
}

template <typename F, size_t PT>
napi_value msmFn(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  const uint8_t *pts, *sc;
  size_t lp, ls;
  if (argc < 2 || !bytesOf(env, argv[0], &pts, &lp) || !bytesOf(env, argv[1], &sc, &ls))
    return fail(env, "msm(points: Uint8Array, scalars: Uint8Array, threads?: number)", false);
  if (ls % 32 != 0) return fail(env, "scalars must be 32 bytes each");
  size_t n = ls / 32;
  if (lp != n * PT) return fail(env, "points must be " + std::to_string(PT) + " bytes per scalar");
  int threads = argc > 2 ? threadsArg(env, argv[2]) : msmThreads();
  // Copies: the caller's buffers may be unaligned views; limbs are read as uint64_t.
  std::vector<Affine<F>> p(n);
  memcpy(p.data(), pts, lp);
  std::vector<uint64_t> s(4 * n);
  memcpy(s.data(), sc, ls);
  Affine<F> r = msm(p.data(), s.data(), n, threads).toAffine();
  uint8_t* out;
  napi_value res = newBytes(env, PT, &out);
  const Fq* limbs = (const Fq*)&r;
  for (size_t i = 0; i < PT / 32; i++) {
    uint64_t v[4];
    limbs[i].toStd(v);
    memcpy(out + 32 * i, v, 32);
  }
  return res;
}

napi_value nttFn(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  const uint8_t* d;
  size_t len;
  bool inverse = false;
  if (argc < 2 || !bytesOf(env, argv[0], &d, &len) || napi_get_value_bool(env, argv[1], &inverse) != napi_ok)
    return fail(env, "ntt(values: Uint8Array, inverse: boolean)", false);
  size_t n = len / 32;
  int log = 0;
  while (((size_t)1 << log) < n) log++;
  if (len % 32 != 0 || n == 0 || ((size_t)1 << log) != n || log > 28)
    return fail(env, "ntt needs 2^k values of 32 bytes, k <= 28");
  std::vector<Fr> a(n);
  memcpy(a.data(), d, len);
  for (auto& x : a) reduceScalar(x.v);
  ntt(a.data(), log, inverse, msmThreads());
  uint8_t* out;
  napi_value res = newBytes(env, len, &out);
  memcpy(out, a.data(), len);
  return res;
}

// prove(header, coeffs, witness, A, B1, B2, C, H, nPublic, domainSize, rs, threads?) -> Uint8Array(256)
napi_value proveFn(napi_env env, napi_callback_info info) {
  size_t argc = 12;
  napi_value argv[12];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  if (argc < 11) return fail(env, "prove needs 11 arguments", false);
  const uint8_t* b[8];
  size_t l[8];
  for (int i = 0; i < 8; i++)
    if (!bytesOf(env, argv[i], &b[i], &l[i])) return fail(env, "prove: argument " + std::to_string(i) + " must be a Uint8Array", false);
  uint32_t nPublic, domainSize;
  const uint8_t* rs;
  size_t lrs;
  if (napi_get_value_uint32(env, argv[8], &nPublic) != napi_ok ||
      napi_get_value_uint32(env, argv[9], &domainSize) != napi_ok || !bytesOf(env, argv[10], &rs, &lrs))
    return fail(env, "prove: nPublic and domainSize must be numbers, rs a Uint8Array", false);
  if (l[0] != 3 * 64 + 2 * 128) return fail(env, "prove: the header points must be 448 bytes");
  if (l[2] % 32 != 0) return fail(env, "prove: the witness must be 32 bytes per value");
  size_t nVars = l[2] / 32;
  if (nVars < (size_t)nPublic + 1) return fail(env, "prove: the witness is shorter than the public signals");
  if (l[3] != nVars * 64 || l[4] != nVars * 64 || l[5] != nVars * 128 || l[6] != (nVars - nPublic - 1) * 64)
    return fail(env, "prove: the A/B1/B2/C point sections do not match the witness length");
  if (l[7] != (size_t)domainSize * 64) return fail(env, "prove: the H section does not match the domain size");
  if (lrs != 64) return fail(env, "prove: rs must be 64 bytes (r, s)");
  int threads = argc > 11 ? threadsArg(env, argv[11]) : msmThreads();
  // Aligned copies of everything read as limbs.
  std::vector<std::vector<uint64_t>> copies(8);
  const uint8_t* p[8];
  for (int i = 0; i < 8; i++) {
    copies[i].resize((l[i] + 7) / 8 + 1);
    memcpy(copies[i].data(), b[i], l[i]);
    p[i] = (const uint8_t*)copies[i].data();
  }
  uint64_t rsCopy[8];
  memcpy(rsCopy, rs, 64);
  ProveInput in{p[0], p[1], l[1], p[2], nVars, nPublic, domainSize, p[3], p[4], p[5], p[6], p[7],
                (const uint8_t*)rsCopy, threads};
  uint8_t out[256];
  std::string err = prove(in, out);
  if (!err.empty()) return fail(env, "prove: " + err);
  uint8_t* o;
  napi_value res = newBytes(env, 256, &o);
  memcpy(o, out, 256);
  return res;
}

}  // namespace

NAPI_MODULE_INIT() {
  napi_property_descriptor props[] = {
      {"msmG1", nullptr, msmFn<Fq, 64>, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"msmG2", nullptr, msmFn<Fq2, 128>, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"ntt", nullptr, nttFn, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"prove", nullptr, proveFn, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
  return exports;
}
