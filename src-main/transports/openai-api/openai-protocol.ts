// OpenAI's API as this server speaks it: request bodies (validated with zod; fields a client may send but that
// change nothing are accepted, fields this server cannot honour are refused by name), and the response,
// stream-chunk and error shapes of the official API.
import { randomBytes } from "node:crypto";
import { z } from "zod";
import type { GenerationStats, Sampling, Turn } from "../../contract/api.js";

// ---- Requests -------------------------------------------------------------------------------------------------

/** Text parts, or others (images, audio) that are refused by name below. */
const contentPart = z.looseObject({ type: z.string(), text: z.string().optional() });
const content = z.union([z.string(), z.array(contentPart).max(1000)]);

const message = z.looseObject({
  role: z.enum(["system", "developer", "user", "assistant", "tool", "function"], {
    error: "role must be system, developer, user or assistant",
  }),
  content: content.nullish(),
  tool_calls: z.array(z.unknown()).nullish(),
  function_call: z.unknown().nullish(),
});
type ChatMessage = z.infer<typeof message>;

const stopTexts = z.union([z.string().min(1, "A stop text cannot be empty"), z.array(z.string().min(1, "A stop text cannot be empty")).max(16, "At most 16 stop texts")]);
/** -1 asks for a random seed, as llama.cpp's server reads it; llama.cpp's seeds are 32-bit. */
const seed = z
  .number()
  .int()
  .refine((value) => value === -1 || (value >= 0 && value <= 2 ** 32 - 1), "seed must be from 0 to 4294967295 (or -1 for a random one)");
const penalty = z.number().min(-2).max(2);
const tokenCount = z.number().int().min(1).max(32768);

/** Sampling fields both endpoints take; top_k, min_p and repeat_penalty are llama.cpp's server's extensions. */
const samplingFields = {
  model: z.string().max(500).nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().min(0).max(1).nullish(),
  top_k: z.number().int().min(0).max(1000).nullish(),
  min_p: z.number().min(0).max(1).nullish(),
  repeat_penalty: z.number().min(1).max(2).nullish(),
  max_tokens: tokenCount.nullish(),
  stop: stopTexts.nullish(),
  seed: seed.nullish(),
  presence_penalty: penalty.nullish(),
  frequency_penalty: penalty.nullish(),
  n: z.literal(1, { error: "n must be 1: this server writes one answer per request" }).nullish(),
  stream: z.boolean().nullish(),
  stream_options: z.looseObject({ include_usage: z.boolean().nullish() }).nullish(),
  logit_bias: z
    .record(z.string(), z.number())
    .refine((bias) => Object.keys(bias).length === 0, "logit_bias is not supported")
    .nullish(),
  user: z.string().nullish(),
};

export const chatCompletionRequestSchema = z.looseObject({
  ...samplingFields,
  messages: z.array(message).min(1, "messages needs at least one message").max(100_000),
  max_completion_tokens: tokenCount.nullish(),
  logprobs: z.literal(false, { error: "logprobs are not available from this server" }).nullish(),
  top_logprobs: z.literal(0, { error: "logprobs are not available from this server" }).nullish(),
  tools: z.array(z.unknown()).max(0, "Tool calling is not supported: BiLLa was not trained for it").nullish(),
  tool_choice: z.literal("none", { error: "Tool calling is not supported: BiLLa was not trained for it" }).nullish(),
  functions: z.array(z.unknown()).max(0, "Function calling is not supported: BiLLa was not trained for it").nullish(),
  function_call: z.literal("none", { error: "Function calling is not supported: BiLLa was not trained for it" }).nullish(),
  response_format: z
    .looseObject({ type: z.literal("text", { error: "Only text responses are supported (no JSON mode or schema)" }) })
    .nullish(),
});

export const completionRequestSchema = z.looseObject({
  ...samplingFields,
  prompt: z.union([z.string(), z.array(z.string()).length(1, "Send one prompt per request (a string, or an array holding one)")], {
    error: "prompt must be a string (token arrays are not supported)",
  }),
  echo: z.boolean().nullish(),
  suffix: z.literal("", { error: "suffix (fill in the middle) is not supported" }).nullish(),
  best_of: z.literal(1, { error: "best_of must be 1" }).nullish(),
  logprobs: z.literal(0, { error: "logprobs are not available from this server" }).nullish(),
});

/** A request the schema let through but that still cannot be answered (e.g. the messages end with an answer). */
export class BadRequest extends Error {
  constructor(
    message: string,
    readonly param: string | null = null,
  ) {
    super(message);
  }
}

type SamplingRequest = z.infer<z.ZodObject<typeof samplingFields>>;

/** The sampling a request set; what it leaves out comes from the app's settings. */
export function samplingOf(request: SamplingRequest & { max_completion_tokens?: number | null | undefined }): Partial<Sampling> {
  const sampling: Partial<Sampling> = {};
  if (request.temperature != null) sampling.temperature = request.temperature;
  if (request.top_p != null) sampling.topP = request.top_p;
  if (request.top_k != null) sampling.topK = request.top_k;
  if (request.min_p != null) sampling.minP = request.min_p;
  if (request.repeat_penalty != null) sampling.repeatPenalty = request.repeat_penalty;
  const maxTokens = request.max_completion_tokens ?? request.max_tokens;
  if (maxTokens != null) sampling.maxTokens = maxTokens;
  if (request.seed != null) sampling.seed = request.seed === -1 ? null : request.seed;
  return sampling;
}

export function stopTextsOf(request: SamplingRequest): string[] {
  if (request.stop == null) return [];
  return typeof request.stop === "string" ? [request.stop] : request.stop;
}

export function penaltiesOf(request: SamplingRequest): { frequency: number; presence: number } {
  return { frequency: request.frequency_penalty ?? 0, presence: request.presence_penalty ?? 0 };
}

function textOf(item: ChatMessage, index: number): string {
  if (item.tool_calls?.length || item.function_call != null) throw new BadRequest("Tool and function calls are not supported: BiLLa was not trained for them.", `messages.${index}`);
  if (item.content == null) throw new BadRequest("A message needs content.", `messages.${index}.content`);
  if (typeof item.content === "string") return item.content;
  return item.content
    .map((part, partIndex) => {
      if (part.type !== "text" || part.text === undefined) {
        throw new BadRequest(`Only text content is supported, not "${part.type}": BiLLa reads text only.`, `messages.${index}.content.${partIndex}`);
      }
      return part.text;
    })
    .join("");
}

/**
 * Chat messages as a system text and BiLLa-style turns. System (and developer) messages are joined by `\n`;
 * consecutive messages of one role are joined by `\n` into one turn. The conversation must start with the
 * user and end with the user's question.
 */
export function conversationOf(messages: readonly ChatMessage[]): { system: string; history: Turn[]; question: string } {
  const system: string[] = [];
  const turns: { role: "user" | "assistant"; text: string }[] = [];
  messages.forEach((item, index) => {
    if (item.role === "tool" || item.role === "function") throw new BadRequest("Tool results are not supported: BiLLa was not trained for tool calls.", `messages.${index}.role`);
    const text = textOf(item, index);
    if (item.role === "system" || item.role === "developer") {
      system.push(text);
      return;
    }
    const last = turns.at(-1);
    if (last?.role === item.role) last.text += `\n${text}`;
    else turns.push({ role: item.role, text });
  });
  if (turns.length === 0) throw new BadRequest("messages needs a user message to answer.", "messages");
  if (turns[0]!.role !== "user") throw new BadRequest("The conversation must start with a user message (after any system messages).", "messages");
  if (turns.at(-1)!.role !== "user") throw new BadRequest("The last message must be the user's: it is the question to answer.", "messages");
  const history: Turn[] = [];
  for (let i = 0; i + 1 < turns.length; i += 2) history.push({ question: turns[i]!.text, answer: turns[i + 1]!.text });
  return { system: system.join("\n"), history, question: turns.at(-1)!.text };
}

// ---- Responses ------------------------------------------------------------------------------------------------

export type FinishReason = "stop" | "length";

export function finishReasonOf(stopReason: GenerationStats["stopReason"]): FinishReason {
  return stopReason === "max-tokens" ? "length" : "stop";
}

export function usageOf(stats: GenerationStats) {
  return { prompt_tokens: stats.promptTokens, completion_tokens: stats.newTokens, total_tokens: stats.promptTokens + stats.newTokens };
}

/**
 * llama.cpp's server adds these to a finished answer; tools written for it read them. Prompt tokens here are the
 * ones evaluated for this answer (the rest were reused), and speed counts the tokens after the first.
 */
export function timingsOf(stats: GenerationStats) {
  return {
    prompt_n: stats.promptTokens - stats.reusedPromptTokens,
    prompt_ms: stats.timeToFirstTokenMs ?? 0,
    predicted_n: stats.newTokens,
    predicted_per_second: stats.tokensPerSecond,
  };
}

export function responseId(prefix: "chatcmpl" | "cmpl"): string {
  return `${prefix}-${randomBytes(12).toString("base64url")}`;
}

export const unixSeconds = () => Math.floor(Date.now() / 1000);

// ---- Errors ---------------------------------------------------------------------------------------------------

export type ErrorType = "invalid_request_error" | "authentication_error" | "permission_error" | "not_found_error" | "server_error";

/** OpenAI's error body; never a stack trace. */
export function errorBody(message: string, type: ErrorType, code: string | null, param: string | null = null) {
  return { error: { message, type, param, code } };
}

/** The first problem zod found, as a sentence naming the field. */
export function describeIssues(error: z.ZodError): { message: string; param: string | null } {
  const issue = error.issues[0]!;
  const param = issue.path.length > 0 ? issue.path.map(String).join(".") : null;
  const named = param === null || issue.message.startsWith(String(issue.path.at(-1)));
  return { message: named ? issue.message : `${param}: ${issue.message}`, param };
}
