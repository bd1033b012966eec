// The local OpenAI-compatible API over HTTP (node:http; a handful of routes need no framework). It carries
// requests to the services' ApiAnswers and nothing else: no model code here.
//
// Security, in the order a request meets it: the Host header must name this computer (DNS rebinding fails),
// a browser Origin must be one the user listed (CORS is off otherwise), and every /v1 route needs the bearer key.
// Only /health answers without the key, and it tells no more than whether a model is loaded.
import { createHash, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { isIP, type AddressInfo } from "node:net";
import { hostname } from "node:os";
import type { z } from "zod";
import { BillaError } from "../../contract/errors.js";
import type { ApiAnswer } from "../../services/api-server/api-answers.js";
import type { ApiServerListenOptions, RunningApiServer } from "../../services/api-server/api-server-service.js";
import {
  BadRequest,
  chatCompletionRequestSchema,
  completionRequestSchema,
  conversationOf,
  describeIssues,
  errorBody,
  finishReasonOf,
  penaltiesOf,
  responseId,
  samplingOf,
  stopTextsOf,
  timingsOf,
  unixSeconds,
  usageOf,
  type ErrorType,
  type FinishReason,
} from "./openai-protocol.js";

/** Requests are JSON text; a whole long conversation fits many times over. */
const MAX_BODY_BYTES = 16 * 2 ** 20;
/**
 * Names that always mean this computer. host.docker.internal is how a container (Open WebUI in Docker) reaches its
 * host; no outside DNS answers for it, so a rebinding page cannot use it.
 */
const OWN_NAMES = new Set(["localhost", "127.0.0.1", "[::1]", "host.docker.internal"]);
const ROUTES: Record<string, "GET" | "POST"> = {
  "/health": "GET",
  "/v1/models": "GET",
  "/v1/chat/completions": "POST",
  "/v1/completions": "POST",
};

/** An answer to send as it is: a status and OpenAI's error body. */
class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly type: ErrorType,
    readonly code: string | null,
    readonly param: string | null = null,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/**
 * Whether the Host header names this server. On loopback only the names above; on the LAN also any IP address and
 * this computer's own name. A DNS-rebinding page always arrives with its own domain name and is refused.
 */
function isAllowedHost(host: string | undefined, lan: boolean): boolean {
  if (!host) return false;
  let name: string;
  try {
    name = new URL(`http://${host}`).hostname.toLowerCase();
  } catch {
    return false;
  }
  if (OWN_NAMES.has(name) || /^127(\.\d{1,3}){3}$/.test(name)) return true;
  if (!lan) return false;
  const own = hostname().toLowerCase();
  return isIP(name.replace(/^\[|\]$/g, "")) !== 0 || name === own || name === `${own}.local`;
}

/** Compares digests, so neither the key's content nor its length leaks through timing. */
function keyMatches(header: string | undefined, key: string): boolean {
  const given = /^Bearer\s+(\S+)\s*$/i.exec(header ?? "")?.[1];
  if (given === undefined) return false;
  const digest = (value: string) => createHash("sha256").update(value).digest();
  return timingSafeEqual(digest(given), digest(key));
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { "Content-Type": "application/json; charset=utf-8", "Content-Length": Buffer.byteLength(text), ...headers });
  res.end(text);
}

function sendError(res: ServerResponse, error: HttpError): void {
  sendJson(res, error.status, errorBody(error.message, error.type, error.code, error.param), error.headers);
}

function readBody(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new HttpError(413, `The request body is larger than ${MAX_BODY_BYTES / 2 ** 20} MiB.`, "invalid_request_error", "request_too_large"));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => {
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString("utf8")));
      } catch {
        reject(new HttpError(400, "The request body must be JSON, e.g. {\"messages\": [{\"role\": \"user\", \"content\": \"Hello\"}]}.", "invalid_request_error", "invalid_json"));
      }
    });
    req.on("error", reject);
    // A client that leaves halfway through its body: nothing to answer, and nothing left waiting.
    req.on("close", () => {
      if (!req.complete) reject(new HttpError(400, "The request body was cut off.", "invalid_request_error", "incomplete_body"));
    });
  });
}

function parseWith<S extends z.ZodType>(schema: S, body: unknown): z.infer<S> {
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const { message, param } = describeIssues(parsed.error);
  throw new HttpError(400, message, "invalid_request_error", "invalid_request", param);
}

/** A service's refusal as the HTTP answer OpenAI's clients expect. */
function httpErrorOf(error: unknown, retryAfterSeconds: number, logger: ApiServerListenOptions["logger"]): HttpError {
  if (error instanceof HttpError) return error;
  if (error instanceof BadRequest) return new HttpError(400, error.message, "invalid_request_error", "invalid_request", error.param);
  if (error instanceof BillaError) {
    switch (error.code) {
      case "busy":
        return new HttpError(503, error.message, "server_error", "server_busy", null, { "Retry-After": String(retryAfterSeconds) });
      case "not_found":
        return new HttpError(404, error.message, "invalid_request_error", "model_not_found", "model");
      case "invalid_input":
        return new HttpError(400, error.message, "invalid_request_error", "context_length_exceeded");
      case "bad_file":
        return new HttpError(500, error.message, "server_error", "model_load_failed");
      default:
    }
  }
  logger.error("API request failed", error);
  return new HttpError(500, "Something went wrong inside BiLLa Desktop. Its log file has the details.", "server_error", "internal_error");
}

/** How one endpoint's answers look; chat completions and raw completions differ only in these. */
interface AnswerShape {
  idPrefix: "chatcmpl" | "cmpl";
  object: "chat.completion" | "text_completion";
  chunkObject: "chat.completion.chunk" | "text_completion";
  /** The streamed choice sent before the first text (the chat's role; a completion's echoed prompt), if any. */
  opening: object | null;
  piece(text: string): object;
  ending(finishReason: FinishReason): object;
  whole(text: string, finishReason: FinishReason): object;
}

/**
 * Events closer together than this go out in one write. Each write is a system call and a loopback packet (about
 * 0.1 ms of CPU each on a busy 2-core machine, the API's main cost per token); a fast model's tokens then share
 * writes, at most ~60 a second, while a 7B model's, 100 ms or more apart, still go out one by one at once.
 */
const FLUSH_INTERVAL_MS = 16;

/**
 * Server-sent events in OpenAI's framing. The headers go out with the first event, so a request refused before
 * its answer began can still be a plain 503.
 */
class EventStream {
  #pending = "";
  #flushedAt = -Infinity;
  #timer: NodeJS.Timeout | undefined;

  constructor(private readonly res: ServerResponse) {
    res.on("close", () => clearTimeout(this.#timer));
  }

  get started(): boolean {
    return this.res.headersSent;
  }

  send(data: unknown): void {
    if (!this.res.headersSent) {
      this.res.writeHead(200, { "Content-Type": "text/event-stream; charset=utf-8", "Cache-Control": "no-cache", Connection: "keep-alive", "X-Accel-Buffering": "no" });
    }
    this.#pending += `data: ${JSON.stringify(data)}\n\n`;
    const wait = this.#flushedAt + FLUSH_INTERVAL_MS - performance.now();
    if (wait <= 0) this.#flush();
    else this.#timer ??= setTimeout(() => this.#flush(), wait);
  }

  done(): void {
    clearTimeout(this.#timer);
    this.res.end(`${this.#pending}data: [DONE]\n\n`);
  }

  /** An error after the stream began: OpenAI's clients raise it from an `error` event. */
  fail(error: HttpError): void {
    clearTimeout(this.#timer);
    this.res.end(`${this.#pending}data: ${JSON.stringify(errorBody(error.message, error.type, error.code, error.param))}\n\n`);
  }

  #flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#flushedAt = performance.now();
    if (this.#pending === "" || this.res.destroyed) return;
    this.res.write(this.#pending);
    this.#pending = "";
  }
}

export async function startOpenAiServer(options: ApiServerListenOptions): Promise<RunningApiServer> {
  const { answers, queue, logger } = options;

  async function route(req: IncomingMessage, res: ServerResponse, events: EventStream, signal: AbortSignal): Promise<void> {
    if (!isAllowedHost(req.headers.host, options.lan)) {
      throw new HttpError(403, "This server only answers requests addressed to this computer (the Host header names another site).", "permission_error", "host_not_allowed");
    }
    const origin = req.headers.origin;
    if (origin !== undefined) {
      if (!options.allowedOrigins().includes(origin)) {
        throw new HttpError(403, `Web pages from ${origin} may not use this API. Add the origin to the allowed origins in BiLLa Desktop's settings.`, "permission_error", "origin_not_allowed");
      }
      res.setHeader("Access-Control-Allow-Origin", origin);
      res.setHeader("Vary", "Origin");
    }
    const path = new URL(req.url ?? "/", "http://localhost").pathname.replace(/\/+$/, "") || "/";
    if (req.method === "OPTIONS") {
      res.writeHead(204, {
        "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
        // The official clients add their own x-stainless-* headers; an origin the user allowed may send any.
        "Access-Control-Allow-Headers": req.headers["access-control-request-headers"] ?? "Authorization, Content-Type",
        "Access-Control-Max-Age": "600",
      });
      res.end();
      return;
    }
    if (path === "/health" && req.method === "GET") {
      const model = answers.loadedModel();
      sendJson(res, 200, { status: "ok", model_loaded: model !== null, model });
      return;
    }
    if (path.startsWith("/v1/") && !keyMatches(req.headers.authorization, options.apiKey())) {
      throw new HttpError(401, "A valid API key is needed: send it as \"Authorization: Bearer <key>\". BiLLa Desktop's settings show the key.", "invalid_request_error", "invalid_api_key", null, {
        "WWW-Authenticate": "Bearer",
      });
    }
    const modelPath = /^\/v1\/models\/(.+)$/.exec(path);
    const method = modelPath ? "GET" : Object.hasOwn(ROUTES, path) ? ROUTES[path] : undefined;
    if (method === undefined) throw new HttpError(404, `Unknown request URL: ${req.method} ${path}. This server has GET /v1/models, POST /v1/chat/completions and POST /v1/completions.`, "invalid_request_error", "unknown_url");
    if (req.method !== method) throw new HttpError(405, `${path} takes ${method} requests, not ${req.method}.`, "invalid_request_error", "method_not_allowed", null, { Allow: method });

    if (path === "/v1/models") {
      const models = await answers.list();
      sendJson(res, 200, { object: "list", data: models.map(modelObject) });
    } else if (modelPath) {
      const id = decodeURIComponent(modelPath[1]!);
      const model = (await answers.list()).find((candidate) => candidate.id === id || candidate.name === id);
      if (!model) throw new HttpError(404, `There is no model "${id}". GET /v1/models lists them.`, "invalid_request_error", "model_not_found", "model");
      sendJson(res, 200, modelObject(model));
    } else if (path === "/v1/chat/completions") {
      await chatCompletion(parseWith(chatCompletionRequestSchema, await readBody(req)), res, events, signal);
    } else {
      await completion(parseWith(completionRequestSchema, await readBody(req)), res, events, signal);
    }
  }

  /**
   * Answers one request in its endpoint's shape: whole, or streamed as SSE chunks (the opening chunk before the
   * first text, a finish chunk, the usage chunk when asked for, then [DONE]).
   */
  async function respond(
    shape: AnswerShape,
    request: { model?: string | null | undefined; stream?: boolean | null | undefined; stream_options?: { include_usage?: boolean | null | undefined } | null | undefined },
    res: ServerResponse,
    events: EventStream,
    signal: AbortSignal,
    ask: (onText: (text: string) => void) => Promise<ApiAnswer>,
  ): Promise<void> {
    const id = responseId(shape.idPrefix);
    const created = unixSeconds();
    const stream = request.stream ? events : null;
    const includeUsage = request.stream_options?.include_usage === true;
    let model = request.model ?? "";
    const chunk = (choice: object) => ({ id, object: shape.chunkObject, created, model, choices: [{ index: 0, ...choice, logprobs: null }], ...(includeUsage ? { usage: null } : {}) });
    let opened = false;
    const open = () => {
      if (!opened && shape.opening) stream?.send(chunk(shape.opening));
      opened = true;
    };
    const answer = await ask((text) => {
      if (!stream || text === "") return;
      model = answers.loadedModel() ?? model;
      open();
      stream.send(chunk(shape.piece(text)));
    });
    if (signal.aborted) return;
    refuseStopped(answer);
    const finishReason = finishReasonOf(answer.stats.stopReason);
    if (!stream) {
      sendJson(res, 200, {
        id,
        object: shape.object,
        created,
        model: answer.model,
        choices: [{ index: 0, ...shape.whole(answer.text, finishReason), logprobs: null }],
        usage: usageOf(answer.stats),
        timings: timingsOf(answer.stats),
      });
      return;
    }
    model = answer.model;
    open();
    stream.send({ ...chunk(shape.ending(finishReason)), timings: timingsOf(answer.stats) });
    if (includeUsage) stream.send({ id, object: shape.chunkObject, created, model, choices: [], usage: usageOf(answer.stats) });
    stream.done();
  }

  function chatCompletion(request: z.infer<typeof chatCompletionRequestSchema>, res: ServerResponse, events: EventStream, signal: AbortSignal): Promise<void> {
    const { system, history, question } = conversationOf(request.messages);
    const shape: AnswerShape = {
      idPrefix: "chatcmpl",
      object: "chat.completion",
      chunkObject: "chat.completion.chunk",
      opening: { delta: { role: "assistant", content: "" }, finish_reason: null },
      piece: (text) => ({ delta: { content: text }, finish_reason: null }),
      ending: (finishReason) => ({ delta: {}, finish_reason: finishReason }),
      whole: (text, finishReason) => ({ message: { role: "assistant", content: text, refusal: null }, finish_reason: finishReason }),
    };
    return respond(shape, request, res, events, signal, (onText) =>
      answers.chat({ model: request.model ?? null, system, history, question, sampling: samplingOf(request), stopTexts: stopTextsOf(request), penalties: penaltiesOf(request), signal, onText }),
    );
  }

  function completion(request: z.infer<typeof completionRequestSchema>, res: ServerResponse, events: EventStream, signal: AbortSignal): Promise<void> {
    const prompt = typeof request.prompt === "string" ? request.prompt : request.prompt[0]!;
    const echoed = request.echo ? prompt : "";
    const shape: AnswerShape = {
      idPrefix: "cmpl",
      object: "text_completion",
      chunkObject: "text_completion",
      opening: request.echo ? { text: prompt, finish_reason: null } : null,
      piece: (text) => ({ text, finish_reason: null }),
      ending: (finishReason) => ({ text: "", finish_reason: finishReason }),
      whole: (text, finishReason) => ({ text: echoed + text, finish_reason: finishReason }),
    };
    return respond(shape, request, res, events, signal, (onText) =>
      answers.complete({ model: request.model ?? null, prompt, sampling: samplingOf(request), stopTexts: stopTextsOf(request), penalties: penaltiesOf(request), signal, onText }),
    );
  }

  const server = createServer((req, res) => {
    res.setHeader("X-Content-Type-Options", "nosniff");
    res.setHeader("Cache-Control", "no-store");
    // A client that goes away mid-answer stops its generation at once and frees its place in the queue.
    const controller = new AbortController();
    res.on("close", () => {
      if (!res.writableFinished) controller.abort();
    });
    const events = new EventStream(res);
    route(req, res, events, controller.signal).catch((error: unknown) => {
      if (controller.signal.aborted || res.writableEnded) return;
      const failure = httpErrorOf(error, queue.retryAfterSeconds(), logger);
      if (events.started) events.fail(failure);
      else sendError(res, failure);
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  server.on("error", (error) => logger.error("API server error", error));

  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function modelObject(model: Awaited<ReturnType<ApiServerListenOptions["answers"]["list"]>>[number]) {
  return { id: model.id, object: "model", created: model.created, owned_by: "billa-desktop", name: model.name, loaded: model.loaded };
}

/** An answer the app stopped (the model was unloaded, or the app is quitting) is no answer. */
function refuseStopped(answer: ApiAnswer): void {
  if (answer.stats.stopReason === "stopped") {
    throw new HttpError(503, "The answer was stopped inside BiLLa Desktop (the model was unloaded, or the app is closing). Try again.", "server_error", "answer_stopped", null, { "Retry-After": "1" });
  }
}
