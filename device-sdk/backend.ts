/**
 * Which EdDSA backend the SDK and gateway use by default: the Wasm one from ./crypto/ (about 100× the JS libraries)
 * once it passes its self-check, else the circomlibjs reference. Falling back is never silent: `backendStatus()`
 * says which backend runs and why, the gateway exports it as a metric and warns at start.
 */
import { jsPoseidon, setPoseidon } from "./chain.ts";
import { loadWasmBackend } from "./crypto/index.ts";
import type { EddsaBackend } from "./eddsa-api.ts";
import { buildJsBackend } from "./eddsa-js.ts";

let chosen: Promise<EddsaBackend> | undefined;

export interface BackendStatus {
  name: string;
  /** True when the Wasm backend was wanted but could not be used. */
  fallback: boolean;
  /** Why the Wasm backend is not used (missing build/crypto/crypto.wasm, failed self-check, MFI_EDDSA=js). */
  reason?: string;
}
let status: BackendStatus | undefined;

/** Which backend getDefaultBackend() chose and why (undefined before it has been asked). */
export function backendStatus(): BackendStatus | undefined {
  return status;
}

async function tryWasm(): Promise<{ backend?: EddsaBackend; reason?: string }> {
  try {
    const b = await loadWasmBackend();
    // A backend that is not bit-exact with circomlibjs is worse than a slow one.
    const ref = await buildJsBackend();
    const k = new Uint8Array(32).fill(3);
    const sig = b.sign(k, 42n);
    const pk = b.publicKey(k);
    const rs = ref.sign(k, 42n);
    if (
      sig.S !== rs.S ||
      sig.R8x !== rs.R8x ||
      !b.verify({ msg: 42n, sig: rs, publicKey: pk }) ||
      b.verify({ msg: 43n, sig: rs, publicKey: pk })
    )
      return { reason: "the Wasm backend failed its self-check against circomlibjs" };
    return { backend: b };
  } catch (err) {
    // The short message (what failed, where); the warning adds what to do.
    const e = err as { shortMessage?: string; message?: string };
    return { reason: (e.shortMessage ?? e.message ?? String(err)).split("\n").join(" ") };
  }
}

/** Hash the chain with the backend's Poseidon (poseidon-lite is the slowest of the three) once it agrees on samples. */
export function usePoseidonOf(backend: EddsaBackend): boolean {
  const samples = [
    [1n, 2n, 3n, 4n, 5n, 6n, 7n, 8n],
    [0n, 0n, 0n, 0n, 0n, 0n, 0n, 0n],
    [21888242871839275222246405745257275088548364400416034343698204186575808495616n, 1n, 2n, 3n, 4n, 5n, 6n, 7n],
  ];
  const agrees =
    samples.every((s) => backend.poseidon(s) === jsPoseidon.hash8(s)) &&
    backend.poseidon([42n]) === jsPoseidon.hash1(42n);
  if (agrees) setPoseidon({ hash1: (a) => backend.poseidon([a]), hash8: (inputs) => backend.poseidon(inputs) });
  return agrees;
}

/**
 * The default backend (memoised); the chain's Poseidon switches to it too. MFI_EDDSA=js forces the reference
 * backend (e.g. to compare).
 */
export function getDefaultBackend(): Promise<EddsaBackend> {
  chosen ??= (async () => {
    if (globalThis.process?.env?.MFI_EDDSA === "js") {
      const b = await buildJsBackend();
      status = { name: b.name, fallback: false, reason: "MFI_EDDSA=js" };
      usePoseidonOf(b);
      return b;
    }
    const wasm = await tryWasm();
    const b = wasm.backend ?? (await buildJsBackend());
    status = { name: b.name, fallback: !wasm.backend, ...(wasm.reason ? { reason: wasm.reason } : {}) };
    if (status.fallback) {
      console.warn(
        `⚠ machinefi: signatures on the slow JS backend (${b.name}, ~100× slower): ${status.reason}. Run \`npm run build\` (build/crypto/crypto.wasm) and restart.`,
      );
    }
    usePoseidonOf(b);
    return b;
  })();
  return chosen;
}

/** Build the backend called `name` (as reported by EddsaBackend.name), e.g. in a worker thread. */
export async function loadBackendByName(name: string): Promise<EddsaBackend> {
  const b = name === "circomlibjs" ? await buildJsBackend() : await loadWasmBackend();
  if (!b || b.name !== name) throw new Error(`no EdDSA backend named ${name} here (got ${b?.name ?? "none"})`);
  usePoseidonOf(b);
  return b;
}
