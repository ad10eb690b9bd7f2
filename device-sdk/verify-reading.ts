/**
 * verifyReading: a buyer's provenance check on a served range of readings, trusting no gateway.
 * Most readings are unsigned middle-of-batch links (one signature vouches for the chain behind it), so a range
 * verifies as a whole: every reading hashes into the next one's `prev`, and the range ends in a reading whose
 * signature verifies with the device's public key, whose Poseidon hash must be the range's deviceId.
 */
import { deviceIdOf, hashReading, type Reading } from "./chain.ts";
import type { EddsaBackend, PublicKey, Signature } from "./eddsa-api.ts";
import { SdkError } from "./errors.ts";

export interface ServedReading extends Reading {
  signature: Signature | null;
}

/** Why a served range does not prove itself; `index` is the first offending reading. */
export class ReadingVerificationError extends SdkError {
  override name = "ReadingVerificationError";
  constructor(
    readonly reason: "EmptyRange" | "KeyMismatch" | "WrongDevice" | "BrokenChain" | "Unsigned" | "BadSignature",
    readonly index: number,
    shortMessage: string,
  ) {
    super(shortMessage, {
      metaMessages: [
        "Do not use these readings: the gateway (or the path to it) altered or truncated them. Re-fetch the range; if it persists, report the gateway.",
      ],
    });
  }
}

/**
 * Verifies a served range and returns how many readings it proves. Throws ReadingVerificationError naming the
 * first broken link. Readings after the last signed one are not vouched for, so the range must end signed
 * (the gateway extends each served range up to the next signed reading).
 */
export function verifyReading(
  backend: EddsaBackend,
  publicKey: PublicKey,
  readings: readonly ServedReading[],
): { verified: number; lastHash: bigint } {
  if (readings.length === 0) throw new ReadingVerificationError("EmptyRange", 0, "No readings to verify");
  const deviceId = deviceIdOf(publicKey);
  if (deviceId !== readings[0]!.deviceId)
    throw new ReadingVerificationError(
      "KeyMismatch",
      0,
      `Public key belongs to device ${deviceId}, not ${readings[0]!.deviceId}`,
    );
  let hash = 0n;
  for (let i = 0; i < readings.length; i++) {
    const r = readings[i]!;
    if (r.deviceId !== deviceId)
      throw new ReadingVerificationError("WrongDevice", i, `Reading ${i} belongs to device ${r.deviceId}`);
    if (i > 0 && (r.prev !== hash || r.seq !== readings[i - 1]!.seq + 1n))
      throw new ReadingVerificationError(
        "BrokenChain",
        i,
        `Reading ${i} (seq ${r.seq}) does not extend reading ${i - 1}`,
      );
    hash = hashReading(r);
    if (r.signature && !backend.verify({ msg: hash, sig: r.signature, publicKey }))
      throw new ReadingVerificationError("BadSignature", i, `Signature of reading ${i} (seq ${r.seq}) does not verify`);
  }
  if (!readings[readings.length - 1]!.signature)
    throw new ReadingVerificationError(
      "Unsigned",
      readings.length - 1,
      "The range does not end in a signed reading, so nothing vouches for it",
    );
  return { verified: readings.length, lastHash: hash };
}
