// npm run bench:store — the history database at scale: 100 000 messages in 2 000 conversations (one of
// them 5 000 messages long), Chinese and English text. Prints the time to list the conversations, open the
// long one and go back to its first message's branch, search (Chinese 3+ characters through the trigram index, a 2-character Chinese word by scan,
// an English word), and what saving one streamed answer costs next to generating it.
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomUUID } from "node:crypto";
import { HISTORY_EXPORT_FORMAT, samplingSchema, type HistoryExport, type Message } from "../src-main/contract/api.js";
import { branchOf } from "../src-main/contract/conversation-tree.js";
import { HistoryStore } from "../src-main/services/history/history-store.js";
import { SAVE_INTERVAL_MS, StreamingAnswer } from "../src-main/services/history/streaming-answer.js";
import { openDatabase } from "../src-main/services/storage/database.js";
import { median } from "./support/median.js";

const CONVERSATIONS = 2_000;
const MESSAGES = 100_000;
const LONG_CONVERSATION = 5_000;
const REPEATS = 7;

/** A small seeded generator, so every run builds the same database. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

const ZH = ["中英双语", "数学推理", "模型", "语言", "中文", "英文", "推理", "数学", "代码", "翻译", "问题", "答案", "学习", "数据", "训练", "羊驼", "青草", "城市", "河流", "历史", "天气", "音乐"];
const EN = ["model", "language", "bilingual", "reasoning", "python", "function", "history", "weather", "river", "capital", "answer", "question", "vocabulary", "training", "matrix", "llama"];

function sentence(next: () => number, words: number): string {
  const parts: string[] = [];
  for (let i = 0; i < words; i++) {
    const chinese = next() < 0.5;
    const list = chinese ? ZH : EN;
    parts.push(list[Math.floor(next() * list.length)]!);
  }
  return `${parts.join(" ")}。`;
}

function time(work: () => unknown): number {
  const runs: number[] = [];
  for (let i = 0; i < REPEATS; i++) {
    const started = performance.now();
    work();
    runs.push(performance.now() - started);
  }
  return median(runs);
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "billa-bench-store-"));
  try {
    const path = join(dir, "billa.sqlite");
    const db = openDatabase(path);
    const store = new HistoryStore(db);
    const next = random(42);
    const sampling = samplingSchema.parse({});

    // Filled through the import path (one transaction per batch), with realistic timestamps.
    const started = performance.now();
    const perConversation = Math.floor((MESSAGES - LONG_CONVERSATION) / (CONVERSATIONS - 1));
    const epoch = Date.parse("2026-01-01T00:00:00Z");
    let written = 0;
    const conversations: HistoryExport["conversations"] = [];
    for (let c = 0; c < CONVERSATIONS; c++) {
      const count = c === 0 ? LONG_CONVERSATION : c === CONVERSATIONS - 1 ? MESSAGES - written : perConversation;
      const id = randomUUID();
      const messages: Message[] = [];
      for (let m = 0; m < count; m++) {
        const at = new Date(epoch + c * 3_600_000 + m * 1000).toISOString();
        const role = m % 2 === 0 ? "user" : "assistant";
        const text = sentence(next, role === "user" ? 8 : 40);
        messages.push({ id: randomUUID(), conversationId: id, parentId: messages.at(-1)?.id ?? null, role, text, status: "complete", error: null, stats: null, model: null, createdAt: at, updatedAt: at });
      }
      const at = new Date(epoch + c * 3_600_000).toISOString();
      conversations.push({ id, title: sentence(next, 4), modelId: null, sampling, currentMessageId: messages.at(-1)!.id, pinned: false, archived: false, deletedAt: null, source: "app", createdAt: at, updatedAt: at, messages });
      written += count;
    }
    const longId = conversations[0]!.id;
    for (let batch = 0; batch < conversations.length; batch += 100) {
      store.importData({ format: HISTORY_EXPORT_FORMAT, version: 1, conversations: conversations.slice(batch, batch + 100) });
    }
    const fillSeconds = (performance.now() - started) / 1000;
    const total = db.prepare("SELECT COUNT(*) FROM messages").pluck().get() as number;
    db.pragma("wal_checkpoint(TRUNCATE)");

    const list = time(() => store.list({ archived: false, deleted: false }));
    const open = time(() => branchOf(store.messages(longId), store.conversation(longId).currentMessageId));
    // Choosing an alternative of the first question walks the whole conversation down to its newest leaf.
    const firstMessageId = conversations[0]!.messages[0]!.id;
    const selectBranch = time(() => store.selectBranch(longId, firstMessageId));
    const searches = {
      "Chinese, 3+ characters (trigram index)": "数学推理",
      "Chinese, 2 characters (scan)": "羊驼",
      "Chinese, two 2-character words (scan)": "羊驼 青草",
      "Chinese, 2 characters found nowhere (the whole scan)": "火星",
      "English word (trigram index)": "vocabulary",
    };
    const searchTimes = Object.entries(searches).map(([label, query]) => {
      const hits = store.search(query, 50).length;
      return [label, query, time(() => store.search(query, 50)), hits] as const;
    });

    // One streamed answer of 1024 tokens (~4 characters each): the saves StreamingAnswer makes at its interval,
    // timed as they run, then the final write that also indexes the answer for search.
    const conversation = store.create({ sampling });
    const question = store.addQuestion(conversation.id, undefined, "请写一段很长的回答。");
    const chunks = Array.from({ length: 1024 }, (_, i) => (i % 2 ? "词语" : " word"));
    const persistCost = (tokensPerSecond: number) => {
      const answer = store.beginAnswer(conversation.id, question.id, "bench");
      const saves: number[] = [];
      const streaming = new StreamingAnswer((text) => {
        const begun = performance.now();
        store.saveStreamingText(answer.id, text);
        saves.push(performance.now() - begun);
      }, 0);
      // The generation timeline is simulated: a save happens once every SAVE_INTERVAL_MS of generation time.
      const tokensPerSave = Math.max(1, Math.round((tokensPerSecond * SAVE_INTERVAL_MS) / 1000));
      let pending = "";
      chunks.forEach((chunk, i) => {
        pending += chunk;
        if ((i + 1) % tokensPerSave === 0) {
          streaming.append(pending);
          pending = "";
        }
      });
      streaming.close();
      const finishStarted = performance.now();
      store.finishAnswer(conversation.id, answer.id, { text: chunks.join(""), status: "complete" });
      const spent = saves.reduce((sum, value) => sum + value, 0) + (performance.now() - finishStarted);
      const generationMs = (chunks.length / tokensPerSecond) * 1000;
      return { tokensPerSecond, saves: saves.length, spent, generationMs, ratio: spent / generationMs };
    };
    const persist = [20, 100].map(persistCost);
    db.close();

    const rows: [string, string][] = [
      ["database", `${total} messages in ${CONVERSATIONS + 1} conversations, ${((await stat(path)).size / 2 ** 20).toFixed(0)} MiB, filled in ${fillSeconds.toFixed(1)} s`],
      ["list conversations (median of 7)", `${list.toFixed(1)} ms`],
      [`open the ${LONG_CONVERSATION}-message conversation`, `${open.toFixed(1)} ms`],
      [`show its branch from the first message down to the newest leaf`, `${selectBranch.toFixed(1)} ms`],
      ...searchTimes.map(([label, query, ms, hits]): [string, string] => [`search ${label} "${query}"`, `${ms.toFixed(1)} ms (${hits} results)`]),
      ...persist.map((p): [string, string] => [
        `save a 1024-token answer streamed at ${p.tokensPerSecond} tok/s`,
        `${p.spent.toFixed(1)} ms in ${p.saves} saves + final write, vs ${(p.generationMs / 1000).toFixed(1)} s generating: ${(p.ratio * 100).toFixed(3)} %`,
      ]),
    ];
    const width = Math.max(...rows.map(([name]) => name.length));
    console.log(rows.map(([name, value]) => `${name.padEnd(width)}  ${value}`).join("\n"));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
