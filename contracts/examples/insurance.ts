/**
 * Client for the example consumer ParametricInsurance (contracts/examples/ParametricInsurance.sol): deploy with
 * terms, fund, buy (approve + buy), claim, release, withdraw, read. Reverts become ContractRevertedError
 * (`ParametricInsurance__…`) through the contracts layer's decoder. An example, not part of contracts/index.ts.
 */
import { Contract, ContractFactory, type ContractTransactionReceipt } from "ethers";
import { getArtifact, toContractsError, type MachinefiClient } from "../index.ts";

export const Trigger = { AtLeast: 0, AtMost: 1 } as const;
export const PolicyStatus = ["None", "Active", "PaidOut", "Released"] as const;

export interface InsuranceTerms {
  /** The applet whose proven facts count (pinned: facts of other applets are never read). */
  imageId: string;
  trigger: (typeof Trigger)[keyof typeof Trigger];
  line: bigint;
  epochLengthMs: bigint;
  premiumPerEpoch: bigint;
  payout: bigint;
  maxEpochs: number;
  /** Seconds after cover ends during which epochs may still be proven and claimed. */
  claimWindow: bigint;
}

export interface Policy {
  holder: string;
  status: (typeof PolicyStatus)[number];
  startMs: bigint;
  endMs: bigint;
  deviceId: bigint;
}

export interface InsuranceClient {
  address: string;
  contract: Contract;
  fund(amount: bigint): Promise<void>;
  withdraw(amount: bigint, to?: string): Promise<void>;
  /** Approves the premium, then buys cover for `epochs` epochs from `startMs`. */
  buy(p: {
    deviceId: bigint;
    startMs: bigint;
    epochs: number;
  }): Promise<{ policyId: bigint; premium: bigint; endMs: bigint }>;
  claim(p: { policyId: bigint; epoch: bigint }): Promise<{ output: bigint; payout: bigint; gasUsed: bigint }>;
  release(policyId: bigint): Promise<void>;
  policyOf(policyId: bigint): Promise<Policy>;
  freeCapital(): Promise<bigint>;
  reserved(): Promise<bigint>;
}

const signerOf = (client: MachinefiClient) => client.contracts.devices.runner as never;

/** Deploys ParametricInsurance reading `client`'s PayoutVault; the deployer is the underwriter. */
export async function deployInsurance(
  client: MachinefiClient,
  p: { token: string; terms: InsuranceTerms; expectedParam?: bigint },
): Promise<string> {
  const art = getArtifact("ParametricInsurance");
  const t = p.terms;
  const terms = [
    t.imageId,
    t.trigger,
    t.line,
    t.epochLengthMs,
    t.premiumPerEpoch,
    t.payout,
    t.maxEpochs,
    t.claimWindow,
  ];
  try {
    const c = await new ContractFactory(art.abi as never, art.bytecode, signerOf(client)).deploy(
      client.manifest.contracts.PayoutVault,
      client.manifest.contracts.AppletRegistry,
      p.token,
      terms,
      p.expectedParam ?? 0n,
    );
    await c.waitForDeployment();
    return c.getAddress();
  } catch (err) {
    throw toContractsError(err, "ParametricInsurance.constructor");
  }
}

export function createInsuranceClient(client: MachinefiClient, address: string): InsuranceClient {
  const signer = signerOf(client);
  const ins = new Contract(address, getArtifact("ParametricInsurance").abi as never, signer);
  const erc20Abi = getArtifact("DevToken").abi as never;
  async function tx(method: string, args: unknown[]): Promise<ContractTransactionReceipt> {
    try {
      return (await (await ins.getFunction(method).send(...args)).wait())!;
    } catch (err) {
      throw toContractsError(err, `ParametricInsurance.${method}`);
    }
  }
  function event(r: ContractTransactionReceipt, name: string) {
    for (const log of r.logs) {
      if (log.address.toLowerCase() !== address.toLowerCase()) continue;
      const parsed = ins.interface.parseLog(log);
      if (parsed?.name === name) return parsed.args;
    }
    throw new Error(`${name} event missing from the transaction`);
  }
  async function approve(amount: bigint): Promise<void> {
    const token = new Contract((await ins.getFunction("token")()) as string, erc20Abi, signer);
    try {
      await (await token.getFunction("approve")(address, amount)).wait();
    } catch (err) {
      throw toContractsError(err, "ERC20.approve");
    }
  }
  return {
    address,
    contract: ins,
    async fund(amount) {
      await approve(amount);
      await tx("fund", [amount]);
    },
    async withdraw(amount, to = client.address) {
      await tx("withdraw", [amount, to]);
    },
    async buy(p) {
      const premium = ((await ins.getFunction("premiumPerEpoch")()) as bigint) * BigInt(p.epochs);
      await approve(premium);
      const a = event(await tx("buy", [p.deviceId, p.startMs, p.epochs]), "PolicyBought");
      return { policyId: a[0] as bigint, endMs: a[4] as bigint, premium: a[5] as bigint };
    },
    async claim(p) {
      const r = await tx("claim", [p.policyId, p.epoch]);
      const a = event(r, "PolicyPaidOut");
      return { output: a[3] as bigint, payout: a[4] as bigint, gasUsed: r.gasUsed };
    },
    async release(policyId) {
      await tx("release", [policyId]);
    },
    async policyOf(policyId) {
      const p = (await ins.getFunction("policyOf")(policyId)) as [string, bigint, bigint, bigint, bigint];
      return { holder: p[0], status: PolicyStatus[Number(p[1])]!, startMs: p[2], endMs: p[3], deviceId: p[4] };
    },
    freeCapital: () => ins.getFunction("freeCapital")() as Promise<bigint>,
    reserved: () => ins.getFunction("reserved")() as Promise<bigint>,
  };
}
