/**
 * `npm run demo:applets`: build the applets if needed, then run each example applet over
 * its bundled sample readings (applets/<name>/fixtures/*.json) and print claims, journals and fuel.
 */
import { buildApplets, runAppletFixtures } from "../toolchain/index.ts";

await buildApplets({ log: (m) => console.log(m) });
const runs = runAppletFixtures({ log: (l) => console.log(l) });
const traps = runs.filter((r) => r.trap);
console.log(
  `\n${runs.length} applet runs, ${runs.reduce((a, r) => a + r.claims.length, 0)} claims${traps.length ? `, ${traps.length} trapped` : ""}.`,
);
if (traps.length) process.exitCode = 1;
