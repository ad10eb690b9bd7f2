/**
 * Turns whatever ethers throws for a reverted call into a typed ContractRevertedError, using every compiled ABI
 * (ours and OpenZeppelin's errors) and the contracts' NatSpec notices.
 */
import { Interface, type ErrorFragment } from "ethers";
import { loadArtifacts } from "./artifacts.ts";
import { ContractRevertedError, ContractsError, UnknownRevertError } from "./errors.ts";

interface Known {
  fragment: ErrorFragment;
  notice?: string;
}
let table: Map<string, Known> | undefined;

function errorTable(): Map<string, Known> {
  if (table) return table;
  table = new Map();
  for (const art of Object.values(loadArtifacts().contracts)) {
    const iface = new Interface(art.abi as never);
    iface.forEachError((fragment) => {
      const prev = table!.get(fragment.selector);
      const notice = art.errorNotices[fragment.format("sighash")] ?? prev?.notice;
      table!.set(fragment.selector, { fragment, notice });
    });
  }
  return table;
}

/** Revert data (0x-hex) carried somewhere in an ethers / JSON-RPC error, if any. */
export function findRevertData(err: unknown, depth = 0): string | undefined {
  if (!err || typeof err !== "object" || depth > 6) return undefined;
  const e = err as Record<string, unknown>;
  if (typeof e.data === "string" && /^0x[0-9a-fA-F]{8}/.test(e.data)) return e.data;
  for (const key of ["data", "error", "info", "cause", "revert"]) {
    const found = findRevertData(e[key], depth + 1);
    if (found) return found;
  }
  return undefined;
}

/** Decodes revert data into a ContractRevertedError, or undefined when the selector is not ours. */
export function decodeRevertData(data: string, cause?: unknown): ContractRevertedError | undefined {
  const known = errorTable().get(data.slice(0, 10).toLowerCase());
  if (!known) return undefined;
  const iface = new Interface([known.fragment]);
  const args = [...iface.decodeErrorResult(known.fragment, data)];
  let inner: ContractRevertedError | undefined;
  if (known.fragment.name === "PayoutVault__BatchItemFailed" && typeof args[1] === "string")
    inner = decodeRevertData(args[1]);
  return new ContractRevertedError({
    errorName: known.fragment.name,
    signature: known.fragment.format("sighash"),
    args,
    notice: known.notice,
    data,
    inner,
    cause,
  });
}

/** Normalises any error from a contract call: typed revert, unknown revert, or a ContractsError wrapping it. */
export function toContractsError(err: unknown, action: string): ContractsError {
  if (err instanceof ContractsError) return err;
  const data = findRevertData(err);
  if (data) {
    const decoded = decodeRevertData(data, err);
    if (decoded) return decoded;
  }
  const code = (err as { code?: string })?.code;
  const short = (err as { shortMessage?: string })?.shortMessage ?? (err as Error)?.message ?? String(err);
  if (code === "CALL_EXCEPTION") {
    return new UnknownRevertError(`${action} reverted without a known custom error`, {
      details: data ? `revert data ${data.slice(0, 200)}` : short,
      metaMessages: ["Out of gas or a panic: try a higher gas limit, then check the arguments."],
      cause: err,
    });
  }
  return new ContractsError(`${action} failed: ${short}`, { cause: err });
}
