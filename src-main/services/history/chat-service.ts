// Chatting in saved conversations: a question is stored, answered by the runtime with the conversation's
// branch as history, and the answer is saved while it streams and once more with its outcome.
import type { Conversation, GenerationStats, Message, RequestParams, Sampling, Turn } from "../../contract/api.js";
import { branchOf } from "../../contract/conversation-tree.js";
import { BillaError } from "../../contract/errors.js";
import type { EventBus } from "../event-bus.js";
import type { ModelLibrary } from "../models/model-library.js";
import type { GenerationRequest, LlamaRuntime } from "../runtime/llama-runtime.js";
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

export class ChatService {
  constructor(
    private readonly store: HistoryStore,
    private readonly runtime: LlamaRuntime,
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
    const answer = await this.#answer(question, modelName, true, { ...request, onStats: (value) => (stats = value) });
    return { answer, stats };
  }

  /** Checks before anything is saved: the conversation exists and is free, and a model is loaded for it. */
  async #prepare(conversationId: string): Promise<string> {
    const conversation = this.store.conversation(conversationId);
    if (conversation.deletedAt !== null) throw new BillaError("not_found", "This conversation was deleted; restore it first.");
    if (this.runtime.isAnswering(conversationId)) throw new BillaError("busy", "This conversation is already answering; stop it first.");
    return this.ensureModel(conversation.modelId);
  }

  async #answer(question: Message, modelName: string, questionIsNew: boolean, options: AnswerOptions & { onStats?: (stats: GenerationStats) => void } = {}): Promise<Message> {
    const conversation = this.store.conversation(question.conversationId);
    const history = turnsBefore(branchOf(this.store.messages(conversation.id), question.id));
    let answer = this.store.beginAnswer(conversation.id, question.id, modelName);
    this.events.emit("generation.started", { conversationId: conversation.id, question: questionIsNew ? question : null, answer });
    const streaming = new StreamingAnswer((text) => this.store.saveStreamingText(answer.id, text));
    try {
      const result = await this.runtime.generate({
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

  /** This library model (null: the loaded one, else the library's default), loaded if it is not; returns its name. */
  async ensureModel(wanted: Conversation["modelId"]): Promise<string> {
    const loaded = this.runtime.state().loaded;
    if (loaded && (wanted === null || loaded.modelId === wanted)) return loaded.name;
    const modelId = wanted ?? (await this.models.list()).find((entry) => entry.isDefault && entry.status === "ok")?.id;
    if (modelId === undefined) {
      throw new BillaError("not_found", "There is no model to answer with yet. Add one on the Models page, convert BiLLa's weights, or try the demo model.");
    }
    const { path, promptFormat } = await this.models.loadable(modelId);
    const { gpuLayers, contextSize } = this.settings.get();
    return (await this.runtime.load({ modelId, modelPath: path, promptFormat, gpuLayers, contextSize, flashAttention: false })).name;
  }
}
