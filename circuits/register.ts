/**
 * Registration proofs: the device key behind deviceId signed registrationMessage(owner, chainId, registry), proven
 * with the `register` circuit so DeviceRegistry.registerDevice needs no on-chain EdDSA.
 */
import { existsSync } from "node:fs";
import { deviceIdOf, type PublicKey, type Signature } from "../device-sdk/index.ts";
import { artifactsOf, isBuilt, BUILD_DIR } from "./setup/build.ts";
import { CircuitNotBuiltError, InvalidProveOptionsError, ProvingError } from "./errors.ts";
import { getDefaultPool, verificationKey } from "./prover.ts";
import { verifyGroth16 } from "./verify.ts";
import type { ProverPool, RawProof } from "./pool.ts";
import type { G1, G2 } from "./receipt.ts";

export interface RegistrationProof {
  /** [deviceId, owner, chainId, registry] as DeviceRegistry rebuilds them. */
  publicSignals: bigint[];
  /** snarkjs order; `calldata` has b swapped for Solidity. */
  a: G1;
  b: G2;
  c: G1;
  calldata: { a: G1; b: G2; c: G1 };
  stats: Omit<RawProof, "proof" | "publicSignals">;
}

const address = (a: string, what: string): bigint => {
  if (!/^0x[0-9a-fA-F]{40}$/.test(a))
    throw new InvalidProveOptionsError(`${what} must be a 20-byte 0x address, got ${JSON.stringify(a.slice(0, 80))}`);
  return BigInt(a);
};

export async function proveRegistration(opts: {
  publicKey: PublicKey;
  signature: Signature;
  owner: string;
  chainId: bigint;
  registry: string;
  pool?: ProverPool;
  buildDir?: string;
}): Promise<RegistrationProof> {
  const files = artifactsOf("register", opts.buildDir ?? BUILD_DIR);
  if (!(opts.buildDir ? existsSync(files.zkey) : isBuilt("register")))
    throw new CircuitNotBuiltError("circuit register is not built", {
      details: "run `npm run build:circuits -- --circuits register`",
    });
  const owner = address(opts.owner, "owner");
  const registry = address(opts.registry, "registry");
  if (opts.chainId <= 0n) throw new InvalidProveOptionsError(`chainId must be positive, got ${opts.chainId}`);
  const deviceId = deviceIdOf(opts.publicKey);
  const s = (x: bigint) => x.toString();
  const input = {
    deviceId: s(deviceId),
    owner: s(owner),
    chainId: s(opts.chainId),
    registry: s(registry),
    Ax: s(opts.publicKey.x),
    Ay: s(opts.publicKey.y),
    S: s(opts.signature.S),
    R8x: s(opts.signature.R8x),
    R8y: s(opts.signature.R8y),
  };
  const raw = await (opts.pool ?? getDefaultPool()).prove(input, files.wasm, files.zkey);
  const publicSignals = raw.publicSignals.map(BigInt);
  const expected = [deviceId, owner, opts.chainId, registry];
  if (publicSignals.some((x, i) => x !== expected[i]))
    throw new ProvingError(`register produced public signals [${publicSignals}] instead of [${expected}]`);
  const p = raw.proof;
  const a: G1 = [BigInt(p.pi_a[0]!), BigInt(p.pi_a[1]!)];
  const b: G2 = [
    [BigInt(p.pi_b[0]![0]!), BigInt(p.pi_b[0]![1]!)],
    [BigInt(p.pi_b[1]![0]!), BigInt(p.pi_b[1]![1]!)],
  ];
  const c: G1 = [BigInt(p.pi_c[0]!), BigInt(p.pi_c[1]!)];
  const { proof: _p, publicSignals: _s, ...stats } = raw;
  return {
    publicSignals,
    a,
    b,
    c,
    calldata: {
      a,
      b: [
        [b[0][1], b[0][0]],
        [b[1][1], b[1][0]],
      ],
      c,
    },
    stats,
  };
}

export async function verifyRegistration(
  p: Pick<RegistrationProof, "publicSignals" | "a" | "b" | "c">,
  opts: { buildDir?: string } = {},
): Promise<boolean> {
  // Through verifyGroth16: exactly four signals (snarkjs alone would verify three as if the registry were 0).
  return verifyGroth16({
    vk: verificationKey("register", opts.buildDir),
    signals: p.publicSignals,
    proof: p,
    circuit: "register",
  });
}
