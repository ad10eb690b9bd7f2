// Loads TypeScript sources through tsx. binaryen's ESM build awaits at top level, which deadlocks when it is first
// loaded through tsx's loader hooks on Node 20, so it is loaded here first by Node's own loader (then cached).
await import("binaryen");
const { register } = await import("tsx/esm/api");
register();
