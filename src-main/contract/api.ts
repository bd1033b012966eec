// The whole API between the UI (or any client) and the services, defined once.
// Every request has a name, an input schema (validated at the boundary) and an output schema;
// every event stream has a payload schema. Transports carry these and nothing else.
import { z } from "zod";
import { downloadEvents, downloadRequests } from "./download.js";
import { apiServerChangesSchema, apiServerStatusSchema } from "./api-server.js";
import type { Envelope } from "./errors.js";
import { generationStatsSchema, gpuLayersSchema, samplingSchema, turnSchema } from "./generation.js";
import { OUTPUT_TYPE_NAMES } from "./output-types.js";
import { conversationSchema, conversationSummarySchema, EXPORT_FORMATS, messageSchema, searchResultSchema, settingsChangesSchema, settingsSchema } from "./history.js";
import { BUILTIN_TEXTS, comparisonSchema, DEFAULT_QUALITY_CONTEXT, evalTextSchema, qualityEvents, qualityMeasurementSchema, qualityPlanSchema } from "./quality.js";
import { remoteModelEntrySchema, remoteRequests } from "./remote.js";

export * from "./download.js";
export * from "./api-server.js";
export * from "./generation.js";
export * from "./history.js";
export * from "./output-types.js";
export * from "./quality.js";
export * from "./remote.js";

const byteCount = z.number().int().nonnegative();

export const systemInfoSchema = z.object({
  os: z.object({
    platform: z.string(),
    release: z.string(),
    arch: z.string(),
  }),
  cpu: z.object({
    model: z.string(),
    logicalCores: z.number().int().positive(),
    /** Cores llama.cpp uses for math by default. */
    mathCores: z.number().int().nonnegative(),
  }),
  ram: z.object({ totalBytes: byteCount, freeBytes: byteCount }),
  gpu: z.object({
    /** The backend node-llama-cpp loaded; null when it runs on the CPU. */
    backend: z.enum(["cuda", "vulkan", "metal"]).nullable(),
    devices: z.array(z.string()),
    vram: z.object({ totalBytes: byteCount, usedBytes: byteCount, freeBytes: byteCount }),
  }),
  /** Which llama.cpp binary runs the models, and why (see services/runtime/threaded-build.ts). */
  llama: z.object({
    build: z.enum(["threaded", "prebuilt"]),
    /**
     * threaded: the OpenMP build `npm run build:llama` made; gpu: a GPU backend runs (node-llama-cpp's prebuilt);
     * not-built: no threaded build on this computer; failed: one is there but did not load (the log says why);
     * unavailable: none for this system (macOS runs on Metal).
     */
    reason: z.enum(["threaded", "gpu", "not-built", "failed", "unavailable"]),
    /** CPU threads a model gets by default (the smallest models get one; see the runtime's defaultThreads). */
    threads: z.number().int().positive(),
  }),
  versions: z.object({
    app: z.string(),
    node: z.string(),
    electron: z.string().nullable(),
    nodeLlamaCpp: z.string(),
    llamaCpp: z.string(),
  }),
});
export type SystemInfo = z.infer<typeof systemInfoSchema>;

export const appInfoSchema = z.object({
  version: z.string(),
  /** Where everything the app stores lives: database, models, logs. */
  dataDir: z.string(),
  transport: z.enum(["electron", "web", "cli"]),
});
export type AppInfo = z.infer<typeof appInfoSchema>;

const noInput = z.object({}).strict();




export const PROMPT_FORMATS = ["auto", "billa", "model"] as const;
export type PromptFormat = (typeof PROMPT_FORMATS)[number];
/**
 * Why a model gets the format it gets: "chosen" by the user, or what "auto" found in the file: BiLLa Desktop's
 * metadata, a chat template that renders BiLLa's prompt, no chat template at all (BiLLa's is the best guess for a
 * LLaMA-family file in a BiLLa app), or another model's own template.
 */
export const PROMPT_FORMAT_REASONS = ["chosen", "billa-metadata", "billa-template", "no-template", "own-template"] as const;
export const resolvedPromptFormatSchema = z.object({ format: z.enum(["billa", "model"]), reason: z.enum(PROMPT_FORMAT_REASONS) });
export type ResolvedPromptFormat = z.infer<typeof resolvedPromptFormatSchema>;

/** A GGUF file on this computer, run by llama.cpp in this app. */
export const localModelEntrySchema = z.object({
  kind: z.literal("local"),
  id: z.string(),
  name: z.string(),
  path: z.string(),
  /** "library": copied into the app's models folder (deleted with the entry); "external": registered where it is. */
  location: z.enum(["library", "external"]),
  /** "missing": the file is gone; "unreadable": it is not a GGUF llama.cpp can read. Such entries stay listed. */
  status: z.enum(["ok", "missing", "unreadable"]),
  isDefault: z.boolean(),
  /** The user's choice: recognise BiLLa files ("auto"), always BiLLa's format, or the file's own template. */
  promptFormat: z.enum(PROMPT_FORMATS),
  /** The format chats with this model use, and why. */
  resolvedPromptFormat: resolvedPromptFormatSchema,
  architecture: z.string().nullable(),
  parameterCount: z.number().nonnegative().nullable(),
  /** The quantization, as llama.cpp names it (e.g. "Q4_K_M"). */
  fileType: z.string().nullable(),
  contextLength: z.number().int().nonnegative().nullable(),
  sizeBytes: byteCount,
  chatTemplate: z.string().nullable(),
  addedAt: z.string(),
});
/** A library entry: a GGUF on this computer, or a model on a remote OpenAI-compatible server (contract/remote.ts). */
export const modelEntrySchema = z.discriminatedUnion("kind", [localModelEntrySchema, remoteModelEntrySchema]);
export type ModelEntry = z.infer<typeof modelEntrySchema>;
export type LocalModelEntry = z.infer<typeof localModelEntrySchema>;


export const loadedModelSchema = z.object({
  /** The library entry it was loaded from; null for a file loaded by path. */
  modelId: z.string().nullable(),
  modelPath: z.string(),
  name: z.string(),
  /** The prompt format its chats use, and why. */
  resolvedPromptFormat: resolvedPromptFormatSchema,
  gpu: z.enum(["cuda", "vulkan", "metal"]).nullable(),
  offloadedLayers: z.number().int().nonnegative(),
  totalLayers: z.number().int().nonnegative(),
  contextSize: z.number().int().positive(),
  threads: z.number().int().positive(),
  vramBytes: byteCount,
  ramBytes: byteCount,
});
export type LoadedModel = z.infer<typeof loadedModelSchema>;

export const memoryEstimateSchema = z.object({
  fit: z.enum(["fits", "fits-partly-on-gpu", "does-not-fit"]),
  gpuLayers: z.number().int().nonnegative(),
  totalLayers: z.number().int().nonnegative(),
  ramBytes: byteCount,
  vramBytes: byteCount,
  freeRamBytes: byteCount,
  freeVramBytes: byteCount,
});
export type MemoryEstimate = z.infer<typeof memoryEstimateSchema>;
const path = z.string().min(1).max(4096);
const entryId = z.string().min(1).max(200);
const modelOptions = {
  /** A library entry (its prompt-format choice applies) … */
  modelId: entryId.optional(),
  /** … or any GGUF file by path; exactly one of the two. */
  modelPath: path.optional(),
  gpuLayers: gpuLayersSchema.default("auto"),
  /** BiLLa was trained on 2048 tokens. */
  contextSize: z.number().int().min(256).max(131072).default(2048),
};


export const conversionReportSchema = z.object({
  outPath: z.string(),
  fileBytes: byteCount,
  tensorCount: z.number().int().nonnegative(),
  /** Float64 sum of the restored word embedding (BiLLa publishes one to check against). */
  restoredEmbeddingSum: z.number(),
  warnings: z.array(z.string()),
  seconds: z.number().nonnegative(),
  /** The library entry, when the conversion was asked to add its output to the library. */
  modelId: z.string().optional(),
});
export type ConversionReport = z.infer<typeof conversionReportSchema>;

export const inspectionSchema = z.object({
  kind: z.enum(["gguf", "checkpoint"]),
  path: z.string(),
  /** Metadata or config values; long arrays are summarised. */
  metadata: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])),
  tensors: z.array(z.object({ name: z.string(), type: z.string(), shape: z.array(z.number()), bytes: byteCount })),
  /** For a GGUF: the prompt format "auto" gives it, and why. */
  promptFormat: resolvedPromptFormatSchema.optional(),
});
export type Inspection = z.infer<typeof inspectionSchema>;

const oneModel = (input: { modelId?: string | undefined; modelPath?: string | undefined }) => (input.modelId === undefined) !== (input.modelPath === undefined);
const oneModelMessage = { message: "Give either modelId (a library entry) or modelPath (a GGUF file), not both." };

/** A library entry or a GGUF file by path, exactly one of the two. */
const modelChoice = z.object({ modelId: entryId.optional(), modelPath: path.optional() }).strict().refine(oneModel, oneModelMessage);
const jobId = z.object({ jobId: z.string().min(1).max(200) }).strict();
const exportFile = z.object({ fileName: z.string(), mimeType: z.string(), content: z.string() });

const fileFilters = z
  .array(z.object({ name: z.string().max(200), extensions: z.array(z.string().regex(/^[\w*]{1,20}$/)).max(20) }).strict())
  .max(10)
  .default([]);
const pickedPath = z.object({ path: z.string().nullable() });

export const requests = {
  "app.info": { input: noInput, output: appInfoSchema },
  "system.info": { input: noInput, output: systemInfoSchema },
  /** Starts converting a BiLLa folder to GGUF; progress and the outcome arrive as events. */
  "conversion.start": {
    input: z
      .object({
        modelDir: path,
        /** Meta's consolidated.00.pth or a HF LLaMA folder; omit for an already restored checkpoint. */
        originalLlama: path.optional(),
        method: z.enum(["decrypt", "encrypt"]).default("decrypt"),
        outFile: path.refine((file) => file.endsWith(".gguf"), "The output file name must end in .gguf"),
        outType: z.enum(OUTPUT_TYPE_NAMES).default("q4_k_m"),
        name: z.string().min(1).max(200).optional(),
        expectedEmbeddingSum: z.number().optional(),
        /** Adds the finished file to the model library (registered where it was written). */
        addToLibrary: z.boolean().default(false),
      })
      .strict(),
    output: z.object({ jobId: z.string() }),
  },
  /** Starts writing a restored Hugging Face checkpoint (safetensors) next to the user's files. */
  "conversion.restore": {
    input: z
      .object({
        modelDir: path,
        originalLlama: path,
        method: z.enum(["decrypt", "encrypt"]).default("decrypt"),
        outDir: path,
        expectedEmbeddingSum: z.number().optional(),
      })
      .strict(),
    output: z.object({ jobId: z.string() }),
  },
  "conversion.cancel": { input: z.object({ jobId: z.string().min(1).max(200) }).strict(), output: z.object({ cancelled: z.boolean() }) },
  /**
   * Converts the bundled demo checkpoint (a tiny BiLLa-format model, seconds to convert) into the library
   * and makes it the default; progress and the outcome arrive as conversion events, as for any conversion.
   */
  "models.installDemo": { input: noInput, output: z.object({ jobId: z.string() }) },
  "models.list": { input: noInput, output: z.object({ models: z.array(modelEntrySchema) }) },
  /** Adds a GGUF file: copied into the models folder, or registered where it is. */
  "models.import": { input: z.object({ path, mode: z.enum(["copy", "register"]).default("copy") }).strict(), output: localModelEntrySchema },
  "models.rename": { input: z.object({ id: z.string().min(1).max(200), name: z.string().trim().min(1).max(200) }).strict(), output: modelEntrySchema },
  /** Removes the entry; a file in the models folder is deleted, an external file is left where it is, a remote model's key is forgotten. */
  "models.delete": { input: z.object({ id: z.string().min(1).max(200) }).strict(), output: z.object({ deleted: z.boolean() }) },
  "models.setDefault": { input: z.object({ id: z.string().min(1).max(200) }).strict(), output: modelEntrySchema },
  /** Remembers which prompt format chats with this model use. */
  "models.setPromptFormat": { input: z.object({ id: entryId, promptFormat: z.enum(PROMPT_FORMATS) }).strict(), output: localModelEntrySchema },
  /** Whether a model fits this computer's memory with these settings, before loading it. */
  "runtime.estimate": { input: z.object(modelOptions).strict().refine(oneModel, oneModelMessage), output: memoryEstimateSchema },
  /** Loads a model (unloading the current one first); progress arrives as `model.loadProgress` events. */
  "runtime.load": {
    input: z
      .object({
        ...modelOptions,
        /** Defaults to the cores this process may use, at most llama.cpp's math cores. */
        threads: z.number().int().min(1).max(1024).optional(),
        flashAttention: z.boolean().default(false),
        /** Forces the BiLLa prompt format on (or off) instead of recognising it; defaults to the library entry's choice. */
        promptFormat: z.enum(PROMPT_FORMATS).optional(),
      })
      .strict()
      .refine(oneModel, oneModelMessage),
    output: loadedModelSchema,
  },
  "runtime.unload": { input: noInput, output: z.object({ unloaded: z.boolean() }) },
  "runtime.state": {
    input: noInput,
    output: z.object({ loaded: loadedModelSchema.nullable(), generating: z.string().nullable(), queued: z.number().int().nonnegative() }),
  },
  /**
   * Answers `question` after `history` without saving anything; the text streams as `generation.chunk` events
   * meanwhile. With `modelId`, that library model answers (a local one is loaded first; a remote one is asked over
   * HTTP); without it, the loaded model.
   */
  "chat.generate": {
    input: z
      .object({
        conversationId: z.string().min(1).max(200),
        modelId: entryId.optional(),
        messageId: z.string().min(1).max(200),
        history: z.array(turnSchema).max(10_000),
        question: z.string().min(1).max(1_000_000),
        sampling: samplingSchema.default(samplingSchema.parse({})),
      })
      .strict(),
    output: z.object({ text: z.string(), stats: generationStatsSchema }),
  },
  /**
   * Asks a question in a saved conversation: the question is added under the branch on screen (or under
   * `parentId`), the answer streams as `generation.chunk` events and is saved while it streams. Resolves
   * when the answer ends, with both messages as saved. A model is loaded first if none is.
   */
  "chat.send": {
    input: z.object({ conversationId: entryId, text: z.string().trim().min(1).max(1_000_000), parentId: entryId.nullable().optional() }).strict(),
    output: z.object({ question: messageSchema, answer: messageSchema }),
  },
  /** Answers the same question again; the new answer is an alternative next to `messageId`. */
  "chat.regenerate": { input: z.object({ conversationId: entryId, messageId: entryId }).strict(), output: z.object({ answer: messageSchema }) },
  /** Asks an edited version of an earlier question; it becomes an alternative next to `messageId`, answered anew. */
  "chat.edit": {
    input: z.object({ conversationId: entryId, messageId: entryId, text: z.string().trim().min(1).max(1_000_000) }).strict(),
    output: z.object({ question: messageSchema, answer: messageSchema }),
  },
  /** Stops the conversation's answer; `chat.generate` then returns the text so far. */
  "chat.stop": { input: z.object({ conversationId: z.string().min(1).max(200) }).strict(), output: z.object({ stopped: z.boolean() }) },
  /** Conversations, pinned first, then the most recently updated; deleted ones only when asked. */
  "history.list": {
    input: z.object({ archived: z.boolean().default(false), deleted: z.boolean().default(false) }).strict(),
    output: z.object({ conversations: z.array(conversationSummarySchema) }),
  },
  /** One conversation with every message (all alternatives); the branch on screen ends at `currentMessageId`. */
  "history.get": { input: z.object({ id: entryId }).strict(), output: z.object({ conversation: conversationSchema, messages: z.array(messageSchema) }) },
  /** A new, empty conversation with the default settings (or these). */
  "history.create": {
    input: z.object({ title: z.string().trim().min(1).max(500).optional(), modelId: entryId.nullable().optional(), sampling: samplingSchema.optional() }).strict(),
    output: conversationSchema,
  },
  "history.update": {
    input: z
      .object({
        id: entryId,
        title: z.string().trim().min(1).max(500).optional(),
        modelId: entryId.nullable().optional(),
        sampling: samplingSchema.optional(),
        pinned: z.boolean().optional(),
        archived: z.boolean().optional(),
      })
      .strict(),
    output: conversationSchema,
  },
  /** Shows another branch: the latest leaf below `messageId` becomes the current message. */
  "history.selectBranch": { input: z.object({ conversationId: entryId, messageId: entryId }).strict(), output: conversationSchema },
  /** Moves a conversation to the trash; `history.restore` undoes it. */
  "history.delete": { input: z.object({ id: entryId }).strict(), output: conversationSchema },
  "history.restore": { input: z.object({ id: entryId }).strict(), output: conversationSchema },
  /** Full-text search over every message, Chinese and English (a 1–2 character query works too). */
  "history.search": {
    input: z.object({ query: z.string().trim().min(1).max(500), limit: z.number().int().min(1).max(500).default(50) }).strict(),
    output: z.object({ results: z.array(searchResultSchema) }),
  },
  /** One conversation, a selection, or all (no ids), as a file's content. */
  "history.export": {
    input: z.object({ format: z.enum(EXPORT_FORMATS), conversationIds: z.array(entryId).max(100_000).optional() }).strict(),
    output: exportFile,
  },
  /** Merges a JSON export: what is already there (same ids) is kept, the rest added. */
  "history.import": {
    input: z.object({ content: z.string().max(512 * 2 ** 20) }).strict(),
    output: z.object({ conversationsAdded: z.number().int(), messagesAdded: z.number().int(), conversationsMerged: z.number().int() }),
  },
  /**
   * Measures perplexity (as llama-perplexity does) of each model on each text, and its drift from a base file of
   * the same model: the given one, or ("auto") an F32, F16, BF16 or Q8_0 file of the same model in the library.
   * Answers at once with what the run will need (memory, notes); progress and the report arrive as events.
   * Results of library models are stored with their entry.
   */
  "quality.measure": {
    input: z
      .object({
        models: z.array(modelChoice).min(1).max(16),
        base: z.union([z.literal("auto"), z.literal("none"), modelChoice]).default("auto"),
        texts: z.array(evalTextSchema).min(1).max(8).default(BUILTIN_TEXTS.map((builtin) => ({ builtin }))),
        contextSize: z.number().int().min(16).max(16384).default(DEFAULT_QUALITY_CONTEXT),
        /** Only the first N chunks of each text (llama-perplexity's --chunks): a shorter, rougher run. */
        chunks: z.number().int().min(1).max(100_000).optional(),
        gpuLayers: gpuLayersSchema.default("auto"),
      })
      .strict(),
    output: z.object({ jobId: z.string(), plan: qualityPlanSchema }),
  },
  /** Stops a measurement or a comparison; what it had not finished is not kept. */
  "quality.cancel": { input: jobId, output: z.object({ cancelled: z.boolean() }) },
  /** Stored measurements, newest first: of these library entries, or of all. */
  "quality.results": { input: z.object({ modelIds: z.array(entryId).max(1000).optional() }).strict(), output: z.object({ results: z.array(qualityMeasurementSchema) }) },
  /**
   * The same questions answered by two or more models at temperature 0 (greedy), one after the other; each
   * answer arrives as a `quality.answer` event and the whole as `quality.compared`.
   */
  "quality.compare": {
    input: z
      .object({
        models: z.array(modelChoice).min(2).max(16),
        questions: z.array(z.object({ id: z.union([z.string().min(1).max(200), z.number()]), text: z.string().trim().min(1).max(100_000) }).strict()).min(1).max(1000),
        maxTokens: z.number().int().positive().max(32768).default(1024),
        contextSize: z.number().int().min(256).max(131072).default(2048),
        gpuLayers: gpuLayersSchema.default("auto"),
      })
      .strict(),
    output: z.object({ jobId: z.string() }),
  },
  /** A comparison as a file, in the formats of the conversation exports (JSON is a history export: importable). */
  "quality.exportComparison": { input: z.object({ comparison: comparisonSchema, format: z.enum(EXPORT_FORMATS) }).strict(), output: exportFile },
  /** A consistent copy of the database, made while the app runs. */
  "history.backup": { input: z.object({ outPath: path }).strict(), output: z.object({ path: z.string(), bytes: byteCount }) },
  /** Replaces the history with a backup's (checked first; the current history is backed up next to it). */
  "history.restoreBackup": { input: z.object({ path }).strict(), output: z.object({ conversations: z.number().int(), previousSavedTo: z.string() }) },
  "settings.get": { input: noInput, output: settingsSchema },
  /** The local OpenAI-compatible API server: whether it runs, where, its key and its request counts. */
  "apiServer.status": { input: noInput, output: apiServerStatusSchema },
  /** Changes the server's settings and applies them: starts, stops or restarts it as needed. */
  "apiServer.configure": { input: apiServerChangesSchema, output: apiServerStatusSchema },
  /** A new API key; the old one stops working at once. */
  "apiServer.renewKey": { input: noInput, output: apiServerStatusSchema },
  /** Changes some settings; the rest stay. */
  "settings.update": { input: settingsChangesSchema, output: settingsSchema },
  /** What a GGUF file, a checkpoint file or a model folder holds. */
  "model.inspect": { input: z.object({ path }).strict(), output: inspectionSchema },
  // Native actions of the desktop shell. Other transports answer `unsupported` and the UI falls back to
  // browser equivalents (file inputs, typed paths). `path: null` means the user cancelled the dialog.
  "shell.pickFile": { input: z.object({ title: z.string().max(200).optional(), filters: fileFilters }).strict(), output: pickedPath },
  "shell.pickFolder": { input: z.object({ title: z.string().max(200).optional() }).strict(), output: pickedPath },
  "shell.pickSaveFile": {
    input: z.object({ title: z.string().max(200).optional(), defaultName: z.string().max(255), filters: fileFilters }).strict(),
    output: pickedPath,
  },
  "shell.openDataFolder": { input: noInput, output: z.object({ opened: z.boolean() }) },
  "shell.showLogs": { input: noInput, output: z.object({ opened: z.boolean() }) },
  /** Opens an http(s) link in the system browser; any other scheme is refused. */
  "shell.openExternal": { input: z.object({ url: z.url({ protocol: /^https?$/ }).max(2048) }).strict(), output: z.object({ opened: z.boolean() }) },
  ...downloadRequests,
  ...remoteRequests,
} as const satisfies Record<string, { input: z.ZodType; output: z.ZodType }>;

const id = z.string().min(1).max(200);

export const CONVERSION_STAGES = ["inspect", "checksum", "convert", "verify"] as const;
export const conversionProgressSchema = z.object({
  jobId: id,
  stage: z.enum(CONVERSION_STAGES),
  tensorIndex: z.number().int().nonnegative(),
  tensorCount: z.number().int().nonnegative(),
  doneBytes: byteCount,
  totalBytes: byteCount,
  bytesPerSecond: z.number().nonnegative(),
  /** null until the speed is known. */
  etaSeconds: z.number().nonnegative().nullable(),
});
export type ConversionProgress = z.infer<typeof conversionProgressSchema>;

export const events = {
  /** A piece of an answer as it is generated. */
  "generation.chunk": z.object({
    conversationId: id,
    messageId: id,
    text: z.string(),
  }),
  /** Loading a model: `progress` goes from 0 to 1. */
  "model.loadProgress": z.object({
    modelPath: z.string(),
    progress: z.number().min(0).max(1),
  }),
  /** An answer began: the question and the (empty, streaming) answer as saved, so the UI can show them at once. */
  "generation.started": z.object({ conversationId: id, question: messageSchema.nullable(), answer: messageSchema }),
  /** An answer ended (complete, interrupted or failed), as saved. */
  "generation.finished": z.object({ conversationId: id, answer: messageSchema }),
  /** Conversations changed outside this window (another window, the CLI, an import): list them again. */
  "history.changed": z.object({ conversationIds: z.array(id) }),
  /** The conversation outgrew the context: its oldest turns were left out of this answer. */
  "generation.contextTrimmed": z.object({ conversationId: id, messageId: id, droppedTurns: z.number().int().positive() }),
  /** The API server started, stopped, or its request counts changed. */
  "apiServer.status": apiServerStatusSchema,
  /** A weight conversion job moving through its stages; bytes count the input read so far. */
  "conversion.progress": conversionProgressSchema,
  /** Something the user should know about a running conversion (e.g. "looks already restored"). */
  "conversion.warning": z.object({ jobId: id, message: z.string() }),
  /** The desktop shell was asked to open a .gguf (second launch, file association): show it on the Models page. */
  "shell.openModelFile": z.object({ path: z.string() }),
  /** A conversion ended: its report, or why it failed (`cancelled` when the user stopped it). */
  "conversion.finished": z.object({
    jobId: id,
    outcome: z.discriminatedUnion("ok", [
      z.object({ ok: z.literal(true), report: conversionReportSchema }),
      z.object({ ok: z.literal(false), error: z.object({ code: z.string(), message: z.string() }) }),
    ]),
  }),
  ...downloadEvents,
  ...qualityEvents,
} as const satisfies Record<string, z.ZodType>;

export type RequestName = keyof typeof requests;
/** What a client sends (defaults may be left out). */
export type RequestInput<N extends RequestName> = z.input<(typeof requests)[N]["input"]>;
/** What a service receives: the input after validation, defaults filled in. */
export type RequestParams<N extends RequestName> = z.output<(typeof requests)[N]["input"]>;
export type RequestOutput<N extends RequestName> = z.output<(typeof requests)[N]["output"]>;
export type EventName = keyof typeof events;
export type EventPayload<E extends EventName> = z.output<(typeof events)[E]>;

/** One event as it travels: its stream's name and the payload. */
export type EventMessage = { [E in EventName]: { name: E; payload: EventPayload<E> } }[EventName];

/** The typed client every UI backend (Electron, web) offers; the renderer sees nothing else. */
export interface ApiClient {
  invoke<N extends RequestName>(name: N, input: RequestInput<N>): Promise<RequestOutput<N>>;
  subscribe(listener: (event: EventMessage) => void): () => void;
}

/** What crosses a raw channel: the request and the envelope it comes back in. */
export interface RawApi {
  invoke(name: string, input: unknown): Promise<Envelope<unknown>>;
  subscribe(listener: (event: EventMessage) => void): () => void;
}
