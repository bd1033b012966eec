// Conversations as files people can keep and read elsewhere. JSON is the complete, lossless format (every
// alternative, the stats, the settings) that `history.import` reads back; the others show the branch on
// screen of each conversation: Markdown, a self-contained HTML page, plain text in BiLLa's own prompt
// format, and BiLLa's answer jsonl (the fields of its get_model_answer.py). With `allAnswers`, every answer to
// each question is shown, not only the one on screen (side-by-side comparisons are exported that way).
import type { ExportFormat, HistoryExport, Message } from "../../contract/api.js";
import { branchOf } from "../../contract/conversation-tree.js";

type ExportedConversation = HistoryExport["conversations"][number];

export interface ExportFile {
  fileName: string;
  mimeType: string;
  content: string;
}

const MIME_TYPES: Record<ExportFormat, string> = {
  md: "text/markdown",
  json: "application/json",
  html: "text/html",
  txt: "text/plain",
  jsonl: "application/jsonl",
};

const UNTITLED = "Untitled conversation";

const titleOf = (conversation: ExportedConversation) => conversation.title || UNTITLED;

export interface ExportOptions {
  /** Every answer to each question of the branch (alternatives too), instead of the one on screen. */
  allAnswers?: boolean;
}

/** The branch on screen as questions and their answers: the next message, or with `allAnswers` every answer. */
function exchangesOf(conversation: ExportedConversation, { allAnswers = false }: ExportOptions): { question: Message; answers: Message[] }[] {
  const branch = branchOf(conversation.messages, conversation.currentMessageId);
  return branch.flatMap((message, index) => {
    if (message.role !== "user") return [];
    const answers = allAnswers ? conversation.messages.filter((other) => other.parentId === message.id && other.role === "assistant") : branch.slice(index + 1, index + 2);
    return [{ question: message, answers }];
  });
}
const shown = (conversation: ExportedConversation, options: ExportOptions): Message[] => exchangesOf(conversation, options).flatMap(({ question, answers }) => [question, ...answers]);

/** A file name from a title: letters of any script kept, path and shell characters dropped. */
function fileNameFrom(title: string): string {
  const cleaned = title.replace(/[\\/:*?"<>|\x00-\x1f]+/g, " ").replace(/\s+/g, "-").replace(/^[-.]+|[-.]+$/g, "");
  return [...cleaned].slice(0, 60).join("") || "conversation";
}

function statusNote(message: Message): string {
  return message.status === "interrupted" ? " (interrupted)" : message.status === "error" ? ` (failed: ${message.error ?? "error"})` : "";
}

function markdown(data: HistoryExport, options: ExportOptions): string {
  return data.conversations
    .map((conversation) => {
      const lines = [`# ${titleOf(conversation)}`, "", `*${conversation.createdAt}*`, ""];
      for (const message of shown(conversation, options)) {
        const who = message.role === "user" ? "Human" : `Assistant${message.model ? ` (${message.model})` : ""}`;
        lines.push(`## ${who}${statusNote(message)}`, "", message.text, "");
      }
      return lines.join("\n");
    })
    .join("\n---\n\n");
}

/** Plain text in BiLLa's prompt format: `Human: …` / `Assistant: …`. */
function plainText(data: HistoryExport, options: ExportOptions): string {
  return data.conversations
    .map((conversation) =>
      [titleOf(conversation), "", ...shown(conversation, options).map((m) => `${m.role === "user" ? "Human" : `Assistant${options.allAnswers && m.model ? ` (${m.model})` : ""}`}: ${m.text}${statusNote(m)}`)].join("\n"),
    )
    .join("\n\n");
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * One readable page with nothing live in it: every text is escaped (model output can hold `<script>`), and
 * the page's own policy forbids scripts and remote loads even if something slipped through.
 */
function html(data: HistoryExport, options: ExportOptions): string {
  const body = data.conversations
    .map((conversation) => {
      const messages = shown(conversation, options)
        .map((m) => `<section class="${m.role}"><h3>${m.role === "user" ? "Human" : `Assistant${m.model ? ` · ${escapeHtml(m.model)}` : ""}`}${escapeHtml(statusNote(m))}</h3><div class="text">${escapeHtml(m.text)}</div></section>`)
        .join("\n");
      return `<article><h2>${escapeHtml(titleOf(conversation))}</h2><p class="date">${escapeHtml(conversation.createdAt)}</p>\n${messages}</article>`;
    })
    .join("\n");
  return `<!doctype html>
<html>
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(data.conversations.length === 1 ? titleOf(data.conversations[0]!) : "BiLLa Desktop conversations")}</title>
<style>
body { font: 15px/1.6 system-ui, "PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", sans-serif; max-width: 820px; margin: 2em auto; padding: 0 1em; color: #1f2328; }
article { margin-bottom: 3em; }
h3 { font-size: 0.85em; color: #59636e; margin: 1.5em 0 0.3em; }
.text { white-space: pre-wrap; overflow-wrap: anywhere; }
.user .text { background: #f0f4f9; padding: 0.6em 0.9em; border-radius: 8px; }
.date { color: #59636e; font-size: 0.85em; }
@media (prefers-color-scheme: dark) { body { background: #16181c; color: #e6e8eb; } .user .text { background: #23272e; } h3, .date { color: #9aa4af; } }
</style>
</head>
<body>
${body}
</body>
</html>
`;
}

/** BiLLa's answer jsonl: one line per answered question of each branch. */
function answerJsonl(data: HistoryExport, options: ExportOptions): string {
  const lines: string[] = [];
  for (const conversation of data.conversations) {
    for (const { question, answers } of exchangesOf(conversation, options)) {
      for (const answer of answers) lines.push(
        JSON.stringify({
          question_id: question.id,
          text: answer.text.trim(),
          answer_id: answer.id,
          model_id: answer.model ?? "billa",
          metadata: { conversation_id: conversation.id, question: question.text, status: answer.status, created_at: answer.createdAt, stats: answer.stats },
        }),
      );
    }
  }
  return lines.map((line) => `${line}\n`).join("");
}

const RENDERERS: Record<ExportFormat, (data: HistoryExport, options: ExportOptions) => string> = {
  md: markdown,
  json: (data) => `${JSON.stringify(data, null, 2)}\n`,
  html,
  txt: plainText,
  jsonl: answerJsonl,
};

/** `baseName` names the file; by default the single conversation's title, or billa-history-<date>. */
export function exportHistory(data: HistoryExport, format: ExportFormat, options: ExportOptions & { baseName?: string } = {}): ExportFile {
  const single = data.conversations.length === 1 ? data.conversations[0]! : null;
  const base = options.baseName ?? (single ? fileNameFrom(titleOf(single)) : `billa-history-${new Date().toISOString().slice(0, 10)}`);
  return { fileName: `${base}.${format}`, mimeType: MIME_TYPES[format], content: RENDERERS[format](data, options) };
}
