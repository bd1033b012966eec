// Conversations and their messages in SQLite. Every change that touches more than one row runs in one
// transaction; streaming answers are rows with status "streaming" and the writer's pid, so that answers
// cut off by a crash are found and marked interrupted on the next open.
import { randomUUID } from "node:crypto";
import type { Database } from "better-sqlite3";
import {
  generationStatsSchema,
  HISTORY_EXPORT_FORMAT,
  samplingSchema,
  type Conversation,
  type ConversationSummary,
  type GenerationStats,
  type HistoryExport,
  type Message,
  type Sampling,
  type SearchResult,
  type Turn,
} from "../../contract/api.js";
import { branchOf, latestLeaf } from "../../contract/conversation-tree.js";
import { BillaError } from "../../contract/errors.js";
import { isProcessAlive } from "../system/process-alive.js";
import { snippetOf } from "./snippet.js";

interface ConversationRow {
  id: string;
  title: string;
  model_id: string | null;
  sampling: string;
  current_message_id: string | null;
  pinned: number;
  archived: number;
  deleted_at: string | null;
  source: Conversation["source"];
  created_at: string;
  updated_at: string;
}

interface MessageRow {
  id: string;
  conversation_id: string;
  parent_id: string | null;
  role: Message["role"];
  text: string;
  status: Message["status"];
  error: string | null;
  stats: string | null;
  model: string | null;
  writer_pid: number | null;
  created_at: string;
  updated_at: string;
}

function conversationOf(row: ConversationRow): Conversation {
  const sampling = samplingSchema.safeParse(JSON.parse(row.sampling));
  return {
    id: row.id,
    title: row.title,
    modelId: row.model_id,
    sampling: sampling.success ? sampling.data : samplingSchema.parse({}),
    currentMessageId: row.current_message_id,
    pinned: row.pinned === 1,
    archived: row.archived === 1,
    deletedAt: row.deleted_at,
    source: row.source,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function messageOf(row: MessageRow): Message {
  const stats = row.stats === null ? null : generationStatsSchema.safeParse(JSON.parse(row.stats));
  return {
    id: row.id,
    conversationId: row.conversation_id,
    parentId: row.parent_id,
    role: row.role,
    text: row.text,
    status: row.status,
    error: row.error,
    stats: stats?.success ? stats.data : null,
    model: row.model,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** A conversation's title from its first question: the first line, at most 48 characters. */
export function titleFrom(question: string): string {
  const line = question.trim().split("\n")[0]!.replace(/\s+/g, " ");
  const characters = [...line];
  return characters.length > 48 ? `${characters.slice(0, 47).join("")}…` : line;
}

export interface ConversationChanges {
  title?: string | undefined;
  modelId?: string | null | undefined;
  sampling?: Sampling | undefined;
  pinned?: boolean | undefined;
  archived?: boolean | undefined;
}

export interface FinishedAnswer {
  text: string;
  status: Exclude<Message["status"], "streaming">;
  stats?: GenerationStats | undefined;
  error?: string | undefined;
}

/** Messages ordered so that each comes after its parent; a parent found nowhere (or a cycle) makes the file invalid. */
function parentsFirst<M extends Pick<Message, "id" | "parentId">>(messages: readonly M[], existsHere: (id: string) => boolean): M[] {
  const inFile = new Map(messages.map((m) => [m.id, m]));
  const placed = new Set<string>();
  const ordered: M[] = [];
  for (const message of messages) {
    // Walk up to the first ancestor already placed (or the root), then place the chain top-down.
    const chain: M[] = [];
    for (let m: M | undefined = message; m && !placed.has(m.id); m = m.parentId === null ? undefined : inFile.get(m.parentId)) {
      if (chain.includes(m)) throw new BillaError("bad_file", "The file's messages follow each other in a circle; it is damaged.");
      chain.push(m);
      if (m.parentId !== null && !inFile.has(m.parentId) && !existsHere(m.parentId)) {
        throw new BillaError("bad_file", `Message ${m.id} follows a message that is not in the file; the file is incomplete.`);
      }
    }
    for (const m of chain.reverse()) {
      placed.add(m.id);
      ordered.push(m);
    }
  }
  return ordered;
}

/** Recent API conversations compared with a request's turns; older ones are not continued but started anew. */
const API_CONVERSATIONS_SEARCHED = 50;

export class HistoryStore {
  /** The last timestamp handed out: message order within a conversation relies on strictly increasing times. */
  #lastMs = 0;

  constructor(private readonly db: Database) {}

  #now(): string {
    this.#lastMs = Math.max(Date.now(), this.#lastMs + 1);
    return new Date(this.#lastMs).toISOString();
  }

  /** Answers left "streaming" by a process that is gone (a crash, a kill) become "interrupted". */
  recoverInterrupted(): number {
    const orphans = this.db
      .prepare<[], { id: string; writer_pid: number | null }>("SELECT id, writer_pid FROM messages WHERE status = 'streaming'")
      .all()
      .filter(({ writer_pid }) => writer_pid === null || (writer_pid !== process.pid && !isProcessAlive(writer_pid)));
    const mark = this.db.prepare("UPDATE messages SET status = 'interrupted', writer_pid = NULL WHERE id = ?");
    this.db.transaction(() => orphans.forEach(({ id }) => mark.run(id)))();
    return orphans.length;
  }

  /** Conversations deleted before `before` are removed for good, with their messages. */
  purgeDeleted(before: Date): number {
    return this.db.prepare("DELETE FROM conversations WHERE deleted_at IS NOT NULL AND deleted_at < ?").run(before.toISOString()).changes;
  }

  list({ archived, deleted }: { archived: boolean; deleted: boolean }): ConversationSummary[] {
    const rows = this.db
      .prepare<[number, number], ConversationRow & { preview: string }>(
        `SELECT c.*,
           COALESCE((SELECT substr(m.text, 1, 160) FROM messages m WHERE m.id = c.current_message_id), '') AS preview
         FROM conversations c
         WHERE CASE WHEN ? THEN c.deleted_at IS NOT NULL ELSE c.deleted_at IS NULL AND c.archived = ? END
         ORDER BY c.pinned DESC, c.updated_at DESC`,
      )
      .all(deleted ? 1 : 0, archived ? 1 : 0);
    return rows.map((row) => ({ ...conversationOf(row), preview: row.preview }));
  }

  conversation(id: string): Conversation {
    const row = this.db.prepare<[string], ConversationRow>("SELECT * FROM conversations WHERE id = ?").get(id);
    if (!row) throw new BillaError("not_found", "That conversation does not exist (any more).");
    return conversationOf(row);
  }

  messages(conversationId: string): Message[] {
    return this.db
      .prepare<[string], MessageRow>("SELECT * FROM messages WHERE conversation_id = ? ORDER BY created_at, rowid")
      .all(conversationId)
      .map(messageOf);
  }

  message(conversationId: string, id: string): Message {
    const row = this.db.prepare<[string, string], MessageRow>("SELECT * FROM messages WHERE id = ? AND conversation_id = ?").get(id, conversationId);
    if (!row) throw new BillaError("not_found", "That message is not part of this conversation.");
    return messageOf(row);
  }

  create({ title, modelId, sampling, source = "app" }: { title?: string | undefined; modelId?: string | null | undefined; sampling: Sampling; source?: Conversation["source"] }): Conversation {
    const id = randomUUID();
    const now = this.#now();
    this.db
      .prepare("INSERT INTO conversations (id, title, model_id, sampling, source, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)")
      .run(id, title ?? "", modelId ?? null, JSON.stringify(sampling), source, now, now);
    return this.conversation(id);
  }

  /**
   * The API conversation (not deleted) whose branch on screen holds exactly these turns, most recent first: a
   * client that sends its whole conversation with each request continues it instead of starting a new one.
   */
  findApiConversation(turns: readonly Turn[]): Conversation | null {
    if (turns.length === 0) return null;
    const candidates = this.db
      .prepare<[], ConversationRow>(
        `SELECT c.* FROM conversations c JOIN messages m ON m.id = c.current_message_id
         WHERE c.source = 'api' AND c.deleted_at IS NULL AND m.role = 'assistant' AND m.status != 'streaming'
         ORDER BY c.updated_at DESC LIMIT ${API_CONVERSATIONS_SEARCHED}`,
      )
      .all();
    for (const row of candidates) {
      const branch = branchOf(this.messages(row.id), row.current_message_id!);
      const matches = branch.length === turns.length * 2 && turns.every((turn, i) => branch[2 * i]!.text === turn.question && branch[2 * i + 1]!.text === turn.answer);
      if (matches) return conversationOf(row);
    }
    return null;
  }

  update(id: string, changes: ConversationChanges): Conversation {
    this.conversation(id);
    const columns: [string, unknown][] = [];
    if (changes.title !== undefined) columns.push(["title", changes.title]);
    if (changes.modelId !== undefined) columns.push(["model_id", changes.modelId]);
    if (changes.sampling !== undefined) columns.push(["sampling", JSON.stringify(changes.sampling)]);
    if (changes.pinned !== undefined) columns.push(["pinned", changes.pinned ? 1 : 0]);
    if (changes.archived !== undefined) columns.push(["archived", changes.archived ? 1 : 0]);
    if (columns.length > 0) {
      this.db.prepare(`UPDATE conversations SET ${columns.map(([name]) => `${name} = ?`).join(", ")} WHERE id = ?`).run(...columns.map(([, value]) => value), id);
    }
    return this.conversation(id);
  }

  /** Soft delete: the conversation leaves the list and search, and `restore` brings it back. */
  delete(id: string): Conversation {
    this.conversation(id);
    this.db.prepare("UPDATE conversations SET deleted_at = ? WHERE id = ?").run(this.#now(), id);
    return this.conversation(id);
  }

  restore(id: string): Conversation {
    this.conversation(id);
    this.db.prepare("UPDATE conversations SET deleted_at = NULL WHERE id = ?").run(id);
    return this.conversation(id);
  }

  /** Shows the branch through `messageId`, down to its newest leaf. */
  selectBranch(conversationId: string, messageId: string): Conversation {
    this.message(conversationId, messageId);
    const leaf = latestLeaf(this.messages(conversationId), messageId);
    this.db.prepare("UPDATE conversations SET current_message_id = ? WHERE id = ?").run(leaf, conversationId);
    return this.conversation(conversationId);
  }

  #insertMessage(message: Omit<MessageRow, "created_at" | "updated_at">): Message {
    const now = this.#now();
    this.db.transaction(() => {
      this.db
        .prepare(
          `INSERT INTO messages (id, conversation_id, parent_id, role, text, status, error, stats, model, writer_pid, created_at, updated_at)
           VALUES (@id, @conversation_id, @parent_id, @role, @text, @status, @error, @stats, @model, @writer_pid, @created_at, @updated_at)`,
        )
        .run({ ...message, created_at: now, updated_at: now });
      this.db.prepare("UPDATE conversations SET current_message_id = ?, updated_at = ? WHERE id = ?").run(message.id, now, message.conversation_id);
    })();
    return this.message(message.conversation_id, message.id);
  }

  /**
   * Adds a question below `parentId`: an answer, or null for a first question (an edit of the first question
   * is a second root). Undefined continues the branch on screen. An untitled conversation takes its title from it.
   */
  addQuestion(conversationId: string, parentId: string | null | undefined, text: string): Message {
    const conversation = this.conversation(conversationId);
    if (conversation.deletedAt !== null) throw new BillaError("not_found", "This conversation was deleted; restore it first.");
    const parent = parentId === undefined ? conversation.currentMessageId : parentId;
    if (parent !== null && this.message(conversationId, parent).role !== "assistant") {
      throw new BillaError("invalid_input", "A question can only follow an answer.");
    }
    if (conversation.title === "") this.update(conversationId, { title: titleFrom(text) });
    return this.#insertMessage({ id: randomUUID(), conversation_id: conversationId, parent_id: parent, role: "user", text, status: "complete", error: null, stats: null, model: null, writer_pid: null });
  }

  /** Finished turns written at once below the branch on screen (an API client's earlier turns), in one transaction. */
  addTurns(conversationId: string, turns: readonly Turn[]): void {
    this.db.transaction(() => {
      for (const turn of turns) {
        const question = this.addQuestion(conversationId, undefined, turn.question);
        this.#insertMessage({ id: randomUUID(), conversation_id: conversationId, parent_id: question.id, role: "assistant", text: turn.answer, status: "complete", error: null, stats: null, model: null, writer_pid: null });
      }
    })();
  }

  /** An empty answer to `questionId`, saved as streaming by this process. */
  beginAnswer(conversationId: string, questionId: string, model: string): Message {
    if (this.message(conversationId, questionId).role !== "user") throw new BillaError("invalid_input", "Only a question can be answered.");
    return this.#insertMessage({ id: randomUUID(), conversation_id: conversationId, parent_id: questionId, role: "assistant", text: "", status: "streaming", error: null, stats: null, model, writer_pid: process.pid });
  }

  /** The text so far of a streaming answer (one small write; called a few times a second). */
  saveStreamingText(id: string, text: string): void {
    this.db.prepare("UPDATE messages SET text = ?, updated_at = ? WHERE id = ? AND status = 'streaming'").run(text, this.#now(), id);
  }

  finishAnswer(conversationId: string, id: string, answer: FinishedAnswer): Message {
    const now = this.#now();
    this.db.transaction(() => {
      this.db
        .prepare("UPDATE messages SET text = ?, status = ?, stats = ?, error = ?, writer_pid = NULL, updated_at = ? WHERE id = ?")
        .run(answer.text, answer.status, answer.stats ? JSON.stringify(answer.stats) : null, answer.error ?? null, now, id);
      this.db.prepare("UPDATE conversations SET updated_at = ? WHERE id = ?").run(now, conversationId);
    })();
    return this.message(conversationId, id);
  }

  /**
   * Messages containing every word of the query, in any script, newest first. Words of three or more
   * characters go through the trigram index; shorter ones (a 2-character Chinese word, "AI") are matched by a
   * scan. Newest first rather than by relevance: it lets SQLite stop at the limit instead of ranking every
   * match (1 ms instead of 300 ms for a common word among 100 000 messages).
   */
  search(query: string, limit: number): SearchResult[] {
    const words = [...new Set(query.split(/\s+/).filter(Boolean))];
    const indexed = words.filter((word) => [...word].length >= 3);
    const scanned = words.filter((word) => [...word].length < 3);
    const like = scanned.map(() => "AND m.text LIKE ? ESCAPE '\\'").join(" ");
    const likeArgs = scanned.map((word) => `%${word.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
    const columns = "m.id, m.conversation_id, m.role, m.text, m.created_at, c.title";
    const rows =
      indexed.length > 0
        ? this.db
            .prepare(
              `SELECT ${columns} FROM messages_search s JOIN messages m ON m.rowid = s.rowid JOIN conversations c ON c.id = m.conversation_id
               WHERE messages_search MATCH ? AND c.deleted_at IS NULL ${like} ORDER BY s.rowid DESC LIMIT ?`,
            )
            .all(indexed.map((word) => `"${word.replace(/"/g, '""')}"`).join(" AND "), ...likeArgs, limit)
        : this.db
            .prepare(
              // CROSS JOIN keeps messages the outer loop, newest first, so the scan stops at the limit
              // (1 ms instead of 1 s for a common word; SQLite would otherwise start from conversations and sort).
              `SELECT ${columns} FROM messages m CROSS JOIN conversations c ON c.id = m.conversation_id
               WHERE m.status != 'streaming' AND c.deleted_at IS NULL ${like} ORDER BY m.rowid DESC LIMIT ?`,
            )
            .all(...likeArgs, limit);
    return (rows as (Pick<MessageRow, "id" | "conversation_id" | "role" | "text" | "created_at"> & { title: string })[]).map((row) => ({
      conversationId: row.conversation_id,
      conversationTitle: row.title,
      messageId: row.id,
      role: row.role,
      snippet: snippetOf(row.text, words),
      createdAt: row.created_at,
    }));
  }

  /** Everything about these conversations (all of them, deleted ones aside, when no ids are given). */
  exportData(ids?: readonly string[]): HistoryExport {
    const rows = ids
      ? ids.map((id) => {
          const row = this.db.prepare<[string], ConversationRow>("SELECT * FROM conversations WHERE id = ?").get(id);
          if (!row) throw new BillaError("not_found", "A conversation to export does not exist (any more).");
          return row;
        })
      : this.db.prepare<[], ConversationRow>("SELECT * FROM conversations WHERE deleted_at IS NULL ORDER BY created_at, id").all();
    return {
      format: HISTORY_EXPORT_FORMAT,
      version: 1,
      conversations: rows.map((row) => ({ ...conversationOf(row), messages: this.messages(row.id) })),
    };
  }

  /**
   * Merges an export: conversations and messages already here (same id) are kept as they are, the others
   * added. All or nothing: a file whose messages do not fit together changes nothing.
   */
  importData(data: HistoryExport): { conversationsAdded: number; conversationsMerged: number; messagesAdded: number } {
    const counts = { conversationsAdded: 0, conversationsMerged: 0, messagesAdded: 0 };
    const findConversation = this.db.prepare<[string], { id: string }>("SELECT id FROM conversations WHERE id = ?");
    const findMessage = this.db.prepare<[string], { conversation_id: string }>("SELECT conversation_id FROM messages WHERE id = ?");
    const insertConversation = this.db.prepare(
      `INSERT INTO conversations (id, title, model_id, sampling, current_message_id, pinned, archived, deleted_at, source, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const insertMessage = this.db.prepare(
      `INSERT INTO messages (id, conversation_id, parent_id, role, text, status, error, stats, model, writer_pid, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?)`,
    );
    this.db.transaction(() => {
      for (const conversation of data.conversations) {
        if (findConversation.get(conversation.id)) {
          counts.conversationsMerged++;
        } else {
          const c = conversation;
          insertConversation.run(c.id, c.title, c.modelId, JSON.stringify(c.sampling), null, c.pinned ? 1 : 0, c.archived ? 1 : 0, c.deletedAt, c.source, c.createdAt, c.updatedAt);
          counts.conversationsAdded++;
        }
        for (const m of parentsFirst(conversation.messages, (id) => findMessage.get(id) !== undefined)) {
          const existing = findMessage.get(m.id);
          if (existing) {
            if (existing.conversation_id !== conversation.id) throw new BillaError("bad_file", `Message ${m.id} belongs to another conversation here; the file does not match this history.`);
            continue;
          }
          // An answer that was streaming when exported can no longer finish.
          const status = m.status === "streaming" ? "interrupted" : m.status;
          insertMessage.run(m.id, conversation.id, m.parentId, m.role, m.text, status, m.error, m.stats ? JSON.stringify(m.stats) : null, m.model, m.createdAt, m.updatedAt);
          counts.messagesAdded++;
        }
        if (conversation.messages.some((m) => m.id === conversation.currentMessageId)) {
          this.db.prepare("UPDATE conversations SET current_message_id = ? WHERE id = ? AND current_message_id IS NULL").run(conversation.currentMessageId, conversation.id);
        }
      }
    })();
    return counts;
  }
}
