/** Build step (run by scripts/build.ts): compile the Solidity contracts with solc-js, cached by source hash. */
import { buildContracts } from "../contracts/index.ts";

const quiet = process.argv.includes("--quiet");
buildContracts({ force: process.argv.includes("--force"), log: quiet ? undefined : (m) => console.log(m) });
