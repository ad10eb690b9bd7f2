/** Worker thread body of the verifier pool: builds the gateway's EdDSA backend by name, then hashes and verifies. */
import { parentPort, workerData } from "node:worker_threads";
import { loadBackendByName } from "../device-sdk/index.ts";
import { checkItems, type CheckItem, type CheckResult } from "./check.ts";

const { backendName } = workerData as { backendName: string };
const backend = await loadBackendByName(backendName);

parentPort!.on("message", (msg: { id: number; items: CheckItem[] }) => {
  let results: CheckResult[] | undefined;
  let error: string | undefined;
  try {
    results = checkItems(backend, msg.items);
  } catch (e) {
    error = (e as Error).message;
  }
  parentPort!.postMessage({ id: msg.id, results, error });
});
parentPort!.postMessage({ ready: true });
