// Quality jobs behind the API: measuring what quantization costs (perplexity and drift from a base, as
// llama-perplexity computes them) and answering the same questions with several models. Each job runs in the
// background on the runtime's lock, reports progress as events, ends with one event, and can be cancelled;
// nothing it had not finished is kept.
import { randomUUID } from "node:crypto";
import { stat } from "node:fs/promises";
import { basename, join, resolve } from "node:path";
import type { Comparison, GenerationStats, LocalModelEntry, PromptFormat, QualityMeasurement, QualityPlan, QualityReport, RequestParams } from "../../contract/api.js";
import { samplingSchema } from "../../contract/api.js";
import { BillaError } from "../../contract/errors.js";
import type { EventBus } from "../event-bus.js";
import type { Logger } from "../logger.js";
import { readGgufSummary } from "../models/gguf-summary.js";
import type { ModelLibrary } from "../models/model-library.js";
import type { LlamaRuntime } from "../runtime/llama-runtime.js";
import type { TextScorer } from "../runtime/text-scorer.js";
import { BaseLogitsRecorder, cacheFileName, fileFingerprint, readBaseLogits, TOP_K, writeBaseLogits, type BaseLogits } from "./base-logits.js";
import { loadEvalText, type LoadedText } from "./eval-texts.js";
import { DriftAccumulator, PerplexityAccumulator } from "./perplexity-stats.js";
import type { QualityStore } from "./quality-store.js";

/** Files a base can be: full precision, or Q8_0, whose drift from F16 is tiny next to the smaller types'. */
const BASE_FILE_TYPES = ["F32", "F16", "BF16", "Q8_0"];

type ModelChoice = { modelId?: string | undefined; modelPath?: string | undefined };

interface ResolvedModel {
  modelId: string | null;
  path: string;
  name: string;
  fileType: string | null;
  sizeBytes: number;
  promptFormat: PromptFormat;
  architecture: string | null;
  parameterCount: number | null;
}

interface Job {
  controller: AbortController;
  done: Promise<void>;
}

/** A text as one model tokenized and chunked it, as llama-perplexity does. */
interface ChunkedText {
  text: LoadedText;
  tokenCount: number;
  /** The chunks as evaluated: each `contextSize` tokens, the first replaced by BOS. */
  evaluated: Uint32Array;
  chunks: number;
}

export interface QualityServiceOptions {
  runtime: LlamaRuntime;
  models: ModelLibrary;
  store: QualityStore;
  events: EventBus;
  logger: Logger;
  /** Where base logits are cached (the data folder's cache). */
  cacheDir: string;
  appVersion: string;
}

const sameModel = (a: ResolvedModel, b: ResolvedModel) => a.architecture === b.architecture && a.parameterCount === b.parameterCount;
const samePath = (a: ResolvedModel, b: ResolvedModel) => resolve(a.path) === resolve(b.path);

function chunkText(scorer: TextScorer, text: LoadedText, contextSize: number, chunkLimit: number | undefined): ChunkedText {
  const tokens = scorer.tokenize(text.content);
  if (tokens.length < 2 * contextSize) {
    throw new BillaError(
      "invalid_input",
      `${text.name} has only ${tokens.length} tokens: a context of ${contextSize} needs at least ${2 * contextSize} (two chunks, as llama-perplexity). Choose a smaller context size or a longer text.`,
    );
  }
  const chunks = Math.min(Math.floor(tokens.length / contextSize), chunkLimit ?? Infinity);
  const evaluated = Uint32Array.from(tokens.slice(0, chunks * contextSize));
  if (scorer.bos !== null) for (let c = 0; c < chunks; c++) evaluated[c * contextSize] = scorer.bos;
  return { text, tokenCount: tokens.length, evaluated, chunks };
}

/** Positions scored per chunk: from the middle of the chunk to its second-to-last token. */
const scoredPerChunk = (contextSize: number) => contextSize - 1 - Math.floor(contextSize / 2);

function sameTokens(a: Uint32Array, b: Uint32Array): boolean {
  return a.length === b.length && a.every((token, i) => token === b[i]);
}

export class QualityService {
  readonly #jobs = new Map<string, Job>();

  constructor(private readonly options: QualityServiceOptions) {}

  async #resolve(choice: ModelChoice): Promise<ResolvedModel> {
    const entry = choice.modelId !== undefined ? await this.options.models.entry(choice.modelId) : await this.options.models.byPath(choice.modelPath!);
    if (entry?.kind === "remote") {
      throw new BillaError("invalid_input", `"${entry.name}" runs on ${entry.baseUrl}: quality is measured on GGUF files on this computer.`);
    }
    if (entry) {
      const { path, promptFormat } = await this.options.models.loadable(entry.id);
      return { modelId: entry.id, path, name: entry.name, fileType: entry.fileType, sizeBytes: entry.sizeBytes, promptFormat, architecture: entry.architecture, parameterCount: entry.parameterCount };
    }
    const path = resolve(choice.modelPath!);
    const info = await stat(path).catch(() => null);
    if (!info?.isFile()) throw new BillaError("not_found", `There is no model file at ${path}. Check the path.`);
    const summary = await readGgufSummary(path).catch(() => {
      throw new BillaError("bad_file", `${basename(path)} is not a GGUF model file llama.cpp can read. Choose a .gguf file (convert BiLLa's weights first if you have none).`);
    });
    return {
      modelId: null,
      path,
      name: summary.name ?? basename(path, ".gguf"),
      fileType: summary.fileType,
      sizeBytes: info.size,
      promptFormat: "auto",
      architecture: summary.architecture,
      parameterCount: summary.parameterCount,
    };
  }

  /** The given base, or the library's best full-precision (or Q8_0) file of the first model's family. */
  async #resolveBase(choice: RequestParams<"quality.measure">["base"], models: ResolvedModel[], notes: string[]): Promise<ResolvedModel | null> {
    if (choice === "none") return null;
    if (choice !== "auto") return this.#resolve(choice);
    const family = models[0]!;
    const candidates = (await this.options.models.list())
      .filter((entry): entry is LocalModelEntry => entry.kind === "local" && entry.status === "ok" && BASE_FILE_TYPES.includes(entry.fileType ?? "") && entry.architecture === family.architecture && entry.parameterCount === family.parameterCount)
      .sort((a, b) => BASE_FILE_TYPES.indexOf(a.fileType!) - BASE_FILE_TYPES.indexOf(b.fileType!));
    if (candidates.length === 0) {
      notes.push(`No F16, BF16 or Q8_0 file of ${family.name} is in the library, so there is no KL divergence to show. Add one, or choose a base.`);
      return null;
    }
    return this.#resolve({ modelId: candidates[0]!.id });
  }

  async measure(input: RequestParams<"quality.measure">): Promise<{ jobId: string; plan: QualityPlan }> {
    const models = await Promise.all(input.models.map((choice) => this.#resolve(choice)));
    const notes: string[] = [];
    const base = await this.#resolveBase(input.base, models, notes);
    const texts = await Promise.all(input.texts.map((text) => loadEvalText(text)));
    const { contextSize } = input;
    const chunkLimit = input.chunks;
    const runtime = this.options.runtime;

    const cacheFiles = new Map<string, string>();
    if (base) {
      const fingerprint = await fileFingerprint(base.path);
      for (const text of texts) cacheFiles.set(text.id, join(this.options.cacheDir, cacheFileName({ baseFingerprint: fingerprint, textSha256: text.sha256, contextSize, chunks: chunkLimit ?? 0 })));
      for (const model of models) if (!sameModel(model, base)) notes.push(`${model.name} is not the same model as the base ${base.name}: it gets no KL divergence.`);
    }
    const cached = new Map<string, BaseLogits>();
    for (const [textId, file] of cacheFiles) {
      const logits = await readBaseLogits(file);
      if (logits) cached.set(textId, logits);
    }

    const estimate = async (model: ResolvedModel) => {
      const e = await runtime.estimate({ modelPath: model.path, gpuLayers: input.gpuLayers, contextSize });
      return { name: model.name, path: model.path, fileType: model.fileType, ramBytes: e.ramBytes, vramBytes: e.vramBytes, fit: e.fit, freeRamBytes: e.freeRamBytes };
    };
    const modelPlans = await Promise.all(models.map(estimate));
    const basePlan = base ? { ...(await estimate(base)), cached: texts.every((text) => cached.has(text.id)) } : null;
    const plan: QualityPlan = {
      models: modelPlans.map(({ freeRamBytes: _free, ...entry }) => entry),
      base: basePlan && (({ freeRamBytes: _free, ...entry }) => entry)(basePlan),
      freeRamBytes: modelPlans[0]!.freeRamBytes,
      notes,
    };

    const jobId = this.#run(
      (jobId, signal) => this.#measure({ jobId, models, base, texts, contextSize, chunkLimit, gpuLayers: input.gpuLayers, cacheFiles, cached, plan, signal }),
      (jobId, report) => this.options.events.emit("quality.finished", { jobId, outcome: { ok: true, report } }),
      (jobId, error) => this.options.events.emit("quality.finished", { jobId, outcome: { ok: false, error } }),
      "The measurement was cancelled; nothing of what it had not finished was kept.",
    );
    return { jobId, plan };
  }

  async #measure(job: {
    jobId: string;
    models: ResolvedModel[];
    base: ResolvedModel | null;
    texts: LoadedText[];
    contextSize: number;
    chunkLimit: number | undefined;
    gpuLayers: RequestParams<"quality.measure">["gpuLayers"];
    cacheFiles: Map<string, string>;
    cached: Map<string, BaseLogits>;
    plan: QualityPlan;
    signal: AbortSignal;
  }): Promise<QualityReport> {
    const { jobId, models, base, texts, contextSize, chunkLimit, cached, plan, signal } = job;
    const started = performance.now();
    const measurements: QualityMeasurement[] = [];
    const ramOf = new Map(plan.models.map((entry) => [entry.path, entry.ramBytes]));
    const perChunk = scoredPerChunk(contextSize);
    const first = Math.floor(contextSize / 2);

    // Progress counts scored positions over every pass; a pass's total is known once it has tokenized its texts.
    const baseTexts = base ? texts.filter((text) => !cached.has(text.id)) : [];
    const baseIsMeasured = base !== null && models.some((model) => samePath(model, base));
    const modelPasses = models.map((model) => ({ model, texts: base && baseIsMeasured && samePath(model, base) ? texts.filter((text) => cached.has(text.id)) : texts })).filter((pass) => pass.texts.length > 0);
    const passTexts = [...(baseTexts.length > 0 ? [baseTexts] : []), ...modelPasses.map((pass) => pass.texts)];
    const progress = { done: 0, total: 0, perText: new Map<string, number>() };
    const estimateTotal = () => passTexts.reduce((sum, list) => sum + list.reduce((s, text) => s + (progress.perText.get(text.id) ?? 0), 0), 0);
    const report = (phase: "base" | "model", modelName: string, textName: string) => {
      const elapsed = (performance.now() - started) / 1000;
      const etaSeconds = progress.done > 0 ? (elapsed / progress.done) * Math.max(0, progress.total - progress.done) : null;
      this.options.events.emit("quality.progress", { jobId, phase, modelName, textName, done: progress.done, total: Math.max(progress.total, progress.done), etaSeconds });
    };
    const chunkAll = (scorer: TextScorer, list: LoadedText[]) =>
      list.map((text) => {
        const chunked = chunkText(scorer, text, contextSize, chunkLimit);
        progress.perText.set(text.id, chunked.chunks * perChunk);
        progress.total = estimateTotal();
        return chunked;
      });

    /** Scores every chunk of a text, handing each position to `onPosition` with its place in the whole text. */
    const score = async (scorer: TextScorer, chunked: ChunkedText, phase: "base" | "model", modelName: string, onPosition: (index: number, next: number, probabilities: ReadonlyMap<number, number>) => void) => {
      for (let c = 0; c < chunked.chunks; c++) {
        const chunk = Array.from(chunked.evaluated.subarray(c * contextSize, (c + 1) * contextSize));
        await scorer.scoreChunk(chunk, first, (position, next, probabilities) => onPosition(c * perChunk + position - first, next, probabilities), signal, (scored) => {
          progress.done += scored;
          report(phase, modelName, chunked.text.name);
        });
      }
    };

    const measurementOf = (model: ResolvedModel, chunked: ChunkedText, ppl: PerplexityAccumulator, drift: DriftAccumulator | null, seconds: number): QualityMeasurement => ({
      modelId: model.modelId,
      modelName: model.name,
      modelPath: model.path,
      fileType: model.fileType,
      sizeBytes: model.sizeBytes,
      ramBytes: ramOf.get(model.path) ?? plan.base?.ramBytes ?? 0,
      text: { id: chunked.text.id, name: chunked.text.name, sha256: chunked.text.sha256, tokens: chunked.tokenCount },
      contextSize,
      result: ppl.result(),
      drift: drift && base ? drift.result({ baseName: base.name, basePath: base.path, baseFileType: base.fileType, topK: TOP_K }) : null,
      appVersion: this.options.appVersion,
      measuredAt: new Date().toISOString(),
      seconds,
    });
    const ownModel = (model: ResolvedModel, what: string) => ({ modelPath: model.path, gpuLayers: job.gpuLayers, contextSize, promptFormat: model.promptFormat, job: what });

    // 1. The base's logits for the texts not cached yet; its own perplexity comes with them.
    if (base && baseTexts.length > 0) {
      const baseMeasurements = await this.options.runtime.withScorer(ownModel(base, "A quality measurement"), async (scorer) => {
        const results: QualityMeasurement[] = [];
        for (const chunked of chunkAll(scorer, baseTexts)) {
          const textStarted = performance.now();
          const recorder = new BaseLogitsRecorder(contextSize, chunked.evaluated);
          const ppl = new PerplexityAccumulator();
          const drift = new DriftAccumulator();
          await score(scorer, chunked, "base", base.name, (_index, next, probabilities) => {
            const position = recorder.add(probabilities, next);
            ppl.add(probabilities.get(next) ?? 0);
            drift.add(probabilities, next, position);
          });
          for (let c = 0; c < chunked.chunks; c++) ppl.addChunk();
          const logits: BaseLogits = { contextSize, k: TOP_K, tokens: chunked.evaluated, positions: recorder.positions };
          await writeBaseLogits(job.cacheFiles.get(chunked.text.id)!, logits);
          cached.set(chunked.text.id, logits);
          results.push(measurementOf(base, chunked, ppl, drift, (performance.now() - textStarted) / 1000));
        }
        return results;
      });
      if (baseIsMeasured) {
        this.options.store.save(baseMeasurements);
        measurements.push(...baseMeasurements);
      }
    }

    // 2. Every model on every text, against the base's logits where it is the same model.
    for (const pass of modelPasses) {
      const { model } = pass;
      const results = await this.options.runtime.withScorer(ownModel(model, "A quality measurement"), async (scorer) => {
        const out: QualityMeasurement[] = [];
        for (const chunked of chunkAll(scorer, pass.texts)) {
          const textStarted = performance.now();
          const baseLogits = base && sameModel(model, base) ? cached.get(chunked.text.id) : undefined;
          const comparable = baseLogits !== undefined && sameTokens(baseLogits.tokens, chunked.evaluated);
          if (baseLogits && !comparable) plan.notes.push(`${model.name} tokenizes ${chunked.text.name} differently from the base ${base!.name}: it gets no KL divergence on it.`);
          const ppl = new PerplexityAccumulator();
          const drift = comparable ? new DriftAccumulator() : null;
          await score(scorer, chunked, "model", model.name, (index, next, probabilities) => {
            ppl.add(probabilities.get(next) ?? 0);
            drift?.add(probabilities, next, baseLogits!.positions[index]!);
          });
          for (let c = 0; c < chunked.chunks; c++) ppl.addChunk();
          out.push(measurementOf(model, chunked, ppl, drift, (performance.now() - textStarted) / 1000));
        }
        return out;
      });
      this.options.store.save(results);
      measurements.push(...results);
    }
    // In the order asked: models, then texts.
    const order = (m: QualityMeasurement) => models.findIndex((model) => resolve(model.path) === resolve(m.modelPath)) * 1000 + texts.findIndex((text) => text.id === m.text.id);
    measurements.sort((a, b) => order(a) - order(b));
    return { measurements, plan, seconds: (performance.now() - started) / 1000 };
  }

  /** The same questions answered greedily by each model in turn; answers stream as events. */
  async compare(input: RequestParams<"quality.compare">): Promise<{ jobId: string }> {
    const models = await Promise.all(input.models.map((choice) => this.#resolve(choice)));
    const sampling = samplingSchema.parse({ temperature: 0, maxTokens: input.maxTokens });
    const jobId = this.#run(
      async (jobId, signal) => {
        const answers: { text: string; stats: GenerationStats }[][] = input.questions.map(() => []);
        for (const [modelIndex, model] of models.entries()) {
          await this.options.runtime.withAnswerer(
            { modelPath: model.path, gpuLayers: input.gpuLayers, contextSize: input.contextSize, promptFormat: model.promptFormat, job: "A side-by-side comparison" },
            async (answer) => {
              for (const [questionIndex, question] of input.questions.entries()) {
                if (signal.aborted) throw new BillaError("cancelled", "The comparison was cancelled.");
                const { text, stats } = await answer(question.text, sampling, signal);
                if (signal.aborted) throw new BillaError("cancelled", "The comparison was cancelled.");
                answers[questionIndex]![modelIndex] = { text: text.trim(), stats };
                this.options.events.emit("quality.answer", { jobId, questionIndex, modelIndex, text: text.trim() });
              }
            },
          );
        }
        const comparison: Comparison = {
          models: models.map(({ modelId, name, path, fileType }) => ({ modelId, name, path, fileType })),
          questions: input.questions.map((question, index) => ({ id: question.id, text: question.text, answers: answers[index]! })),
          appVersion: this.options.appVersion,
          createdAt: new Date().toISOString(),
        };
        return comparison;
      },
      (jobId, comparison) => this.options.events.emit("quality.compared", { jobId, outcome: { ok: true, comparison } }),
      (jobId, error) => this.options.events.emit("quality.compared", { jobId, outcome: { ok: false, error } }),
      "The comparison was cancelled.",
    );
    return { jobId };
  }

  results(modelIds?: readonly string[]): QualityMeasurement[] {
    return this.options.store.list(modelIds);
  }

  cancel(jobId: string): { cancelled: boolean } {
    const job = this.#jobs.get(jobId);
    job?.controller.abort();
    return { cancelled: job !== undefined };
  }

  /** Cancels every job and waits until each has let go of the runtime. */
  async dispose(): Promise<void> {
    for (const job of this.#jobs.values()) job.controller.abort();
    await Promise.all([...this.#jobs.values()].map((job) => job.done));
  }

  #run<T>(
    work: (jobId: string, signal: AbortSignal) => Promise<T>,
    succeed: (jobId: string, value: T) => void,
    fail: (jobId: string, error: { code: string; message: string }) => void,
    cancelledMessage: string,
  ): string {
    const jobId = randomUUID();
    const controller = new AbortController();
    // Started on the next turn: the request answers with the id before the job's first event goes out.
    const started = new Promise((resolve) => setImmediate(resolve));
    const done = started.then(() => work(jobId, controller.signal)).then((value) => succeed(jobId, value), (error: unknown) => {
      const failure = controller.signal.aborted
        ? { code: "cancelled", message: cancelledMessage }
        : error instanceof BillaError
          ? { code: error.code, message: error.message }
          : { code: "internal", message: "The quality job failed inside BiLLa Desktop. The log file has the details." };
      if (!(error instanceof BillaError) && !controller.signal.aborted) this.options.logger.error(`quality job ${jobId} failed`, error);
      fail(jobId, failure);
    });
    const job = { controller, done: done.finally(() => this.#jobs.delete(jobId)) };
    this.#jobs.set(jobId, job);
    return jobId;
  }
}
