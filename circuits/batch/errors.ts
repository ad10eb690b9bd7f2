/** Refusals of the batch prover (issue 26), each before any proving work: the circuit would have no witness. */
import { CircuitsError } from "../errors.ts";

/** The device was already credited in this applet's earnings tree for this epoch, or the epoch lies more than WINDOW
 * epochs before its latest credited one (or the device is twice in one batch). */
export class AlreadyCreditedError extends CircuitsError {
  override name = "AlreadyCreditedError";
}
/** Another device key holds the tree slot of this key (the same low bits of deviceId): rotate the key to move slot. */
export class SlotTakenError extends CircuitsError {
  override name = "SlotTakenError";
}
/** A batch needs 1..N devices of the circuit's size N, for the circuit's applet. */
export class BatchSizeError extends CircuitsError {
  override name = "BatchSizeError";
}
/** The batch circuit's keys are not set up (asked for the cache only). */
export class BatchSetupMissingError extends CircuitsError {
  override name = "BatchSetupMissingError";
}
/** The dev setup of a batch circuit this large needs more JavaScript heap than this process has (N = 64 does). */
export class BatchSetupMemoryError extends CircuitsError {
  override name = "BatchSetupMemoryError";
}
