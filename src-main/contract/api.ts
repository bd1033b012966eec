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

export const requests = {
  "app.info": { input: noInput, output: appInfoSchema },
  "system.info": { input: noInput, output: systemInfoSchema },
} as const satisfies Record<string, { input: z.ZodType; output: z.ZodType }>;

const id = z.string().min(1).max(200);

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
  /** A weight conversion job moving through its stages. */
  "conversion.progress": z.object({
    jobId: id,
    stage: z.enum(["read", "restore", "convert", "quantize", "write", "verify"]),
    doneBytes: byteCount,
    totalBytes: byteCount,
    bytesPerSecond: z.number().nonnegative(),
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
