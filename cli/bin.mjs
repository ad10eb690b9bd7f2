#!/usr/bin/env node
// The `mfi` command. Runs the precompiled CLI (build/cli/, built by `npm install` and `npm run build` through
// scripts/build-cli.mjs) while it is fresh, else the TypeScript sources through tsx, so an edit never runs stale code
// (cli/precompiled.mjs says what fresh means). MFI_TSX=1 always runs the sources.
import { precompiledIsFresh } from "./precompiled.mjs";

if (precompiledIsFresh(new URL("../", import.meta.url))) {
  await import("../build/cli/main.js");
} else {
  await import("./register.mjs");
  await import("./main.ts");
}
