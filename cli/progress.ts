/**
 * Progress for long work (proving). On a TTY: a cli-progress bar over the stages with the current step and elapsed
 * time, redrawn in place. Otherwise (CI, pipes, log files): one plain line per finished stage with its time, never a
 * carriage return, so logs stay readable.
 */
import { Presets, SingleBar } from "cli-progress";

export interface StageProgress {
  /** Enter a stage (one of `stages`), or report a step inside the current one (any other name). */
  stage(name: string): void;
  /** Finish: the last stage ends now. Returns the seconds each stage took. */
  done(): Record<string, number>;
  /** Stop drawing after a failure (the current stage is reported as failed on plain output). */
  fail(): void;
}

const secs = (ms: number) => (ms / 1000).toFixed(ms < 10_000 ? 2 : 1);

export function stageProgress(o: {
  stages: readonly string[];
  label: string;
  stream?: NodeJS.WriteStream;
  tty?: boolean;
}): StageProgress {
  const stream = o.stream ?? process.stderr;
  const tty = o.tty ?? !!stream.isTTY;
  const t0 = performance.now();
  const took: Record<string, number> = {};
  let current: { name: string; start: number } | undefined;
  const bar = tty
    ? new SingleBar(
        {
          stream,
          format: `${o.label} [{bar}] {stage} {step} {duration}s {times}`,
          hideCursor: true,
          clearOnComplete: false,
          barsize: 20,
        },
        Presets.shades_classic,
      )
    : undefined;
  bar?.start(o.stages.length, 0, { stage: "starting", step: "", times: "" });
  // Finished stages with their times, kept on the bar's line: "(witness 0.31 s, prove 1.42 s)".
  const times = () =>
    Object.keys(took).length
      ? `(${Object.entries(took)
          .map(([k, v]) => `${k} ${secs(v * 1000)} s`)
          .join(", ")})`
      : "";

  const finish = (now: number) => {
    if (!current) return;
    took[current.name] = (now - current.start) / 1000;
    if (!bar) stream.write(`  ${o.label}: ${current.name.padEnd(8)} ${secs(now - current.start)} s\n`);
    current = undefined;
  };
  return {
    stage(name) {
      const now = performance.now();
      if (o.stages.includes(name)) {
        finish(now);
        current = { name, start: now };
        bar?.update(o.stages.indexOf(name), { stage: name, step: "", times: times() });
      } else bar?.update({ step: `· ${name.split(/[:(]/)[0]!.trim().toLowerCase()}` });
    },
    done() {
      finish(performance.now());
      bar?.update(o.stages.length, { stage: "done", step: `in ${secs(performance.now() - t0)} s`, times: times() });
      bar?.stop();
      return took;
    },
    fail() {
      if (current && !bar)
        stream.write(
          `  ${o.label}: ${current.name.padEnd(8)} failed after ${secs(performance.now() - current.start)} s\n`,
        );
      current = undefined;
      bar?.stop();
    },
  };
}
