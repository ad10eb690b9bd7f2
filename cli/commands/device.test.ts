/** `mfi maker` and `mfi device` through the real binary against anvil: admit, attest, register, transfer, revoke, rotate. */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildJsBackend, loadDeviceKey } from "../../device-sdk/index.ts";
import { startDevnet, type Devnet } from "../../contracts/fixture.ts";
import { writeManifest } from "../../contracts/index.ts";

let net: Devnet;
let dir: string;
const run = (args: string[], key: string) =>
  promisify(execFile)(
    process.execPath,
    ["cli/bin.mjs", ...args, "--rpc", net.anvil.rpcUrl, "--key", key, "--deployments", dir],
    { cwd: join(import.meta.dirname, "..", "..") },
  );
const fails = (args: string[], key: string) =>
  run(args, key).then(
    (r) => ({ code: 0, stderr: r.stderr }),
    (e: { code: number; stderr: string }) => e,
  );

async function newKeyFile(name: string): Promise<{ file: string; deviceId: bigint }> {
  const hex = randomBytes(32).toString("hex");
  const file = join(dir, name);
  writeFileSync(file, hex + "\n");
  const key = await loadDeviceKey(await buildJsBackend(), hex);
  return { file, deviceId: key.deviceId };
}

beforeAll(async () => {
  net = await startDevnet({ clients: 4 });
  dir = mkdtempSync(join(tmpdir(), "mfi-device-cli-"));
  writeManifest(net.manifest, dir);
});
afterAll(async () => {
  await net?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("mfi maker / mfi device", () => {
  it("admits a maker, who attests; the owner registers, transfers, revokes and rotates; bad input is refused", async () => {
    const [admin, alice, bob, makerKey] = net.anvil.accounts as [string, string, string, string];
    const [aliceAddr, bobAddr, makerAddr] = net.clients.slice(1, 4).map((c) => c.address) as [string, string, string];
    const added = await run(["maker", "add", makerAddr, "Acme Sensors", "--json"], admin);
    expect(JSON.parse(added.stdout)).toMatchObject({ makerId: 2, name: "Acme Sensors" });
    // only governance admits makers: the chain refuses (exit 1)
    expect(await fails(["maker", "add", bobAddr, "Mallory"], bob)).toMatchObject({ code: 1 });

    const device = await newKeyFile("device.key");
    const attestation = join(dir, "attestation.json");
    await run(["maker", "attest", `0x${device.deviceId.toString(16)}`, "--out", attestation], makerKey);
    // an attestation for another device is not one for this device (exit 2, before any transaction)
    const other = await newKeyFile("other.key");
    expect(
      await fails(["device", "register", "--key-file", other.file, "--attestation", attestation], alice),
    ).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/no attestation for device/),
    });
    expect(await fails(["device", "register", "--key-file", join(dir, "none.key")], alice)).toMatchObject({ code: 2 });

    await run(["device", "register", "--key-file", device.file, "--attestation", attestation], alice);
    const shown = JSON.parse((await run(["device", "show", device.deviceId.toString()], alice)).stdout);
    expect(shown.owner).toBe(aliceAddr);
    expect(shown.attributes).toContainEqual({ trait_type: "maker", value: "Acme Sensors" });

    expect(await fails(["device", "transfer", device.deviceId.toString(), "not-an-address"], alice)).toMatchObject({
      code: 2,
    });
    await run(["device", "transfer", device.deviceId.toString(), bobAddr], alice);
    // alice sold it: she can no longer revoke its key; bob can
    expect(await fails(["device", "revoke", device.deviceId.toString()], alice)).toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/owner, an approved operator or the device's maker/),
    });
    await run(["device", "revoke", device.deviceId.toString(), "--from", "2026-01-01T00:00:00Z"], bob);
    const rotated = await newKeyFile("rotated.key");
    const r = await run(["device", "rotate", device.deviceId.toString(), "--key-file", rotated.file, "--json"], bob);
    expect(BigInt(JSON.parse(r.stdout).newKeyId)).toBe(rotated.deviceId);
    const after = JSON.parse((await run(["device", "show", device.deviceId.toString()], bob)).stdout);
    expect(after).toMatchObject({ owner: bobAddr, key: { keyId: rotated.deviceId.toString() } });
  });

  it("prints help with examples", async () => {
    const help = await promisify(execFile)(process.execPath, ["cli/bin.mjs", "device", "register", "--help"], {
      cwd: join(import.meta.dirname, "..", ".."),
    });
    expect(help.stdout).toMatch(/Examples:/);
    expect(help.stdout).toMatch(/--attestation <file>/);
  });
});
