// Remote models: adding one to the library (its server asked for the model's name when none is given), checking
// whether its server answers now, and the answers it gives, one per conversation at a time and stoppable like a
// local model's. Conversations, history and streaming events are the chat service's, the same for both kinds.
import type { RemoteCheck, RemoteModelEntry, RequestParams } from "../../contract/api.js";
import { BillaError } from "../../contract/errors.js";
import type { Logger } from "../logger.js";
import type { ModelLibrary } from "../models/model-library.js";
import type { GenerationRequest, GenerationResult } from "../runtime/llama-runtime.js";
import { listRemoteModels, remoteChat, type RemoteTimeouts } from "./remote-client.js";

export class RemoteService {
  /** Answers being written, by conversation: aborting one stops it (its HTTP request is aborted). */
  readonly #running = new Map<string, AbortController>();

  constructor(
    private readonly models: ModelLibrary,
    private readonly timeouts: RemoteTimeouts,
    /** Failures are logged with the server's address and what it said; keys never are. */
    private readonly logger: Logger,
  ) {}

  async add({ name, baseUrl, apiKey, remoteModel }: RequestParams<"models.addRemote">): Promise<RemoteModelEntry> {
    const key = apiKey ?? null;
    const model = remoteModel ?? (await this.#onlyModel(baseUrl, key));
    const entryName = name ?? model;
    if ((await this.models.list()).some((entry) => entry.name === entryName)) {
      throw new BillaError("invalid_input", `The library already has a model named "${entryName}". Choose another name.`);
    }
    const entry = this.models.addRemote({ name: entryName, baseUrl, remoteModel: model, apiKey: key });
    this.logger.info(`Remote model "${entry.name}" added: ${entry.remoteModel} at ${entry.baseUrl}${entry.hasApiKey ? " (with a key)" : ""}`);
    return entry;
  }

  /** The one model the server lists; a server with several needs to be told which. */
  async #onlyModel(baseUrl: string, apiKey: string | null): Promise<string> {
    const models = await listRemoteModels({ baseUrl, apiKey }, this.timeouts);
    if (models.length === 1) return models[0]!;
    if (models.length === 0) throw new BillaError("not_found", `${baseUrl} lists no models. Start the server with a model, then add it again.`);
    throw new BillaError("invalid_input", `${baseUrl} serves ${models.length} models (${models.join(", ")}). Name the one to add.`);
  }

  async listModels({ baseUrl, apiKey }: RequestParams<"models.listRemoteModels">): Promise<{ baseUrl: string; models: string[] }> {
    return { baseUrl, models: await listRemoteModels({ baseUrl, apiKey: apiKey ?? null }, this.timeouts) };
  }

  /** Asks the server for its models now; a server that does not answer (in a few seconds) is reported, not thrown. */
  async check(id: string): Promise<RemoteCheck> {
    const endpoint = await this.models.endpoint(id);
    const started = performance.now();
    try {
      const models = await listRemoteModels(endpoint, this.timeouts);
      return { reachable: true, models, hasModel: models.includes(endpoint.model), error: null, milliseconds: performance.now() - started };
    } catch (error) {
      const { code, message } = error instanceof BillaError ? error : new BillaError("internal", "The check failed inside BiLLa Desktop.");
      return { reachable: false, models: [], hasModel: false, error: { code, message }, milliseconds: performance.now() - started };
    }
  }

  /** The remote model's answer in this conversation; stopped by `stop()` and by the request's signal. */
  async answer(modelId: string, request: GenerationRequest): Promise<GenerationResult> {
    const { conversationId } = request;
    if (this.#running.has(conversationId)) throw new BillaError("busy", "This conversation is already answering; stop it first.");
    const endpoint = await this.models.endpoint(modelId);
    const controller = new AbortController();
    const abort = () => controller.abort();
    request.signal?.addEventListener("abort", abort, { once: true });
    if (request.signal?.aborted) abort();
    this.#running.set(conversationId, controller);
    try {
      return await remoteChat(endpoint, { ...request, signal: controller.signal }, this.timeouts);
    } catch (error) {
      this.logger.info(`Remote model "${endpoint.name}" (${endpoint.baseUrl}) failed: ${error instanceof BillaError ? error.message : String(error)}`);
      throw error;
    } finally {
      request.signal?.removeEventListener("abort", abort);
      this.#running.delete(conversationId);
    }
  }

  stop(conversationId: string): { stopped: boolean } {
    const controller = this.#running.get(conversationId);
    controller?.abort();
    return { stopped: controller !== undefined };
  }

  isAnswering(conversationId: string): boolean {
    return this.#running.has(conversationId);
  }

  /** How many remote answers are being written now. */
  get answering(): number {
    return this.#running.size;
  }
}
