// What quantization costs, as the app shows it: stored measurements, a running measurement (plan, progress,
// cancel), and side-by-side answers. Kept for the app's life, so a run goes on while another page is shown.
import type { ApiClient, Comparison, EventMessage, ExportFormat, LocalModelEntry, ModelEntry, QualityMeasurement, QualityPlan, QualityProgress, RequestInput } from "../../../src-main/contract/api.js";
import { downloadFile } from "../chat/download.js";
import { failureOf, type Failure } from "../shell/failure.js";

export interface MeasureRun {
  status: "starting" | "running" | "done" | "failed" | "cancelled";
  jobId: string | null;
  /** The library entries measured; the wizard and the Quality view each follow their own run. */
  modelIds: string[];
  plan: QualityPlan | null;
  progress: QualityProgress | null;
  measurements: QualityMeasurement[];
  failure: Failure | null;
  cancelling: boolean;
}

export interface CompareRun {
  status: "starting" | "running" | "done" | "failed" | "cancelled";
  jobId: string | null;
  models: LocalModelEntry[];
  questions: string[];
  /** answers[question][model], filled as they arrive. */
  answers: (string | undefined)[][];
  comparison: Comparison | null;
  failure: Failure | null;
}

/** Library entries of one model (same architecture and size), the files a Quality chart compares. */
export interface ModelFamily {
  key: string;
  name: string;
  entries: LocalModelEntry[];
}

/** The files on this computer that can be used now: quality is measured on GGUFs, not on remote servers. */
export function usableFiles(models: readonly ModelEntry[]): LocalModelEntry[] {
  return models.filter((entry): entry is LocalModelEntry => entry.kind === "local" && entry.status === "ok");
}

export function familiesOf(models: readonly ModelEntry[]): ModelFamily[] {
  const families: ModelFamily[] = [];
  for (const entry of usableFiles(models)) {
    const key = `${entry.architecture ?? "?"}:${entry.parameterCount ?? "?"}`;
    const family = families.find((candidate) => candidate.key === key);
    if (family) family.entries.push(entry);
    else families.push({ key, name: entry.name, entries: [entry] });
  }
  return families;
}

export class QualityState {
  results: QualityMeasurement[] = $state([]);
  /** The measurement running or last run, from any page. */
  run: MeasureRun | null = $state(null);
  compareRun: CompareRun | null = $state(null);
  /** The Models page's view: the library, the Quality chart, or answers side by side. */
  view: "library" | "quality" | "compare" = $state("library");
  familyKey: string | null = $state(null);
  #early: EventMessage[] = [];

  constructor(private readonly api: ApiClient) {}

  get measuring(): boolean {
    return this.run !== null && (this.run.status === "starting" || this.run.status === "running");
  }

  get comparing(): boolean {
    return this.compareRun !== null && (this.compareRun.status === "starting" || this.compareRun.status === "running");
  }

  async loadResults(): Promise<void> {
    this.results = (await this.api.invoke("quality.results", {}).catch(() => ({ results: this.results }))).results;
  }

  /** The newest stored measurement of an entry on a text, if any. */
  resultFor(modelId: string, textId: string): QualityMeasurement | undefined {
    return this.results.find((result) => result.modelId === modelId && result.text.id === textId);
  }

  async measure(modelIds: string[], options: Omit<RequestInput<"quality.measure">, "models"> = {}): Promise<void> {
    if (this.measuring) return;
    this.run = { status: "starting", jobId: null, modelIds, plan: null, progress: null, measurements: [], failure: null, cancelling: false };
    this.#early = [];
    try {
      const { jobId, plan } = await this.api.invoke("quality.measure", { ...options, models: modelIds.map((modelId) => ({ modelId })) });
      this.run.jobId = jobId;
      this.run.plan = plan;
      this.run.status = "running";
      if (this.run.cancelling) void this.api.invoke("quality.cancel", { jobId }).catch(() => undefined);
      for (const event of this.#early.splice(0)) this.onEvent(event);
    } catch (error) {
      this.run.status = "failed";
      this.run.failure = failureOf(error, { bad_file: "quality.badFile", not_found: "quality.notFound", invalid_input: "quality.badText" });
    }
  }

  async cancel(): Promise<void> {
    if (!this.run || !this.measuring) return;
    this.run.cancelling = true;
    if (this.run.jobId) await this.api.invoke("quality.cancel", { jobId: this.run.jobId }).catch(() => undefined);
  }

  async compare(models: LocalModelEntry[], questions: string[], maxTokens: number): Promise<void> {
    if (this.comparing) return;
    this.compareRun = { status: "starting", jobId: null, models, questions, answers: questions.map(() => []), comparison: null, failure: null };
    this.#early = [];
    try {
      const { jobId } = await this.api.invoke("quality.compare", {
        models: models.map((model) => ({ modelId: model.id })),
        questions: questions.map((text, index) => ({ id: index + 1, text })),
        maxTokens,
      });
      this.compareRun.jobId = jobId;
      this.compareRun.status = "running";
      for (const event of this.#early.splice(0)) this.onEvent(event);
    } catch (error) {
      this.compareRun.status = "failed";
      this.compareRun.failure = failureOf(error);
    }
  }

  async cancelCompare(): Promise<void> {
    if (this.compareRun?.jobId && this.comparing) await this.api.invoke("quality.cancel", { jobId: this.compareRun.jobId }).catch(() => undefined);
  }

  async exportComparison(format: ExportFormat): Promise<void> {
    const comparison = this.compareRun?.comparison;
    if (!comparison) return;
    try {
      downloadFile(await this.api.invoke("quality.exportComparison", { comparison, format }));
    } catch (error) {
      if (this.compareRun) this.compareRun.failure = failureOf(error);
    }
  }

  onEvent(event: EventMessage): void {
    switch (event.name) {
      case "quality.progress":
      case "quality.finished": {
        const run = this.run;
        if (run?.status === "starting") {
          this.#early.push(event);
          return;
        }
        if (!run || event.payload.jobId !== run.jobId || run.status !== "running") return;
        if (event.name === "quality.progress") {
          run.progress = event.payload;
          return;
        }
        run.cancelling = false;
        const { outcome } = event.payload;
        if (outcome.ok) {
          run.status = "done";
          run.measurements = outcome.report.measurements;
          run.plan = outcome.report.plan;
          void this.loadResults();
        } else if (outcome.error.code === "cancelled") {
          run.status = "cancelled";
        } else {
          run.status = "failed";
          run.failure = { key: "quality.failed", detail: outcome.error.message };
        }
        return;
      }
      case "quality.answer":
      case "quality.compared": {
        const run = this.compareRun;
        if (run?.status === "starting") {
          this.#early.push(event);
          return;
        }
        if (!run || event.payload.jobId !== run.jobId || run.status !== "running") return;
        if (event.name === "quality.answer") {
          run.answers[event.payload.questionIndex]![event.payload.modelIndex] = event.payload.text;
          return;
        }
        const { outcome } = event.payload;
        if (outcome.ok) {
          run.status = "done";
          run.comparison = outcome.comparison;
        } else {
          run.status = outcome.error.code === "cancelled" ? "cancelled" : "failed";
          if (run.status === "failed") run.failure = { key: "quality.compareFailed", detail: outcome.error.message };
        }
        return;
      }
    }
  }
}
