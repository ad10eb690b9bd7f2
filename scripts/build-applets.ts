/**
 * `npm run build:applets` (and postinstall): build every applet under applets/ into build/applets/<name>.wasm,
 * cached (toolchain/build.ts). Usage: node --import ./cli/register.mjs scripts/build-applets.ts [--quiet] [--force] [name...]
 */
import { buildApplets } from "../toolchain/index.ts";

const args = process.argv.slice(2);
const quiet = args.includes("--quiet");
try {
  await buildApplets({
    names: args.filter((a) => !a.startsWith("--")),
    force: args.includes("--force"),
    log: quiet ? undefined : (m) => console.log(m),
  });
} catch (err) {
  console.error(`build-applets: ${(err as Error).message}`);
  process.exit(1);
}
