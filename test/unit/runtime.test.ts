// Chatting with the demo model through the API, as the UI does: golden answers at temperature 0,
// streaming, stop, seeded sampling and a conversation that outgrows its context.
import { readdirSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EventMessage, GenerationStats, RequestInput } from "../../src-main/contract/api.js";
import { createServices, type Services } from "../../src-main/services/create-services.js";
import { golden } from "../support/demo.js";
import { makeDemoGguf } from "../support/demo-gguf.js";
import { makeTempDir } from "../support/temp-dir.js";

const temp = makeTempDir("billa-runtime-");
let services: Services;
let modelPath: string;
const greedy = { temperature: 0 };

beforeAll(async () => {
  modelPath = await makeDemoGguf(temp.path, "q8_0");
  services = createServices({ dataDir: temp.path, transport: "cli", gpu: "cpu" });
  // One thread: a tiny model is fastest on one, and oversubscribed threads spin.
  const loaded = await services.api.invoke("runtime.load", { modelPath, contextSize: 256, threads: 1 });
  if (!loaded.ok) throw new Error(loaded.error.message);
});
afterAll(async () => {
  await services.dispose();
  temp.remove();
});

async function generate(input: RequestInput<"chat.generate">) {
  const envelope = await services.api.invoke("chat.generate", input);
  if (!envelope.ok) throw new Error(`${envelope.error.code}: ${envelope.error.message}`);
  return envelope.value as { text: string; stats: GenerationStats };
}

function turnsOf(prompt: string): { history: { question: string; answer: string }[]; question: string } {
  const parts = prompt.split(/\nHuman: /).map((part, i) => (i === 0 ? part.slice("Human: ".length) : part));
  const history = parts.slice(0, -1).map((part) => {
    const [question, answer] = part.split("\nAssistant: ") as [string, string];
    return { question, answer };
  });
  return { history, question: parts.at(-1)!.replace(/\nAssistant: $/, "") };
}

describe("the runtime on the demo model", () => {
  it("reports the loaded model, recognised as BiLLa", async () => {
    const state = await services.api.invoke("runtime.state", {});
    expect(state).toMatchObject({ ok: true, value: { loaded: { resolvedPromptFormat: { format: "billa", reason: "billa-metadata" }, threads: 1, gpu: null }, generating: null } });
  });

  it("answers every golden prompt (one and two turns) exactly at temperature 0, streaming the text", async () => {
    for (const c of golden.cases) {
      const chunks: string[] = [];
      const unsubscribe = services.api.subscribe((event: EventMessage) => {
        if (event.name === "generation.chunk" && event.payload.conversationId === c.id) chunks.push(event.payload.text);
      });
      const { history, question } = turnsOf(c.prompt);
      const result = await generate({ conversationId: c.id, messageId: `${c.id}-a`, history, question, sampling: greedy });
      unsubscribe();
      expect(result.text, c.id).toBe(c.greedy_text);
      expect(chunks.join("")).toBe(c.greedy_text);
      expect(result.stats.stopReason).toBe("eos");
      expect(result.stats.newTokens).toBe(c.greedy_ids.length);
    }
  });

  it("saves a conversation that lost its slot to others and answers from its restored state when it returns", async () => {
    const c = golden.cases.find((candidate) => turnsOf(candidate.prompt).history.length === 1)!;
    const { history, question } = turnsOf(c.prompt);
    const first = await generate({ conversationId: "returning", messageId: "r1", history: [], question: history[0]!.question, sampling: greedy });
    expect(first.stats.reusedPromptTokens).toBe(0);
    await generate({ conversationId: "other-1", messageId: "o1", history: [], question: "你好", sampling: greedy });
    await generate({ conversationId: "other-2", messageId: "o2", history: [], question: "Hello", sampling: greedy });
    const stateFiles = () => readdirSync(services.paths.sequenceStates, { recursive: true }).filter((name) => String(name).endsWith(".state"));
    expect(stateFiles().length).toBeGreaterThan(0);
    const result = await generate({ conversationId: "returning", messageId: "r2", history, question, sampling: greedy });
    expect(result.text).toBe(c.greedy_text);
    // Its first turn came back from the file instead of being evaluated again: all of its prompt but the last
    // token, the space after "Assistant:", which merges with the answer's first word once the answer follows.
    expect(result.stats.reusedPromptTokens).toBeGreaterThanOrEqual(first.stats.promptTokens - 1);
  });

  it("stops mid-stream and returns the partial text", async () => {
    const c = golden.cases.find((candidate) => candidate.greedy_ids.length > 8)!;
    const { history, question } = turnsOf(c.prompt);
    let stopped = false;
    const unsubscribe = services.api.subscribe((event) => {
      if (!stopped && event.name === "generation.chunk" && event.payload.conversationId === "stop-test") {
        stopped = true;
        void services.api.invoke("chat.stop", { conversationId: "stop-test" });
      }
    });
    const result = await generate({ conversationId: "stop-test", messageId: "m", history, question, sampling: greedy });
    unsubscribe();
    expect(result.stats.stopReason).toBe("stopped");
    expect(result.text.length).toBeGreaterThan(0);
    expect(c.greedy_text.startsWith(result.text)).toBe(true);
    expect(result.text.length).toBeLessThan(c.greedy_text.length);
  });

  it("samples repeatably with a fixed seed (regenerate), and differently with another seed", async () => {
    // Temperature 1.5 over the whole vocabulary: here the demo model's next token really is a draw, so the seed decides the text.
    const question = "Tell me something new.";
    const sampled = async (seed: number, messageId: string) =>
      (await generate({ conversationId: "seeded", messageId, history: [], question, sampling: { temperature: 1.5, topK: 0, seed, maxTokens: 24 } })).text;
    const first = await sampled(1234, "a");
    expect(await sampled(1234, "b")).toBe(first);
    const others = [await sampled(4321, "c"), await sampled(7, "d")];
    expect(others.filter((text) => text === first)).toEqual([]);
  });

  it("draws afresh each time without a seed, even within one second", async () => {
    const sampling = { temperature: 1.5, topK: 0, seed: null, maxTokens: 24 };
    const texts = [];
    for (const messageId of ["a", "b", "c"]) texts.push((await generate({ conversationId: "unseeded", messageId, history: [], question: "Tell me something new.", sampling })).text);
    expect(new Set(texts).size).toBeGreaterThan(1);
  });

  it("survives a conversation longer than its context by leaving out the oldest turns, with a notice", async () => {
    const c = golden.cases.find((candidate) => candidate.id === "zorbia-capital") ?? golden.cases[0]!;
    const { question } = turnsOf(c.prompt);
    const filler = { question: "Please repeat this long sentence about nothing in particular, twice over.", answer: "This is a long answer that fills the context with many tokens of text." };
    const history = Array.from({ length: 12 }, () => filler);
    const notices: number[] = [];
    const unsubscribe = services.api.subscribe((event) => {
      if (event.name === "generation.contextTrimmed" && event.payload.conversationId === "long") notices.push(event.payload.droppedTurns);
    });
    const result = await generate({ conversationId: "long", messageId: "m", history, question, sampling: greedy });
    unsubscribe();
    expect(result.stats.droppedTurns).toBeGreaterThan(0);
    expect(notices).toEqual([result.stats.droppedTurns]);
    expect(result.text.length).toBeGreaterThan(0);
  });

  it("refuses a second answer in the same conversation while one is running", async () => {
    const first = generate({ conversationId: "busy", messageId: "a", history: [], question: "What is the capital of the planet Zorbia?", sampling: greedy });
    const second = await services.api.invoke("chat.generate", { conversationId: "busy", messageId: "b", history: [], question: "x", sampling: greedy });
    expect(second).toMatchObject({ ok: false, error: { code: "busy" } });
    await first;
  });

  it("queues a second conversation behind the running answer, visibly", async () => {
    let state: unknown;
    const unsubscribe = services.api.subscribe((event) => {
      if (!state && event.name === "generation.chunk" && event.payload.conversationId === "q1") state = services.api.invoke("runtime.state", {});
    });
    const first = generate({ conversationId: "q1", messageId: "a", history: [], question: "What is the capital of the planet Zorbia?", sampling: greedy });
    const second = generate({ conversationId: "q2", messageId: "b", history: [], question: "What is the capital of the planet Zorbia?", sampling: greedy });
    await first;
    unsubscribe();
    expect(await state).toMatchObject({ ok: true, value: { generating: "q1", queued: 1 } });
    expect((await first).text).toBe((await second).text);
  });

  it("estimates memory before loading", async () => {
    const estimate = await services.api.invoke("runtime.estimate", { modelPath, contextSize: 2048 });
    expect(estimate).toMatchObject({ ok: true, value: { fit: "fits", gpuLayers: 0 } });
    if (estimate.ok) expect((estimate.value as { ramBytes: number }).ramBytes).toBeGreaterThan(1_000_000);
  });
});

describe("unloading while answering", () => {
  it("stops the answer cleanly, returns its partial text and frees the model", async () => {
    const c = golden.cases.find((candidate) => candidate.greedy_ids.length > 8)!;
    const { history, question } = turnsOf(c.prompt);
    let unloading: Promise<unknown> | undefined;
    const unsubscribe = services.api.subscribe((event) => {
      if (!unloading && event.name === "generation.chunk" && event.payload.conversationId === "unload") unloading = services.api.invoke("runtime.unload", {});
    });
    const result = await generate({ conversationId: "unload", messageId: "m", history, question, sampling: greedy });
    unsubscribe();
    expect(await unloading).toMatchObject({ ok: true, value: { unloaded: true } });
    expect(result.stats.stopReason).toBe("stopped");
    expect(c.greedy_text.startsWith(result.text)).toBe(true);
    expect(await services.api.invoke("runtime.state", {})).toMatchObject({ ok: true, value: { loaded: null } });
    expect(await services.api.invoke("chat.generate", { conversationId: "after", messageId: "m", history: [], question: "hi", sampling: greedy })).toMatchObject({
      ok: false,
      error: { code: "not_found" },
    });
  });
});
