/**
 * verifyReceipt: checks a receipt against the applet the caller expects, never against what the receipt says about
 * itself. A receipt names its circuit, reducer and parameter; trusting them let a `register` proof pass as a claim
 * (its four signals line up with a claim's), a `sum` proof pass for a `max` applet's imageId, and a `count_above`
 * proof be checked with its threshold left out (snarkjs folds only the signals it is given, so a missing threshold
 * is a threshold of 0). The vault rebuilds its signals from AppletRegistry; this rebuilds them from the expected
 * applet (its Wasm's sha256 and applet.json, or its registry entry) the same way.
 */
// @ts-expect-error snarkjs ships no types
import * as snarkjs from "snarkjs";
import { imageIdToField } from "../device-sdk/index.ts";
import { parseImageId, type ImageId } from "../core/index.ts";
import { specOf, readingsName, REDUCERS, REDUCER_PARAM, type Reducer } from "./catalog.ts";
import { BUILD_DIR } from "./setup/build.ts";
import { R } from "./setup/field.ts";
import { ReceiptFormatError, ReceiptMismatchError, InvalidVerifyOptionsError } from "./errors.ts";
import { verificationKey, snarkjsProof } from "./prover.ts";
import { compiledCircuitK, type Receipt, type G1, type G2 } from "./receipt.ts";
import { verifyAppletReceipt, type ExpectedCompiledApplet } from "./applet-receipt.ts";

/** The applet a receipt must be for: what the vault would check it against. */
export interface ExpectedApplet {
  /** sha256 of the applet's Wasm, hex (0x optional). */
  imageId: string;
  /** The built-in reducer circuit the applet was paid with before compiled applets (old receipts). */
  reducer?: Reducer;
  /** The reducer's parameter (count_above's threshold); required exactly when the reducer has one. */
  param?: bigint;
  /** The applet's Wasm: a compiled applet's receipt is verified against the circuit recompiled from it. */
  wasm?: Uint8Array;
  log?: (msg: string) => void;
}

export interface VerifyReceiptOptions {
  /** `{ wasm, param? }`: a compiled applet's receipt, checked by recompiling its circuit from the Wasm. */
  applet: ExpectedApplet | ExpectedCompiledApplet;
  /** Where the verification keys are: build/circuits (dev, default) or build/circuits-prod (production). */
  buildDir?: string;
}

function checkApplet(a: ExpectedApplet): { imageId: string; reducer: Reducer; param?: bigint } {
  if (!a || !a.reducer || !REDUCERS.includes(a.reducer))
    throw new InvalidVerifyOptionsError(
      `expected applet needs a reducer, one of ${REDUCERS.join(", ")}; got ${JSON.stringify(a?.reducer)}`,
    );
  let imageId: ImageId;
  try {
    imageId = parseImageId(String(a.imageId));
  } catch (e) {
    throw new InvalidVerifyOptionsError(
      `expected applet's imageId must be 32 bytes of hex, got ${JSON.stringify(String(a.imageId).slice(0, 80))}`,
      { cause: e },
    );
  }
  const paramName = REDUCER_PARAM[a.reducer];
  if (paramName && a.param === undefined)
    throw new InvalidVerifyOptionsError(`reducer ${a.reducer} needs the applet's ${paramName} (applet.json param)`);
  if (!paramName && a.param !== undefined)
    throw new InvalidVerifyOptionsError(`reducer ${a.reducer} takes no parameter, got ${a.param}`);
  return { imageId, reducer: a.reducer as Reducer, ...(paramName ? { param: a.param } : {}) };
}

const mismatch = (what: string) =>
  new ReceiptMismatchError(`the receipt is not for the expected applet: ${what}`, {
    details: "a receipt is checked against the applet it claims for, as the vault checks it against AppletRegistry",
    docsPath: "docs/security.md",
  });

/**
 * true when the receipt's proof verifies for the expected applet; false when the proof or the claim's deviceId,
 * epoch or output do not verify. Throws ReceiptMismatchError when the receipt is for another circuit, reducer,
 * imageId or parameter, InvalidVerifyOptionsError for a malformed expected applet.
 */
export async function verifyReceipt(receipt: Receipt, opts: VerifyReceiptOptions): Promise<boolean> {
  // A compiled receipt is checked against the applet's Wasm (recompiled), a reducer receipt against its reducer.
  const a = opts?.applet;
  if (a?.wasm && (compiledCircuitK(receipt.seal.circuit) !== undefined || !("imageId" in a)))
    return verifyAppletReceipt(receipt, a as ExpectedCompiledApplet);
  if (a?.wasm && !(a as ExpectedApplet).reducer)
    throw mismatch(
      `its proof is from the built-in reducer circuit ${receipt.seal.circuit}, but the applet declares no reducer: it is proven by its own compiled circuit (mfi prove <applet.wasm>)`,
    );
  const applet = checkApplet(opts?.applet as ExpectedApplet);
  if (compiledCircuitK(receipt.seal.circuit) !== undefined)
    throw mismatch(
      `its proof is from the compiled circuit ${receipt.seal.circuit}: verify it against the applet's Wasm`,
    );
  let kind: string;
  try {
    kind = specOf(receipt.seal.circuit).kind;
  } catch (e) {
    throw new ReceiptFormatError(`receipt names an unknown circuit ${JSON.stringify(receipt.seal.circuit)}`, {
      cause: e,
    });
  }
  if (kind !== "readings")
    throw mismatch(
      `its proof is from the ${receipt.seal.circuit} circuit, not a readings circuit (a ${kind} proof is no claim)`,
    );
  // The circuit follows from the applet's reducer and the receipt's size, never from the receipt's own label.
  const circuit = readingsName(applet.reducer, receipt.seal.k);
  if (receipt.seal.circuit !== circuit)
    throw mismatch(
      `its proof is from ${receipt.seal.circuit} but the applet's reducer ${applet.reducer} is proven by ${circuit}`,
    );
  if (receipt.claim.reducer !== applet.reducer)
    throw mismatch(`it claims reducer ${receipt.claim.reducer}, the applet's is ${applet.reducer}`);
  if (receipt.claim.imageId !== applet.imageId)
    throw mismatch(`it claims imageId ${receipt.claim.imageId}, the applet's is ${applet.imageId}`);
  if (receipt.claim.param !== applet.param)
    throw mismatch(
      `it claims ${REDUCER_PARAM[applet.reducer] ?? "param"} ${receipt.claim.param ?? "(none)"}, the applet's is ${applet.param ?? "(none)"}`,
    );

  const { deviceId, epoch, output } = receipt.claim;
  const signals = [
    imageIdToField(applet.imageId),
    deviceId,
    epoch,
    output,
    ...(applet.param !== undefined ? [applet.param] : []),
  ];
  if (receipt.publicSignals.length !== signals.length || receipt.publicSignals.some((s, i) => s !== signals[i]))
    return false;
  return verifyGroth16({
    vk: verificationKey(circuit, opts.buildDir ?? BUILD_DIR),
    signals,
    proof: receipt.seal,
    circuit,
  });
}

/**
 * snarkjs's groth16.verify after checking what it does not: one signal per public input of the key (it folds only
 * the signals it is given, so a short list verifies as if the missing ones were 0), each below the field modulus.
 */
export async function verifyGroth16(o: {
  vk: unknown;
  signals: readonly bigint[];
  proof: { a: G1; b: G2; c: G1 };
  circuit: string;
}): Promise<boolean> {
  const nPublic = (o.vk as { nPublic?: unknown }).nPublic;
  if (o.signals.length !== nPublic)
    throw new ReceiptMismatchError(
      `${o.signals.length} public signals for ${o.circuit}, whose verification key has nPublic = ${String(nPublic)}`,
      { details: "snarkjs would verify a short list as if the missing signals were 0" },
    );
  // snarkjs reduces a signal mod r (so output r + 5 would verify as 5); the Solidity verifier refuses it.
  if (o.signals.some((s) => s < 0n || s >= R)) return false;
  try {
    return (await snarkjs.groth16.verify(o.vk, o.signals.map(String), snarkjsProof(o.proof))) === true;
  } catch (e) {
    throw new ReceiptFormatError("the receipt's proof is malformed (points off the curve?)", { cause: e });
  }
}
