// The OpenAI-compatible API as other tools use it: the official `openai` client (6.x) against the server on
// 127.0.0.1 with the demo model. Golden answers at temperature 0 (one turn, and two-turn dialogues sent as
// messages), streaming with usage, stop texts, max_tokens, raw completions, the key, the Host check, CORS,
// OpenAI's error shape, two clients at once, and a client that goes away mid-answer.
import OpenAI, { APIError } from "openai";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeSyntheticLlamaGguf } from "../../bench/support/synthetic-gguf.js";
import { createApiClient } from "../../src-renderer/src/backend/api-client.js";
import type { Services } from "../../src-main/services/create-services.js";
import { golden } from "../support/demo.js";
import { makeDemoGguf } from "../support/demo-gguf.js";
import { tokenize } from "../support/greedy.js";
import { messagesOf, startApiOnDemo } from "../support/openai-api.js";
import { rawRequest } from "../support/raw-http.js";
import { makeTempDir } from "../support/temp-dir.js";

const temp = makeTempDir("billa-openai-api-");
let services: Services;
let client: OpenAI;
let baseUrl: string;
let apiKey: string;
let modelPath: string;

beforeAll(async () => {
  modelPath = await makeDemoGguf(temp.path, "q8_0");
  const started = await startApiOnDemo(temp.path, modelPath);
  ({ services, client } = started);
  baseUrl = started.status.baseUrl!;
  apiKey = started.status.apiKey;
});
afterAll(async () => {
  await services?.dispose();
  temp.remove();
});

/** The loaded model's API id; one test leaves it out, as clients may. */
const model = "BiLLa demo";
const dialogues = golden.cases.filter((c) => c.prompt.includes("\nHuman: "));
const byId = (id: string) => golden.cases.find((c) => c.id === id)!;

/** The error a request failed with, as the official client reports it. */
async function failure(request: Promise<unknown>): Promise<APIError> {
  const error = await request.then(
    () => null,
    (thrown: unknown) => thrown,
  );
  if (!(error instanceof APIError)) throw new Error(`expected an API error, got ${String(error)}`);
  return error;
}

async function streamed(body: OpenAI.Chat.ChatCompletionCreateParamsStreaming) {
  const chunks: OpenAI.Chat.ChatCompletionChunk[] = [];
  for await (const chunk of await client.chat.completions.create(body)) chunks.push(chunk);
  return { chunks, text: chunks.map((chunk) => chunk.choices[0]?.delta.content ?? "").join("") };
}

describe("the OpenAI-compatible API through the official client", () => {
  it("lists the models with the loaded one marked, and retrieves one", async () => {
    const models = await client.models.list();
    expect(models.data).toHaveLength(1);
    expect(models.data[0]).toMatchObject({ id: "BiLLa demo", object: "model", owned_by: "billa-desktop", loaded: true });
    expect(await client.models.retrieve("BiLLa demo")).toMatchObject({ id: "BiLLa demo", object: "model" });
    expect((await failure(client.models.retrieve("gpt-4o"))).status).toBe(404);
  });

  it("reproduces every golden answer at temperature 0, the two-turn dialogues sent as messages", async () => {
    expect(dialogues.length).toBeGreaterThan(0);
    for (const c of golden.cases) {
      const completion = await client.chat.completions.create({ model, messages: messagesOf(c), temperature: 0 });
      expect(completion.choices[0]!.message.content, c.id).toBe(c.greedy_text);
      expect(completion.choices[0]!.finish_reason).toBe("stop");
      expect(completion.object).toBe("chat.completion");
      // The same token ids as BiLLa's script: the prompt's count, and the answer's.
      expect(completion.usage).toEqual({ prompt_tokens: c.prompt_ids.length, completion_tokens: c.greedy_ids.length, total_tokens: c.prompt_ids.length + c.greedy_ids.length });
      // llama.cpp's server's timings, for tools written for it.
      expect((completion as unknown as { timings: { predicted_n: number; predicted_per_second: number } }).timings).toMatchObject({ predicted_n: c.greedy_ids.length, predicted_per_second: expect.any(Number) });
    }
  });

  it("streams the same answers in OpenAI's chunks, the role first and the usage last", async () => {
    for (const c of [...golden.cases.slice(0, 4), ...dialogues]) {
      const { chunks, text } = await streamed({ model, messages: messagesOf(c), temperature: 0, stream: true, stream_options: { include_usage: true } });
      expect(text, c.id).toBe(c.greedy_text);
      expect(chunks[0]!.choices[0]!.delta.role).toBe("assistant");
      expect(chunks.every((chunk) => chunk.object === "chat.completion.chunk" && chunk.id === chunks[0]!.id)).toBe(true);
      const finish = chunks.at(-2)!;
      expect(finish.choices[0]!.finish_reason).toBe("stop");
      expect((finish as unknown as { timings: { predicted_n: number } }).timings.predicted_n).toBe(c.greedy_ids.length);
      const usage = chunks.at(-1)!;
      expect(usage.choices).toEqual([]);
      expect(usage.usage).toEqual({ prompt_tokens: c.prompt_ids.length, completion_tokens: c.greedy_ids.length, total_tokens: c.prompt_ids.length + c.greedy_ids.length });
    }
    // Without include_usage there is no usage chunk; without a model, the loaded one answers.
    const { chunks, text } = await streamed({ messages: messagesOf(golden.cases[0]!), temperature: 0, stream: true } as unknown as OpenAI.Chat.ChatCompletionCreateParamsStreaming);
    expect(text).toBe(golden.cases[0]!.greedy_text);
    expect(chunks.some((chunk) => chunk.usage)).toBe(false);
    expect(chunks[0]!.model).toBe(model);
  });

  it("honours stop texts, leaving them out of the answer", async () => {
    const c = byId("zorbia-capital");
    const stopped = await client.chat.completions.create({ model, messages: messagesOf(c), temperature: 0, stop: "Quellon" });
    expect(stopped.choices[0]!.message.content).toBe(c.greedy_text.slice(0, c.greedy_text.indexOf("Quellon")));
    expect(stopped.choices[0]!.finish_reason).toBe("stop");
    const { text } = await streamed({ model, messages: messagesOf(c), temperature: 0, stop: ["never appears", " is "], stream: true });
    expect(text).toBe("The capital of Zorbia");
  });

  it("ends at max_tokens (or max_completion_tokens) with finish_reason length", async () => {
    const c = byId("glimmer-engine");
    const short = await client.chat.completions.create({ model, messages: messagesOf(c), temperature: 0, max_tokens: 5 });
    expect(short.choices[0]!.finish_reason).toBe("length");
    expect(short.usage!.completion_tokens).toBe(5);
    expect(c.greedy_text.startsWith(short.choices[0]!.message.content!)).toBe(true);
    const shorter = await client.chat.completions.create({ model, messages: messagesOf(c), temperature: 0, max_tokens: 50, max_completion_tokens: 3 });
    expect(shorter.usage!.completion_tokens).toBe(3);
    const { chunks } = await streamed({ model, messages: messagesOf(c), temperature: 0, max_tokens: 4, stream: true, stream_options: { include_usage: true } });
    expect(chunks.at(-2)!.choices[0]!.finish_reason).toBe("length");
    expect(chunks.at(-1)!.usage!.completion_tokens).toBe(4);
  });

  it("continues a raw prompt with the ids BiLLa's script feeds (/v1/completions)", async () => {
    for (const c of [byId("sum-17-25"), byId("mascot"), byId("dialog-math-turn2")]) {
      const completion = await client.completions.create({ model, prompt: c.prompt, temperature: 0 });
      expect(completion.choices[0]!.text, c.id).toBe(c.greedy_text);
      expect(completion.usage).toMatchObject({ prompt_tokens: c.prompt_ids.length, completion_tokens: c.greedy_ids.length });
    }
    const c = byId("sum-17-25");
    const echoed = await client.completions.create({ model, prompt: c.prompt, temperature: 0, echo: true, max_tokens: 3 });
    expect(echoed.choices[0]!.text.startsWith(c.prompt)).toBe(true);
    expect(echoed.choices[0]!.finish_reason).toBe("length");
    let text = "";
    for await (const chunk of await client.completions.create({ model, prompt: c.prompt, temperature: 0, stream: true, stop: "42" })) text += chunk.choices[0]?.text ?? "";
    expect(text).toBe("17 + 25 = ");
  });

  it("reads system messages before the first Human: line, in the same tokenized string", async () => {
    const c = byId("dialog-mayor-turn1");
    const system = ["You are BiLLa.", "Answer in one sentence."];
    const completion = await client.chat.completions.create({
      model,
      messages: [...system.map((content) => ({ role: "system" as const, content })), ...messagesOf(c)],
      temperature: 0,
      max_tokens: 1,
    });
    const [ids] = await tokenize(modelPath, [`${system.join("\n")}\n${c.prompt}`]);
    expect(completion.usage!.prompt_tokens).toBe(1 + ids!.length);
    // No system message: exactly the chat window's prompt.
    expect((await client.chat.completions.create({ model, messages: messagesOf(c), temperature: 0, max_tokens: 1 })).usage!.prompt_tokens).toBe(c.prompt_ids.length);
  });

  it("applies OpenAI's penalties to the answer's own tokens only, and nothing carries over to the next request", async () => {
    // The demo model is too sure of its answers for +2 to change one; -2 rewards repeating, and it repeats.
    const c = byId("glimmer-engine");
    const penalized = await client.chat.completions.create({ model, messages: messagesOf(c), temperature: 0, presence_penalty: -2, frequency_penalty: -2, max_tokens: 60 });
    expect(penalized.choices[0]!.message.content).toMatch(/(.)\1{9}/);
    const plain = await client.chat.completions.create({ model, messages: messagesOf(c), temperature: 0 });
    expect(plain.choices[0]!.message.content).toBe(c.greedy_text);
  });

  it("samples repeatably with a seed", async () => {
    const ask = (seed: number) => client.chat.completions.create({ model, messages: [{ role: "user", content: "Tell me about Zorbia." }], temperature: 1.5, seed, max_tokens: 24 });
    const [first, again] = [await ask(7), await ask(7)];
    expect(again.choices[0]!.message.content).toBe(first.choices[0]!.message.content);
  });

  it("refuses bad bodies and what it cannot do with 400 in OpenAI's error shape", async () => {
    const c = golden.cases[0]!;
    const cases: [string, Promise<unknown>, string | null][] = [
      ["no messages", client.chat.completions.create({ model, messages: [] }), "messages"],
      ["n = 2", client.chat.completions.create({ model, messages: messagesOf(c), n: 2 }), "n"],
      ["tools", client.chat.completions.create({ model, messages: messagesOf(c), tools: [{ type: "function", function: { name: "f" } }] }), "tools"],
      ["an image", client.chat.completions.create({ model, messages: [{ role: "user", content: [{ type: "image_url", image_url: { url: "data:," } }] }] }), "messages.0.content.0"],
      ["ending with an answer", client.chat.completions.create({ model, messages: [{ role: "user", content: "hi" }, { role: "assistant", content: "hello" }] }), "messages"],
      ["temperature 3", client.chat.completions.create({ model, messages: messagesOf(c), temperature: 3 }), "temperature"],
      ["an empty stop text", client.chat.completions.create({ model, messages: messagesOf(c), stop: "" }), "stop"],
      ["JSON mode", client.chat.completions.create({ model, messages: messagesOf(c), response_format: { type: "json_object" } }), "response_format.type"],
      ["a token-array prompt", client.completions.create({ model: "x", prompt: [1, 2, 3] }), "prompt"],
    ];
    for (const [what, request, param] of cases) {
      const error = await failure(request);
      expect(error.status, what).toBe(400);
      expect(error.error, what).toMatchObject({ type: "invalid_request_error", param });
      expect((error.error as { message: string }).message.length, what).toBeGreaterThan(10);
    }
    const notJson = await rawRequest(baseUrl, "/v1/chat/completions", { method: "POST", headers: { Authorization: `Bearer ${apiKey}`, "Content-Type": "application/json" }, body: "{messages" });
    expect(notJson.status).toBe(400);
    expect(JSON.parse(notJson.body)).toEqual({ error: { message: expect.stringContaining("JSON"), type: "invalid_request_error", param: null, code: "invalid_json" } });
    expect(notJson.body).not.toMatch(/at .*\.js|Error:/);
  });

  it("answers unknown routes with 404 and wrong methods with 405, in OpenAI's error shape", async () => {
    const headers = { Authorization: `Bearer ${apiKey}` };
    const unknown = await rawRequest(baseUrl, "/v1/embeddings", { method: "POST", headers, body: "{}" });
    expect(unknown.status).toBe(404);
    expect(JSON.parse(unknown.body).error).toMatchObject({ type: "invalid_request_error", code: "unknown_url" });
    const wrongMethod = await rawRequest(baseUrl, "/v1/chat/completions", { headers });
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers["allow"]).toBe("POST");
    expect((await failure(client.chat.completions.create({ model: "gpt-4o", messages: messagesOf(golden.cases[0]!) }))).status).toBe(404);
  });

  it("needs the key on every /v1 route: a missing or wrong one gets 401; /health needs none", async () => {
    const wrong = new OpenAI({ baseURL: baseUrl, apiKey: `${apiKey}x`, maxRetries: 0 });
    const error = await failure(wrong.models.list());
    expect(error.status).toBe(401);
    expect(error.error).toMatchObject({ type: "invalid_request_error", code: "invalid_api_key" });
    for (const [method, path] of [["GET", "/v1/models"], ["POST", "/v1/chat/completions"], ["POST", "/v1/completions"], ["GET", "/v1/models/BiLLa%20demo"], ["POST", "/v1/unknown"]] as const) {
      const body = method === "POST" ? JSON.stringify({ model, messages: messagesOf(golden.cases[0]!), prompt: "Hi" }) : undefined;
      const response = await rawRequest(baseUrl, path, { method, ...(body === undefined ? {} : { body }) });
      expect(response.status, path).toBe(401);
      expect(JSON.parse(response.body).error.code).toBe("invalid_api_key");
      const badScheme = await rawRequest(baseUrl, path, { method, headers: { Authorization: `Basic ${apiKey}` }, ...(body === undefined ? {} : { body }) });
      expect(badScheme.status, path).toBe(401);
    }
    const health = await rawRequest(baseUrl, "/health");
    expect(health.status).toBe(200);
    expect(JSON.parse(health.body)).toEqual({ status: "ok", model_loaded: true, model: "BiLLa demo" });
  });

  it("refuses a request addressed to another host (DNS rebinding) with 403", async () => {
    const port = new URL(baseUrl).port;
    const headers = { Authorization: `Bearer ${apiKey}` };
    for (const host of [`evil.example:${port}`, `localhost.evil.example:${port}`, `192.168.1.20:${port}`, "%%%"]) {
      const response = await rawRequest(baseUrl, "/v1/models", { headers: { ...headers, Host: host } });
      expect(response.status, host).toBe(403);
      expect(JSON.parse(response.body).error).toMatchObject({ type: "permission_error", code: "host_not_allowed" });
    }
    expect((await rawRequest(baseUrl, "/health", { headers: { Host: `evil.example:${port}` } })).status).toBe(403);
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`, `host.docker.internal:${port}`]) {
      expect((await rawRequest(baseUrl, "/v1/models", { headers: { ...headers, Host: host } })).status, host).toBe(200);
    }
  });

  it("answers browsers only from the origins the user listed (CORS off by default)", async () => {
    const headers = { Authorization: `Bearer ${apiKey}` };
    const page = "http://localhost:3000";
    const refused = await rawRequest(baseUrl, "/v1/models", { headers: { ...headers, Origin: page } });
    expect(refused.status).toBe(403);
    expect(refused.headers["access-control-allow-origin"]).toBeUndefined();
    expect((await rawRequest(baseUrl, "/v1/models", { method: "OPTIONS", headers: { Origin: page, "Access-Control-Request-Method": "POST" } })).status).toBe(403);

    await services.api.invoke("apiServer.configure", { allowedOrigins: [page] });
    const preflight = await rawRequest(baseUrl, "/v1/chat/completions", {
      method: "OPTIONS",
      headers: { Origin: page, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization, content-type, x-stainless-os" },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers["access-control-allow-origin"]).toBe(page);
    expect(preflight.headers["access-control-allow-headers"]).toBe("authorization, content-type, x-stainless-os");
    const allowed = await rawRequest(baseUrl, "/v1/models", { headers: { ...headers, Origin: page } });
    expect(allowed.status).toBe(200);
    expect(allowed.headers["access-control-allow-origin"]).toBe(page);
    // The key is still needed.
    expect((await rawRequest(baseUrl, "/v1/models", { headers: { Origin: page } })).status).toBe(401);
    expect((await rawRequest(baseUrl, "/v1/models", { headers: { ...headers, Origin: "http://localhost:3001" } })).status).toBe(403);
    await services.api.invoke("apiServer.configure", { allowedOrigins: [] });
  });

  it("serves two clients at once, each its own answer, one after the other", async () => {
    const other = new OpenAI({ baseURL: baseUrl, apiKey, maxRetries: 0 });
    for (let round = 0; round < 3; round++) {
      const [a, b] = [golden.cases[round]!, dialogues[round]!];
      const [first, second] = await Promise.all([
        client.chat.completions.create({ model, messages: messagesOf(a), temperature: 0 }),
        (async () => {
          let text = "";
          for await (const chunk of await other.chat.completions.create({ model, messages: messagesOf(b), temperature: 0, stream: true })) text += chunk.choices[0]?.delta.content ?? "";
          return text;
        })(),
      ]);
      expect(first.choices[0]!.message.content).toBe(a.greedy_text);
      expect(second).toBe(b.greedy_text);
    }
  });

  it("stops an answer when its client goes away mid-stream and frees the model within a second", async () => {
    // The demo model answers in milliseconds; a model with random weights rarely says EOS, so it keeps writing.
    const randomModel = join(temp.path, "random-weights.gguf");
    await writeSyntheticLlamaGguf(randomModel, { hidden: 128, layers: 2, heads: 2, intermediate: 256, vocab: 960, outType: "q8_0" });
    const entry = await services.api.invoke("models.import", { path: randomModel, mode: "register" });
    if (!entry.ok) throw new Error(entry.error.message);
    const model = (entry.value as { id: string }).id;
    await services.api.invoke("apiServer.configure", { saveHistory: true });
    // The library's entries are listed by id, the loaded one marked.
    expect((await client.models.list()).data.find((listed) => listed.id === model)).toMatchObject({ object: "model", loaded: false, name: "synthetic-llama-128x2" });
    const messages = [{ role: "user" as const, content: "Keep talking." }];

    // Asked by name, the API loads that model. 200 tokens: it does not stop by itself.
    const started = performance.now();
    const sample = await client.chat.completions.create({ model, messages, temperature: 1, max_tokens: 200 });
    const msPerToken = (performance.now() - started) / 200;
    expect(sample.choices[0]!.finish_reason).toBe("length");
    expect(sample.model).toBe(model);
    expect((await client.models.list()).data.filter((listed) => (listed as { loaded?: boolean }).loaded).map((listed) => listed.id)).toEqual([model]);

    const stream = await client.chat.completions.create({ model, messages, temperature: 1, max_tokens: 30_000, stream: true });
    for await (const chunk of stream) {
      if (chunk.choices[0]?.delta.content) break; // leaving the loop aborts the request
    }
    const aborted = performance.now();
    const next = await client.chat.completions.create({ model, messages, temperature: 1, max_tokens: 5 });
    const freedAfterMs = performance.now() - aborted;
    expect(next.choices[0]!.finish_reason).toBe("length");
    expect(freedAfterMs).toBeLessThan(1000);

    // The history shows the cut answer: stopped after a few tokens of the 30 000 it would have written.
    const api = createApiClient(services.api);
    const { conversations } = await api.invoke("history.list", {});
    const saved = await Promise.all(conversations.map(async (c) => (await api.invoke("history.get", { id: c.id })).messages));
    const cut = saved.flat().filter((m) => m.role === "assistant" && m.status === "interrupted");
    expect(cut).toHaveLength(1);
    expect(cut[0]!.stats!.newTokens).toBeLessThan(1000);
    expect(conversations.every((c) => c.source === "api")).toBe(true);
    console.log(`abort: the random-weights model writes ${(1000 / msPerToken).toFixed(0)} tokens/s (30 000 tokens ≈ ${((30_000 * msPerToken) / 1000).toFixed(0)} s); it stopped after ${cut[0]!.stats!.newTokens} tokens and the next request finished ${freedAfterMs.toFixed(0)} ms after the client left`);
    await services.api.invoke("apiServer.configure", { saveHistory: false });
  });
});
