// The conversion wizard's state: five steps, each checked before the next opens. It lives as long as the
// app, so a conversion keeps running (and showing its progress) while the user looks at another page.
import type {
  ApiClient,
  ConversionReport,
  EventMessage,
  Inspection,
  OutputTypeName,
  RequestInput,
} from "../../../src-main/contract/api.js";
import type { MessageKey } from "../i18n/i18n.svelte.js";
import { errorCode, failureOf, type Failure } from "../shell/failure.js";
import { baseName, cleanTypedPath, joinPath } from "../shell/paths.js";
import { HubDownload } from "./hub-download.svelte.js";
import { RECOMMENDED_TYPE, type ModelShape } from "./output-types.js";

export const STEPS = [1, 2, 3, 4, 5] as const;
export type Step = (typeof STEPS)[number];
export const STAGES = ["inspect", "checksum", "convert", "verify"] as const;
export type Stage = (typeof STAGES)[number];

interface Embedding {
  rows: number;
  columns: number;
  dtype: string;
  dimensions: number;
}

export interface FolderFindings {
  path: string;
  config: (ModelShape & { modelType: string; vocab: number }) | null;
  tokenizer: boolean;
  format: string;
  files: number;
  parameters: number;
  embedding: Embedding | null;
  /** Our guess from the files (see checkFolder); the user can correct it. */
  looksRestored: boolean;
}

export interface LlamaFindings {
  /** The file or folder actually used (a Meta folder resolves to its consolidated.00.pth). */
  path: string;
  embedding: Embedding;
}

export type Check<T> = { status: "idle" } | { status: "checking" } | { status: "ok"; findings: T } | { status: "failed"; failure: Failure; findings?: T };

export type StageState = { state: "waiting" | "active" | "done" | "skipped"; done: number; total: number };

export interface Job {
  status: "idle" | "starting" | "running" | "done" | "failed" | "cancelled";
  id: string | null;
  /** What it converts: a finished job is shown again only while the inputs stay the same. */
  inputs: string;
  stages: Record<Stage, StageState>;
  stage: Stage | null;
  bytesPerSecond: number;
  etaSeconds: number | null;
  warnings: string[];
  report: ConversionReport | null;
  failure: Failure | null;
  cancelling: boolean;
}

export interface Verify {
  status: "idle" | "loading" | "asking" | "done" | "failed";
  modelId: string | null;
  loadProgress: number;
  question: string;
  answer: string;
  failure: Failure | null;
  conversationId: string;
  starting: boolean;
}

const EMBEDDING_NAMES = ["model.embed_tokens.weight", "tok_embeddings.weight"];

function freshStages(): Record<Stage, StageState> {
  return {
    inspect: { state: "waiting", done: 0, total: 0 },
    checksum: { state: "waiting", done: 0, total: 0 },
    convert: { state: "waiting", done: 0, total: 0 },
    verify: { state: "waiting", done: 0, total: 0 },
  };
}

function freshJob(): Job {
  return { status: "idle", id: null, inputs: "", stages: freshStages(), stage: null, bytesPerSecond: 0, etaSeconds: null, warnings: [], report: null, failure: null, cancelling: false };
}

function freshVerify(): Verify {
  return { status: "idle", modelId: null, loadProgress: 0, question: "", answer: "", failure: null, conversationId: "", starting: false };
}

function numberValue(metadata: Inspection["metadata"], key: string): number | null {
  const value = metadata[key];
  return typeof value === "number" && Number.isFinite(value) ? value : null;
}

const FLOAT_TYPES = ["F32", "F16", "BF16"];

function embeddingOf(inspection: Inspection): Embedding | null {
  const tensor = inspection.tensors.find((candidate) => EMBEDDING_NAMES.includes(candidate.name));
  if (!tensor) return null;
  return { rows: tensor.shape[0] ?? 0, columns: tensor.shape[1] ?? 0, dtype: tensor.type, dimensions: tensor.shape.length };
}

/** "BiLLa-7B-SFT" → "BiLLa-7B-SFT"; spaces and characters file systems dislike become "-". */
function fileStem(name: string): string {
  return name.trim().replace(/[\s<>:"/\\|?*]+/g, "-").replace(/^-+|-+$/g, "") || "billa";
}

export interface WizardHost {
  api: ApiClient;
  /** The data folder (app.info), for the default output location; null until known. */
  dataDir(): string | null;
  /** The settings' load options, used to verify the result. */
  loadOptions(): { gpuLayers: "auto" | "max" | number; contextSize: number };
  /** The question step 5 asks, in the user's language. */
  testQuestion(): string;
  navigateToChat(): void;
  /** The library changed (a model was added or loaded). */
  libraryChanged(): void;
}

export class ConvertWizard {
  step: Step = $state(1);
  /** Why "Next" did not move on, shown under the step. */
  stepFailure: Failure | null = $state(null);

  /** Step 1: a folder the user has, or BiLLa's release downloaded from Hugging Face. */
  source: "folder" | "hub" = $state("folder");
  readonly download: HubDownload;

  folderPath = $state("");
  folder: Check<FolderFindings> = $state({ status: "idle" });
  /** The user's answer to "released or restored?", once they changed our guess. */
  restoredChoice: boolean | null = $state(null);

  llamaPath = $state("");
  llama: Check<LlamaFindings> = $state({ status: "idle" });

  outType: OutputTypeName = $state(RECOMMENDED_TYPE);
  name = $state("");
  outPath = $state("");
  /** Once the user typed a location, changing the type no longer rewrites it. */
  outPathEdited = $state(false);
  output: Check<{ outFile: string }> = $state({ status: "idle" });

  job: Job = $state(freshJob());
  verify: Verify = $state(freshVerify());
  #early: EventMessage[] = [];

  constructor(private readonly host: WizardHost) {
    this.download = new HubDownload({ api: host.api, dataDir: host.dataDir, onDownloaded: (destination) => void this.#downloaded(destination) });
  }

  get restored(): boolean {
    const findings = this.folder.status === "ok" ? this.folder.findings : null;
    return this.restoredChoice ?? findings?.looksRestored ?? false;
  }

  get folderFindings(): FolderFindings | null {
    return this.folder.status === "ok" ? this.folder.findings : this.folder.status === "failed" ? (this.folder.findings ?? null) : null;
  }

  get running(): boolean {
    return this.job.status === "starting" || this.job.status === "running";
  }

  /** The inputs of the conversion as the steps now stand, as one comparable string. */
  get inputsKey(): string {
    return JSON.stringify([cleanTypedPath(this.folderPath), this.restored, cleanTypedPath(this.llamaPath), this.outType, this.name.trim(), cleanTypedPath(this.outPath)]);
  }

  // ── Step 1: the BiLLa folder ───────────────────────────────────────────────────────────────────────

  setSource(source: "folder" | "hub"): void {
    this.source = source;
    this.stepFailure = null;
    if (source === "hub") this.download.prepare();
  }

  /** The download finished, every file checked: its folder is step 1's answer, and the wizard moves on. */
  async #downloaded(destination: string): Promise<void> {
    this.setFolderPath(destination);
    if (this.step === 1 && this.source === "hub") await this.next();
  }

  setFolderPath(path: string): void {
    this.folderPath = path;
    this.folder = { status: "idle" };
    this.restoredChoice = null;
    this.stepFailure = null;
  }

  async checkFolder(): Promise<boolean> {
    const path = cleanTypedPath(this.folderPath);
    if (!path) {
      this.folder = { status: "failed", failure: { key: "convert.folder.empty" } };
      return false;
    }
    this.folder = { status: "checking" };
    let inspection: Inspection;
    try {
      inspection = await this.host.api.invoke("model.inspect", { path });
    } catch (error) {
      this.folder = { status: "failed", failure: failureOf(error, { not_found: "convert.folder.notFound", bad_file: "convert.folder.notCheckpoint" }, { path }) };
      return false;
    }
    if (cleanTypedPath(this.folderPath) !== path) return false; // the user typed on meanwhile
    if (inspection.kind === "gguf") {
      this.folder = { status: "failed", failure: { key: "convert.folder.isGguf", params: { path } } };
      return false;
    }
    const files = numberValue(inspection.metadata, "files");
    if (files === null) {
      // A single weights file: the conversion also needs the config and tokenizer next to it.
      this.folder = { status: "failed", failure: { key: "convert.folder.isFile", params: { path } } };
      return false;
    }
    const metadata = inspection.metadata;
    const hidden = numberValue(metadata, "config.hidden_size");
    const layers = numberValue(metadata, "config.num_hidden_layers");
    const heads = numberValue(metadata, "config.num_attention_heads");
    const vocab = numberValue(metadata, "config.vocab_size");
    const config =
      hidden !== null && layers !== null && heads !== null
        ? {
            modelType: String(metadata["config.model_type"] ?? ""),
            hidden,
            layers,
            heads,
            kvHeads: numberValue(metadata, "config.num_key_value_heads") ?? heads,
            vocab: vocab ?? 0,
            parameters: 0,
          }
        : null;
    const parameters = inspection.tensors.reduce((sum, tensor) => sum + tensor.shape.reduce((product, dim) => product * dim, 1), 0);
    if (config) config.parameters = parameters;
    const tokenizer = metadata["tokenizer"] === true;
    const findings: FolderFindings = {
      path,
      config,
      tokenizer,
      format: String(metadata["format"] ?? ""),
      files,
      parameters,
      embedding: embeddingOf(inspection),
      // model.inspect judges the embedding's form from a sample of its rows; the user can correct it.
      looksRestored: metadata["weights"] === "restored",
    };
    if (cleanTypedPath(this.folderPath) !== path) return false;
    let failure: Failure | null = null;
    if (!config) failure = { key: "convert.folder.noConfig" };
    else if (config.modelType !== "llama") failure = { key: "convert.folder.notLlama", params: { type: config.modelType || "?" } };
    else if (!tokenizer) failure = { key: "convert.folder.noTokenizer" };
    else if (!findings.embedding || findings.embedding.dimensions !== 2) failure = { key: "convert.folder.noEmbedding" };
    this.folder = failure ? { status: "failed", failure, findings } : { status: "ok", findings };
    return failure === null;
  }

  setRestored(restored: boolean): void {
    this.restoredChoice = restored;
  }

  // ── Step 2: the original LLaMA ─────────────────────────────────────────────────────────────────────

  setLlamaPath(path: string): void {
    this.llamaPath = path;
    this.llama = { status: "idle" };
    this.stepFailure = null;
  }

  async checkLlama(): Promise<boolean> {
    const path = cleanTypedPath(this.llamaPath);
    const billa = this.folderFindings?.embedding;
    if (!path) {
      this.llama = { status: "failed", failure: { key: "convert.llama.empty" } };
      return false;
    }
    if (!billa) {
      this.llama = { status: "failed", failure: { key: "convert.llama.needFolder" } };
      return false;
    }
    this.llama = { status: "checking" };
    let inspection: Inspection;
    let used = path;
    try {
      inspection = await this.host.api.invoke("model.inspect", { path });
    } catch (error) {
      // Meta's download is a folder holding consolidated.00.pth; people naturally pick the folder.
      const inFolder = joinPath(path, "consolidated.00.pth");
      const retried = errorCode(error) === "bad_file" ? await this.host.api.invoke("model.inspect", { path: inFolder }).catch(() => null) : null;
      if (!retried) {
        this.llama = { status: "failed", failure: failureOf(error, { not_found: "convert.llama.notFound", bad_file: "convert.llama.notCheckpoint" }, { path }) };
        return false;
      }
      inspection = retried;
      used = inFolder;
    }
    if (cleanTypedPath(this.llamaPath) !== path) return false;
    const embedding = inspection.kind === "gguf" ? null : embeddingOf(inspection);
    const fail = (key: MessageKey, params: Record<string, string | number> = {}) => {
      this.llama = { status: "failed", failure: { key, params } };
      return false;
    };
    if (inspection.kind === "gguf") return fail("convert.llama.isGguf");
    if (!embedding) return fail("convert.llama.noEmbedding");
    if (embedding.dimensions !== 2) return fail("convert.llama.notTable");
    if (embedding.columns !== billa.columns) return fail("convert.llama.wrongWidth", { theirs: embedding.columns, ours: billa.columns });
    // BiLLa added Chinese tokens to LLaMA's vocabulary, so the original has fewer rows. A file with as
    // many (or more) is BiLLa itself, a restored BiLLa, or another extended model: restoring with it
    // would silently produce garbage, which is exactly what this step is for.
    if (embedding.rows >= billa.rows) return fail("convert.llama.notOriginal", { theirs: embedding.rows, ours: billa.rows });
    // BiLLa's release has a float32 embedding and Meta's LLaMA a float16 one; copies saved again come in bfloat16 too.
    if (!FLOAT_TYPES.includes(embedding.dtype)) return fail("convert.llama.wrongType", { theirs: embedding.dtype });
    this.llama = { status: "ok", findings: { path: used, embedding } };
    return true;
  }

  // ── Step 3: output ─────────────────────────────────────────────────────────────────────────────────

  /** The suggested location for the current name and type: the library's models folder. */
  suggestedOutPath(): string {
    const dataDir = this.host.dataDir();
    if (!dataDir) return "";
    return joinPath(joinPath(dataDir, "models"), `${fileStem(this.name)}-${this.outType}.gguf`);
  }

  #prepareOutput(): void {
    if (!this.name.trim()) this.name = baseName(cleanTypedPath(this.folderPath)) || "BiLLa";
    if (!this.outPathEdited) this.outPath = this.suggestedOutPath();
  }

  setOutType(type: OutputTypeName): void {
    this.outType = type;
    this.output = { status: "idle" };
    if (!this.outPathEdited) this.outPath = this.suggestedOutPath();
  }

  setName(name: string): void {
    this.name = name;
    this.output = { status: "idle" };
    if (!this.outPathEdited) this.outPath = this.suggestedOutPath();
  }

  setOutPath(path: string): void {
    this.outPath = path;
    this.outPathEdited = true;
    this.output = { status: "idle" };
  }

  async checkOutput(): Promise<boolean> {
    const outFile = cleanTypedPath(this.outPath);
    const fail = (key: MessageKey, params: Record<string, string | number> = {}) => {
      this.output = { status: "failed", failure: { key, params } };
      return false;
    };
    if (!this.name.trim()) return fail("convert.output.noName");
    if (this.name.trim().length > 200) return fail("convert.output.longName");
    if (!outFile) return fail("convert.output.noPath");
    if (!outFile.endsWith(".gguf")) return fail("convert.output.notGguf");
    this.output = { status: "checking" };
    // The converter refuses to overwrite; saying so now saves a failed run later.
    const free = await this.host.api.invoke("model.inspect", { path: outFile }).then(
      () => false,
      (error: unknown) => errorCode(error) === "not_found",
    );
    if (!free) return fail("convert.output.exists", { path: outFile });
    this.output = { status: "ok", findings: { outFile } };
    return true;
  }

  // ── Step 4: run ────────────────────────────────────────────────────────────────────────────────────

  async start(): Promise<void> {
    if (this.running) return;
    const outFile = cleanTypedPath(this.outPath);
    const input: RequestInput<"conversion.start"> = {
      modelDir: cleanTypedPath(this.folderPath),
      outFile,
      outType: this.outType,
      name: this.name.trim(),
      addToLibrary: true,
    };
    if (!this.restored && this.llama.status === "ok") input.originalLlama = this.llama.findings.path;
    this.job = { ...freshJob(), status: "starting", inputs: this.inputsKey };
    this.verify = freshVerify();
    this.#early = [];
    try {
      const { jobId } = await this.host.api.invoke("conversion.start", input);
      this.job.id = jobId;
      this.job.status = "running";
      // Cancel was pressed before the job had an id.
      if (this.job.cancelling) void this.host.api.invoke("conversion.cancel", { jobId }).catch(() => undefined);
      // Events sent before the request answered (a quick failure can be) are handled now.
      const early = this.#early.filter((event) => "jobId" in event.payload && event.payload.jobId === jobId);
      this.#early = [];
      for (const event of early) this.onEvent(event);
    } catch (error) {
      this.job.status = "failed";
      this.job.failure = failureOf(error, { bad_file: "convert.run.badInput", invalid_input: "convert.run.badInput" });
    }
  }

  async cancel(): Promise<void> {
    if (!this.running) return;
    this.job.cancelling = true;
    if (!this.job.id) return; // start() cancels as soon as the job has its id
    await this.host.api.invoke("conversion.cancel", { jobId: this.job.id }).catch(() => undefined);
  }

  #onProgress(stage: Stage, done: number, total: number, bytesPerSecond: number, etaSeconds: number | null): void {
    const index = STAGES.indexOf(stage);
    for (const [i, name] of STAGES.entries()) {
      const state = this.job.stages[name];
      if (i < index && state.state !== "done") this.job.stages[name] = { ...state, state: state.state === "waiting" ? "skipped" : "done" };
    }
    this.job.stages[stage] = { state: "active", done, total };
    this.job.stage = stage;
    this.job.bytesPerSecond = bytesPerSecond;
    this.job.etaSeconds = etaSeconds;
  }

  #onFinished(outcome: Extract<EventMessage, { name: "conversion.finished" }>["payload"]["outcome"]): void {
    this.job.cancelling = false;
    this.job.stage = null;
    if (outcome.ok) {
      for (const name of STAGES) {
        const state = this.job.stages[name];
        this.job.stages[name] = state.state === "waiting" ? { ...state, state: "skipped" } : { ...state, state: "done", done: state.total };
      }
      this.job.report = outcome.report;
      this.job.status = "done";
      this.host.libraryChanged();
      return;
    }
    const { code, message } = outcome.error;
    if (code === "cancelled") {
      this.job.status = "cancelled";
      return;
    }
    this.job.status = "failed";
    const key: MessageKey = code === "bad_file" ? "convert.run.badFile" : code === "not_found" ? "convert.run.notFound" : code === "busy" ? "failure.busy" : "convert.run.internal";
    this.job.failure = { key, detail: message };
  }

  // ── Step 5: verify ─────────────────────────────────────────────────────────────────────────────────

  async runVerify(): Promise<void> {
    const modelId = this.job.report?.modelId ?? null;
    if (!modelId) {
      this.verify = { ...freshVerify(), status: "failed", failure: { key: "convert.verify.notRegistered" } };
      return;
    }
    const conversationId = `wizard-verify-${this.job.id ?? modelId}`;
    this.verify = { ...freshVerify(), status: "loading", modelId, conversationId, question: this.host.testQuestion() };
    try {
      await this.host.api.invoke("runtime.load", { modelId, ...this.host.loadOptions() });
      this.host.libraryChanged();
    } catch (error) {
      this.verify.status = "failed";
      this.verify.failure = { ...failureOf(error), key: "convert.verify.loadFailed" };
      return;
    }
    this.verify.status = "asking";
    this.verify.loadProgress = 1;
    try {
      const { text } = await this.host.api.invoke("chat.generate", {
        conversationId,
        messageId: `${conversationId}-answer`,
        history: [],
        question: this.verify.question,
        sampling: { temperature: 0, maxTokens: 64 },
      });
      this.verify.answer = text;
      this.verify.status = text.trim() ? "done" : "failed";
      if (!text.trim()) this.verify.failure = { key: "convert.verify.emptyAnswer" };
    } catch (error) {
      this.verify.status = "failed";
      this.verify.failure = { ...failureOf(error), key: "convert.verify.askFailed" };
    }
  }

  async startChatting(): Promise<void> {
    if (!this.verify.modelId) return;
    this.verify.starting = true;
    try {
      await this.host.api.invoke("history.create", { modelId: this.verify.modelId });
      this.host.navigateToChat();
    } catch (error) {
      this.verify.failure = { ...failureOf(error), key: "convert.verify.chatFailed" };
    } finally {
      this.verify.starting = false;
    }
  }

  // ── Moving between steps ───────────────────────────────────────────────────────────────────────────

  /** Checks the current step and moves on when it passes; returns whether it moved. */
  async next(): Promise<boolean> {
    this.stepFailure = null;
    switch (this.step) {
      case 1: {
        if (this.source === "hub" && this.download.current?.state !== "done") {
          this.stepFailure = { key: this.download.current?.state === "running" ? "convert.download.stillRunning" : "convert.download.notYet" };
          return false;
        }
        const ok = (this.folder.status === "ok" && this.folder.findings.path === cleanTypedPath(this.folderPath)) || (await this.checkFolder());
        if (!ok) return false;
        this.step = this.restored ? 3 : 2;
        if (this.step === 3) this.#prepareOutput();
        return true;
      }
      case 2: {
        const ok = this.llama.status === "ok" || (await this.checkLlama());
        if (!ok) return false;
        this.#prepareOutput();
        this.step = 3;
        return true;
      }
      case 3: {
        if (!(await this.checkOutput())) return false;
        // A finished or failed run of other inputs is not this conversion's.
        if (this.job.status !== "idle" && !this.running && this.job.inputs !== this.inputsKey) this.job = freshJob();
        this.step = 4;
        return true;
      }
      case 4: {
        if (this.job.status !== "done") {
          this.stepFailure = { key: this.running ? "convert.run.stillRunning" : "convert.run.notYet" };
          return false;
        }
        this.step = 5;
        if (this.verify.status === "idle" || this.verify.modelId !== (this.job.report?.modelId ?? null)) void this.runVerify();
        return true;
      }
      default:
        return false;
    }
  }

  back(): void {
    this.stepFailure = null;
    if (this.step === 1 || this.running) return;
    this.step = this.step === 3 && this.restored ? 1 : ((this.step - 1) as Step);
  }

  /** Starts over, keeping nothing but a running job (which cannot be abandoned silently). */
  reset(): void {
    if (this.running) return;
    this.step = 1;
    this.stepFailure = null;
    this.source = "folder";
    this.folderPath = "";
    this.folder = { status: "idle" };
    this.restoredChoice = null;
    this.llamaPath = "";
    this.llama = { status: "idle" };
    this.outType = RECOMMENDED_TYPE;
    this.name = "";
    this.outPath = "";
    this.outPathEdited = false;
    this.output = { status: "idle" };
    this.job = freshJob();
    this.verify = freshVerify();
  }

  onEvent(event: EventMessage): void {
    this.download.onEvent(event);
    switch (event.name) {
      case "conversion.progress":
      case "conversion.warning":
      case "conversion.finished": {
        if (this.job.status === "starting") {
          this.#early.push(event);
          return;
        }
        if (event.payload.jobId !== this.job.id || this.job.status !== "running") return;
        if (event.name === "conversion.progress") {
          const { stage, doneBytes, totalBytes, bytesPerSecond, etaSeconds } = event.payload;
          this.#onProgress(stage, doneBytes, totalBytes, bytesPerSecond, etaSeconds);
        } else if (event.name === "conversion.warning") {
          this.job.warnings.push(event.payload.message);
        } else {
          this.#onFinished(event.payload.outcome);
        }
        return;
      }
      case "model.loadProgress":
        if (this.verify.status === "loading") this.verify.loadProgress = event.payload.progress;
        return;
      case "generation.chunk":
        if (this.verify.status === "asking" && event.payload.conversationId === this.verify.conversationId) this.verify.answer += event.payload.text;
        return;
    }
  }
}
