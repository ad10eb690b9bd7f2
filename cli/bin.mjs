#!/usr/bin/env node
// The `mfi` command. TypeScript sources run through tsx so a fresh clone needs no build step.
import "./register.mjs";
await import("./main.ts");
