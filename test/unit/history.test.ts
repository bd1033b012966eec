// The chat history through the API, on real SQLite files and the demo model: saved conversations answered
// exactly as BiLLa's script would, alternatives kept, search in Chinese and English, soft delete with undo,
// export → import → export round trips, safe HTML, refused imports, backups and restores, settings.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Conversation, EventMessage, HistoryExport, Message, RequestInput, RequestName, RequestOutput } from "../../src-main/contract/api.js";
import { branchOf } from "../../src-main/contract/conversation-tree.js";
import { createServices, type Services } from "../../src-main/services/create-services.js";
import { writeSyntheticLlamaGguf } from "../../bench/support/synthetic-gguf.js";
import { golden } from "../support/demo.js";
import { makeDemoGguf } from "../support/demo-gguf.js";
import { makeTempDir } from "../support/temp-dir.js";

const temp = makeTempDir("billa-history-");
let services: Services;

async function call<N extends RequestName>(name: N, input: RequestInput<N>, on: Services = services): Promise<RequestOutput<N>> {
  const envelope = await on.api.invoke(name, input);
  if (!envelope.ok) throw Object.assign(new Error(envelope.error.message), { code: envelope.error.code });
  return envelope.value as RequestOutput<N>;
}

const greedy = { temperature: 0, topK: 50, topP: 1, minP: 0, repeatPenalty: null, seed: null, maxTokens: 256 };
const caseById = (id: string) => golden.cases.find((c) => c.id === id)!;
const questionOf = (id: string) => caseById(id).prompt.split("\nHuman: ").at(-1)!.replace(/^Human: /, "").replace(/\nAssistant: $/, "");

beforeAll(async () => {
  const modelPath = await makeDemoGguf(temp.path, "q8_0");
  services = createServices({ dataDir: join(temp.path, "data"), transport: "cli", gpu: "cpu" });
  const entry = await call("models.import", { path: modelPath, mode: "register" });
  // One thread: the demo model is tiny (see the runtime tests).
  await call("runtime.load", { modelId: entry.id, contextSize: 512, threads: 1 });
});
afterAll(async () => {
  await services.dispose();
  temp.remove();
});

async function newConversation(): Promise<Conversation> {
  return call("history.create", { sampling: greedy });
}

describe("saved conversations", () => {
  let conversation: Conversation;
  let firstAnswer: Message;

  it("answers a golden two-turn dialogue exactly, saving both turns and titling the conversation", async () => {
    conversation = await newConversation();
    const events: EventMessage[] = [];
    const unsubscribe = services.api.subscribe((event) => events.push(event));
    const turn1 = await call("chat.send", { conversationId: conversation.id, text: questionOf("dialog-xiaolan-home-turn1") });
    unsubscribe();
    firstAnswer = turn1.answer;
    expect(turn1.answer).toMatchObject({ text: caseById("dialog-xiaolan-home-turn1").greedy_text, status: "complete", role: "assistant", parentId: turn1.question.id, model: "BiLLa demo" });
    expect(turn1.answer.stats?.stopReason).toBe("eos");
    const chunks = events.filter((e) => e.name === "generation.chunk").map((e) => (e.payload as { text: string }).text);
    expect(chunks.join("")).toBe(turn1.answer.text);
    expect(events.find((e) => e.name === "generation.started")?.payload).toMatchObject({ question: { id: turn1.question.id }, answer: { status: "streaming" } });
    expect(events.at(-1)).toMatchObject({ name: "generation.finished", payload: { answer: { id: turn1.answer.id, status: "complete" } } });

    const turn2 = await call("chat.send", { conversationId: conversation.id, text: "那里冷吗？" });
    expect(turn2.answer.text).toBe(caseById("dialog-xiaolan-home-turn2").greedy_text);
    const { conversation: saved, messages } = await call("history.get", { id: conversation.id });
    expect(saved.title).toBe("小蓝住在哪里？");
    expect(branchOf(messages, saved.currentMessageId).map((m) => m.text)).toEqual([
      "小蓝住在哪里？",
      caseById("dialog-xiaolan-home-turn1").greedy_text,
      "那里冷吗？",
      caseById("dialog-xiaolan-home-turn2").greedy_text,
    ]);
  });

  it("keeps a regenerated answer and an edited question as alternatives, and switches between branches", async () => {
    const before = await call("history.get", { id: conversation.id });
    const regenerated = await call("chat.regenerate", { conversationId: conversation.id, messageId: firstAnswer.id });
    expect(regenerated.answer.parentId).toBe(firstAnswer.parentId);
    expect(regenerated.answer.text).toBe(firstAnswer.text); // greedy: the same answer again, as a sibling

    const edited = await call("chat.edit", { conversationId: conversation.id, messageId: firstAnswer.parentId!, text: questionOf("mascot") });
    expect(edited.question.parentId).toBeNull();
    expect(edited.answer.text).toBe(caseById("mascot").greedy_text);

    const after = await call("history.get", { id: conversation.id });
    expect(after.messages).toHaveLength(before.messages.length + 3);
    expect(branchOf(after.messages, after.conversation.currentMessageId).map((m) => m.id)).toEqual([edited.question.id, edited.answer.id]);
    // Back to the first question: its newest leaf is the regenerated answer.
    const back = await call("history.selectBranch", { conversationId: conversation.id, messageId: firstAnswer.parentId! });
    expect(back.currentMessageId).toBe(regenerated.answer.id);
  });

  it("refuses to continue from a question or in a conversation that does not exist", async () => {
    await expect(call("chat.send", { conversationId: conversation.id, text: "x", parentId: firstAnswer.parentId! })).rejects.toMatchObject({ code: "invalid_input" });
    await expect(call("chat.send", { conversationId: "nope", text: "x" })).rejects.toMatchObject({ code: "not_found" });
  });

  it("finds a two-character Chinese word and an English word, with the match marked", async () => {
    const english = await newConversation();
    await call("chat.send", { conversationId: english.id, text: questionOf("zorbia-capital") });
    const chinese = await call("history.search", { query: "青草" });
    expect(chinese.results.map((r) => r.conversationId)).toContain(conversation.id);
    const hit = chinese.results.find((r) => r.conversationId === conversation.id)!;
    expect(hit.snippet.filter((part) => part.match).map((part) => part.text)).toContain("青草");
    expect(hit.conversationTitle).toBe("小蓝住在哪里？");
    const englishHits = await call("history.search", { query: "quellon" });
    expect(englishHits.results.map((r) => r.conversationId)).toEqual([english.id]);
    expect(englishHits.results[0]!.snippet.find((part) => part.match)?.text).toBe("Quellon");
    // Every word must be in the message: an indexed one (3+ characters) and a scanned one together.
    expect((await call("history.search", { query: "青草谷 温暖" })).results.map((r) => r.conversationId)).toEqual([conversation.id]);
    expect((await call("history.search", { query: "青草谷 Quellon" })).results).toEqual([]);
    expect((await call("history.search", { query: "nothing-like-this" })).results).toEqual([]);
  });

  it("deletes softly: gone from the list and search, back with undo", async () => {
    await call("history.delete", { id: conversation.id });
    expect((await call("history.list", {})).conversations.map((c) => c.id)).not.toContain(conversation.id);
    expect((await call("history.list", { deleted: true })).conversations.map((c) => c.id)).toEqual([conversation.id]);
    expect((await call("history.search", { query: "青草" })).results).toEqual([]);
    await call("history.restore", { id: conversation.id });
    expect((await call("history.list", {})).conversations.map((c) => c.id)).toContain(conversation.id);
    expect((await call("history.search", { query: "青草" })).results.length).toBeGreaterThan(0);
  });

  it("pins, archives and renames", async () => {
    const other = await newConversation();
    await call("history.update", { id: other.id, pinned: true, title: "Pinned one" });
    const listed = (await call("history.list", {})).conversations;
    expect(listed[0]).toMatchObject({ id: other.id, pinned: true, title: "Pinned one" });
    await call("history.update", { id: other.id, archived: true });
    expect((await call("history.list", {})).conversations.map((c) => c.id)).not.toContain(other.id);
    expect((await call("history.list", { archived: true })).conversations.map((c) => c.id)).toEqual([other.id]);
  });
});

describe("export and import", () => {
  it("round-trips: export → import into an empty database → export gives identical JSON", async () => {
    const first = await call("history.export", { format: "json" });
    const fresh = createServices({ dataDir: join(temp.path, "fresh"), transport: "cli" });
    try {
      const counts = await call("history.import", { content: first.content }, fresh);
      const data = JSON.parse(first.content) as HistoryExport;
      expect(counts).toEqual({ conversationsAdded: data.conversations.length, conversationsMerged: 0, messagesAdded: data.conversations.reduce((n, c) => n + c.messages.length, 0) });
      expect((await call("history.export", { format: "json" }, fresh)).content).toBe(first.content);
      // Importing again adds nothing: everything is recognised by its id.
      expect(await call("history.import", { content: first.content }, fresh)).toEqual({ conversationsAdded: 0, conversationsMerged: data.conversations.length, messagesAdded: 0 });
    } finally {
      await fresh.dispose();
    }
  });

  it("writes HTML in which an answer's markup is text, never live", async () => {
    const hostile = "<script>alert(1)</script> and <img src=x onerror=alert(2)> and <a href=\"javascript:alert(3)\">x</a>";
    const data: HistoryExport = JSON.parse((await call("history.export", { format: "json" })).content) as HistoryExport;
    const conversation = data.conversations[0]!;
    const answer = conversation.messages.find((m) => m.role === "assistant" && m.id === conversation.currentMessageId)!;
    answer.text = hostile;
    const fresh = createServices({ dataDir: join(temp.path, "html"), transport: "cli" });
    try {
      await call("history.import", { content: JSON.stringify({ ...data, conversations: [conversation] }) }, fresh);
      const { content, fileName, mimeType } = await call("history.export", { format: "html", conversationIds: [conversation.id] }, fresh);
      expect(fileName).toMatch(/\.html$/);
      expect(mimeType).toBe("text/html");
      expect(content).not.toMatch(/<script/i);
      expect(content).not.toMatch(/<img/i);
      expect(content).not.toMatch(/<a /i);
      expect(content).toContain("&#60;script&#62;alert(1)&#60;/script&#62;");
      expect(content).toContain("default-src 'none'");
    } finally {
      await fresh.dispose();
    }
  });

  it("writes Markdown, text in BiLLa's format and BiLLa's answer jsonl", async () => {
    const [conversation] = (await call("history.list", {})).conversations.filter((c) => c.title === "小蓝住在哪里？");
    await call("history.selectBranch", { conversationId: conversation!.id, messageId: conversation!.currentMessageId! });
    const md = await call("history.export", { format: "md", conversationIds: [conversation!.id] });
    expect(md.content).toContain("# 小蓝住在哪里？");
    expect(md.content).toContain("## Human\n\n小蓝住在哪里？");
    const txt = await call("history.export", { format: "txt", conversationIds: [conversation!.id] });
    expect(txt.content).toContain(`Human: 小蓝住在哪里？\nAssistant: ${caseById("dialog-xiaolan-home-turn1").greedy_text}`);
    const jsonl = await call("history.export", { format: "jsonl", conversationIds: [conversation!.id] });
    const lines = jsonl.content.trim().split("\n").map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(Object.keys(lines[0]!).sort()).toEqual(["answer_id", "metadata", "model_id", "question_id", "text"]);
    expect(lines[0]).toMatchObject({ text: caseById("dialog-xiaolan-home-turn1").greedy_text, model_id: "BiLLa demo" });
  });

  it("refuses malformed, foreign and inconsistent files and changes nothing", async () => {
    const before = (await call("history.export", { format: "json" })).content;
    const valid = JSON.parse(before) as HistoryExport;
    const orphan = structuredClone(valid);
    orphan.conversations[0]!.id = "new-conversation";
    orphan.conversations[0]!.messages = orphan.conversations[0]!.messages.map((m) => ({ ...m, id: `${m.id}-copy`, conversationId: "new-conversation" }));
    orphan.conversations[0]!.messages.at(-1)!.parentId = "missing-parent";
    const attempts = [
      ["{ not json", /not JSON/],
      [JSON.stringify({ hello: "world" }), /not a BiLLa Desktop history export/],
      [JSON.stringify({ ...valid, version: 2 }), /version 2/],
      [JSON.stringify({ ...valid, conversations: [{ ...valid.conversations[0], messages: [{ id: 1 }] }] }), /damaged at conversations\.0\.messages\.0/],
      [JSON.stringify(orphan), /not in the file/],
    ] as const;
    for (const [content, message] of attempts) {
      await expect(call("history.import", { content })).rejects.toMatchObject({ code: "bad_file", message: expect.stringMatching(message) });
    }
    expect((await call("history.export", { format: "json" })).content).toBe(before);
  });
});

describe("backups", () => {
  it("backs up while running and restores, keeping a copy of what it replaced", async () => {
    const backupPath = join(temp.path, "backup.sqlite");
    const backup = await call("history.backup", { outPath: backupPath });
    expect(backup.bytes).toBeGreaterThan(0);
    const snapshot = (await call("history.export", { format: "json" })).content;
    const extra = await call("history.create", { title: "after the backup" });
    const restored = await call("history.restoreBackup", { path: backupPath });
    expect(existsSync(restored.previousSavedTo)).toBe(true);
    expect((await call("history.export", { format: "json" })).content).toBe(snapshot);
    expect((await call("history.list", {})).conversations.map((c) => c.id)).not.toContain(extra.id);
    const copy = new BetterSqlite3(restored.previousSavedTo, { readonly: true });
    expect(copy.prepare("SELECT title FROM conversations WHERE id = ?").pluck().get(extra.id)).toBe("after the backup");
    copy.close();
  });

  it("refuses a file that is not a backup, changing nothing", async () => {
    const before = (await call("history.export", { format: "json" })).content;
    const notDb = join(temp.path, "not-a-db.sqlite");
    (await import("node:fs")).writeFileSync(notDb, "hello");
    await expect(call("history.restoreBackup", { path: notDb })).rejects.toMatchObject({ code: "bad_file" });
    const foreign = join(temp.path, "foreign.sqlite");
    const other = new BetterSqlite3(foreign);
    other.exec("CREATE TABLE notes (x)");
    other.close();
    await expect(call("history.restoreBackup", { path: foreign })).rejects.toMatchObject({ code: "bad_file", message: expect.stringContaining("not a usable") });
    expect((await call("history.export", { format: "json" })).content).toBe(before);
  });
});

describe("settings", () => {
  it("start at BiLLa's reference sampling and change only what is named", async () => {
    const defaults = await call("settings.get", {});
    expect(defaults).toMatchObject({ theme: "system", language: "system", gpu: "auto", contextSize: 2048, sampling: { temperature: 0.7, topK: 50, topP: 1, repeatPenalty: null, maxTokens: 1024 } });
    await call("settings.update", { theme: "dark" });
    const changed = await call("settings.update", { contextSize: 1024 });
    expect(changed).toMatchObject({ theme: "dark", contextSize: 1024, language: "system" });
    expect((await call("history.create", {})).sampling).toEqual(defaults.sampling);
  });
});

describe("crash recovery on open", () => {
  it("marks an answer left streaming by a dead process interrupted, and leaves a live writer's alone", async () => {
    const dir = join(temp.path, "recovery");
    const first = createServices({ dataDir: dir, transport: "cli" });
    const conversation = await call("history.create", {}, first);
    await first.dispose();
    const db = new BetterSqlite3(join(dir, "billa.sqlite"));
    const insert = db.prepare(
      "INSERT INTO messages (id, conversation_id, parent_id, role, text, status, writer_pid, created_at, updated_at) VALUES (?, ?, NULL, ?, ?, 'streaming', ?, 'now', 'now')",
    );
    insert.run("dead", conversation.id, "assistant", "half an ans", 2 ** 22 + 12345);
    insert.run("alive", conversation.id, "assistant", "still going", process.ppid);
    db.close();
    const second = createServices({ dataDir: dir, transport: "cli" });
    try {
      const { messages } = await call("history.get", { id: conversation.id }, second);
      expect(messages.find((m) => m.id === "dead")).toMatchObject({ status: "interrupted", text: "half an ans" });
      expect(messages.find((m) => m.id === "alive")?.status).toBe("streaming");
    } finally {
      await second.dispose();
    }
    expect(readFileSync(join(dir, "billa.sqlite")).length).toBeGreaterThan(0);
  });
});

describe("closing the app mid-answer", () => {
  it("saves the answer being written as interrupted, with its text, before the database closes", async () => {
    // The demo model answers in milliseconds; a model with random weights rarely says EOS, so it is still writing.
    const dir = join(temp.path, "closing");
    const modelPath = join(temp.path, "random-weights.gguf");
    await writeSyntheticLlamaGguf(modelPath, { hidden: 128, layers: 2, heads: 2, intermediate: 256, vocab: 960, outType: "q8_0" });
    const first = createServices({ dataDir: dir, transport: "cli", gpu: "cpu" });
    const entry = await call("models.import", { path: modelPath, mode: "register" }, first);
    const conversation = await call("history.create", { modelId: entry.id, sampling: { ...greedy, temperature: 1, maxTokens: 4000 } }, first);
    const firstChunk = new Promise<void>((resolve) => first.api.subscribe((event) => event.name === "generation.chunk" && resolve()));
    const answering = first.api.invoke("chat.send", { conversationId: conversation.id, text: "Keep talking." });
    await firstChunk;
    await first.dispose();
    expect(await answering).toMatchObject({ ok: true, value: { answer: { status: "interrupted" } } });

    const second = createServices({ dataDir: dir, transport: "cli" });
    try {
      const { messages } = await call("history.get", { id: conversation.id }, second);
      const answer = messages.find((m) => m.role === "assistant")!;
      expect(answer.status).toBe("interrupted");
      expect(answer.text.length).toBeGreaterThan(0);
      expect(answer.stats?.stopReason).toBe("stopped");
    } finally {
      await second.dispose();
    }
  });
});
