// Conversion jobs behind the API: each runs in the background, reports progress and warnings as events,
// ends with one `conversion.finished` event, and can be cancelled.
import { randomUUID } from "node:crypto";
import { basename, join } from "node:path";
import type { ConversionReport, Inspection, RequestParams } from "../../contract/api.js";
import { BillaError, type ApiError } from "../../contract/errors.js";
import { DEMO_CHECKPOINT } from "../app-root.js";
import type { EventBus } from "../event-bus.js";
import { diskFullError, isDiskFull } from "../files/disk-full.js";
import type { Logger } from "../logger.js";
import { inspectPath } from "./inspect.js";
import { convertToGguf } from "./pipeline/convert-to-gguf.js";
import { restoreToSafetensors } from "./pipeline/restore-to-safetensors.js";
import { openSourceModel } from "./pipeline/source-model.js";
import { QuantizePool } from "./quantize/quantize-pool.js";

/** What a failed job reports; every output it began was removed by then. */
function jobFailure(error: unknown, cancelled: boolean): ApiError {
  if (cancelled) return { code: "cancelled", message: "The conversion was cancelled; nothing was written." };
  if (error instanceof BillaError) return { code: error.code, message: error.message };
  if (isDiskFull(error)) return { code: "disk_full", message: diskFullError("the output").message };
  return { code: "internal", message: "The conversion failed inside BiLLa Desktop. The log file has the details." };
}

interface Job {
  controller: AbortController;
  done: Promise<void>;
}

export class ConversionService {
  readonly #jobs = new Map<string, Job>();
  /** Started with the first conversion: its workers load ggml, which a session without conversions never needs. */
  #pool: QuantizePool | undefined;

  constructor(
    private readonly events: EventBus,
    private readonly logger: Logger,
    /** Adds a finished GGUF to the model library; returns its entry's id. */
    private readonly addToLibrary: (path: string) => Promise<string>,
  ) {}

  start(input: RequestParams<"conversion.start">): { jobId: string } {
    return this.#run(async (jobId, signal) => {
      const model = await openSourceModel({ modelDir: input.modelDir, ...(input.originalLlama ? { originalLlama: input.originalLlama } : {}), method: input.method });
      const report = await convertToGguf({
        model,
        outFile: input.outFile,
        outType: input.outType,
        name: input.name ?? basename(input.modelDir),
        quantizer: (this.#pool ??= new QuantizePool()),
        jobId,
        signal,
        ...(input.expectedEmbeddingSum === undefined ? {} : { expectedEmbeddingSum: input.expectedEmbeddingSum }),
        onProgress: (progress) => this.events.emit("conversion.progress", progress),
        onWarning: (message) => this.events.emit("conversion.warning", { jobId, message }),
      });
      return input.addToLibrary ? { ...report, modelId: await this.addToLibrary(report.outPath) } : report;
    });
  }

  /** The bundled demo checkpoint, converted into the models folder and added to the library. */
  installDemo(modelsDir: string): { jobId: string } {
    return this.start({
      modelDir: DEMO_CHECKPOINT.released,
      originalLlama: DEMO_CHECKPOINT.originalLlama,
      method: "decrypt",
      outFile: join(modelsDir, `billa-demo-${randomUUID().slice(0, 8)}.gguf`),
      outType: "q8_0",
      name: "BiLLa demo",
      addToLibrary: true,
    });
  }

  restore(input: RequestParams<"conversion.restore">): { jobId: string } {
    return this.#run(async (jobId, signal) => {
      const model = await openSourceModel({ modelDir: input.modelDir, originalLlama: input.originalLlama, method: input.method });
      return restoreToSafetensors({
        model,
        outDir: input.outDir,
        signal,
        ...(input.expectedEmbeddingSum === undefined ? {} : { expectedEmbeddingSum: input.expectedEmbeddingSum }),
        onProgress: (progress) => this.events.emit("conversion.progress", { ...progress, jobId }),
        onWarning: (message) => this.events.emit("conversion.warning", { jobId, message }),
      });
    });
  }

  cancel(jobId: string): { cancelled: boolean } {
    const job = this.#jobs.get(jobId);
    job?.controller.abort();
    return { cancelled: job !== undefined };
  }

  inspect(path: string): Promise<Inspection> {
    return inspectPath(path);
  }

  /** Cancels every running job and waits until each has cleaned up its partial output. */
  async dispose(): Promise<void> {
    for (const job of this.#jobs.values()) job.controller.abort();
    await Promise.all([...this.#jobs.values()].map((job) => job.done));
    await this.#pool?.close();
  }

  #run(work: (jobId: string, signal: AbortSignal) => Promise<ConversionReport>): { jobId: string } {
    const jobId = randomUUID();
    const controller = new AbortController();
    const done = work(jobId, controller.signal).then(
      (report) => this.events.emit("conversion.finished", { jobId, outcome: { ok: true, report } }),
      (error: unknown) => {
        const failure = jobFailure(error, controller.signal.aborted);
        if (failure.code === "internal") this.logger.error(`conversion ${jobId} failed`, error);
        this.events.emit("conversion.finished", { jobId, outcome: { ok: false, error: failure } });
      },
    );
    const job = { controller, done: done.finally(() => this.#jobs.delete(jobId)) };
    this.#jobs.set(jobId, job);
    return { jobId };
  }
}
