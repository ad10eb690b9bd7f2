/**
 * Proof and public-signal encodings shared by the client, tests and other layers. A claim proof is
 * `abi.encode(uint256 k, uint256[2] a, uint256[2][2] b, uint256[2] c)` with a, b, c in snarkjs Solidity calldata
 * order (b's coordinate pairs already swapped, as `snarkjs zkey export soliditycalldata` prints them).
 */
import { AbiCoder, keccak256, solidityPacked } from "ethers";
import { imageIdToField, SNARK_FIELD } from "../device-sdk/index.ts";

export interface Groth16Calldata {
  a: readonly [bigint, bigint];
  b: readonly [readonly [bigint, bigint], readonly [bigint, bigint]];
  c: readonly [bigint, bigint];
}

/** A claim proof for the segment size k it was made with. */
export interface ClaimProof extends Groth16Calldata {
  k: number | bigint;
}

export interface ClaimValues {
  /** 32-byte hex sha256 of the applet's Wasm. */
  imageId: string;
  deviceId: bigint;
  epoch: bigint;
  output: bigint;
}

const coder = AbiCoder.defaultAbiCoder();

export function encodeClaimProof(p: ClaimProof): string {
  return coder.encode(["uint256", "uint256[2]", "uint256[2][2]", "uint256[2]"], [BigInt(p.k), p.a, p.b, p.c]);
}

export function decodeClaimProof(hex: string): ClaimProof {
  const [k, a, b, c] = coder.decode(["uint256", "uint256[2]", "uint256[2][2]", "uint256[2]"], hex) as unknown as [
    bigint,
    bigint[],
    bigint[][],
    bigint[],
  ];
  return {
    k,
    a: [a[0]!, a[1]!],
    b: [
      [b[0]![0]!, b[0]![1]!],
      [b[1]![0]!, b[1]![1]!],
    ],
    c: [c[0]!, c[1]!],
  };
}

/** The public signals PayoutVault rebuilds: [imageIdField, deviceId, epoch, output] (+ [param]). */
export function claimSignals(v: ClaimValues & { param?: bigint }): bigint[] {
  const s = [imageIdToField(v.imageId), v.deviceId, v.epoch, v.output];
  if (v.param !== undefined) s.push(v.param);
  return s;
}

/** The register circuit's public signals: [deviceId, owner, chainId, registry]. */
export function registerSignals(v: { deviceId: bigint; owner: string; chainId: bigint; registry: string }): bigint[] {
  return [v.deviceId, BigInt(v.owner), v.chainId, BigInt(v.registry)];
}

/** What MockVerifier accepts as a[0]: keccak256 of the signals as 32-byte words, mod r. */
export function mockCommitment(signals: readonly bigint[]): bigint {
  return (
    BigInt(
      keccak256(
        solidityPacked(
          signals.map(() => "uint256"),
          signals,
        ),
      ),
    ) % SNARK_FIELD
  );
}

/** A MockVerifier claim proof (TESTS AND DEVNETS ONLY). */
export function mockClaimProof(signals: readonly bigint[], k: number = 16): ClaimProof {
  return {
    k,
    a: [mockCommitment(signals), 0n],
    b: [
      [0n, 0n],
      [0n, 0n],
    ],
    c: [0n, 0n],
  };
}

/** A MockVerifier registration proof (TESTS AND DEVNETS ONLY). */
export function mockRegisterProof(signals: readonly bigint[]): Groth16Calldata {
  return {
    a: [mockCommitment(signals), 0n],
    b: [
      [0n, 0n],
      [0n, 0n],
    ],
    c: [0n, 0n],
  };
}
