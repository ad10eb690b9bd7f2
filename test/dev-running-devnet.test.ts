/**
 * Issue 22, through the real binary against one running devnet (`mfi dev`, mock proofs, a simulated device, 6 s
 * epochs): `mfi deploy` of another applet, given only --rpc and --key, hands it to the devnet's running worker, which
 * runs it and pays its claims; and each save in `mfi dev` retires the version before it. TMPDIR is private, so the
 * devnet pointer the commands find by default is this devnet's.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { scaffold } from "../cli/commands/init.ts";
import { withAppletRegistry } from "../cli/applet-registry.ts";
import { mfi, mfiBin, waitFor } from "./helpers.ts";

const EPOCH_MS = 6000;
/** anvil's first account: the devnet's deployer and registrar (a public test key). */
const ADMIN_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
const tmp = mkdtempSync(join(tmpdir(), "mfi-dev-running-"));
const env: Record<string, string> = {
  ...(Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("MFI_"))) as Record<string, string>),
  TMPDIR: tmp,
  MFI_EPOCH_MS: String(EPOCH_MS),
  MFI_DEVICES: "1",
  MFI_MQTT: "0",
};
let child: ChildProcess | undefined;
let out = "";
let err = "";
let rpcUrl = "";
let devnetDir = "";

interface Claim {
  imageId: string;
  state: string;
  output: string;
}
interface Run {
  imageId: string;
  epoch: string;
}
/** The devnet's database, through `mfi status --json` (which finds the running devnet by itself). */
async function status(): Promise<{ recentClaims: Claim[]; recentRuns: Run[] }> {
  const r = await mfi(["status", "--json", "--limit", "1000"], { env });
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as { recentClaims: Claim[]; recentRuns: Run[] };
}
const claims = async () => (await status()).recentClaims;
const hex = (id: string) => id.replace(/^0x/, "").toLowerCase();

beforeAll(async () => {
  const dir = join(tmp, "dev-one");
  scaffold({ name: "dev-one", dir });
  child = spawn(process.execPath, [mfiBin, "dev", dir, "--mock-proofs", "--port", "0"], {
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout!.on("data", (b) => (out += b));
  child.stderr!.on("data", (b) => (err += b));
  await waitFor(() => /\[dev\] watching /.test(out) || child!.exitCode !== null, 240_000, 200);
  expect(out, `${out}\n${err}`).toMatch(/\[dev\] watching /);
  rpcUrl = /rpc (http:\/\/\S+)/.exec(out)![1]!;
  devnetDir = JSON.parse(readFileSync(join(tmp, "mfi-devnet-last.json"), "utf8")).dir as string;
}, 300_000);
afterAll(async () => {
  if (child && child.exitCode === null) {
    const exited = new Promise((r) => child!.once("exit", r));
    child.kill("SIGINT");
    await Promise.race([exited, new Promise((r) => setTimeout(r, 30_000))]);
    if (child.exitCode === null) child.kill("SIGKILL");
  }
  rmSync(tmp, { recursive: true, force: true });
}, 60_000);

describe("a running devnet", () => {
  it("runs and pays an applet `mfi deploy` registered, with no flag beyond --rpc and --key", async () => {
    const dir = join(tmp, "deployed-two");
    scaffold({ name: "deployed-two", dir });
    // another program than dev-one's (the same bytes would be the same imageId)
    const src = join(dir, "assembly", "index.ts");
    writeFileSync(
      src,
      readFileSync(src, "utf8").replace("sum += readingValue(r, 0);", "sum += 2 * readingValue(r, 0);"),
    );
    const r = await mfi(["deploy", dir, "--rpc", rpcUrl, "--key", ADMIN_KEY, "--json"], { env, cwd: tmp });
    expect(r.code, r.stderr).toBe(0);
    const res = JSON.parse(r.stdout) as { imageId: string; worker: { database: string; fromMs: number } | null };
    expect(res.worker?.database).toMatch(/machinefi\.sqlite$/);
    expect(r.stderr).toMatch(/registering with the MockVerifier/);
    expect(r.stderr).toMatch(/handed to the worker \(the running devnet's database .*\): it runs deployed-two from/);
    expect(r.stderr).not.toMatch(/next: no worker/);

    // Its first epoch is the one running at the hand-over: within two more epochs its claims are proved and paid.
    await waitFor(
      async () => (await claims()).some((c) => hex(c.imageId) === hex(res.imageId) && c.state === "paid"),
      240_000,
      1000,
    ).catch(async (e: Error) => {
      const st = await mfi(["status", "--json", "--limit", "20"], { env });
      throw new Error(
        `${e.message}\n--- mfi dev:\n${out.slice(-4000)}\n${err.slice(-2000)}\n--- status:\n${st.stdout.slice(0, 6000)}`,
      );
    });
    const mine = (await claims()).filter((c) => hex(c.imageId) === hex(res.imageId));
    expect(
      mine.some((c) => c.state === "paid" && BigInt(c.output) > 0n),
      JSON.stringify(mine),
    ).toBe(true);

    // Deployed again (already registered): handed over again, nothing sent, and said so.
    const again = await mfi(["deploy", dir, "--rpc", rpcUrl, "--key", ADMIN_KEY, "--json"], { env, cwd: tmp });
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ alreadyRegistered: true, txHash: null });
    expect(again.stderr).toMatch(/handed to the worker/);
  }, 600_000);

  it("each save retires the version before it: one version runs for new epochs, old claims settle, then paused on L1", async () => {
    const src = join(tmp, "dev-one", "assembly", "index.ts");
    const original = readFileSync(src, "utf8");
    const versions = () =>
      [...out.matchAll(/applet dev-one registered on L1: imageId ([0-9a-f]{16})/g)].map((m) => m[1]!);
    expect(versions()).toHaveLength(1);
    for (const [i, k] of [3, 4, 5].entries()) {
      writeFileSync(src, original.replace("sum += readingValue(r, 0);", `sum += ${k} * readingValue(r, 0);`));
      await waitFor(() => versions().length === i + 2 || child!.exitCode !== null, 180_000, 200);
      expect(versions(), out.slice(-3000)).toHaveLength(i + 2);
      await waitFor(() => (out.match(/\[dev\] retired dev-one@/g) ?? []).length === i + 1, 30_000, 200);
    }
    const [v1, v2, v3, v4] = versions() as [string, string, string, string];
    const retiredAt = Date.now();
    const isOld = (id: string) => [v1, v2, v3].some((v) => hex(id).startsWith(v));

    // Three epochs on, the newest version runs and is paid; none of the old ones ran an epoch that started after.
    await waitFor(
      async () => (await claims()).some((c) => hex(c.imageId).startsWith(v4) && c.state === "paid"),
      240_000,
      1000,
    );
    await new Promise((r) => setTimeout(r, 3 * EPOCH_MS));
    const st = await status();
    // one version per epoch: every epoch any version of dev-one ran was run by one version only
    const byEpoch = new Map<string, Set<string>>();
    for (const r of st.recentRuns.filter((r) => versions().some((v) => hex(r.imageId).startsWith(v))))
      byEpoch.set(r.epoch, (byEpoch.get(r.epoch) ?? new Set()).add(r.imageId));
    const twice = [...byEpoch].filter(([, ids]) => ids.size > 1);
    expect(twice, JSON.stringify(twice.map(([e, ids]) => [e, [...ids]]))).toEqual([]);
    const lateOld = st.recentRuns.filter((r) => isOld(r.imageId) && Number(BigInt(r.epoch) >> 32n) >= retiredAt);
    expect(lateOld, JSON.stringify(lateOld)).toEqual([]);
    // their claims made before the retirement settled (none failed for the pause: it waits for them)
    expect(st.recentClaims.filter((c) => isOld(c.imageId) && c.state === "failed")).toEqual([]);

    // Paused on L1 once their claims settled; the newest is not.
    await waitFor(() => (out.match(/\[dev\] dev-one@\w+ paused on L1/g) ?? []).length === 3, 120_000, 500);
    const ids = st.recentClaims.map((c) => `0x${hex(c.imageId)}`);
    const full = (v: string) => ids.find((id) => id.startsWith(`0x${v}`))!;
    const paused = await withAppletRegistry(
      { rpcUrl, manifestDir: join(devnetDir, "deployments") },
      async ({ applets }) =>
        Promise.all(
          [v1, v4].map(async (v) => ((await applets.getFunction("appletOf")(full(v))) as { paused: boolean }).paused),
        ),
    );
    expect(paused).toEqual([true, false]);

    // An undo (the first version saved again) resumes it on L1 and in the worker, and retires the newest.
    writeFileSync(src, original);
    await waitFor(() => /resumed on L1/.test(out) || child!.exitCode !== null, 180_000, 200);
    await waitFor(() => (out.match(/\[dev\] retired dev-one@/g) ?? []).length === 4, 30_000, 200);
    const undoneAt = Date.now();
    await waitFor(
      async () =>
        (await status()).recentRuns.some(
          (r) => hex(r.imageId).startsWith(v1) && Number(BigInt(r.epoch) >> 32n) >= undoneAt,
        ),
      240_000,
      1000,
    );
  }, 1_200_000);
});
