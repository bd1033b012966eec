// "Try the demo model": converts the bundled demo checkpoint into the library. Progress and the outcome
// arrive as conversion events, which may come before `models.installDemo` has even told us the job's id,
// so events are kept by job until the id is known.
import type { ApiClient, ConversionProgress, EventMessage } from "../../../src-main/contract/api.js";

type Outcome = Extract<EventMessage, { name: "conversion.finished" }>["payload"]["outcome"];

export class DemoInstall {
  running = $state(false);
  progress: ConversionProgress | null = $state.raw(null);
  error: string | null = $state(null);
  #jobId: string | null = null;
  // eslint-disable-next-line svelte/prefer-svelte-reactivity -- a buffer nothing on screen reads
  readonly #early = new Map<string, { progress?: ConversionProgress; outcome?: Outcome }>();
  #settle: ((outcome: Outcome) => void) | null = null;

  constructor(private readonly api: ApiClient) {}

  /** 0…1 across the conversion's stages, for the progress bar. */
  readonly fraction = $derived.by(() => {
    const progress = this.progress;
    if (!progress || progress.totalBytes === 0) return 0;
    return Math.min(1, progress.doneBytes / progress.totalBytes);
  });

  handle(event: EventMessage): void {
    if (event.name !== "conversion.progress" && event.name !== "conversion.finished") return;
    const { jobId } = event.payload;
    if (this.#jobId === null) {
      if (!this.running) return;
      const early = this.#early.get(jobId) ?? {};
      if (event.name === "conversion.progress") early.progress = event.payload;
      else early.outcome = event.payload.outcome;
      this.#early.set(jobId, early);
      return;
    }
    if (jobId !== this.#jobId) return;
    if (event.name === "conversion.progress") this.progress = event.payload;
    else this.#settle?.(event.payload.outcome);
  }

  /** Converts the demo; resolves with the new library entry's id (null if the report names none), or throws. */
  async run(): Promise<string | null> {
    this.running = true;
    this.error = null;
    this.progress = null;
    this.#early.clear();
    try {
      const outcome = await new Promise<Outcome>((resolve, reject) => {
        this.#settle = resolve;
        this.api.invoke("models.installDemo", {}).then(({ jobId }) => {
          this.#jobId = jobId;
          const early = this.#early.get(jobId);
          if (early?.progress) this.progress = early.progress;
          if (early?.outcome) resolve(early.outcome);
        }, reject);
      });
      if (!outcome.ok) throw new Error(outcome.error.message);
      return outcome.report.modelId ?? null;
    } catch (error) {
      this.error = error instanceof Error ? error.message : String(error);
      throw error;
    } finally {
      this.running = false;
      this.#jobId = null;
      this.#settle = null;
      this.#early.clear();
    }
  }
}
