/**
 * Ports a role does not use: the scheduler neither runs, proves nor pays, a runner never proves nor pays, a prover
 * never runs nor pays, the submitter never runs nor proves. Each refuses with the reason, so a miswired role fails loudly instead of doing
 * another role's work.
 */
import type { ChainPort, ProvePort, RunPort } from "../ports.ts";

const refuse = (role: string, what: string) => () => {
  throw new Error(`the ${role} role does not ${what}`);
};

export const noRun =
  (role: string): RunPort =>
  async () =>
    refuse(role, "run applets")();
export const noProve =
  (role: string): ProvePort =>
  async () =>
    refuse(role, "prove claims")();
export const noChain = (role: string): ChainPort => ({
  isClaimed: async () => refuse(role, "read the vault")(),
  submit: async () => refuse(role, "send claims")(),
  waitPaid: async () => refuse(role, "wait for payments")(),
});

/**
 * A chain port for reads only (the scheduler and runners ask for device keys and applet states, issue 18): sending
 * and waiting for payments refuse. Absent, the role reads nothing on chain (noChain).
 */
export const readOnly = (chain: ChainPort | undefined, role: string): ChainPort =>
  chain ? { ...chain, submit: noChain(role).submit, waitPaid: noChain(role).waitPaid } : noChain(role);
