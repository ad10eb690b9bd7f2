// BLAKE-512 (the SHA-3 finalist, not BLAKE2), as circomlibjs uses through blake-hash for key and nonce derivation.
// One compression block only: messages of 1..111 bytes (keys are 32 bytes, nonce inputs 64).

const SIGMA: usize = memory.data<u8>([
  0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
  14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3,
  11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4,
  7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8,
  9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13,
  2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9,
  12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11,
  13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10,
  6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5,
  10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0,
]);

const U512: usize = memory.data<u64>([
  0x243f6a8885a308d3, 0x13198a2e03707344, 0xa4093822299f31d0, 0x082efa98ec4e6c89,
  0x452821e638d01377, 0xbe5466cf34e90c6c, 0xc0ac29b7c97c50dd, 0x3f84d5b5b5470917,
  0x9216d5d98979fb1b, 0xd1310ba698dfb5ac, 0x2ffd72dbd01adfb7, 0xb8e1afed6a267e96,
  0xba7c9045f12c7f99, 0x24a19947b3916cf7, 0x0801f2e2858efc16, 0x636920d871574e69,
]);

const IV: usize = memory.data<u64>([
  0x6a09e667f3bcc908, 0xbb67ae8584caa73b, 0x3c6ef372fe94f82b, 0xa54ff53a5f1d36f1,
  0x510e527fade682d1, 0x9b05688c2b3e6c1f, 0x1f83d9abfb41bd6b, 0x5be0cd19137e2179,
]);

const BLOCK = memory.data(128);
const M = memory.data(128);
const V = memory.data(128);

@inline function vget(i: i32): u64 { return load<u64>(V + (<usize>i << 3)); }
@inline function vset(i: i32, x: u64): void { store<u64>(V + (<usize>i << 3), x); }

function g(r: i32, a: i32, b: i32, c: i32, d: i32, e: i32): void {
  const s = SIGMA + <usize>((r % 10) * 16 + e);
  const s0 = <usize>load<u8>(s), s1 = <usize>load<u8>(s, 1);
  let va = vget(a), vb = vget(b), vc = vget(c), vd = vget(d);
  va += vb + (load<u64>(M + (s0 << 3)) ^ load<u64>(U512 + (s1 << 3)));
  vd = rotr<u64>(vd ^ va, 32);
  vc += vd;
  vb = rotr<u64>(vb ^ vc, 25);
  va += vb + (load<u64>(M + (s1 << 3)) ^ load<u64>(U512 + (s0 << 3)));
  vd = rotr<u64>(vd ^ va, 16);
  vc += vd;
  vb = rotr<u64>(vb ^ vc, 11);
  vset(a, va); vset(b, vb); vset(c, vc); vset(d, vd);
}

/** out (64 bytes) = BLAKE-512(msg[0..len)), 1 <= len <= 111. */
export function blake512(out: usize, msg: usize, len: i32): void {
  memory.fill(BLOCK, 0, 128);
  memory.copy(BLOCK, msg, <usize>len);
  store<u8>(BLOCK + <usize>len, 0x80);
  store<u8>(BLOCK + 111, load<u8>(BLOCK + 111) | 0x01);
  const bits: u64 = <u64>len * 8;
  store<u64>(BLOCK + 120, bswap<u64>(bits));
  for (let i = 0; i < 16; i++) store<u64>(M + (<usize>i << 3), bswap<u64>(load<u64>(BLOCK + (<usize>i << 3))));
  for (let i = 0; i < 8; i++) vset(i, load<u64>(IV + (<usize>i << 3)));
  for (let i = 0; i < 8; i++) vset(8 + i, load<u64>(U512 + (<usize>i << 3)));
  vset(12, vget(12) ^ bits);
  vset(13, vget(13) ^ bits);
  for (let r = 0; r < 16; r++) {
    g(r, 0, 4, 8, 12, 0); g(r, 1, 5, 9, 13, 2); g(r, 2, 6, 10, 14, 4); g(r, 3, 7, 11, 15, 6);
    g(r, 0, 5, 10, 15, 8); g(r, 1, 6, 11, 12, 10); g(r, 2, 7, 8, 13, 12); g(r, 3, 4, 9, 14, 14);
  }
  for (let i = 0; i < 8; i++) {
    const h = load<u64>(IV + (<usize>i << 3)) ^ vget(i) ^ vget(i + 8);
    store<u64>(out + (<usize>i << 3), bswap<u64>(h));
  }
}
