// Runs after `npm install` / `npm ci`: builds the example applets so a fresh clone needs nothing else.
// Never fails the install: a build problem is reported and `npm test` / `npm start` rebuild anyway.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

if (!existsSync("node_modules/tsx") || !existsSync("scripts/build-applets.ts")) process.exit(0);
const r = spawnSync(process.execPath, ["--import", "./cli/register.mjs", "scripts/build-applets.ts", "--quiet"], { stdio: "inherit" });
if (r.status !== 0) console.warn("machinefi: building the applets failed; run `npm run build:applets` to see why.");
