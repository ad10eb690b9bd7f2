/** The circuits layer's one error family (viem style): what went wrong, what to do, and the cause. */
import { BaseError, type BaseErrorOptions } from "../core/index.ts";

export type CircuitsErrorOptions = BaseErrorOptions;

export class CircuitsError extends BaseError {
  override name = "CircuitsError";
}

/** The segment needs more slots than the largest built circuit has. */
export class TooManyReadingsError extends CircuitsError {
  override name = "TooManyReadingsError";
}
/** The applet's claimed output is not what the circuit computes from the signed readings. */
export class ClaimMismatchError extends CircuitsError {
  override name = "ClaimMismatchError";
}
/** The readings cannot form a provable segment: a gap, a fork, a foreign reading, a missing before/after reading. */
export class SegmentError extends CircuitsError {
  override name = "SegmentError";
}
/** The epoch holds no reading of the device: there is nothing to claim. */
export class EmptyEpochError extends CircuitsError {
  override name = "EmptyEpochError";
}
/** A value the reducer compares is negative or too large (reducers take 0 <= values[0] < 2^63). */
export class ValueRangeError extends CircuitsError {
  override name = "ValueRangeError";
}
/** Bad options: unknown reducer, missing or out-of-range parameter, malformed imageId or epoch. */
export class InvalidProveOptionsError extends CircuitsError {
  override name = "InvalidProveOptionsError";
}
/** The circuit's keys are not built. */
export class CircuitNotBuiltError extends CircuitsError {
  override name = "CircuitNotBuiltError";
}
/** A receipt is malformed (JSON shape, field ranges, unknown circuit). */
export class ReceiptFormatError extends CircuitsError {
  override name = "ReceiptFormatError";
}
/** A receipt is for another circuit, reducer, imageId or parameter than the applet it is checked against. */
export class ReceiptMismatchError extends CircuitsError {
  override name = "ReceiptMismatchError";
}
/** The expected applet given to verifyReceipt is malformed (reducer, imageId, missing or extra parameter). */
export class InvalidVerifyOptionsError extends CircuitsError {
  override name = "InvalidVerifyOptionsError";
}
/** Witness generation or proving failed (the inputs violate the circuit's constraints). */
export class ProvingError extends CircuitsError {
  override name = "ProvingError";
}
/** A .zkey or .wtns the native prover cannot use: wrong magic or protocol, truncated, or not of the same circuit. */
export class ProverInputError extends CircuitsError {
  override name = "ProverInputError";
}
