/**
 * Where `mfi verify` gets the applet a receipt must be for: a built Wasm or applet folder on disk (the Wasm its circuit
 * is recompiled from, imageId = sha256 of it, param from applet.json), or AppletRegistry on a chain (verifier and param as the vault reads
 * them). Never the receipt itself: that is what is being checked.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { Contract } from "ethers";
import {
  InvalidVerifyOptionsError,
  ReceiptMismatchError,
  REDUCER_PARAM,
  specOf,
  claimPublicSignals,
  compiledCircuitK,
  type ExpectedApplet,
  type Receipt,
} from "../circuits/index.ts";
import { imageIdOf } from "../runtime/index.ts";
import { loadAppletManifest, APPLETS_DIR, APPLET_BUILD_DIR, type AppletManifest } from "../toolchain/index.ts";
import { withAppletRegistry } from "./applet-registry.ts";

/**
 * The Wasm (a compiled applet's receipt is checked against the circuit recompiled from it) and, for receipts of the
 * built-in reducer circuits made before compiled applets, the manifest's reducer. The param is applet.json's.
 */
function expectedOf(manifest: AppletManifest, wasm: Uint8Array): ExpectedApplet {
  const r = manifest.reducer;
  const hasParam = r ? REDUCER_PARAM[r] !== undefined : manifest.param !== undefined;
  const param = hasParam ? BigInt(manifest.param!) : undefined;
  return { imageId: imageIdOf(wasm), reducer: r, wasm, ...(param !== undefined ? { param } : {}) };
}

/** `--applet <applet.wasm | applet dir>`: a folder's Wasm is <dir>/<name>.wasm or build/applets/<name>.wasm. */
export function appletFromPath(path: string): ExpectedApplet {
  if (!existsSync(path)) throw new InvalidVerifyOptionsError(`--applet ${path}: no such file or folder`);
  if (statSync(path).isDirectory()) {
    const manifest = loadAppletManifest(path);
    const wasm = [join(path, `${manifest.name}.wasm`), join(APPLET_BUILD_DIR, `${manifest.name}.wasm`)].find(
      existsSync,
    );
    if (!wasm)
      throw new InvalidVerifyOptionsError(`--applet ${path}: no built Wasm for ${manifest.name}`, {
        details: `run \`mfi build ${manifest.name}\` (writes build/applets/${manifest.name}.wasm) or pass the .wasm`,
      });
    return expectedOf(manifest, readFileSync(wasm));
  }
  if (!path.endsWith(".wasm"))
    throw new InvalidVerifyOptionsError(
      `--applet ${path}: pass the applet's built .wasm or its folder (with applet.json)`,
    );
  // build/applets/<name>.wasm has its applet.json in applets/<name>/; a Wasm shipped in its own folder, beside it.
  const dir = [dirname(path), join(APPLETS_DIR, basename(path, ".wasm"))].find((d) =>
    existsSync(join(d, "applet.json")),
  );
  if (!dir)
    throw new InvalidVerifyOptionsError(
      `--applet ${path}: no applet.json beside it or in applets/${basename(path, ".wasm")}/`,
      { details: "the reducer and param come from applet.json; pass the applet folder" },
    );
  return expectedOf(loadAppletManifest(dir), readFileSync(path));
}

/**
 * `--rpc`: the receipt checked the way PayoutVault checks it, by the verifier AppletRegistry holds for (imageId, k),
 * over signals rebuilt with the registry's param (eth_call, no transaction). The generated verifier takes exactly
 * nPublic signals, so nothing can be left out. Returns whether it verifies; throws ReceiptMismatchError when the
 * receipt is no readings claim, the applet is unknown or has no verifier for its size, or its param differs.
 */
export async function verifyOnChain(o: {
  rpcUrl: string;
  receipt: Receipt;
  registry?: string;
  manifestDir?: string;
}): Promise<{ ok: boolean; verifier: string; param?: bigint }> {
  const r = o.receipt;
  // A compiled applet's circuit proves a claim like a readings circuit; its verifier is the one the registry holds.
  const spec = compiledCircuitK(r.seal.circuit) !== undefined ? { kind: "readings" } : specOf(r.seal.circuit);
  if (spec.kind !== "readings")
    throw new ReceiptMismatchError(
      `the receipt is not for the expected applet: its proof is from the ${r.seal.circuit} circuit, not a readings circuit (a ${spec.kind} proof is no claim)`,
    );
  return withAppletRegistry(o, async ({ provider, chainId, registry, applets }) => {
    const app = (await applets.getFunction("appletOf")(r.claim.imageId)) as unknown as {
      owner: string;
      hasParam: boolean;
      param: bigint;
    };
    if (/^0x0{40}$/i.test(app.owner))
      throw new ReceiptMismatchError(
        `the receipt is not for a registered applet: AppletRegistry ${registry} on chain ${chainId} has no imageId ${r.claim.imageId}`,
      );
    const verifier = (await applets.getFunction("verifierOf")(r.claim.imageId, r.seal.k)) as string;
    if (/^0x0{40}$/i.test(verifier))
      throw new ReceiptMismatchError(
        `the receipt is not for the expected applet: applet ${r.claim.imageId} has no verifier for k = ${r.seal.k}`,
      );
    const param = app.hasParam ? BigInt(app.param) : undefined;
    if (r.claim.param !== param)
      throw new ReceiptMismatchError(
        `the receipt is not for the expected applet: it claims param ${r.claim.param ?? "(none)"}, AppletRegistry holds ${param ?? "(none)"}`,
      );
    const signals = claimPublicSignals({ ...r.claim, param });
    if (r.publicSignals.length !== signals.length || r.publicSignals.some((s, i) => s !== signals[i]))
      return { ok: false, verifier, param };
    const { a, b, c } = r.seal;
    const abi = [
      `function verifyProof(uint256[2], uint256[2][2], uint256[2], uint256[${signals.length}]) view returns (bool)`,
    ];
    // b in the verifier's (c1, c0) order, as toCalldata encodes it for the vault.
    const ok = (await new Contract(verifier, abi, provider).getFunction("verifyProof")(
      a,
      [
        [b[0][1], b[0][0]],
        [b[1][1], b[1][0]],
      ],
      c,
      signals,
    )) as boolean;
    return { ok, verifier, param };
  });
}
