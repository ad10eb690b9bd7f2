/** Gas accounting from an opcode trace (anvil's debug_traceTransaction): what one external call cost its caller. */
import type { JsonRpcProvider } from "ethers";

interface Step {
  op: string;
  gas: number;
  depth: number;
  stack?: string[];
}

/**
 * Gas each call from a frame at `depth` to `target` cost that frame, summed: from just before the CALL/STATICCALL
 * (so the cold-account charge and memory expansion are included) to the next step back at that depth.
 */
export async function callGas(
  provider: JsonRpcProvider,
  txHash: string,
  target: string,
  depth?: number,
): Promise<{ total: number; calls: number[] }> {
  const trace = (await provider.send("debug_traceTransaction", [
    txHash,
    { disableStorage: true, disableMemory: true, enableReturnData: false },
  ])) as { structLogs: Step[] };
  const steps = trace.structLogs;
  const want = BigInt(target);
  const calls: number[] = [];
  for (let i = 0; i < steps.length; i++) {
    const s = steps[i]!;
    if (s.op !== "STATICCALL" && s.op !== "CALL") continue;
    if (depth !== undefined && s.depth !== depth) continue;
    const st = s.stack ?? [];
    if (st.length < 2 || BigInt(st[st.length - 2]!) !== want) continue;
    let j = i + 1;
    while (j < steps.length && steps[j]!.depth !== s.depth) j++;
    if (j < steps.length) calls.push(s.gas - steps[j]!.gas);
  }
  return { total: calls.reduce((a, b) => a + b, 0), calls };
}

/** BN254 precompile cost (EIP-1108) of a snarkjs Groth16 verification with n public signals: the floor. */
export function groth16PrecompileFloor(nPublic: number): number {
  const pairing = 45_000 + 34_000 * 4;
  return pairing + nPublic * (6_000 + 150);
}
