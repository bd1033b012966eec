// How a running conversion looks in a terminal: one redrawn bar on a TTY, plain lines in logs and pipes.
import type { ConversionProgress } from "../../contract/api.js";

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
    const text = describeProgress(progress);
    if (this.stream.isTTY) {
      this.stream.write(`\r${bar(progress.doneBytes, progress.totalBytes, 24)} ${text}\x1b[K`);
      return;
    }
    const now = Date.now();
    if (progress.stage !== this.#lastStage || now - this.#lastPlainLine > 5000) {
      this.stream.write(`${text}\n`);
      this.#lastPlainLine = now;
      this.#lastStage = progress.stage;
    }
  }

  /** Ends the redrawn line so the next output starts on its own. */
  end(): void {
    if (this.stream.isTTY) this.stream.write("\n");
  }
}
