/**
 * `mfi dev`'s file watcher. It watches directories, never files: an editor's safe-write (write a temp file, rename it
 * over the original) and `sed -i` replace the file's inode, and a watcher on the old inode goes silent after the
 * first such save. Node 20's recursive fs.watch on Linux watches each file, so it has the same flaw: every folder
 * (the project for applet.json, assembly/ and each folder below it for sources) gets its own directory watcher,
 * and a folder created later is picked up. An editor's burst of events (temp file, rename, chmod) becomes one call
 * after `debounceMs` of quiet.
 */
import { readdirSync, watch, type FSWatcher } from "node:fs";
import { join, relative } from "node:path";

export interface AppletWatcher {
  close(): void;
}

/** Editors' scratch files: vim's .swp/4913 probe, emacs' .#lock and #autosave#, backups~, sed's temp files. */
const SCRATCH = /(^|\/)(\.#|#)|\.sw[px]$|~$|(^|\/)4913$|(^|\/)sed[A-Za-z0-9]{6}$/;

export function watchApplet(
  dir: string,
  onChange: (files: string[]) => void,
  opts: { debounceMs?: number } = {},
): AppletWatcher {
  const debounceMs = opts.debounceMs ?? 300;
  let timer: NodeJS.Timeout | undefined;
  const pending = new Set<string>();
  const fire = () => {
    const files = [...pending].sort();
    pending.clear();
    onChange(files);
  };
  const seen = (file: string) => {
    if (SCRATCH.test(file)) return;
    pending.add(file);
    clearTimeout(timer);
    timer = setTimeout(fire, debounceMs);
  };
  const watchers = new Map<string, FSWatcher>();
  const watchSources = (folder: string) => {
    if (watchers.has(folder)) return;
    try {
      watchers.set(
        folder,
        watch(folder, (_event, f) => {
          if (!f) return;
          if (/\.ts$/.test(f)) seen(relative(dir, join(folder, f)));
          else addFolders(join(dir, "assembly")); // maybe a new folder
        }),
      );
    } catch {
      // gone between listing and watching
    }
  };
  const addFolders = (folder: string) => {
    watchSources(folder);
    try {
      for (const e of readdirSync(folder, { withFileTypes: true }))
        if (e.isDirectory() && !e.name.startsWith(".")) addFolders(join(folder, e.name));
    } catch {
      // not there (yet)
    }
  };
  watchers.set(
    dir,
    watch(dir, (_event, f) => {
      if (f === "applet.json") seen(f);
      else if (f === "assembly") addFolders(join(dir, "assembly"));
    }),
  );
  addFolders(join(dir, "assembly"));
  return {
    close() {
      clearTimeout(timer);
      for (const w of watchers.values()) w.close();
    },
  };
}
