/**
 * Stateful applets: state under constant keys enters the claim template as private slots committed by stateInHash
 * and leaves as stateOutHash (state-commit.ts). Differential over consecutive epochs (fast-check, K = 4): each epoch
 * runs in the runtime with the state the previous one left; where it claims, the template's claim, stateInHash and
 * stateOutHash equal the runtime's claim and the commitments of its state before and after; an empty epoch claims
 * nothing and leaves the state as it was (nothing to prove, the next epoch starts from the same commitment).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { paramConfig, type AppletState } from "../../runtime/index.ts";
import { runApplet } from "../../toolchain/index.ts";
import { buildCircom, computeWitness } from "./circom-run.ts";
import { caseArb, claimInput, fixture, type Case } from "./differential.ts";
import { compileApplet, NotProvableError, stateCommitment, stateSlots } from "./index.ts";

const K = 4;

async function runEpoch(wasm: Uint8Array, c: Case, state: AppletState) {
  const readings = c.ts.map((ts, i) => ({ deviceId: c.deviceId, seq: c.seq0 + BigInt(i), ts, values: c.values[i]! }));
  const r = await runApplet({
    wasm,
    readings,
    epoch: { startMs: c.start, lengthMs: c.length },
    config: paramConfig(c.param),
    state,
  });
  const claims = r.decoded.claims.filter((x) => x.deviceId === c.deviceId);
  return { claim: !r.trap && claims.length === 1 ? claims[0]!.output : undefined, state: r.state };
}

/** Epochs of one device: a fixed deviceId, each epoch a case or (null) an epoch without readings. */
const epochs = (withParam: boolean) =>
  fc.array(fc.option(caseArb(K, withParam), { freq: 4 }), { minLength: 2, maxLength: 4 });

const CASES = [
  { name: "uptime-streak", hasParam: true, keys: ["62657374", "73747265616b"] },
  { name: "state-counter", hasParam: false, keys: ["6e6567", "72756e73", "746f74616c"] },
];

describe(
  "stateful applets: claim and state commitments agree with the runtime over consecutive epochs",
  {
    timeout: 600_000,
  },
  () => {
    for (const a of CASES) {
      it(`${a.name} (K = ${K}), state carried between epochs, empty epochs included`, async () => {
        const wasm = await fixture(a.name);
        const compiled = compileApplet({ wasm, k: K, hasParam: a.hasParam, stateful: true });
        expect(compiled.stateKeys).toEqual(a.keys);
        const build = await buildCircom(compiled.claimOnlyMain);
        let claimed = 0;
        let empty = 0;
        let carried = 0;
        await fc.assert(
          fc.asyncProperty(epochs(a.hasParam), fc.bigInt({ min: 1n, max: 1n << 200n }), async (es, deviceId) => {
            let state: AppletState = {};
            for (const e of es) {
              const c: Case = e
                ? { ...e, deviceId, ...(a.hasParam ? { param: 0n } : {}) }
                : {
                    deviceId,
                    seq0: 1n,
                    start: 1000n,
                    length: 10n,
                    ts: [],
                    values: [],
                    ...(a.hasParam ? { param: 0n } : {}),
                  };
              const before = state[deviceId.toString()];
              const r = await runEpoch(wasm, c, state);
              if (!c.ts.length) {
                empty++;
                expect(r.claim).toBeUndefined();
                expect(r.state[deviceId.toString()]).toEqual(before);
                continue;
              }
              if (before) carried++;
              const input = { ...claimInput(c, K), stateIn: stateSlots(a.keys, before).map(String) };
              const w = await computeWitness(build, input);
              expect(w[1]).toBe(r.claim);
              expect(w[2]).toBe(stateCommitment(a.keys, before));
              expect(w[3]).toBe(stateCommitment(a.keys, r.state[deviceId.toString()]));
              claimed++;
              state = r.state;
            }
          }),
          { numRuns: 12, seed: 18 },
        );
        expect(claimed).toBeGreaterThan(10);
        expect(empty).toBeGreaterThan(0);
        expect(carried).toBeGreaterThan(5);
      });
    }

    it("a key that depends on the readings is refused, naming state", async () => {
      const wasm = await fixture("state-data-key");
      let err: unknown;
      try {
        compileApplet({ wasm, k: 4, stateful: true });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(NotProvableError);
      expect((err as NotProvableError).reason).toBe("StatefulApplet");
      expect((err as NotProvableError).message).toMatch(/key whose (bytes|address or length) depend/);
    });
  },
);
