/**
 * Falling back to the JS backend (~100× slower) is never silent: getDefaultBackend() warns and backendStatus() says
 * why, whether the Wasm module is missing or fails its self-check against circomlibjs.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import type { EddsaBackend } from "./eddsa-api.ts";

afterEach(() => {
  vi.doUnmock("./crypto/index.ts");
  vi.resetModules();
  vi.restoreAllMocks();
});

/** A fresh backend.ts (getDefaultBackend memoises its choice) over the given crypto module. */
async function freshBackend(crypto?: () => Promise<Record<string, unknown>>) {
  vi.resetModules();
  if (crypto) vi.doMock("./crypto/index.ts", crypto);
  const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
  return { ...(await import("./backend.ts")), warn };
}

describe("getDefaultBackend", () => {
  it("uses the Wasm backend of a built tree, without a warning", async () => {
    const { getDefaultBackend, backendStatus, warn } = await freshBackend();
    expect(backendStatus()).toBeUndefined();
    const b = await getDefaultBackend();
    expect(b.name).not.toBe("circomlibjs");
    expect(backendStatus()).toEqual({ name: b.name, fallback: false });
    expect(warn).not.toHaveBeenCalled();
  });

  it("falls back loudly when build/crypto/crypto.wasm cannot be loaded", async () => {
    const { getDefaultBackend, backendStatus, warn } = await freshBackend(async () => ({
      loadWasmBackend: async () => {
        throw new Error("cannot read the crypto Wasm module at file:///x/build/crypto/crypto.wasm");
      },
    }));
    const b = await getDefaultBackend();
    expect(b.name).toBe("circomlibjs");
    expect(backendStatus()).toMatchObject({ name: "circomlibjs", fallback: true });
    expect(backendStatus()?.reason).toContain("crypto.wasm");
    expect(warn).toHaveBeenCalledOnce();
    expect(String(warn.mock.calls[0]![0])).toMatch(/slow JS backend.*crypto\.wasm.*npm run build/);
  });

  it("falls back loudly when the Wasm backend is not bit-exact with circomlibjs", async () => {
    const { buildJsBackend } = await import("./eddsa-js.ts");
    const ref = await buildJsBackend();
    const { getDefaultBackend, backendStatus, warn } = await freshBackend(async () => ({
      loadWasmBackend: async (): Promise<EddsaBackend> => ({
        name: "broken-wasm",
        publicKey: (key) => ref.publicKey(key),
        sign: (key, msg) => ({ ...ref.sign(key, msg), S: 1n }),
        verify: (item) => ref.verify(item),
        verifyBatch: (items) => ref.verifyBatch(items),
        poseidon: (inputs) => ref.poseidon(inputs),
      }),
    }));
    expect((await getDefaultBackend()).name).toBe("circomlibjs");
    expect(backendStatus()).toMatchObject({ fallback: true, reason: expect.stringContaining("self-check") });
    expect(warn).toHaveBeenCalledOnce();
  });
});
