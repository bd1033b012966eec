// Conversations as the history database keeps them, the settings, and the export formats.
// A conversation is a tree of messages: regenerating an answer or editing a question adds a sibling
// (same parent) instead of overwriting, and `currentMessageId` names the leaf of the branch on screen.
import { z } from "zod";
import { hubEndpointSchema, parallelDownloadsSchema } from "./download.js";
import { apiServerSettingsSchema } from "./api-server.js";
import { generationStatsSchema, samplingSchema, GPU_CHOICES, gpuLayersSchema } from "./generation.js";

const id = z.string().min(1).max(200);
const timestamp = z.string(); // ISO 8601, UTC

export const CONVERSATION_SOURCES = ["app", "api"] as const;

export const MESSAGE_STATUSES = ["streaming", "complete", "interrupted", "error"] as const;

export const messageSchema = z.object({
  id,
  conversationId: id,
  /** null for a conversation's first question (and its alternatives). */
  parentId: id.nullable(),
  role: z.enum(["user", "assistant"]),
  text: z.string(),
  /** "streaming" while an answer is being written; "interrupted" when it was stopped or the app died mid-answer. */
  status: z.enum(MESSAGE_STATUSES),
  /** Why an answer failed, for status "error". */
  error: z.string().nullable(),
  stats: generationStatsSchema.nullable(),
  /** The model that wrote an answer (its name when it answered). */
  model: z.string().nullable(),
  createdAt: timestamp,
  updatedAt: timestamp,
});
export type Message = z.infer<typeof messageSchema>;

export const conversationSchema = z.object({
  id,
  title: z.string(),
  /** The library model chats in it use; null: the default (or the loaded) model. */
  modelId: id.nullable(),
  sampling: samplingSchema,
  /** The leaf of the branch shown; null while empty. */
  currentMessageId: id.nullable(),
  pinned: z.boolean(),
  archived: z.boolean(),
  /** Set by delete; the conversation can be restored until it is purged. */
  deletedAt: timestamp.nullable(),
  /** Where it was held: in the app (or `billa chat`), or through the local OpenAI-compatible API. Older exports have none. */
  source: z.enum(CONVERSATION_SOURCES).default("app"),
  createdAt: timestamp,
  updatedAt: timestamp,
});
export type Conversation = z.infer<typeof conversationSchema>;

export const conversationSummarySchema = conversationSchema.extend({
  /** The start of the current branch's last message, for the sidebar. */
  preview: z.string(),
});
export type ConversationSummary = z.infer<typeof conversationSummarySchema>;

/** A piece of a search snippet; `match` pieces are what the query found (the UI highlights them as text). */
export const snippetPartSchema = z.object({ text: z.string(), match: z.boolean() });

export const searchResultSchema = z.object({
  conversationId: id,
  conversationTitle: z.string(),
  messageId: id,
  role: z.enum(["user", "assistant"]),
  snippet: z.array(snippetPartSchema),
  createdAt: timestamp,
});
export type SearchResult = z.infer<typeof searchResultSchema>;

export const EXPORT_FORMATS = ["md", "json", "html", "txt", "jsonl"] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** The JSON export: complete and lossless (every alternative, stats and settings), versioned. */
export const HISTORY_EXPORT_FORMAT = "billa-desktop-history";
export const historyExportSchema = z.object({
  format: z.literal(HISTORY_EXPORT_FORMAT),
  version: z.literal(1),
  conversations: z.array(conversationSchema.extend({ messages: z.array(messageSchema) })),
});
export type HistoryExport = z.infer<typeof historyExportSchema>;

export const THEMES = ["system", "light", "dark"] as const;

const settingFields = {
  language: z.enum(["system", "zh-CN", "en"]),
  theme: z.enum(THEMES),
  /** Takes effect on the next start (the llama.cpp backend is chosen once per process). */
  gpu: z.enum(GPU_CHOICES),
  gpuLayers: gpuLayersSchema,
  contextSize: z.number().int().min(256).max(131072),
  /** New conversations start with these; BiLLa's reference generation by default. */
  sampling: samplingSchema,
  /** A Hugging Face mirror; null: `HF_ENDPOINT` when set, else https://huggingface.co. */
  hubEndpoint: hubEndpointSchema.nullable(),
  /** Sent to that endpoint only (never to the servers it redirects to), for gated or private repositories. */
  hubToken: z
    .string()
    .trim()
    .max(500)
    .regex(/^[\x21-\x7e]+$/, "An access token is one word of printable characters, like hf_…")
    .nullable(),
  /** How many files of a download are transferred at the same time. */
  parallelDownloads: parallelDownloadsSchema,
};

/** What the user set once for the whole app. Every field has a default, so older databases stay valid. */
export const settingsSchema = z.object({
  language: settingFields.language.default("system"),
  theme: settingFields.theme.default("system"),
  gpu: settingFields.gpu.default("auto"),
  gpuLayers: settingFields.gpuLayers.default("auto"),
  contextSize: settingFields.contextSize.default(2048),
  sampling: settingFields.sampling.default(samplingSchema.parse({})),
  hubEndpoint: settingFields.hubEndpoint.default(null),
  hubToken: settingFields.hubToken.default(null),
  parallelDownloads: settingFields.parallelDownloads.default(3),
  /** Changed through `apiServer.configure`, which applies the change to the running server too. */
  apiServer: apiServerSettingsSchema.default(apiServerSettingsSchema.parse({})),
});
export type Settings = z.output<typeof settingsSchema>;

/**
 * A change to some settings: no defaults here, or an update would reset the settings it does not name. The API
 * server's settings are not among them: `apiServer.configure` changes those and applies them at once.
 */
export const settingsChangesSchema = z.object(settingFields).partial().strict();
