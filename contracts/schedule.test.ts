/**
 * The epoch schedule on real anvil: AppletRegistry fixes (epochLengthMs, genesisMs) at registration, and PayoutVault
 * pays only epochs on it that have ended by chain time. Mock proofs: test/attacks/schedule.ts replays the shifted-
 * window attack with real ones.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  startDevnet,
  registerMockDevice,
  randomImageId,
  mockClaim,
  scheduledEpoch,
  TEST_GENESIS_MS,
  HOUR_MS,
  type Devnet,
} from "./fixture.ts";
import { packEpoch } from "../device-sdk/index.ts";
import type { MachinefiClient } from "./client.ts";
import { reverted } from "./expect-revert.ts";

let net: Devnet;
let admin: MachinefiClient, alice: MachinefiClient;

beforeAll(async () => {
  net = await startDevnet({ clients: 2 });
  [admin, alice] = net.clients as [MachinefiClient, MachinefiClient];
});
afterAll(() => net?.stop());

const blockTimeMs = async () => BigInt((await admin.provider.getBlock("latest"))!.timestamp) * 1000n;

describe("AppletRegistry epoch schedule", () => {
  it("defaults genesis to the registration block's time rounded down to the length, and length to one hour", async () => {
    const imageId = randomImageId();
    await admin.registerApplet({ imageId, verifier: "mock", rewardPerUnit: 1n });
    const now = await blockTimeMs();
    const a = await admin.appletOf(imageId);
    expect(a.epochLengthMs).toBe(HOUR_MS);
    expect(a.genesisMs).toBe(now - (now % HOUR_MS));
  });

  it("stores an explicit schedule", async () => {
    const imageId = randomImageId();
    await admin.registerApplet({
      imageId,
      verifier: "mock",
      rewardPerUnit: 1n,
      epochLengthMs: 60_000n,
      genesisMs: 120_000n,
    });
    expect(await admin.appletOf(imageId)).toMatchObject({ epochLengthMs: 60_000n, genesisMs: 120_000n });
  });

  it("refuses a zero or too long epoch, and a genesis off the length's multiples or past 2^48", async () => {
    const reg = (epochLengthMs: bigint, genesisMs?: bigint) =>
      admin.registerApplet({ imageId: randomImageId(), verifier: "mock", rewardPerUnit: 1n, epochLengthMs, genesisMs });
    await reverted(reg(0n), "AppletRegistry__BadEpochLength");
    await reverted(reg(1n << 32n), "AppletRegistry__BadEpochLength");
    await reverted(reg(60_000n, 90_000n), "AppletRegistry__BadGenesis");
    await reverted(reg(1024n, 1n << 48n), "AppletRegistry__BadGenesis");
  });
});

describe("PayoutVault pays only epochs on the applet's schedule", () => {
  let imageId: string;
  let deviceId: bigint;
  const L = HOUR_MS;
  const claim = (epoch: bigint) => alice.claim(mockClaim({ imageId, deviceId, epoch, output: 1n }));

  beforeAll(async () => {
    imageId = randomImageId();
    await admin.registerApplet({ imageId, verifier: "mock", rewardPerUnit: 1n, genesisMs: TEST_GENESIS_MS });
    deviceId = await registerMockDevice(alice);
  });

  it("schedule: a window shifted by 1 ms reverts PayoutVault__EpochMisaligned (the aligned one pays)", async () => {
    const startMs = TEST_GENESIS_MS + 5n * L;
    const err = await reverted(
      claim(packEpoch({ startMs: startMs - 1n, lengthMs: L })),
      "PayoutVault__EpochMisaligned",
    );
    expect(err.args.slice(1)).toEqual([startMs - 1n, TEST_GENESIS_MS, L]);
    await reverted(claim(packEpoch({ startMs: startMs + 1n, lengthMs: L })), "PayoutVault__EpochMisaligned");
    expect((await claim(packEpoch({ startMs, lengthMs: L }))).paid.epoch).toBe(scheduledEpoch(5n));
  });

  it("schedule: a window of another length reverts PayoutVault__WrongEpochLength", async () => {
    const err = await reverted(
      claim(packEpoch({ startMs: TEST_GENESIS_MS, lengthMs: 2n * L })),
      "PayoutVault__WrongEpochLength",
    );
    expect(err.args.slice(1)).toEqual([2n * L, L]);
    await reverted(claim(packEpoch({ startMs: TEST_GENESIS_MS, lengthMs: L - 1n })), "PayoutVault__WrongEpochLength");
  });

  it("schedule: an epoch before genesis reverts PayoutVault__EpochBeforeGenesis", async () => {
    await reverted(claim(packEpoch({ startMs: TEST_GENESIS_MS - L, lengthMs: L })), "PayoutVault__EpochBeforeGenesis");
  });

  it("schedule: an epoch that has not ended by block time reverts PayoutVault__EpochNotEnded; it pays once ended", async () => {
    // the epoch ends exactly at the next block's timestamp: one block earlier it has not ended
    const now = await blockTimeMs();
    const startMs = now - (now % L) + L; // the next epoch: ends one hour after it starts
    const epoch = packEpoch({ startMs, lengthMs: L });
    const endS = Number((startMs + L) / 1000n);
    await admin.provider.send("evm_setNextBlockTimestamp", [endS - 1]);
    const err = await reverted(claim(epoch), "PayoutVault__EpochNotEnded");
    expect(err.args.slice(1)).toEqual([startMs + L, BigInt(endS - 1) * 1000n]);
    await admin.provider.send("evm_setNextBlockTimestamp", [endS]);
    expect((await claim(epoch)).paid.epoch).toBe(epoch);
  });
});
