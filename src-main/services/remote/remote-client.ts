// Talking to a remote OpenAI-compatible server (vLLM, llama.cpp's server, another BiLLa Desktop's `billa serve`)
// with the official `openai` client: its server-sent-event parsing, error types and aborts are what every other
// OpenAI tool runs against these servers. The client is made for OpenAI's cloud and reads OPENAI_* variables from
// the environment, so every option that would take one is given here, and every request goes out through
// `originOnlyFetch`: to the endpoint's own origin, with only the headers the request needs, never following a
// redirect. The API key therefore reaches that server and nothing else.
import OpenAI, { APIConnectionError, APIError } from "openai";
import type { ChatCompletionChunk, ChatCompletionCreateParamsStreaming, ChatCompletionMessageParam } from "openai/resources/chat/completions";
import type { GenerationStats, Sampling, Turn } from "../../contract/api.js";
import { BillaError } from "../../contract/errors.js";
import type { GenerationResult, OutputPenalties } from "../runtime/llama-runtime.js";
import { NEXT_TURN_TEXT } from "../runtime/billa-chat-wrapper.js";

/** A remote model: its server's base URL (…/v1), the model's name there, and the server's key, if it has one. */
export interface RemoteEndpoint {
  baseUrl: string;
  model: string;
  apiKey: string | null;
}

export interface RemoteTimeouts {
  /** A server that sends nothing for this long (no answer yet, or a stalled stream) is given up on. */
  idleMs: number;
  /** How long a status check (GET /v1/models) may take. */
  checkMs: number;
}

/** Two minutes covers a long prompt on a CPU-only llama.cpp server before its first token; a check is quick or failed. */
export const DEFAULT_REMOTE_TIMEOUTS: RemoteTimeouts = { idleMs: 120_000, checkMs: 5_000 };

export interface RemoteChatRequest {
  /** Read before the first turn by the server's chat template (this app's own chats have none). */
  system?: string | undefined;
  history: Turn[];
  question: string;
  sampling: Sampling;
  stopTexts?: readonly string[] | undefined;
  penalties?: OutputPenalties | undefined;
  /** Aborting it stops the answer: the HTTP request is aborted, the text so far is the answer. */
  signal: AbortSignal;
  onText: (text: string) => void;
}

/** Headers a request to the server carries; anything else the client (or OPENAI_CUSTOM_HEADERS) adds stays here. */
const SENT_HEADERS = ["authorization", "content-type", "accept"];

function originOnlyFetch(origin: string): (input: string | URL | Request, init?: RequestInit) => Promise<Response> {
  return (input, init) => {
    const url = new URL(input instanceof Request ? input.url : input);
    // The client builds every URL from the base URL; this makes sure nothing else is ever asked.
    if (url.origin !== origin) return Promise.reject(new BillaError("internal", `A request to ${url.origin} was refused: this remote model's server is ${origin}.`));
    const given = new Headers(init?.headers);
    const headers = new Headers();
    for (const name of SENT_HEADERS) {
      const value = given.get(name);
      if (value !== null) headers.set(name, value);
    }
    return fetch(url, { ...init, headers, redirect: "manual" });
  };
}

function clientFor({ baseUrl, apiKey }: Pick<RemoteEndpoint, "baseUrl" | "apiKey">): OpenAI {
  return new OpenAI({
    baseURL: baseUrl,
    // The client insists on a key; without one it would read OPENAI_API_KEY and send that here. A server without
    // a key gets no Authorization header at all.
    apiKey: apiKey ?? "none",
    ...(apiKey === null ? { defaultHeaders: { Authorization: null } } : {}),
    adminAPIKey: null,
    organization: null,
    project: null,
    webhookSecret: null,
    maxRetries: 0,
    // The idle timer of each request does the timing; this only keeps the client's own 10 minutes out of the way.
    timeout: 24 * 3_600_000,
    logLevel: "off",
    fetch: originOnlyFetch(new URL(baseUrl).origin),
  });
}

/** Aborts when `signal` does or when nothing arrived for `idleMs`; `touch()` restarts the wait. */
class IdleAbort {
  readonly #controller = new AbortController();
  #timer: NodeJS.Timeout | undefined;
  timedOut = false;

  constructor(
    private readonly idleMs: number,
    private readonly outer?: AbortSignal,
  ) {
    outer?.addEventListener("abort", this.#abort, { once: true });
    if (outer?.aborted) this.#abort();
    this.touch();
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  touch(): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.timedOut = true;
      this.#controller.abort();
    }, this.idleMs);
  }

  dispose(): void {
    clearTimeout(this.#timer);
    this.outer?.removeEventListener("abort", this.#abort);
  }

  readonly #abort = (): void => this.#controller.abort();
}

function serverMessage(error: APIError): string {
  const body = error.error as { message?: unknown } | undefined;
  if (typeof body?.message === "string" && body.message.trim() !== "") return body.message.trim();
  return error.status === undefined ? error.message : `HTTP ${error.status}`;
}

/** Why the connection failed, from undici's error codes, as people say it. */
function connectionProblem(error: unknown): string {
  const cause = (error as { cause?: { code?: string; cause?: { code?: string } } } | undefined)?.cause;
  const code = cause?.code ?? cause?.cause?.code ?? (error as { code?: string } | undefined)?.code;
  switch (code) {
    case "ECONNREFUSED":
      return "nothing is listening there (connection refused). Is the server running, on that port?";
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return "that host name is not known. Check the address.";
    case "EHOSTUNREACH":
    case "ENETUNREACH":
      return "that computer cannot be reached from this network.";
    case "ECONNRESET":
    case "UND_ERR_SOCKET":
      return "the connection was closed by the server.";
    case "DEPTH_ZERO_SELF_SIGNED_CERT":
    case "SELF_SIGNED_CERT_IN_CHAIN":
    case "UNABLE_TO_VERIFY_LEAF_SIGNATURE":
    case "CERT_HAS_EXPIRED":
    case "ERR_TLS_CERT_ALTNAME_INVALID":
      return `its HTTPS certificate is not trusted by this computer (${code}).`;
    default:
      return code ? `the connection failed (${code}).` : "the connection failed.";
  }
}

/**
 * An error of the client, as a sentence that says what happened at which server and what to do. `model` is null for
 * a request that names none (the model list); `answering` says the answer had begun streaming.
 */
function describe(error: unknown, baseUrl: string, model: string | null, answering = false): BillaError {
  if (error instanceof BillaError) return error;
  if (error instanceof APIError && !(error instanceof APIConnectionError) && error.status === undefined) {
    // An error event inside the stream: the server gave up after it began answering.
    return new BillaError("network", `${baseUrl} stopped with an error: ${serverMessage(error)}. The text so far is kept.`);
  }
  if (error instanceof APIError && error.status !== undefined) {
    const status = error.status;
    const said = serverMessage(error);
    if (status >= 300 && status < 400) {
      const location = error.headers?.get("location");
      return new BillaError(
        "network",
        `${baseUrl} answered with a redirect${location ? ` to ${new URL(location, baseUrl).href}` : ""}. Use the address it points to as the base URL: the key is only ever sent to the address you gave.`,
      );
    }
    if (status === 401 || status === 403) return new BillaError("access_denied", `${baseUrl} refused the request (${status}: ${said}). Check the API key: it is the one the server was started with.`);
    if (status === 404) {
      return new BillaError(
        "not_found",
        model === null ? `${baseUrl} has no OpenAI-compatible API there (404: ${said}). Check the address; it usually ends in /v1.` : `${baseUrl} has no model "${model}" (404: ${said}). Check which models it serves.`,
      );
    }
    if (status === 429 || status === 503) return new BillaError("busy", `${baseUrl} is busy (${status}: ${said}). Try again shortly.`);
    if (status >= 500) return new BillaError("network", `${baseUrl} failed to answer (${status}: ${said}). Its own log says why.`);
    return new BillaError("invalid_input", `${baseUrl} refused the request (${status}: ${said}).`);
  }
  const cause = error instanceof APIConnectionError ? error.cause : error;
  if (answering) return new BillaError("network", `The connection to ${baseUrl} broke off mid-answer: ${connectionProblem(cause)} The text so far is kept; ask again when the server is back.`);
  return new BillaError("network", `BiLLa Desktop could not reach ${baseUrl}: ${connectionProblem(cause)}`);
}

function timeoutError(baseUrl: string, idleMs: number, began: boolean): BillaError {
  const seconds = Math.round(idleMs / 1000);
  return new BillaError(
    "network",
    began
      ? `${baseUrl} stopped sending the answer: nothing arrived for ${seconds} seconds. The text so far is kept; ask again when the server is back.`
      : `${baseUrl} did not answer within ${seconds} seconds. The server may be overloaded, or the address may lead nowhere.`,
  );
}

/** The request's messages: BiLLa's turns as chat messages; the server's chat template makes the prompt of them. */
function messagesOf({ system, history, question }: Pick<RemoteChatRequest, "system" | "history" | "question">): ChatCompletionMessageParam[] {
  return [
    ...(system ? [{ role: "system" as const, content: system }] : []),
    ...history.flatMap((turn): ChatCompletionMessageParam[] => [
      { role: "user", content: turn.question },
      { role: "assistant", content: turn.answer },
    ]),
    { role: "user", content: question },
  ];
}

/**
 * The conversation's sampling in OpenAI's fields, plus the ones vLLM and llama.cpp's server (and `billa serve`) read
 * beside them: top_k (BiLLa's reference 50 matters), min_p, and the repetition penalty under both servers' names.
 * Fields left at "off" are not sent, since the servers disagree on how to say off (vLLM refuses top_k 0 and
 * `billa serve` top_k -1); the server's own default then applies.
 */
function bodyOf(endpoint: RemoteEndpoint, request: RemoteChatRequest): ChatCompletionCreateParamsStreaming {
  const { sampling, penalties } = request;
  return {
    model: endpoint.model,
    messages: messagesOf(request),
    stream: true,
    stream_options: { include_usage: true },
    temperature: sampling.temperature,
    top_p: sampling.topP,
    max_tokens: sampling.maxTokens,
    // BiLLa may start the next user's line itself; its answer ends there, as in this app's own chats.
    stop: [...(request.stopTexts ?? []), NEXT_TURN_TEXT],
    ...(sampling.seed === null ? {} : { seed: sampling.seed }),
    ...(penalties?.frequency ? { frequency_penalty: penalties.frequency } : {}),
    ...(penalties?.presence ? { presence_penalty: penalties.presence } : {}),
    ...(sampling.topK > 0 ? { top_k: sampling.topK } : {}),
    ...(sampling.minP > 0 ? { min_p: sampling.minP } : {}),
    ...(sampling.repeatPenalty === null ? {} : { repeat_penalty: sampling.repeatPenalty, repetition_penalty: sampling.repeatPenalty }),
  } as ChatCompletionCreateParamsStreaming;
}

/** Times an answer's text as it streams and reads its token counts from the server's usage, for its stats. */
class RemoteMeter {
  readonly #started = performance.now();
  #firstText: number | null = null;
  #pieces = 0;
  usage: ChatCompletionChunk["usage"] | null = null;
  finishReason: string | null = null;
  /** vLLM's extension: the stop text that ended the answer (a number for a stop token). */
  stopText = false;

  text(): void {
    this.#firstText ??= performance.now();
    this.#pieces++;
  }

  stats(stopped: boolean): GenerationStats {
    const finished = performance.now();
    // Without usage (a server that ignores include_usage, or an answer cut short) each streamed piece counts as one
    // token: servers send one token per chunk unless they batch under load, so this is a lower bound.
    const newTokens = this.usage?.completion_tokens ?? this.#pieces;
    const generationSeconds = this.#firstText === null ? 0 : (finished - this.#firstText) / 1000;
    return {
      promptTokens: this.usage?.prompt_tokens ?? 0,
      reusedPromptTokens: this.usage?.prompt_tokens_details?.cached_tokens ?? 0,
      newTokens,
      timeToFirstTokenMs: this.#firstText === null ? null : this.#firstText - this.#started,
      // The first token's time belongs to the prompt; speed counts the tokens after it, as for local answers.
      tokensPerSecond: generationSeconds > 0 ? Math.max(0, newTokens - 1) / generationSeconds : 0,
      stopReason: stopped ? "stopped" : this.finishReason === "length" ? "max-tokens" : this.stopText ? "stop-text" : "eos",
      droppedTurns: 0,
    };
  }
}

/** The models a server lists (GET /v1/models). */
export async function listRemoteModels(endpoint: Pick<RemoteEndpoint, "baseUrl" | "apiKey">, timeouts: RemoteTimeouts, signal?: AbortSignal): Promise<string[]> {
  const idle = new IdleAbort(timeouts.checkMs, signal);
  try {
    const page = await clientFor(endpoint).models.list({ signal: idle.signal });
    return page.data.map((model) => model.id);
  } catch (error) {
    if (idle.timedOut) throw timeoutError(endpoint.baseUrl, timeouts.checkMs, false);
    throw describe(error, endpoint.baseUrl, null);
  } finally {
    idle.dispose();
  }
}

/**
 * Asks the server for the answer and streams it. Stopping (`request.signal`) aborts the HTTP request and returns the
 * text so far as a stopped answer; a server that is down, stalls or answers with an error throws a BillaError that
 * says so (the text that did arrive has been passed to `onText`).
 */
export async function remoteChat(endpoint: RemoteEndpoint, request: RemoteChatRequest, timeouts: RemoteTimeouts): Promise<GenerationResult> {
  const idle = new IdleAbort(timeouts.idleMs, request.signal);
  const meter = new RemoteMeter();
  let text = "";
  let answering = false;
  try {
    const stream = await clientFor(endpoint).chat.completions.create(bodyOf(endpoint, request), { signal: idle.signal });
    answering = true;
    for await (const chunk of stream) {
      idle.touch();
      if (chunk.usage) meter.usage = chunk.usage;
      const choice = chunk.choices[0];
      if (!choice) continue;
      const piece = choice.delta?.content ?? "";
      if (piece !== "") {
        meter.text();
        text += piece;
        request.onText(piece);
      }
      if (choice.finish_reason) {
        meter.finishReason = choice.finish_reason;
        meter.stopText = typeof (choice as { stop_reason?: unknown }).stop_reason === "string";
      }
    }
  } catch (error) {
    if (!idle.signal.aborted) throw describe(error, endpoint.baseUrl, endpoint.model, answering);
  } finally {
    idle.dispose();
  }
  // The client ends an aborted stream quietly: stopped by the user, or given up on here.
  if (idle.timedOut) throw timeoutError(endpoint.baseUrl, timeouts.idleMs, text !== "");
  const stopped = request.signal.aborted;
  if (!stopped && meter.finishReason === null) {
    throw new BillaError("network", `The connection to ${endpoint.baseUrl} ended before the answer did. The text so far is kept; ask again when the server is back.`);
  }
  return { text, stats: meter.stats(stopped) };
}
