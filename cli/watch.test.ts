/**
 * The watcher on a real folder: plain writes, safe-write renames and `sed -i` are all seen, the next edit after a
 * replace too (the bug: a file watcher went silent), scratch files are not, and a burst is one call.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { watchApplet, type AppletWatcher } from "./watch.ts";

let dir: string;
let w: AppletWatcher | undefined;
let calls: string[][];
const src = () => join(dir, "assembly", "index.ts");
const json = () => join(dir, "applet.json");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Waits until `n` calls arrived (or 5 s), then a further quiet period in which no extra call may come. */
async function settle(n: number): Promise<void> {
  for (let t = 0; calls.length < n && t < 5000; t += 20) await sleep(20);
  await sleep(250);
}

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), "mfi-watch-"));
  mkdirSync(join(dir, "assembly"));
  writeFileSync(src(), "export const a = 1;\n");
  writeFileSync(json(), "{}\n");
  calls = [];
  w = watchApplet(dir, (files) => calls.push(files), { debounceMs: 60 });
  await sleep(100); // inotify is armed
});
afterEach(() => {
  w?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("watchApplet", () => {
  it("sees a plain save", async () => {
    writeFileSync(src(), "export const a = 2;\n");
    await settle(1);
    expect(calls).toEqual([["assembly/index.ts"]]);
  });

  it("sees a safe-write (temp file renamed over the source), and the edit after it", async () => {
    writeFileSync(src() + ".tmp", "export const a = 3;\n");
    renameSync(src() + ".tmp", src());
    await settle(1);
    expect(calls).toHaveLength(1);
    expect(calls[0]).toContain("assembly/index.ts");
    writeFileSync(src(), "export const a = 4;\n");
    await settle(2);
    expect(calls).toHaveLength(2);
  });

  it("sees sed -i on the source and on applet.json, again and again", async () => {
    for (let i = 0; i < 2; i++) {
      expect(spawnSync("sed", ["-i", `s/a = [0-9]/a = ${i + 5}/`, src()]).status).toBe(0);
      await settle(2 * i + 1);
      expect(spawnSync("sed", ["-i", "s/{}/{ }/", json()]).status).toBe(0);
      await settle(2 * i + 2);
    }
    expect(calls).toEqual([["assembly/index.ts"], ["applet.json"], ["assembly/index.ts"], ["applet.json"]]);
  });

  it("debounces a burst into one call and ignores editors' scratch files", async () => {
    for (let i = 0; i < 10; i++) writeFileSync(src(), `export const a = ${i};\n`);
    writeFileSync(join(dir, "assembly", ".index.ts.swp"), "x");
    writeFileSync(join(dir, "notes.txt"), "not watched");
    await settle(1);
    expect(calls).toEqual([["assembly/index.ts"]]);
  });

  it("stays quiet when nothing changes, and after close", async () => {
    await settle(0);
    expect(calls).toEqual([]);
    w!.close();
    writeFileSync(src(), "export const a = 9;\n");
    await sleep(200);
    expect(calls).toEqual([]);
  });
});
