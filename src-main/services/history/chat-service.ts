// Chatting in saved conversations: a question is stored, answered with the conversation's branch as history by its
// model (on this computer through the runtime, or on a remote server), and the answer is saved while it streams and
// once more with its outcome. Both kinds of model go through the same code here: events, stop, history, stats.
import type { Conversation, GenerationStats, Message, RequestParams, Sampling, Turn } from "../../contract/api.js";
import { branchOf } from "../../contract/conversation-tree.js";
import { BillaError } from "../../contract/errors.js";
import type { EventBus } from "../event-bus.js";
import type { ModelLibrary } from "../models/model-library.js";
import type { RemoteService } from "../remote/remote-service.js";
import type { GenerationRequest, GenerationResult, LlamaRuntime } from "../runtime/llama-runtime.js";
import type { SettingsStore } from "../settings/settings-store.js";
import type { HistoryStore } from "./history-store.js";
import { StreamingAnswer } from "./streaming-answer.js";

/** The finished turns of a branch that ends with a question, oldest first. */
function turnsBefore(branch: readonly Message[]): Turn[] {
  const turns: Turn[] = [];
  for (let i = 0; i + 1 < branch.length - 1; i += 2) turns.push({ question: branch[i]!.text, answer: branch[i + 1]!.text });
  return turns;
}

/** How an answer is asked beyond its conversation: the API's system text, stop texts, penalties and cancellation. */
type AnswerOptions = Pick<GenerationRequest, "system" | "stopTexts" | "penalties" | "signal"> & { sampling?: Sampling; onText?: (text: string) => void };

/** A request of the OpenAI-compatible API, answered in the history. */
export interface ApiConversationRequest extends AnswerOptions {
  history: Turn[];
  question: string;
  sampling: Sampling;
}

/** What answers: the library model's name (as its answers are signed) and how it generates. */
interface Answerer {
  name: string;
  generate(request: GenerationRequest): Promise<GenerationResult>;
}

export class ChatService {
  /** Answers being written, by conversation, so that closing waits until each is saved. */
  readonly #inFlight = new Map<string, Promise<unknown>>();

  constructor(
    private readonly store: HistoryStore,
    private readonly runtime: LlamaRuntime,
    private readonly remote: RemoteService,
    private readonly models: ModelLibrary,
    private readonly settings: SettingsStore,
    private readonly events: EventBus,
  ) {}

  async send({ conversationId, text, parentId }: RequestParams<"chat.send">): Promise<{ question: Message; answer: Message }> {
    const model = await this.#prepare(conversationId);
    const question = this.store.addQuestion(conversationId, parentId, text);
    return { question, answer: await this.#answer(question, model, true) };
  }

  async regenerate({ conversationId, messageId }: RequestParams<"chat.regenerate">): Promise<{ answer: Message }> {
    const previous = this.store.message(conversationId, messageId);
    if (previous.role !== "assistant" || previous.parentId === null) throw new BillaError("invalid_input", "Only an answer can be regenerated.");
    const model = await this.#prepare(conversationId);
    return { answer: await this.#answer(this.store.message(conversationId, previous.parentId), model, false) };
  }

  async edit({ conversationId, messageId, text }: RequestParams<"chat.edit">): Promise<{ question: Message; answer: Message }> {
    const original = this.store.message(conversationId, messageId);
    if (original.role !== "user") throw new BillaError("invalid_input", "Only a question can be edited.");
    const model = await this.#prepare(conversationId);
    const question = this.store.addQuestion(conversationId, original.parentId, text);
    return { question, answer: await this.#answer(question, model, true) };
  }

  /**
   * Answers an API request in an API conversation of the history: the one whose branch holds the request's earlier
   * turns (a client resending its conversation continues it), else a new one with those turns. The model is loaded.
   */
  async answerApiRequest(request: ApiConversationRequest, modelName: string): Promise<{ answer: Message; stats: GenerationStats | null }> {
    let conversation = this.store.findApiConversation(request.history);
    if (!conversation) {
      conversation = this.store.create({ sampling: request.sampling, source: "api" });
      this.store.addTurns(conversation.id, request.history);
    }
    const question = this.store.addQuestion(conversation.id, undefined, request.question);
    let stats: GenerationStats | null = null;
    const answer = await this.#answer(question, this.#local(modelName), true, { ...request, onStats: (value) => (stats = value) });
    return { answer, stats };
  }

  /**
   * An answer saved nowhere (`chat.generate`: `billa answer`, `billa chat --no-save`, the wizard's check): by the
   * library model `modelId` (a local one loaded first, a remote one asked over HTTP), else by the loaded model.
   */
  generateUnsaved(modelId: string | undefined, request: GenerationRequest): Promise<GenerationResult> {
    if (this.isAnswering(request.conversationId)) return Promise.reject(new BillaError("busy", "This conversation is already answering; stop it first."));
    return this.#track(request.conversationId, async () => {
      const answerer = modelId === undefined ? this.#local("") : await this.answererFor(modelId);
      return answerer.generate(request);
    });
  }

  /** Stops the conversation's answer (local or remote); the text so far is kept. */
  stop(conversationId: string): { stopped: boolean } {
    const local = this.runtime.stop(conversationId).stopped;
    const remote = this.remote.stop(conversationId).stopped;
    return { stopped: local || remote };
  }

  isAnswering(conversationId: string): boolean {
    return this.#inFlight.has(conversationId) || this.runtime.isAnswering(conversationId) || this.remote.isAnswering(conversationId);
  }

  /** Whether any answer is being written (a backup must not be restored under it). */
  get answering(): boolean {
    return this.#inFlight.size > 0 || this.runtime.state().generating !== null;
  }

  /** Stops every answer and waits until each is saved as it ended. */
  async dispose(): Promise<void> {
    for (const conversationId of this.#inFlight.keys()) this.stop(conversationId);
    await Promise.allSettled(this.#inFlight.values());
  }

  #track<T>(conversationId: string, work: () => Promise<T>): Promise<T> {
    const running = work().finally(() => this.#inFlight.delete(conversationId));
    this.#inFlight.set(conversationId, running);
    return running;
  }

  /** Checks before anything is saved: the conversation exists and is free, and its model is ready (a local one loaded). */
  async #prepare(conversationId: string): Promise<Answerer> {
    const conversation = this.store.conversation(conversationId);
    if (conversation.deletedAt !== null) throw new BillaError("not_found", "This conversation was deleted; restore it first.");
    if (this.isAnswering(conversationId)) throw new BillaError("busy", "This conversation is already answering; stop it first.");
    return this.answererFor(conversation.modelId);
  }

  #answer(question: Message, answerer: Answerer, questionIsNew: boolean, options: AnswerOptions & { onStats?: (stats: GenerationStats) => void } = {}): Promise<Message> {
    return this.#track(question.conversationId, () => this.#answerNow(question, answerer, questionIsNew, options));
  }

  async #answerNow(question: Message, answerer: Answerer, questionIsNew: boolean, options: AnswerOptions & { onStats?: (stats: GenerationStats) => void }): Promise<Message> {
    const conversation = this.store.conversation(question.conversationId);
    const history = turnsBefore(branchOf(this.store.messages(conversation.id), question.id));
    let answer = this.store.beginAnswer(conversation.id, question.id, answerer.name);
    this.events.emit("generation.started", { conversationId: conversation.id, question: questionIsNew ? question : null, answer });
    const streaming = new StreamingAnswer((text) => this.store.saveStreamingText(answer.id, text));
    try {
      const result = await answerer.generate({
        conversationId: conversation.id,
        system: options.system,
        history,
        question: question.text,
        sampling: options.sampling ?? conversation.sampling,
        stopTexts: options.stopTexts,
        penalties: options.penalties,
        signal: options.signal,
        onText: (text) => {
          streaming.append(text);
          options.onText?.(text);
          this.events.emit("generation.chunk", { conversationId: conversation.id, messageId: answer.id, text });
        },
        onTrimmed: (droppedTurns) => this.events.emit("generation.contextTrimmed", { conversationId: conversation.id, messageId: answer.id, droppedTurns }),
      });
      streaming.close();
      options.onStats?.(result.stats);
      answer = this.store.finishAnswer(conversation.id, answer.id, {
        text: result.text,
        status: result.stats.stopReason === "stopped" ? "interrupted" : "complete",
        stats: result.stats,
      });
    } catch (error) {
      streaming.close();
      const message = error instanceof BillaError ? error.message : "The answer failed inside BiLLa Desktop. The log file has the details.";
      answer = this.store.finishAnswer(conversation.id, answer.id, { text: streaming.text, status: "error", error: message });
      this.events.emit("generation.finished", { conversationId: conversation.id, answer });
      throw error;
    }
    this.events.emit("generation.finished", { conversationId: conversation.id, answer });
    return answer;
  }

  /**
   * What answers with this library model (null: the loaded one, else the library's default): a remote model's server,
   * or a model on this computer, loaded first if it is not.
   */
  async answererFor(wanted: Conversation["modelId"]): Promise<Answerer> {
    const loaded = this.runtime.state().loaded;
    if (loaded && (wanted === null || loaded.modelId === wanted)) return this.#local(loaded.name);
    const entry = wanted === null ? await this.#defaultEntry() : await this.models.entry(wanted);
    if (entry.kind === "remote") return { name: entry.name, generate: (request) => this.remote.answer(entry.id, request) };
    return this.#local(await this.#load(entry.id));
  }

  /**
   * This model on this computer (null: the loaded one, else the library's default), loaded if it is not; returns its
   * name. The local API serves only models on this computer: a remote one is refused.
   */
  async ensureModel(wanted: Conversation["modelId"]): Promise<string> {
    const loaded = this.runtime.state().loaded;
    if (loaded && (wanted === null || loaded.modelId === wanted)) return loaded.name;
    const entry = wanted === null ? await this.#defaultEntry() : await this.models.entry(wanted);
    if (entry.kind === "remote") {
      throw new BillaError("invalid_input", `"${entry.name}" is a remote model on ${entry.baseUrl}; only models on this computer can be served here. Load one, or name it.`);
    }
    return this.#load(entry.id);
  }

  async #defaultEntry() {
    const entry = (await this.models.list()).find((candidate) => candidate.isDefault && (candidate.kind === "remote" || candidate.status === "ok"));
    if (!entry) throw new BillaError("not_found", "There is no model to answer with yet. Add one on the Models page, convert BiLLa's weights, or try the demo model.");
    return entry;
  }

  async #load(modelId: string): Promise<string> {
    const { path, promptFormat } = await this.models.loadable(modelId);
    const { gpuLayers, contextSize } = this.settings.get();
    return (await this.runtime.load({ modelId, modelPath: path, promptFormat, gpuLayers, contextSize, flashAttention: false })).name;
  }

  #local(name: string): Answerer {
    return { name, generate: (request) => this.runtime.generate(request) };
  }
}
