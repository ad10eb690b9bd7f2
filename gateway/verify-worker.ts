/** Worker thread body of the verifier pool: builds the same EdDSA backend as the gateway and verifies batches. */
import { parentPort, workerData } from "node:worker_threads";
import { loadBackendByName, type VerifyItem } from "../device-sdk/index.ts";

const { backendName } = workerData as { backendName: string };
const backend = await loadBackendByName(backendName);

parentPort!.on("message", (msg: { id: number; items: VerifyItem[] }) => {
  let results: boolean[];
  try {
    results = backend.verifyBatch(msg.items);
  } catch {
    // A backend must not throw, but if one does, nothing it was given counts as verified.
    results = msg.items.map(() => false);
  }
  parentPort!.postMessage({ id: msg.id, results });
});
parentPort!.postMessage({ ready: true });
