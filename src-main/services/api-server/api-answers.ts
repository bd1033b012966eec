// What the OpenAI-compatible API asks of the services: the models, and answers through the same runtime, chat
// wrapper and history as the chat window. Requests take turns in a bounded queue; whatever a request leaves out
// is sampled with the app's settings (BiLLa's reference values unless the user changed them).
import type { GenerationStats, LoadedModel, Sampling, Turn } from "../../contract/api.js";
import { BillaError } from "../../contract/errors.js";
import type { ChatService } from "../history/chat-service.js";
import type { ModelLibrary } from "../models/model-library.js";
import type { GenerationResult, LlamaRuntime, OutputPenalties } from "../runtime/llama-runtime.js";
import type { SettingsStore } from "../settings/settings-store.js";
import type { RequestQueue } from "./request-queue.js";

/** The runtime's slot key for API answers not kept in the history: consecutive requests share their common prefix. */
const API_CONVERSATION_ID = "openai-api";

interface ApiModel {
  /** What clients put in `model`: the library entry's id, or the file's name for a model loaded by path. */
  id: string;
  name: string;
  loaded: boolean;
  isDefault: boolean;
  /** Seconds since 1970, when it was added to the library (or loaded). */
  created: number;
}

/** What chat completions and raw completions share. */
interface ApiRequestBase {
  /** A library id or name; null for the loaded model (else the default one). */
  model: string | null;
  /** Only what the request set; the rest comes from the settings. */
  sampling: Partial<Sampling>;
  stopTexts: string[];
  penalties: OutputPenalties;
  /** Aborted when the client goes away: a waiting request leaves the queue, a running one stops. */
  signal: AbortSignal;
  onText: (text: string) => void;
}

interface ApiChatRequest extends ApiRequestBase {
  /** System messages, joined by `\n`; "" for none. */
  system: string;
  history: Turn[];
  question: string;
}

interface ApiCompletionRequest extends ApiRequestBase {
  prompt: string;
}

export interface ApiAnswer {
  /** The model's API id. */
  model: string;
  text: string;
  stats: GenerationStats;
}

const idOf = (loaded: LoadedModel) => loaded.modelId ?? loaded.name;

export class ApiAnswers {
  constructor(
    private readonly runtime: LlamaRuntime,
    private readonly models: ModelLibrary,
    private readonly settings: SettingsStore,
    private readonly chatService: ChatService,
    private readonly queue: RequestQueue,
  ) {}

  /** The library's usable models on this computer, the loaded one marked (a file loaded by path is listed too). */
  async list(): Promise<ApiModel[]> {
    const loaded = this.runtime.state().loaded;
    const entries = (await this.models.list()).filter((entry) => entry.kind === "local" && entry.status === "ok");
    const listed: ApiModel[] = entries.map((entry) => ({
      id: entry.id,
      name: entry.name,
      loaded: loaded?.modelId === entry.id,
      isDefault: entry.isDefault,
      created: Math.floor(Date.parse(entry.addedAt) / 1000),
    }));
    if (loaded && loaded.modelId === null) listed.unshift({ id: loaded.name, name: loaded.name, loaded: true, isDefault: false, created: Math.floor(Date.now() / 1000) });
    return listed;
  }

  /** The loaded model, for /health. */
  loadedModel(): string | null {
    const loaded = this.runtime.state().loaded;
    return loaded ? idOf(loaded) : null;
  }

  async chat(request: ApiChatRequest): Promise<ApiAnswer> {
    return this.#inTurn(request, async (sampling, modelName) => {
      const { system, history, question, stopTexts, penalties, signal, onText } = request;
      if (!this.settings.get().apiServer.saveHistory) {
        return this.runtime.generate({ conversationId: API_CONVERSATION_ID, system, history, question, sampling, stopTexts, penalties, signal, onText, onTrimmed: () => undefined });
      }
      const { answer, stats } = await this.chatService.answerApiRequest({ system, history, question, sampling, stopTexts, penalties, signal, onText }, modelName);
      if (stats === null) throw new BillaError("internal", answer.error ?? "The answer failed.");
      return { text: answer.text, stats };
    });
  }

  async complete(request: ApiCompletionRequest): Promise<ApiAnswer> {
    return this.#inTurn(request, (sampling) => {
      const { prompt, stopTexts, penalties, signal, onText } = request;
      return this.runtime.complete({ conversationId: API_CONVERSATION_ID, prompt, sampling, stopTexts, penalties, signal, onText });
    });
  }

  /** Waits for the request's turn, makes sure its model is loaded, and answers with the settings' defaults filled in. */
  async #inTurn(request: ApiRequestBase, answer: (sampling: Sampling, modelName: string) => Promise<GenerationResult>): Promise<ApiAnswer> {
    const release = await this.queue.enter(request.signal);
    let answered = false;
    try {
      const modelName = await this.#load(request.model);
      const loaded = this.runtime.state().loaded;
      if (!loaded) throw new BillaError("not_found", "The model was unloaded before it could answer. Try again.");
      const sampling: Sampling = { ...this.settings.get().sampling, ...request.sampling };
      const { text, stats } = await answer(sampling, modelName);
      answered = stats.stopReason !== "stopped";
      return { model: idOf(loaded), text, stats };
    } finally {
      release(answered);
    }
  }

  /** Loads the requested model unless it is the loaded one; returns its name. */
  async #load(requested: string | null): Promise<string> {
    const loaded = this.runtime.state().loaded;
    if (requested === null) return this.chatService.ensureModel(null);
    if (loaded && (requested === idOf(loaded) || requested === loaded.name)) return loaded.name;
    const entries = await this.models.list();
    const entry = entries.find((candidate) => candidate.id === requested) ?? entries.find((candidate) => candidate.name === requested);
    if (!entry) throw new BillaError("not_found", `There is no model "${requested}". GET /v1/models lists the models you can use; leave "model" out for the loaded one.`);
    return this.chatService.ensureModel(entry.id);
  }
}
