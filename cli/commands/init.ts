/** `mfi init <name>`: scaffold a self-contained applet project (SDK import, applet.json, fixtures, a vitest test). */
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { basename, dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Command } from "commander";

const TEMPLATE = join(dirname(fileURLToPath(import.meta.url)), "..", "templates", "applet");
export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const NAME = /^[a-z][a-z0-9-]{0,63}$/;

/** Every template file, relative to the template root; `.tmpl` files get __NAME__ / __MACHINEFI__ filled in. */
function templateFiles(dir = TEMPLATE): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? templateFiles(join(dir, e.name)) : [relative(TEMPLATE, join(dir, e.name))],
  );
}

export function scaffold(o: { name: string; dir: string; machinefi?: string; link?: boolean }): string[] {
  if (!NAME.test(o.name))
    throw new Error(
      `bad applet name "${o.name}": use lower-case letters, digits and dashes, starting with a letter (e.g. my-meter)`,
    );
  if (basename(resolve(o.dir)) !== o.name)
    throw new Error(`the folder must be named after the applet (applet.json's name): use --dir <parent>/${o.name}`);
  if (existsSync(o.dir) && readdirSync(o.dir).length > 0)
    throw new Error(`${o.dir} exists and is not empty: pick another name or --dir`);
  const spec = o.machinefi ?? `file:${REPO}`;
  const written: string[] = [];
  for (const rel of templateFiles()) {
    const isTmpl = rel.endsWith(".tmpl");
    let out = isTmpl ? rel.slice(0, -5) : rel;
    if (out === "gitignore") out = ".gitignore"; // npm strips dotfiles from packages, so the template stores it bare
    let text = readFileSync(join(TEMPLATE, rel), "utf8");
    if (isTmpl) text = text.replaceAll("__NAME__", o.name).replaceAll("__MACHINEFI__", spec);
    mkdirSync(dirname(join(o.dir, out)), { recursive: true });
    writeFileSync(join(o.dir, out), text);
    written.push(out);
  }
  // What `npm install` does for a file: dependency (a symlink), so `mfi test` works before any install.
  if (o.link !== false && spec.startsWith("file:")) {
    mkdirSync(join(o.dir, "node_modules"), { recursive: true });
    symlinkSync(resolve(spec.slice(5)), join(o.dir, "node_modules", "machinefi"), "dir");
    // and its bin, so `npx mfi` resolves here instead of asking the registry (which has no mfi)
    mkdirSync(join(o.dir, "node_modules", ".bin"), { recursive: true });
    symlinkSync(join("..", "machinefi", "cli", "bin.mjs"), join(o.dir, "node_modules", ".bin", "mfi"));
  }
  return written.sort();
}

export function register(program: Command): void {
  program
    .command("init <name>")
    .description(
      "scaffold an applet project: AssemblyScript source using the SDK, applet.json, fixtures and a vitest test",
    )
    .option("--dir <path>", "where to create it (default ./<name>)")
    .option("--machinefi <spec>", "the machinefi dependency in package.json (default file:<this repository>)")
    .option("--no-link", "do not link node_modules/machinefi (run npm install yourself)")
    .option("--json", "print what was written as JSON")
    .addHelpText(
      "after",
      "\nExample:\n  $ mfi init my-meter && cd my-meter && mfi test\n\nExit codes: 0 created, 2 bad name or the directory is not empty.",
    )
    .action((name: string, opts: { dir?: string; machinefi?: string; link: boolean; json?: boolean }) => {
      const dir = resolve(opts.dir ?? name);
      try {
        const files = scaffold({ name, dir, machinefi: opts.machinefi, link: opts.link });
        if (opts.json) return console.log(JSON.stringify({ name, dir, files }, null, 2));
        console.log(`created ${name} in ${dir}`);
        for (const f of files) console.log(`  ${f}`);
        console.log(
          `\nnext:\n  cd ${relative(process.cwd(), dir) || "."}\n  mfi test          # run the applet on fixtures/\n  npm install && npm test`,
        );
      } catch (err) {
        if (opts.json) console.log(JSON.stringify({ error: (err as Error).message }));
        else console.error((err as Error).message);
        process.exitCode = 2;
      }
    });
}
