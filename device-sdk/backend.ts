/**
 * Which EdDSA backend the SDK and gateway use by default: the Wasm one from ./crypto/ once it exists and passes its
 * self-check, else the circomlibjs reference. The switch is the one `import()` below.
 */
import { jsPoseidon, setPoseidon } from "./chain.ts";
import type { EddsaBackend } from "./eddsa-api.ts";
import { buildJsBackend } from "./eddsa-js.ts";

let chosen: Promise<EddsaBackend> | undefined;

/** The Wasm backend without the self-check (for worker threads whose parent already checked it). */
async function loadWasm(): Promise<EddsaBackend | undefined> {
  // Resolved at run time so the SDK builds and runs before device-sdk/crypto/ lands.
  const spec = "./crypto/index.ts";
  const mod = (await import(/* @vite-ignore */ spec)) as Record<string, unknown>;
  const make = (mod.loadWasmBackend ?? mod.buildWasmBackend ?? mod.buildBackend ?? mod.default) as (() => Promise<EddsaBackend>) | undefined;
  return typeof make === "function" ? make() : undefined;
}

async function tryWasm(): Promise<EddsaBackend | undefined> {
  try {
    const b = await loadWasm();
    if (!b) return undefined;
    // A backend that is not bit-exact with circomlibjs is worse than a slow one.
    const ref = await buildJsBackend();
    const k = new Uint8Array(32).fill(3);
    const sig = b.sign(k, 42n);
    const pk = b.publicKey(k);
    const rs = ref.sign(k, 42n);
    if (sig.S !== rs.S || sig.R8x !== rs.R8x || !b.verify({ msg: 42n, sig: rs, publicKey: pk }) || b.verify({ msg: 43n, sig: rs, publicKey: pk })) return undefined;
    return b;
  } catch {
    return undefined;
  }
}

/** Hash the chain with the backend's Poseidon (poseidon-lite is the slowest of the three) once it agrees on samples. */
export function usePoseidonOf(backend: EddsaBackend): boolean {
  const samples = [[1n, 2n, 3n, 4n, 5n, 6n, 7n, 8n], [0n, 0n, 0n, 0n, 0n, 0n, 0n, 0n], [21888242871839275222246405745257275088548364400416034343698204186575808495616n, 1n, 2n, 3n, 4n, 5n, 6n, 7n]];
  const agrees = samples.every((s) => backend.poseidon(s) === jsPoseidon.hash8(s)) && backend.poseidon([42n]) === jsPoseidon.hash1(42n);
  if (agrees) setPoseidon({ hash1: (a) => backend.poseidon([a]), hash8: (inputs) => backend.poseidon(inputs) });
  return agrees;
}

/**
 * The default backend (memoised); the chain's Poseidon switches to it too. MFI_EDDSA=js forces the reference
 * backend (e.g. to compare).
 */
export function getDefaultBackend(): Promise<EddsaBackend> {
  chosen ??= (async () => {
    const b = (globalThis.process?.env?.MFI_EDDSA === "js" ? undefined : await tryWasm()) ?? (await buildJsBackend());
    usePoseidonOf(b);
    return b;
  })();
  return chosen;
}

/** Build the backend called `name` (as reported by EddsaBackend.name), e.g. in a worker thread. */
export async function loadBackendByName(name: string): Promise<EddsaBackend> {
  const b = name === "circomlibjs" ? await buildJsBackend() : await loadWasm();
  if (!b || b.name !== name) throw new Error(`no EdDSA backend named ${name} here (got ${b?.name ?? "none"})`);
  usePoseidonOf(b);
  return b;
}
