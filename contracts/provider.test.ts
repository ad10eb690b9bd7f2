import { createServer } from "node:net";
import { describe, expect, it } from "vitest";
import { ContractRevertedError } from "./errors.ts";
import { isChainUnreachable, makeProvider } from "./provider.ts";
import { toContractsError } from "./revert.ts";

/** A local port nothing listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe("isChainUnreachable", () => {
  it("is true for a real RPC endpoint that refuses the connection, raw and as the client wraps it", async () => {
    const provider = makeProvider(`http://127.0.0.1:${await closedPort()}`, 31337n);
    try {
      const err = await provider.getBlockNumber().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeDefined();
      expect(isChainUnreachable(err)).toBe(true);
      expect(isChainUnreachable(toContractsError(err, "isClaimed"))).toBe(true);
    } finally {
      provider.destroy();
    }
  });

  it("is true for ethers' transport codes, false for an answer: a revert, a bad argument, anything else", () => {
    expect(isChainUnreachable(Object.assign(new Error("request timeout"), { code: "TIMEOUT" }))).toBe(true);
    const http = (status: string) =>
      Object.assign(new Error(`server response ${status}`), { code: "SERVER_ERROR", info: { responseStatus: status } });
    expect(isChainUnreachable(http("502 Bad Gateway"))).toBe(true);
    // ethers says SERVER_ERROR for any non-2xx reply: a 4xx is the endpoint answering (a refusal, not an outage)
    expect(isChainUnreachable(http("400 Bad Request"))).toBe(false);
    expect(isChainUnreachable(http("401 Unauthorized"))).toBe(false);
    const revert = new ContractRevertedError({
      errorName: "PayoutVault__InvalidProof",
      signature: "PayoutVault__InvalidProof()",
      args: [],
      data: "0x12345678",
      cause: new Error("connect ECONNREFUSED: not the reason, the chain answered"),
    });
    expect(isChainUnreachable(revert)).toBe(false);
    expect(isChainUnreachable(Object.assign(new Error("execution reverted"), { code: "CALL_EXCEPTION" }))).toBe(false);
    expect(isChainUnreachable(new Error("invalid BigNumberish value"))).toBe(false);
    expect(isChainUnreachable(undefined)).toBe(false);
  });
});
