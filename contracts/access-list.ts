/**
 * EIP-2930 access lists for our own transactions: the node simulates the call (eth_createAccessList) and says which
 * accounts and storage slots it touches; declaring them up front costs 2,400 gas an account and 1,900 a slot, and
 * their first touch is then warm (100), against 2,600 and 2,100 cold: 100 saved an account and 100 a slot read first
 * (200 a slot written first). Only entries that pay for themselves are kept: an account the transaction warms anyway
 * (its sender, its target, a precompile) saves nothing as an account, so it is declared only when its slots save
 * more than the 2,400 it costs (over 24 slots at 100).
 */
import type { AccessList, JsonRpcProvider, TransactionRequest } from "ethers";

const ACCOUNT_COST = 2_400;
/** The least a declared slot saves (read first: 2,100 cold vs 1,900 + 100 warm; written first it saves 200). */
const SLOT_SAVING = 100;
/** What a declared cold account saves (2,600 vs 2,400 + 100). */
const ACCOUNT_SAVING = 100;

/** Entries worth declaring, given the accounts the transaction warms anyway. */
export function profitableEntries(list: AccessList, warm: readonly string[]): AccessList {
  const isWarm = new Set(warm.map((a) => a.toLowerCase()));
  return list.filter((e) => {
    const address = e.address.toLowerCase();
    // precompiles 0x01–0x0a (and any low address) are always warm
    if (BigInt(address) <= 0xffn) return false;
    const slots = SLOT_SAVING * e.storageKeys.length;
    // a cold account declared saves 100 and each of its slots at least 100; a warm one's slots must repay its 2,400
    return isWarm.has(address) ? slots > ACCOUNT_COST : slots + ACCOUNT_SAVING > 0;
  });
}

/**
 * The access list worth sending with `tx` (from `from`), or undefined when the node cannot make one (no
 * eth_createAccessList, or the call reverts: the send then fails with the contract's own error as without a list).
 */
export async function accessListFor(
  provider: JsonRpcProvider,
  tx: TransactionRequest & { to: string },
  from: string,
): Promise<AccessList | undefined> {
  try {
    const r = (await provider.send("eth_createAccessList", [
      { from, to: tx.to, data: tx.data, value: tx.value ? `0x${BigInt(tx.value).toString(16)}` : undefined },
      "latest",
    ])) as { accessList?: AccessList; error?: string };
    if (!r?.accessList || r.error) return undefined;
    const list = profitableEntries(r.accessList, [from, tx.to]);
    return list.length > 0 ? list : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The gas limit for a transaction sent with an access list: the node's estimate (made with the list) and 10% more. A
 * declared slot the transaction no longer touches when it is included (the state moved: a device sold to an owner
 * whose balance slot was not the one declared) leaves a cold touch the estimate did not count (+2,000).
 */
export function gasWithListMargin(estimate: bigint): bigint {
  return estimate + estimate / 10n;
}

/**
 * `req` with the node's access list worth declaring and a gas limit estimated with it (gasWithListMargin), or `req`
 * as it is when no list pays for itself or the node cannot make one. What every sender of ours sends.
 */
export async function withAccessList<T extends TransactionRequest & { to: string }>(
  provider: JsonRpcProvider,
  req: T,
  from: string,
): Promise<T | (T & { accessList: AccessList; gasLimit: bigint })> {
  const accessList = await accessListFor(provider, req, from);
  if (!accessList) return req;
  return { ...req, accessList, gasLimit: gasWithListMargin(await provider.estimateGas({ ...req, from, accessList })) };
}
