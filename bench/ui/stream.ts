/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
// npm run bench:ui — how smooth the chat page stays while a long answer streams into it. Web mode with the
// real services, driven in Debian's Chromium: a synthetic model with random weights (it rarely says EOS, so
// the answer runs to max tokens) answers in a conversation that already holds ten Markdown answers with code
// and math. While it streams, the page records every animation frame (requestAnimationFrame deltas), long
// tasks and long animation frames, and which messages the DOM changed in. Printed: frame time p50/p95/max,
// long tasks, Markdown renders per token, and how many of the other messages were touched (goal: none).
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { HistoryExport, Message, ModelEntry, Sampling } from "../../src-main/contract/api.js";
import { createServices } from "../../src-main/services/create-services.js";
import { launchChromium } from "../../test/support/chromium.js";
import { startWebMode } from "../../test/support/web-mode.js";
import { writeSyntheticLlamaGguf } from "../support/synthetic-gguf.js";

const MIN_TOKENS = 500;
const MAX_TOKENS = 640;
/** Seeds tried in turn until an answer reaches MIN_TOKENS (random weights can still draw EOS early). */
const SEEDS = [11, 12, 13, 14, 15, 16];
const PRIOR_TURNS = 10;
const log = (line: string) => process.stderr.write(`${line}\n`);

/** A past answer of the kind BiLLa writes: prose, a list, a code block and math. */
function priorAnswer(turn: number): string {
  return [
    `Answer ${turn}: here is **how** it works, step by step.`,
    "",
    "```python",
    `def area_${turn}(r: float) -> float:`,
    "    return 3.14159 * r ** 2",
    "```",
    "",
    `The area is $A = \\pi r^2$, and $$\\sum_{k=1}^{${turn + 2}} k = \\frac{n(n+1)}{2}$$`,
    "",
    "1. First point",
    "2. Second point with `inline code`",
  ].join("\n");
}

async function seed(dataDir: string, modelPath: string): Promise<{ modelId: string; conversationIds: string[] }> {
  const services = createServices({ dataDir, transport: "web" });
  const call = async <T>(name: Parameters<typeof services.api.invoke>[0], input: unknown): Promise<T> => {
    const envelope = await services.api.invoke(name, input);
    if (!envelope.ok) throw new Error(`${name}: ${envelope.error.message}`);
    return envelope.value as T;
  };
  try {
    const model = await call<ModelEntry>("models.import", { path: modelPath, mode: "register" });
    await call("models.setDefault", { id: model.id });
    const now = Date.now();
    const conversations: HistoryExport["conversations"] = SEEDS.map((seedValue, index) => {
      const id = `bench-${seedValue}`;
      const messages: Message[] = [];
      let parentId: string | null = null;
      for (let turn = 0; turn < PRIOR_TURNS; turn++) {
        for (const role of ["user", "assistant"] as const) {
          const at = new Date(now - 3_600_000 + index * 60_000 + turn * 2000 + (role === "user" ? 0 : 1000)).toISOString();
          const message: Message = {
            id: `${id}-${turn}-${role}`,
            conversationId: id,
            parentId,
            role,
            text: role === "user" ? `Question ${turn}: how do I compute the area of a circle?` : priorAnswer(turn),
            status: "complete",
            error: null,
            stats: null,
            model: role === "assistant" ? "synthetic" : null,
            createdAt: at,
            updatedAt: at,
          };
          messages.push(message);
          parentId = message.id;
        }
      }
      const sampling: Sampling = { temperature: 1, topK: 0, topP: 1, minP: 0, repeatPenalty: null, seed: seedValue, maxTokens: MAX_TOKENS };
      const at = new Date(now - 3_600_000 + index * 60_000).toISOString();
      return { id, title: `Bench seed ${seedValue}`, modelId: model.id, sampling, currentMessageId: parentId, pinned: false, archived: false, deletedAt: null, source: "app", createdAt: at, updatedAt: at, messages };
    });
    await call("history.import", { content: JSON.stringify({ format: "billa-desktop-history", version: 1, conversations } satisfies HistoryExport) });
    return { modelId: model.id, conversationIds: conversations.map((conversation) => conversation.id) };
  } finally {
    await services.dispose();
  }
}

interface PageFigures {
  frames: number[];
  longTasks: number[];
  longFrames: { duration: number; blocking: number }[];
  renders: number;
  otherMessagesTouched: number;
  streamMs: number;
}

/** Installed before the question is sent; collects until the new answer's data-status leaves "streaming". */
function installProbe(): void {
  type Probe = { frameTimes: [number, number][]; longTasks: [number, number][]; longFrames: [number, number, number][]; start: number | null; end: number | null; renders: number; touched: Set<string>; streamingId: string | null };
  const probe: Probe = { frameTimes: [], longTasks: [], longFrames: [], start: null, end: null, renders: 0, touched: new Set(), streamingId: null };
  (window as unknown as { __probe: Probe }).__probe = probe;
  let last = performance.now();
  const frame = (time: number) => {
    probe.frameTimes.push([time, time - last]);
    last = time;
    if (probe.end === null) requestAnimationFrame(frame);
  };
  requestAnimationFrame((time) => {
    last = time;
    requestAnimationFrame(frame);
  });
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) probe.longTasks.push([entry.startTime, entry.duration]);
  }).observe({ type: "longtask" });
  try {
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) probe.longFrames.push([entry.startTime, entry.duration, (entry as unknown as { blockingDuration: number }).blockingDuration]);
    }).observe({ type: "long-animation-frame" });
  } catch {
    // Older Chromium: no long-animation-frame entries.
  }
  const list = document.querySelector("section.messages")!;
  new MutationObserver((records) => {
    const touchedNow = new Set<string>();
    for (const record of records) {
      const node = record.target instanceof Element ? record.target : record.target.parentElement;
      const article = node?.closest("article");
      if (!article) continue;
      if (probe.streamingId === null && article.getAttribute("data-status") === "streaming" && (article.querySelector(".markdown")?.textContent ?? "") !== "") {
        probe.streamingId = article.id;
        probe.start = performance.now();
      }
      touchedNow.add(article.id);
    }
    if (probe.streamingId === null || probe.end !== null) return;
    if (touchedNow.has(probe.streamingId)) probe.renders++;
    const streaming = document.getElementById(probe.streamingId);
    if (streaming && streaming.getAttribute("data-status") !== "streaming") {
      probe.end = performance.now();
      return;
    }
    for (const id of touchedNow) if (id !== probe.streamingId) probe.touched.add(id);
  }).observe(list, { subtree: true, childList: true, characterData: true, attributes: true });
}

function collectProbe(): PageFigures {
  const probe = (window as unknown as { __probe: { frameTimes: [number, number][]; longTasks: [number, number][]; longFrames: [number, number, number][]; start: number; end: number; renders: number; touched: Set<string> } }).__probe;
  const inside = (time: number) => time >= probe.start && time <= probe.end;
  return {
    frames: probe.frameTimes.filter(([time]) => inside(time)).map(([, delta]) => delta),
    longTasks: probe.longTasks.filter(([time]) => inside(time)).map(([, duration]) => duration),
    longFrames: probe.longFrames.filter(([time]) => inside(time)).map(([, duration, blocking]) => ({ duration, blocking })),
    renders: probe.renders,
    otherMessagesTouched: probe.touched.size,
    streamMs: probe.end - probe.start,
  };
}

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
};

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "billa-bench-ui-"));
  try {
    // Small enough to stream fast on two cores; the vocabulary is the demo tokenizer's 960 pieces (no padding
    // tokens, so every token is visible text).
    const modelPath = join(dir, "synthetic-ui.gguf");
    const written = await writeSyntheticLlamaGguf(modelPath, { hidden: 384, layers: 6, heads: 6, intermediate: 1024, vocab: 960, outType: "q8_0" });
    log(`synthetic model: ${(written.parameters / 1e6).toFixed(1)}M parameters, ${(written.bytes / 2 ** 20).toFixed(1)} MiB`);
    const dataDir = join(dir, "data");
    const { conversationIds } = await seed(dataDir, modelPath);

    const web = await startWebMode(dataDir);
    const browser = await launchChromium();
    try {
      const context = await browser.newContext({ locale: "en-US", viewport: { width: 1280, height: 800 } });
      // tsx keeps function names with a `__name` helper; the functions handed to page.evaluate need it there too.
      await context.addInitScript({ content: "window.__name = (target) => target;" });
      const page = await context.newPage();
      await page.goto(web.url);
      // The first question also loads the model; the measurement starts at the answer's first words.
      for (const [attempt, conversationId] of conversationIds.entries()) {
        const title = `Bench seed ${conversationId.replace("bench-", "")}`;
        await page.getByRole("navigation", { name: "Conversations" }).getByRole("button", { name: title }).click();
        await page.waitForFunction(
          ([expected, count]) => document.querySelector("h1")?.textContent === expected && document.querySelectorAll('[data-testid="answer"]').length === count,
          [title, PRIOR_TURNS] as const,
          { timeout: 30_000 },
        );
        await page.evaluate(installProbe);
        const box = page.getByRole("textbox", { name: "Message" });
        await box.fill("Please write a very long answer about everything.");
        await box.press("Enter");
        await page.waitForFunction(() => (window as unknown as { __probe: { end: number | null } }).__probe.end !== null, null, { timeout: 600_000, polling: 500 });
        const figures = await page.evaluate(collectProbe);
        const stats = await page.getByTestId("answer-stats").last().textContent();
        const tokens = Number(/^(\d+) tokens/.exec(stats ?? "")?.[1] ?? 0);
        log(`attempt ${attempt + 1}: ${stats}`);
        if (tokens < MIN_TOKENS) continue;

        const { frames, longTasks, longFrames } = figures;
        const rows: [string, string][] = [
          ["answer", `${tokens} tokens in ${(figures.streamMs / 1000).toFixed(1)} s on screen (${stats})`],
          ["conversation on screen", `${PRIOR_TURNS} earlier answers with code and math, plus the streaming one`],
          ["frames while streaming", String(frames.length)],
          ["frame time p50 / p95 / max", `${percentile(frames, 50).toFixed(1)} / ${percentile(frames, 95).toFixed(1)} / ${Math.max(...frames).toFixed(1)} ms`],
          ["frames over 33 ms / over 50 ms", `${frames.filter((time) => time > 33.4).length} / ${frames.filter((time) => time > 50).length}`],
          ["long tasks (>50 ms): count, total, max", `${longTasks.length}, ${longTasks.reduce((sum, value) => sum + value, 0).toFixed(0)} ms, ${longTasks.length ? Math.max(...longTasks).toFixed(0) : 0} ms`],
          ["long animation frames: count, max blocking", `${longFrames.length}, ${longFrames.length ? Math.max(...longFrames.map((entry) => entry.blocking)).toFixed(0) : 0} ms`],
          ["Markdown renders of the streaming answer", `${figures.renders} for ${tokens} tokens (at most one per frame)`],
          ["other messages the DOM changed in while streaming", String(figures.otherMessagesTouched)],
        ];
        const width = Math.max(...rows.map(([name]) => name.length));
        console.log(`\n${rows.map(([name, value]) => `${name.padEnd(width)}  ${value}`).join("\n")}`);
        console.log(
          JSON.stringify({
            bench: "ui-stream",
            tokens,
            streamMs: Math.round(figures.streamMs),
            frames: frames.length,
            frameP50: percentile(frames, 50),
            frameP95: percentile(frames, 95),
            frameMax: Math.max(...frames),
            longTasks: longTasks.length,
            longTaskMax: longTasks.length ? Math.max(...longTasks) : 0,
            renders: figures.renders,
            otherMessagesTouched: figures.otherMessagesTouched,
          }),
        );
        return;
      }
      throw new Error(`No answer reached ${MIN_TOKENS} tokens in ${SEEDS.length} attempts.`);
    } finally {
      await browser.close();
      await web.stop();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
