import type { ConversionProgress } from "../../../contract/api.js";

type Stage = ConversionProgress["stage"];

/** Turns "bytes done so far" into the progress event: speed over the whole run and the time left. */
export class ProgressMeter {
  readonly #started = performance.now();
  #lastEmit = 0;
  #lastStage: Stage | null = null;

  constructor(
    private readonly jobId: string,
    private readonly totalBytes: number,
    private readonly tensorCount: number,
    private readonly emit: (progress: ConversionProgress) => void,
    /** Events at most this often, except at a change of stage and when forced. */
    private readonly intervalMs = 200,
  ) {}

  report(stage: Stage, tensorIndex: number, doneBytes: number, force = false): void {
    const now = performance.now();
    if (!force && stage === this.#lastStage && now - this.#lastEmit < this.intervalMs) return;
    this.#lastEmit = now;
    this.#lastStage = stage;
    const seconds = (now - this.#started) / 1000;
    const bytesPerSecond = seconds > 0 ? doneBytes / seconds : 0;
    this.emit({
      jobId: this.jobId,
      stage,
      tensorIndex,
      tensorCount: this.tensorCount,
      doneBytes,
      totalBytes: this.totalBytes,
      bytesPerSecond,
      etaSeconds: bytesPerSecond > 0 ? Math.max(0, (this.totalBytes - doneBytes) / bytesPerSecond) : null,
    });
  }
}
