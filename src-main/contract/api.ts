// The whole API between the UI (or any client) and the services, defined once.
// Every request has a name, an input schema (validated at the boundary) and an output schema;
// every event stream has a payload schema. Transports carry these and nothing else.
import { z } from "zod";
import type { Envelope } from "./errors.js";

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
const path = z.string().min(1).max(4096);

export const OUTPUT_TYPE_NAMES = ["f16", "bf16", "q8_0", "q4_0", "q4_k_m", "q5_k_m", "q6_k"] as const;
export type OutputTypeName = (typeof OUTPUT_TYPE_NAMES)[number];

export const conversionReportSchema = z.object({
  outPath: z.string(),
  fileBytes: byteCount,
  tensorCount: z.number().int().nonnegative(),
  /** Float64 sum of the restored word embedding (BiLLa publishes one to check against). */
  restoredEmbeddingSum: z.number(),
  warnings: z.array(z.string()),
  seconds: z.number().nonnegative(),
});
export type ConversionReport = z.infer<typeof conversionReportSchema>;

export const inspectionSchema = z.object({
  kind: z.enum(["gguf", "checkpoint"]),
  path: z.string(),
  /** Metadata or config values; long arrays are summarised. */
  metadata: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])),
  tensors: z.array(z.object({ name: z.string(), type: z.string(), shape: z.array(z.number()), bytes: byteCount })),
});
export type Inspection = z.infer<typeof inspectionSchema>;

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
  /** What a GGUF file, a checkpoint file or a model folder holds. */
  "model.inspect": { input: z.object({ path }).strict(), output: inspectionSchema },
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
    modelId: id,
    progress: z.number().min(0).max(1),
  }),
  /** A weight conversion job moving through its stages; bytes count the input read so far. */
  "conversion.progress": conversionProgressSchema,
  /** Something the user should know about a running conversion (e.g. "looks already restored"). */
  "conversion.warning": z.object({ jobId: id, message: z.string() }),
  /** A conversion ended: its report, or why it failed (`cancelled` when the user stopped it). */
  "conversion.finished": z.object({
    jobId: id,
    outcome: z.discriminatedUnion("ok", [
      z.object({ ok: z.literal(true), report: conversionReportSchema }),
      z.object({ ok: z.literal(false), error: z.object({ code: z.string(), message: z.string() }) }),
    ]),
  }),
} as const satisfies Record<string, z.ZodType>;

export type RequestName = keyof typeof requests;
export type RequestInput<N extends RequestName> = z.input<(typeof requests)[N]["input"]>;
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
