/**
 * circuits/: Groth16 proofs (circom 2 + snarkjs) that a device's signed readings reduce to a claimed output, and that
 * a device key signed its registration. The only module other layers import.
 */
export {
  proveClaim,
  closeProver,
  getDefaultPool,
  verificationKey,
  type ProveClaimOptions,
  type ProveResult,
} from "./prover.ts";
export { verifyReceipt, verifyGroth16, type ExpectedApplet, type VerifyReceiptOptions } from "./verify.ts";
export { proveRegistration, verifyRegistration, type RegistrationProof } from "./register.ts";
export { ProverPool, poolBackend, proverSummary, type WarmReport } from "./pool.ts";
export {
  toCalldata,
  receiptToJSON,
  receiptFromJSON,
  claimPublicSignals,
  compiledCircuitK,
  type CompiledCircuitName,
  type Receipt,
  type Seal,
  type Claim,
  type Segment,
  type Calldata,
} from "./receipt.ts";
export {
  APPLET_SIZES,
  proveAppletReceipt,
  verifyAppletReceipt,
  type ExpectedCompiledApplet,
  type ProveAppletReceiptOptions,
} from "./applet-receipt.ts";
export { setupAppletCircuit, APPLET_CIRCUITS_DIR, type AppletCircuit } from "./compile/keys.ts";
export { compileApplet, NotProvableError, type CompiledApplet } from "./compile/index.ts";
export { circuitAgreement, type Disagreement } from "./compile/agreement.ts";
export { checkAppletClaim, witnessBuild, type CheckAppletClaimOptions } from "./compile/witness-check.ts";
export { selectSegment, type ChainReading, type ChainSegment } from "./witness.ts";
export { reduce } from "./reduce.ts";
export {
  REDUCERS,
  SIZES,
  DEFAULT_CIRCUITS,
  REDUCER_PARAM,
  readingsName,
  specOf,
  type Reducer,
  type CircuitName,
} from "./catalog.ts";
export { artifactsOf, isBuilt, buildCircuits, BUILD_DIR, ROOT } from "./setup/build.ts";
export { prodSetup } from "./setup/prod-setup.ts";
export { DEV_SEED, INSECURE_WARNING } from "./setup/seed.ts";
export * from "./errors.ts";
export { BATCH_DEPTH, setupBatchCircuit, type BatchCircuit } from "./batch/circuit.ts";
export { batchInput, proveBatch, type BatchCredit, type BatchDevice, type BatchProof } from "./batch/prove.ts";
export {
  bindingOf,
  challengeOf,
  creditOf,
  creditProofOf,
  creditsTree,
  decodeCredits,
  encodeCredits,
  replayCredits,
  CREDIT_LENGTH,
  type CreditRecord,
} from "./batch/credits.ts";
export { creditEpoch, EarningsTree, WINDOW, type EarningsLeaf, type EpochCredit } from "./batch/tree.ts";
export {
  AlreadyCreditedError,
  BatchSetupMemoryError,
  BatchSetupMissingError,
  BatchSizeError,
  SlotTakenError,
} from "./batch/errors.ts";
