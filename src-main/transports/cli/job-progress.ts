// How a running conversion looks in a terminal: one redrawn bar on a TTY, plain lines in logs and pipes.
import type { ConversionProgress } from "../../contract/api.js";

const STAGE_NAMES: Record<ConversionProgress["stage"], string> = {
  inspect: "reading",
  checksum: "checking the embedding",
  convert: "converting",
  verify: "verifying",
};

function duration(seconds: number): string {
  const s = Math.round(seconds);
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s` : `${s}s`;
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
      const width = 24;
      const filled = Math.round((width * progress.doneBytes) / Math.max(1, progress.totalBytes));
      this.stream.write(`\r[${"#".repeat(filled)}${"-".repeat(width - filled)}] ${text}\x1b[K`);
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
