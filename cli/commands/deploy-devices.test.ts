/**
 * `mfi deploy --makers | --any-device` (issue 20): which devices an applet pays is chosen at deploy, on real anvil
 * and the deployed registries; bad values are usage errors (exit 2) before anything touches the chain.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDevnet, type Devnet } from "../../contracts/fixture.ts";
import { writeManifest } from "../../contracts/index.ts";
import { APPLETS_DIR } from "../../toolchain/index.ts";
import { runInProcess } from "../run-in-process.ts";
import { devicesOption, register } from "./deploy.ts";

let net: Devnet;
let dir: string;
beforeAll(async () => {
  net = await startDevnet({ clients: 1 });
  dir = mkdtempSync(join(tmpdir(), "mfi-deploy-devices-"));
  writeManifest(net.manifest, dir);
}, 120_000);
afterAll(async () => {
  await net?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("mfi deploy: which devices the applet pays", () => {
  it("parses --makers and --any-device, refusing bad values", () => {
    expect(devicesOption({})).toBeUndefined();
    expect(devicesOption({ anyDevice: true })).toBe("any");
    expect(devicesOption({ makers: "1, 4" })).toEqual({ makers: [1, 4] });
    for (const bad of ["", "0", "x", "1,,2", "-1", "1.5"])
      expect(() => devicesOption({ makers: bad }), bad).toThrow(/maker ids/);
    expect(() => devicesOption({ makers: "1", anyDevice: true })).toThrow(/exclude each other/);
  });

  it("registers a makers-only applet with --makers and an open one by default on a devnet", async () => {
    const chain = ["--rpc", net.anvil.rpcUrl, "--key", net.anvil.accounts[0]!, "--deployments", dir, "--json"];
    const mfi = (...args: string[]) => runInProcess([register], args);
    const makersOnly = await mfi(
      "deploy",
      join(APPLETS_DIR, "energy-sum"),
      "--mock-verifier",
      "--makers",
      "1",
      ...chain,
    );
    expect(makersOnly.code, makersOnly.stdout + makersOnly.stderr).toBe(0);
    const a = JSON.parse(makersOnly.stdout) as { imageId: string };
    const admin = net.clients[0]!;
    expect((await admin.appletOf(`0x${a.imageId}`)).anyDevice).toBe(false);
    const accepts = admin.contracts.applets.getFunction("acceptsMaker");
    expect(await accepts(`0x${a.imageId}`, 1)).toBe(true);
    expect(await accepts(`0x${a.imageId}`, 2)).toBe(false);

    const open = await mfi("deploy", join(APPLETS_DIR, "threshold-alert"), "--mock-verifier", ...chain);
    expect(open.code, open.stdout + open.stderr).toBe(0);
    expect((await admin.appletOf(`0x${(JSON.parse(open.stdout) as { imageId: string }).imageId}`)).anyDevice).toBe(
      true,
    );

    const bad = await mfi("deploy", join(APPLETS_DIR, "energy-sum"), "--makers", "one", ...chain);
    expect(bad.code).toBe(2);
    expect(bad.stdout).toMatch(/maker ids/);
  }, 120_000);
});
