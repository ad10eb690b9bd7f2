/**
 * Which EdDSA backend the SDK and gateway use by default: the Wasm one from ./crypto/ once it exists and passes its
 * self-check, else the circomlibjs reference. The switch is the one `import()` below.
 */
import type { EddsaBackend } from "./eddsa-api.ts";
import { buildJsBackend } from "./eddsa-js.ts";

let chosen: Promise<EddsaBackend> | undefined;

async function tryWasm(): Promise<EddsaBackend | undefined> {
  try {
    // Resolved at run time so the SDK builds and runs before device-sdk/crypto/ lands.
    const spec = "./crypto/index.ts";
    const mod = (await import(/* @vite-ignore */ spec)) as Record<string, unknown>;
    const make = (mod.loadWasmBackend ?? mod.buildWasmBackend ?? mod.buildBackend ?? mod.default) as (() => Promise<EddsaBackend>) | undefined;
    if (typeof make !== "function") return undefined;
    const b = await make();
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

/** The default backend (memoised). Set MFI_EDDSA=js to force the reference backend. */
export function getDefaultBackend(): Promise<EddsaBackend> {
  chosen ??= (async () => (globalThis.process?.env?.MFI_EDDSA === "js" ? undefined : await tryWasm()) ?? buildJsBackend())();
  return chosen;
}
