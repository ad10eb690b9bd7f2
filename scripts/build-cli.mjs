// Builds the precompiled `mfi` (build/cli/): cli/main.ts and every command bundled by esbuild into one ESM entry and
// one chunk per command, npm packages left external (native modules, Wasm, binaryen's ESM build load as they do from
// sources). Run by `npm install` (postinstall) and `npm run build`; plain JavaScript so it needs no TypeScript loader.
//
// cli/bin.mjs runs this build only while it is fresh: build/cli/manifest.json records the mtime and size of every
// source file in the bundle and the list of command files, as they were before the build started (an edit made during
// the build marks the result stale). Any difference and bin.mjs runs the sources through tsx instead.
import * as esbuild from "esbuild";
import { mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { commandFiles, precompiledIsFresh } from "../cli/precompiled.mjs";
import { spawnSync } from "node:child_process";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
// --out <dir>: build elsewhere (tests); inside the repository, where npm packages resolve. The default is the one
// cli/bin.mjs runs.
const outArg = process.argv.indexOf("--out");
const out = outArg > 0 ? resolve(process.argv[outArg + 1]) : join(root, "build", "cli");
const tmp = `${out}.tmp-${process.pid}`;
const quiet = process.argv.includes("--quiet");
const posix = (p) => p.split(sep).join("/");

// Up to date (same sources, same lockfile, same commands): nothing to do. Rebuilding anyway would swap build/cli/ under
// `mfi` processes already running from it (their command chunks load lazily). --force rebuilds.
if (!process.argv.includes("--force") && precompiledIsFresh(pathToFileURL(`${root}/`), pathToFileURL(`${out}/`))) {
  if (!quiet) console.log(`the CLI is up to date: ${relative(root, out)}/`);
  process.exit(0);
}

function walk(dir, acc) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name === "node_modules" || e.name === "build" || e.name.startsWith(".")) continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) walk(p, acc);
    else if (/\.(ts|mts|tsx|mjs|js|json)$/.test(e.name)) {
      const s = statSync(p);
      acc.set(posix(relative(root, p)), [s.mtimeMs, s.size]);
    }
  }
  return acc;
}

const commandsDir = join(root, "cli", "commands");
const commands = commandFiles(commandsDir);
const before = walk(root, new Map());

// Bundled code runs from build/cli/, but sources find files beside themselves (Wasm, worker entries, templates,
// createRequire): each module's import.meta.url is rewritten to the URL of its source file, relative to the bundle.
const sourcePaths = {
  name: "source-paths",
  setup(build) {
    build.onLoad({ filter: /\.(ts|mts)$/ }, (args) => {
      if (args.path.includes(`${sep}node_modules${sep}`)) return undefined;
      const rel = posix(relative(root, args.path));
      if (rel === "cli/command-list.ts") {
        // A fixed list: one static import per command, each its own chunk, loaded only when asked for.
        const cases = commands
          .map((c) => `    case ${JSON.stringify(c)}: return import(${JSON.stringify(`./commands/${c}.ts`)});`)
          .join("\n");
        return {
          loader: "ts",
          resolveDir: dirname(args.path),
          contents: `import { readFileSync } from "node:fs";
export const commandNames = ${JSON.stringify(commands)};
export async function importCommand(name) {
  switch (name) {
${cases}
  }
  throw new Error("unknown command " + name);
}
export function readSummary() {
  try {
    return JSON.parse(readFileSync(new URL("commands.json", import.meta.url), "utf8"));
  } catch {
    return undefined; // while the build writes it
  }
}`,
        };
      }
      let contents = readFileSync(args.path, "utf8");
      if (contents.includes("import.meta")) {
        const fromOut = JSON.stringify(posix(relative(out, args.path)));
        const dirFromOut = JSON.stringify(posix(relative(out, dirname(args.path))) + "/");
        contents = contents
          .replaceAll("import.meta.url", `new URL(${fromOut}, import.meta.url).href`)
          .replaceAll(
            "import.meta.dirname",
            `decodeURIComponent(new URL(${dirFromOut}, import.meta.url).pathname).replace(/\\/$/, "")`,
          );
      }
      return { loader: "ts", contents, resolveDir: dirname(args.path) };
    });
  },
};

// Pure-JS packages that are slow to load as hundreds of ESM files (ethers alone ~1 s) are bundled with what they import;
// every other package stays external and loads from node_modules as it does from sources (native addons, Wasm,
// binaryen's top-level await, packages that find files beside themselves).
const BUNDLED = new Set([
  "ethers",
  "commander",
  "zod",
  "hono",
  "@hono/node-server",
  "@hono/zod-openapi",
  "poseidon-lite",
]);
const NEVER = new Set(["bufferutil", "utf-8-validate"]);
const pkgOf = (spec) =>
  spec
    .split("/")
    .slice(0, spec.startsWith("@") ? 2 : 1)
    .join("/");
const packages = {
  name: "packages",
  setup(build) {
    build.onResolve({ filter: /^[^./]/ }, (args) => {
      if (args.path.startsWith("node:")) return { external: true };
      const pkg = pkgOf(args.path);
      if (NEVER.has(pkg)) return { external: true };
      if (BUNDLED.has(pkg) || args.importer.includes(`${sep}node_modules${sep}`)) return undefined;
      return { external: true };
    });
  },
};

rmSync(join(out, "manifest.json"), { force: true }); // stale until this build finishes
const t0 = performance.now();
// A failed build leaves no half-written folder behind (and no manifest: mfi runs the sources).
process.on("exit", (code) => code !== 0 && rmSync(tmp, { recursive: true, force: true }));
const result = await esbuild.build({
  absWorkingDir: root,
  entryPoints: { main: "cli/main.ts" },
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  outdir: tmp,
  chunkNames: "[name]-[hash]",
  metafile: true,
  logLevel: "warning",
  banner: {
    // Bundled CommonJS packages (commander) require Node built-ins, which an ES module can only do through this.
    js: [
      "// Generated by scripts/build-cli.mjs from cli/ and the layers it imports; do not edit.",
      'import { createRequire as __mfiCreateRequire } from "node:module";',
      "const require = __mfiCreateRequire(import.meta.url);",
    ].join("\n"),
  },
  plugins: [packages, sourcePaths],
});
const inputs = {};
for (const p of Object.keys(result.metafile.inputs)) {
  if (p.includes("node_modules/")) continue; // packages change only by npm install, which rebuilds
  const rel = posix(relative(root, join(root, p)));
  const s = before.get(rel);
  if (!s) throw new Error(`build-cli: ${rel} is in the bundle but was not seen before the build`);
  inputs[rel] = s;
}
// The lockfile stands for the bundled packages (ethers, zod, hono…): an npm install that changes them makes the
// build stale.
if (before.has("package-lock.json")) inputs["package-lock.json"] = before.get("package-lock.json");
// `mfi --help` from the summary: every command registered once, here, by the bundle itself.
const summarized = spawnSync(process.execPath, [join(tmp, "main.js")], {
  env: { ...process.env, MFI_WRITE_COMMAND_SUMMARY: join(tmp, "commands.json") },
  stdio: ["ignore", "ignore", "inherit"],
});
if (summarized.status !== 0) throw new Error(`build-cli: the bundled CLI did not start (exit ${summarized.status})`);
writeFileSync(join(tmp, "manifest.json"), JSON.stringify({ commands, inputs }) + "\n");
mkdirSync(dirname(out), { recursive: true });
rmSync(out, { recursive: true, force: true });
renameSync(tmp, out);
if (!quiet)
  console.log(
    `built the CLI: ${relative(root, out)}/ (${Object.keys(inputs).length} sources, ${commands.length} commands, ${Math.round(performance.now() - t0)} ms)`,
  );
