/**
 * Node-only parts of the SDK (separate entry so the core stays portable): a file-backed DeviceStorage that survives
 * crashes (write temp, fsync, rename, fsync dir) and a key file helper.
 */
import { mkdirSync, openSync, closeSync, fsyncSync, existsSync, readFileSync } from "node:fs";
import { open, readFile, rename } from "node:fs/promises";
import { dirname } from "node:path";
import type { EddsaBackend } from "./eddsa-api.ts";
import { SdkError } from "./errors.ts";
import { bytesToHex, generatePrivateKey, loadDeviceKey, type DeviceKey } from "./keys.ts";
import type { DeviceStorage, PersistedState } from "./storage.ts";

async function writeDurably(path: string, data: string, mode = 0o600): Promise<void> {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp`;
  const fh = await open(tmp, "w", mode);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
  // The rename itself must reach the disk, or a power cut can bring back the old file.
  const dfd = openSync(dirname(path), "r");
  try {
    fsyncSync(dfd);
  } finally {
    closeSync(dfd);
  }
}

/** DeviceStorage in one JSON file; a save is durable when its promise resolves. */
export function fileStorage(path: string): DeviceStorage {
  return {
    async load() {
      let text: string;
      try {
        text = await readFile(path, "utf8");
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
        throw e;
      }
      try {
        const s = JSON.parse(text) as PersistedState;
        if (s.version !== 1) throw new Error(`unknown version ${String(s.version)}`);
        return s;
      } catch (e) {
        throw new SdkError(`device state file ${path} is corrupt`, {
          cause: e,
          details: (e as Error).message,
          metaMessages: [
            "Restore it from a backup; deleting it restarts the chain at seq 1, which the gateway will refuse.",
          ],
        });
      }
    },
    save: (state: PersistedState) => writeDurably(path, JSON.stringify(state)),
  };
}

/** Load the device key from a hex file, creating a fresh one (mode 0600) if the file does not exist. */
export async function loadOrCreateKeyFile(path: string, backend: EddsaBackend): Promise<DeviceKey> {
  if (existsSync(path)) return loadDeviceKey(backend, readFileSync(path, "utf8"));
  const key = generatePrivateKey();
  await writeDurably(path, bytesToHex(key) + "\n");
  return loadDeviceKey(backend, key);
}
