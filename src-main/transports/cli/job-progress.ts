// Following a background job (a conversion, a quality measurement) from a terminal: its events until it ends,
// Ctrl+C to cancel, and its progress as one redrawn bar on a TTY, plain lines in logs and pipes.
import type { ConversionProgress, EventMessage, RawApi } from "../../contract/api.js";
import { CliError } from "./cli-support.js";

/** What a job's event means for the command: it ended (with a value, or failed), or it goes on (null). */
export type JobEnding<T> = { done: T } | { failed: { code: string; message: string } } | null;

/** Starts a job and follows its events (only its own reach `handle`) to the end; Ctrl+C cancels it cleanly. */
export async function followJob<T>(
  api: RawApi,
  start: () => Promise<{ jobId: string }>,
  cancelRequest: "conversion.cancel" | "quality.cancel",
  handle: (event: EventMessage) => JobEnding<T>,
): Promise<T> {
  // Events can arrive before `start` returns the job's id; they wait here until it is known.
  const early: EventMessage[] = [];
  let onEvent: ((event: EventMessage) => void) | null = null;
  const unsubscribe = api.subscribe((event) => (onEvent ? onEvent(event) : early.push(event)));
  let jobId: string | null = null;
  const cancel = () => void (jobId && api.invoke(cancelRequest, { jobId }));
  process.once("SIGINT", cancel);
  try {
    jobId = (await start()).jobId;
    return await new Promise<T>((resolve, reject) => {
      onEvent = (event) => {
        if (!("jobId" in event.payload) || event.payload.jobId !== jobId) return;
        const ending = handle(event);
        if (ending && "done" in ending) resolve(ending.done);
        if (ending && "failed" in ending) reject(new CliError(ending.failed.message, ending.failed.code === "cancelled" ? 130 : 1));
      };
      for (const event of early.splice(0)) onEvent(event);
    });
  } finally {
    process.off("SIGINT", cancel);
    unsubscribe();
  }
}

const STAGE_NAMES: Record<ConversionProgress["stage"], string> = {
  inspect: "reading",
  checksum: "checking the embedding",
  convert: "converting",
  verify: "verifying",
};

export function duration(seconds: number): string {
  const s = Math.round(seconds);
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s` : `${s}s`;
}

/** Sizes in binary units, as the app shows them. */
export function formatBytes(count: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = count;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

/** `[#####-----]`, `width` characters inside the brackets. */
export function bar(done: number, total: number, width: number): string {
  const filled = Math.min(width, Math.round((width * done) / Math.max(1, total)));
  return `[${"#".repeat(filled)}${"-".repeat(width - filled)}]`;
}

export function describeProgress(progress: ConversionProgress): string {
  const percent = progress.totalBytes ? Math.min(100, (100 * progress.doneBytes) / progress.totalBytes) : 0;
  const speed = `${(progress.bytesPerSecond / 1e6).toFixed(1)} MB/s`;
  const eta = progress.etaSeconds === null ? "" : `, ${duration(progress.etaSeconds)} left`;
  return `${percent.toFixed(0).padStart(3)}% ${STAGE_NAMES[progress.stage]} (tensor ${progress.tensorIndex}/${progress.tensorCount}, ${speed}${eta})`;
}

export class ProgressPrinter {
  #lastPlainLine = 0;
  #lastStage: string | null = null;

  constructor(private readonly stream: NodeJS.WriteStream) {}

  show(progress: ConversionProgress): void {
    this.line(describeProgress(progress), progress.doneBytes / Math.max(1, progress.totalBytes), progress.stage);
  }

  /** A bar filled to `fraction` on a TTY; elsewhere a line when `stage` changes or every 5 s. */
  line(text: string, fraction: number, stage: string): void {
    if (this.stream.isTTY) {
      this.stream.write(`\r${bar(fraction, 1, 24)} ${text}\x1b[K`);
      return;
    }
    const now = Date.now();
    if (stage !== this.#lastStage || now - this.#lastPlainLine > 5000) {
      this.stream.write(`${text}\n`);
      this.#lastPlainLine = now;
      this.#lastStage = stage;
    }
  }

  /** Ends the redrawn line so the next output starts on its own. */
  end(): void {
    if (this.stream.isTTY) this.stream.write("\n");
  }
}
