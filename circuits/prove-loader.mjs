// The TypeScript loader of the proving processes (pool.ts): tsx alone. cli/register.mjs also preloads binaryen for
// the applet toolchain, which no proving process imports; skipping it starts each process about a second sooner.
const { register } = await import("tsx/esm/api");
register();
