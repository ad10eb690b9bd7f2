/**
 * Typed client (ethers v6) for the deployed contracts, used by the submitter, CLI and tests. Every write waits for
 * its receipt; every failure becomes a ContractsError, reverts a ContractRevertedError named after the custom error.
 * Writes from one client are serialised so nonces never race.
 */
import { parseImageId, type ImageId } from "../core/index.ts";
import {
  Contract,
  ZeroAddress,
  type AccessList,
  type ContractTransactionReceipt,
  type JsonRpcProvider,
  type Wallet,
} from "ethers";
import { getArtifact } from "./artifacts.ts";
import type { DeploymentManifest } from "./deploy.ts";
import { ContractsError } from "./errors.ts";
import { encodeClaimProof, type ClaimProof, type ClaimValues, type Groth16Calldata } from "./proof.ts";
import { withAccessList } from "./access-list.ts";
import { makeProvider, makeWallet } from "./provider.ts";
import { DEFAULT_EPOCH_LENGTH_MS } from "../device-sdk/index.ts";
import { decodeRevertData, findRevertData, toContractsError } from "./revert.ts";
import { deployVerifier, type VerifierSource } from "./verifier-deploy.ts";

export interface TxResult {
  hash: string;
  blockNumber: number;
  gasUsed: bigint;
}
export interface ClaimInput extends ClaimValues {
  /** A proof object, or its `encodeClaimProof` hex. */
  proof: ClaimProof | string;
}
/** A stateful applet's claim (PayoutVault.claimStateful): the state commitments its proof starts and ends with. */
export interface StatefulClaimInput extends ClaimInput {
  stateIn: bigint;
  stateOut: bigint;
}
export interface PaidClaim extends ClaimValues {
  owner: string;
  reward: bigint;
}
/** An applet as AppletRegistry stores it (owner is the zero address and epochLengthMs 0 when unknown). */
export interface AppletInfo {
  rewardPerUnit: bigint;
  paused: boolean;
  hasParam: boolean;
  epochLengthMs: bigint;
  genesisMs: bigint;
  /** Pays any registered device (else only devices of the makers it accepts). */
  anyDevice: boolean;
  /** Switched to batch claims (AppletRegistry.setBatchVault; contracts/batch.ts). */
  batched: boolean;
  owner: string;
  param: bigint;
}
export interface SkippedClaim {
  imageId: string;
  deviceId: bigint;
  epoch: bigint;
}
export interface TxOverrides {
  gasLimit?: bigint;
}
/** A compiled applet's circuit for one K: its generated Groth16 verifier, deployed when the applet is registered. */
export interface CompiledVerifierSource extends VerifierSource {
  k: number;
  /** A stateful applet's circuit (issue 18): its state key count; registerApplet then marks the applet stateful. */
  stateKeys?: number;
}

export interface MachinefiClient {
  /** The signer's address. */
  address: string;
  chainId: number;
  manifest: DeploymentManifest;
  provider: JsonRpcProvider;
  contracts: { token: Contract; devices: Contract; applets: Contract; vault: Contract; makers: Contract };
  /** Self-registration with a proof of key only (maker 0): paid only by applets open to any device. */
  registerDevice(p: { deviceId: bigint; owner?: string; proof: Groth16Calldata }, o?: TxOverrides): Promise<TxResult>;
  /** The signer must be an active maker (contracts/devices.ts: admitMaker); model: its catalogue number (default 0). */
  registerDevicesBatch(
    p: { deviceIds: bigint[]; owners: string[] | string; model?: number },
    o?: TxOverrides,
  ): Promise<TxResult>;
  /** ERC-721 safeTransferFrom of the signer's device token (tokenId = the deviceId it was registered with). */
  transferDevice(p: { deviceId: bigint; to: string }): Promise<TxResult>;
  /** One transaction in this client's write queue (nonces never race), reverts decoded to ContractsErrors. */
  sendTx(contract: Contract, method: string, args: unknown[], o?: TxOverrides): Promise<ContractTransactionReceipt>;
  /**
   * verifier: `{ compiled }` (the applet's own compiled circuits, one per K: each generated verifier is compiled and
   * deployed first, its address comes back in `verifiers`), `{ reducer }` (the manifest's generated verifiers for
   * that reducer, every size), `{ verifiers }` (k → address), or `"mock"` (MockVerifier for k = 16, 64, 256; devnets
   * only). param: the applet's param (a public signal of its circuit).
   * The epoch schedule is fixed here for good: epochLengthMs (default one hour) and genesisMs (a multiple of the
   * length; default 0 = the registration block's time rounded down to one).
   * devices: which devices the applet pays, `"any"` (an open network; the default of this client, for devnets and
   * tests) or `{ makers }` (maker ids: only devices those makers registered or attested).
   */
  registerApplet(
    p: {
      imageId: string;
      verifier:
        | "mock"
        | { compiled: CompiledVerifierSource[] }
        | { reducer: string }
        | { verifiers: Record<number | string, string> };
      rewardPerUnit: bigint;
      owner?: string;
      param?: bigint;
      epochLengthMs?: bigint;
      genesisMs?: bigint;
      devices?: "any" | { makers: number[] };
      /**
       * A stateful applet (issue 18): its circuits' state key count (AppletCircuit.stateKeys.length, 1..8). After
       * registering, AppletRegistry.setStateful is sent: claims then go through claimStateful only.
       */
      stateKeys?: number;
    },
    o?: TxOverrides,
  ): Promise<TxResult & { verifiers: Record<string, string> }>;
  /** AppletRegistry.setStateful: marks a registered applet stateful with `stateKeys` keys (once; registrar). */
  setStateful(p: { imageId: string; stateKeys: number }, o?: TxOverrides): Promise<TxResult>;
  /** A stateful applet's empty-state commitment; 0n for a stateless applet. */
  emptyStateOf(imageId: string): Promise<bigint>;
  /** PayoutVault.claimStateful: the claim starts from the device's stored state, which becomes stateOut. */
  claimStateful(c: StatefulClaimInput, o?: TxOverrides): Promise<TxResult & { paid: PaidClaim }>;
  /** Where the device's next claim of a stateful applet starts (the empty state before the first) and the epoch of its last paid claim (0n: none). */
  stateOf(p: { imageId: string; deviceId: bigint }): Promise<{ state: bigint; lastEpoch: bigint }>;
  setAppletPaused(p: { imageId: string; paused: boolean }): Promise<TxResult>;
  setRewardPerUnit(p: { imageId: string; rewardPerUnit: bigint }): Promise<TxResult>;
  transferApplet(p: { imageId: string; to: string }): Promise<TxResult>;
  claim(c: ClaimInput, o?: TxOverrides): Promise<TxResult & { paid: PaidClaim }>;
  /** Items already paid (by anyone) are skipped, not reverted: they come back in `skipped`. */
  claimBatch(cs: ClaimInput[], o?: TxOverrides): Promise<TxResult & { paid: PaidClaim[]; skipped: SkippedClaim[] }>;
  balanceOf(address?: string): Promise<bigint>;
  isClaimed(p: { imageId: string; deviceId: bigint; epoch: bigint }): Promise<boolean>;
  factOf(p: { imageId: string; deviceId: bigint; epoch: bigint }): Promise<{ proven: boolean; output: bigint }>;
  deviceOf(deviceId: bigint): Promise<{ owner: string; active: boolean }>;
  appletOf(imageId: string): Promise<AppletInfo>;
  verifierOf(p: { imageId: string; k: number }): Promise<string>;
  /** Stop polling (the process can exit). */
  close(): void;
}

function bytes32(imageId: string): ImageId {
  try {
    return parseImageId(imageId);
  } catch (e) {
    throw new ContractsError((e as Error).message, { cause: e });
  }
}

export function createMachinefiClient(opts: {
  rpcUrl: string;
  privateKey: string;
  manifest: DeploymentManifest;
}): MachinefiClient {
  const { manifest } = opts;
  const provider = makeProvider(opts.rpcUrl, manifest.chainId);
  const wallet: Wallet = makeWallet(opts.privateKey, provider);
  const at = (name: string, address: string) => new Contract(address, getArtifact(name).abi as never, wallet);
  const token = at("RewardToken", manifest.contracts.RewardToken);
  const devices = at("DeviceRegistry", manifest.contracts.DeviceRegistry);
  const applets = at("AppletRegistry", manifest.contracts.AppletRegistry);
  const vault = at("PayoutVault", manifest.contracts.PayoutVault);
  // a manifest written before makers existed has none (its DeviceRegistry predates them too: redeploy)
  const makers = at("MakerRegistry", manifest.contracts.MakerRegistry ?? ZeroAddress);

  let queue: Promise<unknown> = Promise.resolve();
  /** Sends one transaction after the previous one was mined; decodes any revert (also of a mined, failed tx). */
  function send(
    contract: Contract,
    method: string,
    args: unknown[],
    o: TxOverrides = {},
  ): Promise<ContractTransactionReceipt> {
    const action = `${method}`;
    const run = async () => {
      const fn = contract.getFunction(method);
      let overrides: { accessList?: AccessList; gasLimit?: bigint } =
        o.gasLimit === undefined ? {} : { gasLimit: o.gasLimit };
      let receipt: ContractTransactionReceipt | null;
      try {
        // the node's EIP-2930 access list (cheaper first touches), unless the caller fixed the gas itself
        const req =
          o.gasLimit === undefined
            ? await fn.populateTransaction(...args).catch(() => undefined) // bad arguments: the send below says so
            : undefined;
        const listed = req && (await withAccessList(provider, req, wallet.address));
        if (listed && "accessList" in listed) overrides = { accessList: listed.accessList, gasLimit: listed.gasLimit };
        const tx = await fn.send(...args, overrides);
        receipt = await tx.wait();
      } catch (err) {
        const mined = (err as { receipt?: { blockNumber: number } }).receipt;
        if (!findRevertData(err) && mined) {
          // A mined revert carries no data: replay it on the parent block to learn the custom error.
          try {
            await fn.staticCall(...args, { ...overrides, blockTag: mined.blockNumber - 1 });
          } catch (replayErr) {
            const data = findRevertData(replayErr);
            const decoded = data ? decodeRevertData(data, err) : undefined;
            if (decoded) throw decoded;
          }
        }
        throw toContractsError(err, action);
      }
      if (!receipt) throw new ContractsError(`${action}: transaction was dropped`);
      return receipt;
    };
    return enqueue(run);
  }
  function enqueue<T>(run: () => Promise<T>): Promise<T> {
    const p = queue.then(run, run);
    queue = p.catch(() => undefined);
    return p;
  }
  const result = (r: ContractTransactionReceipt): TxResult => ({
    hash: r.hash,
    blockNumber: r.blockNumber,
    gasUsed: r.gasUsed,
  });
  async function read<T>(action: string, f: () => Promise<T>): Promise<T> {
    try {
      return await f();
    } catch (err) {
      throw toContractsError(err, action);
    }
  }
  const claimArgs = (c: ClaimInput) => [
    bytes32(c.imageId),
    c.deviceId,
    c.epoch,
    c.output,
    typeof c.proof === "string" ? c.proof : encodeClaimProof(c.proof),
  ];
  function skippedFrom(r: ContractTransactionReceipt): SkippedClaim[] {
    const out: SkippedClaim[] = [];
    for (const log of r.logs) {
      if (log.address.toLowerCase() !== manifest.contracts.PayoutVault.toLowerCase()) continue;
      const parsed = vault.interface.parseLog(log);
      if (parsed?.name !== "ClaimSkipped") continue;
      const [imageId, deviceId, epoch] = parsed.args as unknown as [string, bigint, bigint];
      out.push({ imageId, deviceId, epoch });
    }
    return out;
  }
  function paidFrom(r: ContractTransactionReceipt): PaidClaim[] {
    const out: PaidClaim[] = [];
    for (const log of r.logs) {
      if (log.address.toLowerCase() !== manifest.contracts.PayoutVault.toLowerCase()) continue;
      const parsed = vault.interface.parseLog(log);
      if (parsed?.name !== "ClaimPaid") continue;
      const [imageId, deviceId, epoch, owner, output, reward] = parsed.args as unknown as [
        string,
        bigint,
        bigint,
        string,
        bigint,
        bigint,
      ];
      out.push({ imageId, deviceId, epoch, owner, output, reward });
    }
    return out;
  }

  return {
    address: wallet.address,
    chainId: manifest.chainId,
    manifest,
    provider,
    contracts: { token, devices, applets, vault, makers },
    sendTx: (contract, method, args, o) => send(contract, method, args, o),
    async registerDevice(p, o) {
      const { a, b, c } = p.proof;
      return result(await send(devices, "registerDevice", [p.deviceId, p.owner ?? wallet.address, a, b, c], o));
    },
    async registerDevicesBatch(p, o) {
      const owners = typeof p.owners === "string" ? p.deviceIds.map(() => p.owners as string) : p.owners;
      return result(await send(devices, "registerDevicesBatch", [p.model ?? 0, p.deviceIds, owners], o));
    },
    async transferDevice(p) {
      const args = [wallet.address, p.to, p.deviceId];
      return result(await send(devices, "safeTransferFrom(address,address,uint256)", args));
    },
    async registerApplet(p, o) {
      let byK: Record<string, string>;
      if (p.verifier === "mock") {
        const mock = manifest.contracts.MockVerifier;
        if (!mock) throw new ContractsError("this deployment has no MockVerifier (devnets only)");
        byK = { 16: mock, 64: mock, 256: mock };
      } else if ("reducer" in p.verifier) {
        const r = manifest.reducers[p.verifier.reducer];
        if (!r)
          throw new ContractsError(`no generated verifiers for reducer ${p.verifier.reducer}`, {
            metaMessages: [
              `Deployed reducers: ${Object.keys(manifest.reducers).join(", ") || "none (build the circuits, then deploy again)"}`,
            ],
          });
        byK = r.verifiers;
      } else if ("compiled" in p.verifier) {
        if (p.verifier.compiled.length === 0)
          throw new ContractsError("registerApplet: compiled needs at least one circuit (one per K)");
        byK = {};
        for (const v of p.verifier.compiled) {
          // Deployed in the write queue: a deployment's nonce never races another write of this client.
          byK[String(v.k)] = await enqueue(() => deployVerifier(wallet, v)).catch((err: unknown) => {
            throw toContractsError(err, `deploy Groth16Verifier_${v.name}`);
          });
        }
      } else byK = Object.fromEntries(Object.entries(p.verifier.verifiers));
      const ks = Object.keys(byK).map((k) => BigInt(k));
      const args = [
        bytes32(p.imageId),
        ks,
        ks.map((k) => byK[k.toString()]),
        p.rewardPerUnit,
        p.owner ?? wallet.address,
        p.param !== undefined,
        p.param ?? 0n,
        p.epochLengthMs ?? DEFAULT_EPOCH_LENGTH_MS,
        p.genesisMs ?? 0n,
        p.devices === undefined || p.devices === "any",
        p.devices === undefined || p.devices === "any" ? [] : p.devices.makers,
      ];
      const registered = result(await send(applets, "registerApplet", args, o));
      const stateKeys =
        p.stateKeys ??
        (typeof p.verifier === "object" && "compiled" in p.verifier
          ? p.verifier.compiled.find((v) => v.stateKeys)?.stateKeys
          : undefined);
      if (stateKeys !== undefined) await send(applets, "setStateful", [bytes32(p.imageId), stateKeys]);
      return { ...registered, verifiers: byK };
    },
    async setStateful(p, o) {
      return result(await send(applets, "setStateful", [bytes32(p.imageId), p.stateKeys], o));
    },
    emptyStateOf: (imageId) =>
      read("emptyStateOf", async () => (await applets.getFunction("emptyStateOf")(bytes32(imageId))) as bigint),
    async claimStateful(c, o) {
      const [imageId, deviceId, epoch, output, proof] = claimArgs(c);
      const r = await send(vault, "claimStateful", [imageId, deviceId, epoch, output, c.stateIn, c.stateOut, proof], o);
      return { ...result(r), paid: paidFrom(r)[0]! };
    },
    stateOf: (p) =>
      read("stateOf", async () => {
        const [state, lastEpoch] = (await vault.getFunction("stateOf")(bytes32(p.imageId), p.deviceId)) as [
          bigint,
          bigint,
        ];
        return { state, lastEpoch };
      }),
    async setAppletPaused(p) {
      return result(await send(applets, "setPaused", [bytes32(p.imageId), p.paused]));
    },
    async setRewardPerUnit(p) {
      return result(await send(applets, "setRewardPerUnit", [bytes32(p.imageId), p.rewardPerUnit]));
    },
    async transferApplet(p) {
      return result(await send(applets, "transferApplet", [bytes32(p.imageId), p.to]));
    },
    async claim(c, o) {
      const r = await send(vault, "claim", claimArgs(c), o);
      return { ...result(r), paid: paidFrom(r)[0]! };
    },
    async claimBatch(cs, o) {
      const items = cs.map((c) => {
        const [imageId, deviceId, epoch, output, proof] = claimArgs(c);
        return { imageId, deviceId, epoch, output, proof };
      });
      const r = await send(vault, "claimBatch", [items], o);
      return { ...result(r), paid: paidFrom(r), skipped: skippedFrom(r) };
    },
    balanceOf: (address) =>
      read("balanceOf", async () => (await token.getFunction("balanceOf")(address ?? wallet.address)) as bigint),
    isClaimed: (p) =>
      read(
        "isClaimed",
        async () => (await vault.getFunction("isClaimed")(bytes32(p.imageId), p.deviceId, p.epoch)) as boolean,
      ),
    factOf: (p) =>
      read("factOf", async () => {
        const [proven, output] = (await vault.getFunction("factOf")(bytes32(p.imageId), p.deviceId, p.epoch)) as [
          boolean,
          bigint,
        ];
        return { proven, output };
      }),
    deviceOf: (deviceId) =>
      read("deviceOf", async () => {
        const [owner, active] = (await devices.getFunction("deviceOf")(deviceId)) as [string, boolean];
        return { owner, active };
      }),
    appletOf: (imageId) =>
      read("appletOf", async () => {
        const a = (await applets.getFunction("appletOf")(bytes32(imageId))) as unknown as [
          bigint,
          boolean,
          boolean,
          bigint,
          bigint,
          boolean,
          bigint,
          boolean,
          string,
          bigint,
        ];
        return {
          rewardPerUnit: a[0],
          paused: a[1],
          hasParam: a[2],
          epochLengthMs: a[3],
          genesisMs: a[4],
          anyDevice: a[5],
          batched: a[7],
          owner: a[8],
          param: a[9],
        };
      }),
    verifierOf: (p) =>
      read("verifierOf", async () => (await applets.getFunction("verifierOf")(bytes32(p.imageId), p.k)) as string),
    close: () => provider.destroy(),
  };
}
