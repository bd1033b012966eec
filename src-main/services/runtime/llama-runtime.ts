// All llama.cpp code of the app lives in this module (node-llama-cpp's Electron template does the same):
// one Llama for the process, at most one loaded model, operations in order behind one lock, and every
// node-llama-cpp object disposed before the next is made.
import { availableParallelism } from "node:os";
import { readFileSync } from "node:fs";
import { randomInt, randomUUID } from "node:crypto";
import { mkdir, mkdtemp, readdir, rm } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { basename, join } from "node:path";
import {
  getLlama,
  GgufInsights,
  LlamaChat,
  LlamaCompletion,
  LlamaLogLevel,
  readGgufFileInfo,
  type ChatHistoryItem,
  type ChatWrapper,
  type LLamaContextualRepeatPenalty,
  type Llama,
  type LlamaContext,
  type LlamaContextSequence,
  type LlamaGpuType,
  type LlamaModel,
} from "node-llama-cpp";
import type { GenerationStats, LoadedModel, MemoryEstimate, PromptFormat, RequestParams, ResolvedPromptFormat, Sampling, SystemInfo, Turn } from "../../contract/api.js";
import { BillaError } from "../../contract/errors.js";
import { promptFactsOf, resolvePromptFormat } from "../models/prompt-format.js";
import { isProcessAlive } from "../system/process-alive.js";
import type { Logger } from "../logger.js";
import { BillaChatWrapper, turnsOf } from "./billa-chat-wrapper.js";
import { TextScorer } from "./text-scorer.js";
import { threadedBuildFolder, threadedBuildLlamaOptions, threadedBuildUnavailable } from "./threaded-build.js";

export type GpuPreference = "auto" | Exclude<LlamaGpuType, false> | "cpu";

export interface GpuState {
  backend: Exclude<LlamaGpuType, false> | null;
  devices: string[];
  vram: { totalBytes: number; usedBytes: number; freeBytes: number };
}

type ModelChoice = "modelId" | "modelPath" | "promptFormat";

/** A load request with its model resolved to a file (a library entry's id and prompt-format choice kept). */
export interface LoadOptions extends Omit<RequestParams<"runtime.load">, ModelChoice> {
  modelId: string | null;
  modelPath: string;
  promptFormat: PromptFormat;
}

export interface EstimateOptions extends Omit<RequestParams<"runtime.estimate">, ModelChoice> {
  modelPath: string;
}

/** A model for one job of its own (a quality measurement, a comparison): loaded, used, disposed. */
export interface OwnModelOptions {
  modelPath: string;
  gpuLayers: RequestParams<"runtime.load">["gpuLayers"];
  contextSize: number;
  promptFormat: PromptFormat;
  /** What the job is, for the `busy` answer chats get meanwhile, e.g. "A quality measurement". */
  job: string;
}

/** Answers one question from an empty conversation with the job's model. */
export type Answerer = (question: string, sampling: Sampling, signal: AbortSignal) => Promise<GenerationResult>;

/** OpenAI's frequency and presence penalties: logit -= count·frequency + (count > 0)·presence over the answer's tokens. */
export interface OutputPenalties {
  frequency: number;
  presence: number;
}

/** What a chat answer and a raw completion share: how to sample, when to end, and who may stop it. */
interface SamplingRequest {
  /** The slot key: answers with the same id continue in the same sequence (their shared prefix is kept). */
  conversationId: string;
  sampling: Sampling;
  /** More texts that end the answer (left out of it), e.g. an API request's `stop`. */
  stopTexts?: readonly string[] | undefined;
  penalties?: OutputPenalties | undefined;
  /** Aborting it stops the answer as `stop(conversationId)` does (an API client that went away). */
  signal?: AbortSignal | undefined;
  onText: (text: string) => void;
}

export interface GenerationRequest extends SamplingRequest {
  /** Read before the first turn (API clients' system messages); none in the app's own chats. */
  system?: string | undefined;
  history: Turn[];
  question: string;
  /** Called when older turns had to be left out for the conversation to fit the context. */
  onTrimmed: (droppedTurns: number) => void;
}

/** A raw prompt continued as it is: BOS and the prompt tokenized as one string, no chat template. */
export interface CompletionRequest extends SamplingRequest {
  prompt: string;
}

export interface GenerationResult {
  text: string;
  stats: GenerationStats;
}

/** One conversation's place in the context: its sequence keeps the evaluated prompt between answers. */
interface ConversationSlot {
  conversationId: string | null;
  sequence: LlamaContextSequence;
  chat: LlamaChat;
  /** Raw completions on the same sequence, made when first needed. */
  completion: LlamaCompletion | null;
  lastUsed: number;
}

interface Loaded {
  model: LlamaModel;
  context: LlamaContext;
  slots: ConversationSlot[];
  /** Evaluated states of conversations that lost their slot, saved to files of this load's own folder. */
  savedStates: Map<string, string>;
  stateDir: string;
  info: LoadedModel;
}

/** Conversations whose evaluated prompt stays in memory at once; more reuse the least recently used slot. */
const CONVERSATION_SLOTS = 2;
/**
 * A conversation that loses its slot has its state saved to a file and loaded back when it returns: on the
 * 134M bench model that is 13 ms + 7 ms against 1.4 s to evaluate its 594 tokens again (7B on a CPU: tens of
 * seconds). A 7B state is ~0.5 MiB per token, so only the most recent few are kept.
 */
const SAVED_STATES = 6;

/** Leaves out whole turns, oldest first, until the conversation fits; system messages stay. */
async function dropOldestTurns({ chatHistory, maxTokensCount, tokenizer, chatWrapper }: {
  chatHistory: readonly ChatHistoryItem[];
  maxTokensCount: number;
  tokenizer: LlamaModel["tokenizer"];
  chatWrapper: ChatWrapper;
}): Promise<{ chatHistory: ChatHistoryItem[]; metadata: { droppedTurns: number } }> {
  const system = chatHistory.filter((item) => item.type === "system");
  const items = chatHistory.filter((item) => item.type !== "system");
  let droppedTurns = 0;
  for (;;) {
    const kept = [...system, ...items];
    const tokens = chatWrapper.generateContextState({ chatHistory: kept }).contextText.tokenize(tokenizer).length;
    const firstAnswer = items.findIndex((item) => item.type === "model");
    const isLastTurn = items.filter((item) => item.type === "user").length <= 1;
    if (tokens <= maxTokensCount || isLastTurn || firstAnswer < 0) return { chatHistory: kept, metadata: { droppedTurns } };
    items.splice(0, firstAnswer + 1);
    droppedTurns++;
  }
}

/**
 * The repetition penalty node-llama-cpp applies. It keeps no state between answers: each evaluation makes a new
 * sampler, fed only with this answer's tokens, so nothing carries over from one request to the next.
 */
function repeatPenaltyOf(sampling: Sampling, penalties: OutputPenalties | undefined): false | LLamaContextualRepeatPenalty {
  if (!penalties || (penalties.frequency === 0 && penalties.presence === 0)) {
    // node-llama-cpp would apply its own repeat penalty; BiLLa's reference generation has none.
    return sampling.repeatPenalty === null ? false : { penalty: sampling.repeatPenalty };
  }
  // OpenAI counts every token of the answer so far, newlines included.
  return { penalty: sampling.repeatPenalty ?? 1, frequencyPenalty: penalties.frequency, presencePenalty: penalties.presence, lastTokens: sampling.maxTokens, penalizeNewLine: true };
}

/** The sampling options node-llama-cpp's chat and completion share. */
function generationOptions(request: SamplingRequest, signal: AbortSignal) {
  const { sampling } = request;
  return {
    signal,
    stopOnAbortSignal: true,
    maxTokens: sampling.maxTokens,
    temperature: sampling.temperature,
    topK: sampling.topK,
    topP: sampling.topP,
    minP: sampling.minP,
    // Without a seed node-llama-cpp uses the current second, so answers asked within one second would repeat.
    seed: sampling.seed ?? randomInt(2 ** 32),
    repeatPenalty: repeatPenaltyOf(sampling, request.penalties),
    ...(request.stopTexts?.length ? { customStopTriggers: request.stopTexts } : {}),
  };
}

/** An answer stopped before it began (its request was cancelled while it waited, or during its prompt). */
function stoppedBeforeAnswering(): GenerationResult {
  return { text: "", stats: { promptTokens: 0, reusedPromptTokens: 0, newTokens: 0, timeToFirstTokenMs: null, tokensPerSecond: 0, stopReason: "stopped", droppedTurns: 0 } };
}

/** One answer after the conversation's turns on `chat` (its sequence and model given), with the stats the app shows. */
async function respond(chat: LlamaChat, sequence: LlamaContextSequence, model: LlamaModel, request: GenerationRequest, signal: AbortSignal): Promise<GenerationResult> {
  const history: ChatHistoryItem[] = [
    ...(request.system ? [{ type: "system" as const, text: request.system }] : []),
    ...request.history.flatMap((turn): ChatHistoryItem[] => [
      { type: "user", text: turn.question },
      { type: "model", response: [turn.answer] },
    ]),
    { type: "user", text: request.question },
    { type: "model", response: [] },
  ];
  const meter = new AnswerMeter(sequence, request.onText);
  const response = await chat.generateResponse(history, {
    ...generationOptions(request, signal),
    contextShift: { strategy: dropOldestTurns },
    onTextChunk: meter.onText,
  });
  const { contextWindow } = response.lastEvaluation;
  const droppedTurns = turnsOf(history).history.length - turnsOf(contextWindow).history.length;
  if (droppedTurns > 0) request.onTrimmed(droppedTurns);
  // The prompt as it was evaluated (older turns left out, if any): the context window without the answer.
  const asked: ChatHistoryItem[] = [...(contextWindow.at(-1)?.type === "model" ? contextWindow.slice(0, -1) : contextWindow), { type: "model", response: [] }];
  const promptTokens = chat.chatWrapper.generateContextState({ chatHistory: asked }).contextText.tokenize(model.tokenizer).length;
  return { text: response.response, stats: meter.stats(response.metadata.stopReason, promptTokens, droppedTurns) };
}

/** Below this size one thread decodes fastest; see defaultThreadCount. */
const SMALL_MODEL_PARAMETERS = 200e6;

/**
 * A model's default thread count, given the cores it may use. A small model gets one thread: its per-token work
 * is too little to share, while the helper threads compete with node-llama-cpp's own worker and main threads for
 * the cores. Measured by bench:generate on 2 cores (decode tok/s, 1 thread / 2 threads), threaded build: 134M
 * 192 / 155, 250M 123 / 121, 600M 55 / 74, BiLLa-7B-wide 30 / 43; the prebuilt binary, which starts its helper
 * threads anew for every token: 134M 193 / 60, the 2.2M demo 1 236 / 74.
 */
export function defaultThreadCount(parameters: number, cores: number): number {
  return parameters < SMALL_MODEL_PARAMETERS ? 1 : cores;
}

/**
 * The cores this process may use (affinity, cgroups), but no more than llama.cpp's math cores: ggml's threads
 * spin while they wait, so hyper-threads and oversubscription (node-llama-cpp's own default is 4 threads even
 * on 2 cores) make decoding many times slower.
 */
function defaultThreads(llama: Llama, parameters: number): number {
  return defaultThreadCount(parameters, Math.min(availableParallelism(), llama.cpuMathCores));
}

const STOP_REASONS: Record<string, GenerationStats["stopReason"]> = {
  eogToken: "eos",
  stopGenerationTrigger: "stop-text",
  customStopTrigger: "stop-text",
  maxTokens: "max-tokens",
  abort: "stopped",
};

/** Counts an answer's tokens and times its text as it streams, for its stats. */
class AnswerMeter {
  readonly #started = performance.now();
  #firstText: number | null = null;
  readonly #outputBefore: number;
  readonly #inputBefore: number;

  constructor(
    private readonly sequence: LlamaContextSequence,
    private readonly forward: (text: string) => void,
  ) {
    this.#outputBefore = sequence.tokenMeter.usedOutputTokens;
    this.#inputBefore = sequence.tokenMeter.usedInputTokens;
  }

  readonly onText = (text: string): void => {
    this.#firstText ??= performance.now();
    this.forward(text);
  };

  stats(stopReason: string, promptTokens: number, droppedTurns: number): GenerationStats {
    const finished = performance.now();
    const meter = this.sequence.tokenMeter;
    const newTokens = meter.usedOutputTokens - this.#outputBefore;
    const generationSeconds = this.#firstText === null ? 0 : (finished - this.#firstText) / 1000;
    return {
      promptTokens,
      // The meter counts the prompt tokens this answer evaluated as input, except the last one, whose logits make
      // it count as output (as do the answer's tokens fed back); the rest were already in the sequence.
      reusedPromptTokens: Math.max(0, promptTokens - (meter.usedInputTokens - this.#inputBefore) - 1),
      newTokens,
      timeToFirstTokenMs: this.#firstText === null ? null : this.#firstText - this.#started,
      // The first token's time belongs to the prompt; speed counts the tokens after it.
      tokensPerSecond: generationSeconds > 0 ? (newTokens - 1) / generationSeconds : 0,
      stopReason: STOP_REASONS[stopReason] ?? "stop-text",
      droppedTurns,
    };
  }
}

export class LlamaRuntime {
  #llama: Promise<Llama> | undefined;
  #loaded: Loaded | null = null;
  /** Load, unload and generation run one at a time, in the order they were asked for. */
  #queue: Promise<unknown> = Promise.resolve();
  #waiting = 0;
  #generating: string | null = null;
  readonly #stops = new Map<string, AbortController>();
  /** A job holding the runtime with a model of its own (see #withOwnModel); chats are refused meanwhile. */
  #ownModelJob: string | null = null;

  constructor(
    /** Where evicted conversations' states are saved while a model is loaded; emptied on unload. */
    private readonly stateRoot: string,
    private readonly gpu: GpuPreference = "auto",
    private readonly onLoadProgress: (modelPath: string, progress: number) => void = () => undefined,
    private readonly logger: Pick<Logger, "info"> = { info: () => undefined },
  ) {}

  /**
   * GPU first (CUDA, Vulkan or Metal, whichever works), CPU when none does; never builds from source. On the CPU the
   * threaded build (threaded-build.ts) when this computer has one that loads, else node-llama-cpp's prebuilt:
   * getLlama finds a local build by its CMake options and falls back to the prebuilt binary by itself.
   */
  #getLlama(): Promise<Llama> {
    this.#llama ??= (async () => {
      const llama = await getLlama({ gpu: this.gpu === "cpu" ? false : this.gpu, build: "never", progressLogs: false, logLevel: LlamaLogLevel.warn, ...threadedBuildLlamaOptions(process.platform) });
      const { build, reason } = await this.#buildOf(llama);
      this.logger.info(`llama.cpp ${llama.llamaCppRelease.release}: ${llama.gpu === false ? "CPU" : llama.gpu}, ${build} build (${reason})`);
      return llama;
    })();
    return this.#llama;
  }

  async #buildOf(llama: Llama): Promise<Pick<SystemInfo["llama"], "build" | "reason">> {
    if (llama.buildType === "localBuild") return { build: "threaded", reason: "threaded" };
    if (llama.gpu !== false) return { build: "prebuilt", reason: "gpu" };
    if (threadedBuildUnavailable(process.platform) !== null) return { build: "prebuilt", reason: "unavailable" };
    return { build: "prebuilt", reason: (await threadedBuildFolder()) === null ? "not-built" : "failed" };
  }

  /** Which llama.cpp binary runs, why, and how many threads a model gets by default. */
  async llamaBuild(): Promise<SystemInfo["llama"]> {
    const llama = await this.#getLlama();
    return { ...(await this.#buildOf(llama)), threads: defaultThreads(llama, Infinity) };
  }

  /** Chats, loads and unloads would wait behind a job of minutes: they are refused with a reason instead. */
  #refuseDuringOwnModelJob(): void {
    if (this.#ownModelJob !== null) {
      throw new BillaError("busy", `${this.#ownModelJob} is using the model runtime. Wait for it to finish or cancel it (Models page, Quality), then try again.`);
    }
  }

  #serially<T>(work: () => Promise<T>): Promise<T> {
    this.#waiting++;
    const run = this.#queue.then(() => {
      this.#waiting--;
      return work();
    });
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async gpuState(): Promise<GpuState> {
    const llama = await this.#getLlama();
    const [devices, vram] = await Promise.all([llama.getGpuDeviceNames(), llama.getVramState()]);
    return { backend: llama.gpu === false ? null : llama.gpu, devices, vram: { totalBytes: vram.total, usedBytes: vram.used, freeBytes: vram.free } };
  }

  async cpuMathCores(): Promise<number> {
    return (await this.#getLlama()).cpuMathCores;
  }

  async llamaCppVersion(): Promise<string> {
    const { repo, release } = (await this.#getLlama()).llamaCppRelease;
    return `${release} (${repo})`;
  }

  /** node-llama-cpp does not export its package.json, so read it next to its resolved entry point. */
  nodeLlamaCppVersion(): string {
    const entry = fileURLToPath(import.meta.resolve("node-llama-cpp"));
    return (JSON.parse(readFileSync(new URL("../package.json", `file://${entry}`), "utf8")) as { version: string }).version;
  }

  state(): { loaded: LoadedModel | null; generating: string | null; queued: number } {
    return { loaded: this.#loaded?.info ?? null, generating: this.#generating, queued: this.#waiting };
  }

  /** RAM and VRAM the model would need with these settings, from node-llama-cpp's GGUF insights. */
  async estimate({ modelPath, gpuLayers, contextSize }: EstimateOptions): Promise<MemoryEstimate> {
    const llama = await this.#getLlama();
    const info = await readGgufFileInfo(modelPath, { logWarnings: false }).catch(() => {
      throw new BillaError("bad_file", `${basename(modelPath)} is not a readable GGUF model file.`);
    });
    const insights = await GgufInsights.from(info, llama);
    const { compatibilityScore, resolvedValues } = await insights.configurationResolver.resolveAndScoreConfig({
      ...(gpuLayers === "auto" ? {} : { targetGpuLayers: gpuLayers === "max" ? "max" : gpuLayers }),
      targetContextSize: contextSize,
    });
    const [ram, vram] = await Promise.all([llama.getRamState(), llama.getVramState()]);
    const totalLayers = insights.totalLayers;
    const fit = compatibilityScore === 0 ? "does-not-fit" : resolvedValues.gpuLayers < totalLayers ? "fits-partly-on-gpu" : "fits";
    return {
      fit: llama.gpu === false && compatibilityScore > 0 ? "fits" : fit,
      gpuLayers: resolvedValues.gpuLayers,
      totalLayers,
      ramBytes: resolvedValues.totalRamUsage,
      vramBytes: resolvedValues.totalVramUsage,
      freeRamBytes: ram.free,
      freeVramBytes: vram.free,
    };
  }

  load(options: LoadOptions): Promise<LoadedModel> {
    try {
      this.#refuseDuringOwnModelJob();
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#serially(async () => {
      await this.#unloadNow();
      const llama = await this.#getLlama();
      const model = await llama
        .loadModel({
          modelPath: options.modelPath,
          gpuLayers: options.gpuLayers,
          defaultContextFlashAttention: options.flashAttention,
          onLoadProgress: (progress) => this.onLoadProgress(options.modelPath, progress),
        })
        .catch((error: Error) => {
          throw new BillaError("bad_file", `${basename(options.modelPath)} could not be loaded: ${error.message}`);
        });
      try {
        const threads = options.threads ?? defaultThreads(llama, model.fileInsights.totalParameters);
        const context = await model.createContext({ contextSize: options.contextSize, threads, sequences: CONVERSATION_SLOTS, flashAttention: options.flashAttention });
        // node-llama-cpp's automatic choice gets BiLLa's prompt wrong, so BiLLa's format gets our own wrapper.
        const resolvedPromptFormat = resolvePromptFormat(options.promptFormat, promptFactsOf(model.fileInfo.metadata));
        const chatWrapper: ChatWrapper | "auto" = resolvedPromptFormat.format === "billa" ? new BillaChatWrapper() : "auto";
        const slots = Array.from({ length: CONVERSATION_SLOTS }, () => {
          const sequence = context.getSequence();
          return { conversationId: null, sequence, chat: new LlamaChat({ contextSequence: sequence, chatWrapper }), completion: null, lastUsed: 0 };
        });
        const stateDir = await this.#freshStateDir();
        const vram = await llama.getVramState();
        const resources = model.fileInsights.estimateModelResourceRequirements({ gpuLayers: model.gpuLayers });
        const info: LoadedModel = {
          modelId: options.modelId,
          modelPath: options.modelPath,
          name: String(model.fileInfo.metadata.general?.name ?? basename(options.modelPath, ".gguf")),
          resolvedPromptFormat,
          gpu: llama.gpu === false ? null : llama.gpu,
          offloadedLayers: model.gpuLayers,
          totalLayers: model.fileInsights.totalLayers,
          contextSize: context.contextSize,
          threads,
          vramBytes: vram.used,
          ramBytes: resources.cpuRam + context.stateSize,
        };
        this.#loaded = { model, context, slots, savedStates: new Map(), stateDir, info };
        return info;
      } catch (error) {
        await model.dispose();
        throw error;
      }
    });
  }

  /** This load's folder for saved states; folders left by crashed processes (their pid is gone) are removed. */
  async #freshStateDir(): Promise<string> {
    await mkdir(this.stateRoot, { recursive: true });
    for (const name of await readdir(this.stateRoot)) {
      const pid = Number(/^load-(\d+)-/.exec(name)?.[1]);
      if (Number.isInteger(pid) && pid !== process.pid && !isProcessAlive(pid)) await rm(join(this.stateRoot, name), { recursive: true, force: true });
    }
    return mkdtemp(join(this.stateRoot, `load-${process.pid}-`));
  }

  unload(): Promise<{ unloaded: boolean }> {
    try {
      this.#refuseDuringOwnModelJob();
    } catch (error) {
      return Promise.reject(error);
    }
    for (const controller of this.#stops.values()) controller.abort();
    return this.#serially(() => this.#unloadNow());
  }

  async #unloadNow(): Promise<{ unloaded: boolean }> {
    const loaded = this.#loaded;
    if (!loaded) return { unloaded: false };
    this.#loaded = null;
    for (const slot of loaded.slots) {
      slot.chat.dispose();
      slot.completion?.dispose();
    }
    await loaded.context.dispose();
    await loaded.model.dispose();
    // A saved state only fits the model it came from: never keep one past its load.
    await rm(loaded.stateDir, { recursive: true, force: true });
    return { unloaded: true };
  }

  /** Stops the conversation's answer in progress (or its queued request); the text so far is kept. */
  stop(conversationId: string): { stopped: boolean } {
    const controller = this.#stops.get(conversationId);
    controller?.abort();
    return { stopped: controller !== undefined };
  }

  /** Whether the conversation has an answer running or queued. */
  isAnswering(conversationId: string): boolean {
    return this.#stops.has(conversationId);
  }

  generate(request: GenerationRequest): Promise<GenerationResult> {
    return this.#generation(request, (loaded, signal) => this.#answer(loaded, request, signal));
  }

  /** Continues a raw prompt (BOS + the prompt, tokenized as one string, as BiLLa's script does), without the chat template. */
  complete(request: CompletionRequest): Promise<GenerationResult> {
    return this.#generation(request, (loaded, signal) => this.#complete(loaded, request, signal));
  }

  /** One answer in its conversation's turn: stoppable by `stop()`, by the request's signal, and by unloading. */
  #generation(request: SamplingRequest, work: (loaded: Loaded, signal: AbortSignal) => Promise<GenerationResult>): Promise<GenerationResult> {
    try {
      this.#refuseDuringOwnModelJob();
    } catch (error) {
      return Promise.reject(error);
    }
    if (this.isAnswering(request.conversationId)) {
      return Promise.reject(new BillaError("busy", "This conversation is already answering; stop it first."));
    }
    const controller = new AbortController();
    const abort = () => controller.abort();
    if (request.signal?.aborted) abort();
    request.signal?.addEventListener("abort", abort, { once: true });
    this.#stops.set(request.conversationId, controller);
    return this.#serially(async () => {
      try {
        const loaded = this.#loaded;
        if (!loaded) throw new BillaError("not_found", "No model is loaded. Load one on the Models page first.");
        if (controller.signal.aborted) return stoppedBeforeAnswering();
        this.#generating = request.conversationId;
        return await work(loaded, controller.signal);
      } catch (error) {
        // Stopped while its prompt was evaluated: node-llama-cpp throws the signal's reason before the first token.
        if (controller.signal.aborted && !(error instanceof BillaError)) return stoppedBeforeAnswering();
        throw error;
      } finally {
        request.signal?.removeEventListener("abort", abort);
        this.#generating = null;
        this.#stops.delete(request.conversationId);
      }
    });
  }

  /**
   * The slot already holding this conversation, else the least recently used one: its conversation's state is
   * saved to a file first, and this conversation's saved state, if any, is loaded into it.
   */
  async #slotFor(loaded: Loaded, conversationId: string): Promise<ConversationSlot> {
    let slot = loaded.slots.find((candidate) => candidate.conversationId === conversationId);
    if (!slot) {
      slot = loaded.slots.reduce((oldest, candidate) => (candidate.lastUsed < oldest.lastUsed ? candidate : oldest));
      if (slot.conversationId !== null && slot.sequence.contextTokens.length > 0) await this.#saveState(loaded, slot.conversationId, slot.sequence);
      await slot.sequence.clearHistory();
      const saved = loaded.savedStates.get(conversationId);
      if (saved !== undefined) {
        loaded.savedStates.delete(conversationId);
        // Written by this process for this very model and context (see #saveState), so safe to load.
        await slot.sequence.loadStateFromFile(saved, { acceptRisk: true }).catch(() => slot!.sequence.clearHistory());
        await rm(saved, { force: true });
      }
      slot.conversationId = conversationId;
    }
    slot.lastUsed = performance.now();
    return slot;
  }

  async #saveState(loaded: Loaded, conversationId: string, sequence: LlamaContextSequence): Promise<void> {
    const file = join(loaded.stateDir, `${randomUUID()}.state`);
    try {
      await sequence.saveStateToFile(file);
    } catch {
      await rm(file, { force: true }); // e.g. a full disk: the conversation is simply evaluated again later
      return;
    }
    loaded.savedStates.set(conversationId, file);
    for (const [oldest, oldFile] of loaded.savedStates) {
      if (loaded.savedStates.size <= SAVED_STATES) break;
      loaded.savedStates.delete(oldest);
      await rm(oldFile, { force: true });
    }
  }

  async #answer(loaded: Loaded, request: GenerationRequest, signal: AbortSignal): Promise<GenerationResult> {
    const slot = await this.#slotFor(loaded, request.conversationId);
    return respond(slot.chat, slot.sequence, loaded.model, request, signal);
  }

  /**
   * Runs `work` on a model of the job's own, behind the lock: the loaded model when it is the same file (with a
   * context of the job's own next to the chat's), otherwise the file is loaded after the chat model is unloaded,
   * so that two large models are never in memory at once. The chat model is not loaded back: the next chat
   * message loads its conversation's model, as after any unload. Chats, loads and unloads are refused meanwhile.
   */
  async #withOwnModel<T>(options: OwnModelOptions, work: (model: LlamaModel, context: LlamaContext, promptFormat: ResolvedPromptFormat) => Promise<T>): Promise<T> {
    this.#refuseDuringOwnModelJob();
    this.#ownModelJob = options.job;
    try {
      return await this.#serially(async () => {
        const llama = await this.#getLlama();
        const reused = this.#loaded?.info.modelPath === options.modelPath ? this.#loaded.model : null;
        if (!reused) await this.#unloadNow();
        const model =
          reused ??
          (await llama.loadModel({ modelPath: options.modelPath, gpuLayers: options.gpuLayers, onLoadProgress: (progress) => this.onLoadProgress(options.modelPath, progress) }).catch((error: Error) => {
            throw new BillaError("bad_file", `${basename(options.modelPath)} could not be loaded: ${error.message}`);
          }));
        try {
          const threads = defaultThreads(llama, model.fileInsights.totalParameters);
          const context = await model.createContext({ contextSize: options.contextSize, batchSize: options.contextSize, sequences: 1, threads });
          try {
            return await work(model, context, resolvePromptFormat(options.promptFormat, promptFactsOf(model.fileInfo.metadata)));
          } finally {
            await context.dispose();
          }
        } finally {
          if (!reused) await model.dispose();
        }
      });
    } finally {
      this.#ownModelJob = null;
    }
  }

  /** Scores text with a model, as llama-perplexity does (see TextScorer); the context holds one chunk. */
  withScorer<T>(options: OwnModelOptions, work: (scorer: TextScorer) => Promise<T>): Promise<T> {
    return this.#withOwnModel(options, (model, context) => work(new TextScorer(model, context.getSequence(), context.contextSize)));
  }

  /** Answers questions with a model, each from an empty conversation, in the model's prompt format. */
  withAnswerer<T>(options: OwnModelOptions, work: (answer: Answerer, modelName: string) => Promise<T>): Promise<T> {
    return this.#withOwnModel(options, async (model, context, promptFormat) => {
      const sequence = context.getSequence();
      const chat = new LlamaChat({ contextSequence: sequence, chatWrapper: promptFormat.format === "billa" ? new BillaChatWrapper() : "auto" });
      try {
        const name = String(model.fileInfo.metadata.general?.name ?? basename(options.modelPath, ".gguf"));
        return await work(async (question, sampling, signal) => {
          await sequence.clearHistory();
          const request = { conversationId: "", history: [], question, sampling, onText: () => undefined, onTrimmed: () => undefined };
          return respond(chat, sequence, model, request, signal);
        }, name);
      } finally {
        chat.dispose();
      }
    });
  }

  async #complete(loaded: Loaded, request: CompletionRequest, signal: AbortSignal): Promise<GenerationResult> {
    const slot = await this.#slotFor(loaded, request.conversationId);
    // The prompt tokenized whole, with SentencePiece's leading space; LlamaCompletion puts BOS before it when the
    // vocabulary asks for one. (Given a string, it would tokenize without that space: other ids than BiLLa's script.)
    const tokens = loaded.model.tokenize(request.prompt);
    const promptTokens = tokens.length + (loaded.model.tokens.shouldPrependBosToken ? 1 : 0);
    if (promptTokens >= loaded.context.contextSize) {
      // LlamaCompletion would silently cut the prompt's beginning off.
      throw new BillaError("invalid_input", `The prompt is ${promptTokens} tokens long; the loaded model's context holds ${loaded.context.contextSize}. Shorten it, or load the model with a larger context.`);
    }
    slot.completion ??= new LlamaCompletion({ contextSequence: slot.sequence });
    const meter = new AnswerMeter(slot.sequence, request.onText);
    const response = await slot.completion.generateCompletionWithMeta(tokens, { ...generationOptions(request, signal), onTextChunk: meter.onText });
    return { text: response.response, stats: meter.stats(response.metadata.stopReason, promptTokens, 0) };
  }

  async dispose(): Promise<void> {
    await this.unload();
    const llama = this.#llama;
    this.#llama = undefined;
    if (llama) await (await llama).dispose();
  }
}
