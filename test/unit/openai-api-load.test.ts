// A bounded load test on loopback: 200 requests from 8 concurrent clients (the official client, half of them
// streaming, one- and two-turn golden conversations) against a queue that holds 5 waiting requests. Every request
// gets its own whole golden answer or a clean 503 with Retry-After; the queue never grows past its bound; memory
// after the run is what it was before. The figures are printed.
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import OpenAI, { APIError } from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Services } from "../../src-main/services/create-services.js";
import { golden } from "../support/demo.js";
import { makeDemoGguf } from "../support/demo-gguf.js";
import { messagesOf, startApiOnDemo } from "../support/openai-api.js";
import { makeTempDir } from "../support/temp-dir.js";

const REQUESTS = 200;
const CLIENTS = 8;
const QUEUE = 5;
const REFUSED_PAUSE_MS = 150;

setFlagsFromString("--expose-gc");
const collectGarbage = runInNewContext("gc") as () => void;

const temp = makeTempDir("billa-openai-load-");
let services: Services;
let baseURL: string;
let apiKey: string;

beforeAll(async () => {
  const modelPath = await makeDemoGguf(temp.path, "q8_0");
  const started = await startApiOnDemo(temp.path, modelPath, { apiQueueLength: QUEUE });
  services = started.services;
  baseURL = started.status.baseUrl!;
  apiKey = started.status.apiKey;
});
afterAll(async () => {
  await services?.dispose();
  temp.remove();
});

type Outcome = { kind: "answer"; ok: boolean; caseId: string } | { kind: "refused"; retryAfter: string | null; shape: boolean };

/** Request `index`: one of the golden conversations, streamed every other time. */
async function ask(client: OpenAI, index: number): Promise<Outcome> {
  const c = golden.cases[index % golden.cases.length]!;
  const body = { model: "BiLLa demo", messages: messagesOf(c), temperature: 0 };
  try {
    let text = "";
    if (index % 2 === 0) {
      for await (const chunk of await client.chat.completions.create({ ...body, stream: true })) text += chunk.choices[0]?.delta.content ?? "";
    } else {
      text = (await client.chat.completions.create(body)).choices[0]!.message.content ?? "";
    }
    return { kind: "answer", ok: text === c.greedy_text, caseId: c.id };
  } catch (error) {
    if (!(error instanceof APIError) || error.status !== 503) throw error;
    const shape = typeof (error.error as { message?: unknown })?.message === "string" && error.code === "server_busy";
    return { kind: "refused", retryAfter: error.headers?.get("retry-after") ?? null, shape };
  }
}

function memory(): { rss: number; heap: number } {
  collectGarbage();
  const { rss, heapUsed } = process.memoryUsage();
  return { rss, heap: heapUsed };
}

const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

describe("the API under load", () => {
  it(`answers ${REQUESTS} requests from ${CLIENTS} clients whole or with a clean 503, within its bounds, and gives its memory back`, { timeout: 300_000 }, async () => {
    // Warm-up: the first requests allocate what every later one reuses (buffers, the slot's state, JIT).
    const warm = new OpenAI({ baseURL, apiKey, maxRetries: 0 });
    for (let i = 0; i < 2 * golden.cases.length; i++) expect((await ask(warm, i)).kind).toBe("answer");
    const servedBefore = services.apiServer.status().requests.served;
    const before = memory();

    let next = 0;
    let peak = { active: 0, queued: 0 };
    const watch = setInterval(() => {
      const { active, queued } = services.apiServer.status().requests;
      peak = { active: Math.max(peak.active, active), queued: Math.max(peak.queued, queued) };
    }, 2);
    const started = performance.now();
    const outcomes = (
      await Promise.all(
        Array.from({ length: CLIENTS }, async () => {
          const client = new OpenAI({ baseURL, apiKey, maxRetries: 0 });
          const mine: Outcome[] = [];
          for (let index = next++; index < REQUESTS; index = next++) {
            const outcome = await ask(client, index);
            mine.push(outcome);
            // A refused client waits before its next request (less than Retry-After's whole second, to keep up the pressure).
            if (outcome.kind === "refused") await new Promise((resolve) => setTimeout(resolve, REFUSED_PAUSE_MS));
          }
          return mine;
        }),
      )
    ).flat();
    const seconds = (performance.now() - started) / 1000;
    clearInterval(watch);
    const after = memory();

    const answers = outcomes.filter((o) => o.kind === "answer");
    const refused = outcomes.filter((o) => o.kind === "refused");
    console.log(
      [
        `load: ${REQUESTS} requests from ${CLIENTS} clients in ${seconds.toFixed(1)} s (${(REQUESTS / seconds).toFixed(0)} requests/s)`,
        `  ${answers.length} answered, every one its own golden answer: ${answers.every((o) => o.ok)}; ${refused.length} refused with 503 (queue of ${QUEUE})`,
        `  peak: ${peak.active} answering, ${peak.queued} waiting`,
        `  RSS ${mib(before.rss)} before, ${mib(after.rss)} after (${after.rss >= before.rss ? "+" : ""}${mib(after.rss - before.rss)}); JS heap ${mib(before.heap)} → ${mib(after.heap)}`,
      ].join("\n"),
    );

    expect(outcomes).toHaveLength(REQUESTS);
    expect(answers.filter((o) => !o.ok).map((o) => o.caseId)).toEqual([]);
    expect(answers.length).toBeGreaterThanOrEqual(REQUESTS / 4);
    expect(refused.length).toBeGreaterThan(0);
    expect(refused.every((o) => o.kind === "refused" && o.shape && Number(o.retryAfter) >= 1)).toBe(true);
    expect(peak.active).toBeLessThanOrEqual(1);
    expect(peak.queued).toBeLessThanOrEqual(QUEUE);
    expect(services.apiServer.status().requests).toMatchObject({ active: 0, queued: 0, served: servedBefore + answers.length });
    // Memory: nothing kept per request. The bounds leave room for allocator noise, not for a leak of 200 answers' state.
    expect(after.heap - before.heap).toBeLessThan(8 * 2 ** 20);
    expect(after.rss - before.rss).toBeLessThan(24 * 2 ** 20);
  });
});
