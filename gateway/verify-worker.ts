/** Worker thread body of the verifier pool: builds the gateway's EdDSA backend by name, then hashes and verifies. */
import { parentPort, workerData } from "node:worker_threads";
import { loadBackendByName } from "../device-sdk/index.ts";
import { checkItems, packResults, unpackChecks, type CheckItem, type CheckResult } from "./check.ts";

const { backendName } = workerData as { backendName: string };
const backend = await loadBackendByName(backendName);

parentPort!.on("message", (msg: { id: number; items?: CheckItem[]; packed?: BigUint64Array }) => {
  let results: CheckResult[] | undefined;
  let error: string | undefined;
  try {
    results = checkItems(backend, msg.packed ? unpackChecks(msg.packed) : msg.items!);
  } catch (e) {
    error = (e as Error).message;
  }
  if (msg.packed && results) {
    const packed = packResults(results);
    parentPort!.postMessage({ id: msg.id, packed }, [packed.buffer as ArrayBuffer]);
  } else parentPort!.postMessage({ id: msg.id, results, error });
});
parentPort!.postMessage({ ready: true });
