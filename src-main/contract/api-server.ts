// The local OpenAI-compatible API server: its settings (kept with the app's settings) and the status the
// Settings page and `billa serve` show. The HTTP protocol itself is the openai-api transport's business.
import { z } from "zod";

/** "BiLLa" on a phone keypad; none of the usual local servers (1234, 1337, 4891, 8080, 11434) uses it. */
export const API_SERVER_DEFAULT_PORT = 24552;

/** A browser origin as it appears in an `Origin` header: scheme, host and port, nothing else. */
export const originSchema = z
  .string()
  .max(200)
  .refine((value) => {
    try {
      const url = new URL(value);
      return (url.protocol === "http:" || url.protocol === "https:") && url.origin === value;
    } catch {
      return false;
    }
  }, "Write an origin as http(s)://host[:port], with no path or trailing slash, e.g. http://localhost:3000");

const apiServerFields = {
  /** Off by default: nothing listens until the user switches it on. */
  enabled: z.boolean(),
  /** 0 picks a free port at each start. */
  port: z.number().int().min(0).max(65535),
  /** Listen on every network interface instead of 127.0.0.1 only; other computers can then reach it (with the key). */
  lan: z.boolean(),
  /** Web pages allowed to call the API from a browser (CORS); none by default. */
  allowedOrigins: z.array(originSchema).max(50),
  /** Save API conversations in the history, marked as coming from the API. */
  saveHistory: z.boolean(),
};

export const apiServerSettingsSchema = z.object({
  enabled: apiServerFields.enabled.default(false),
  port: apiServerFields.port.default(API_SERVER_DEFAULT_PORT),
  lan: apiServerFields.lan.default(false),
  allowedOrigins: apiServerFields.allowedOrigins.default([]),
  saveHistory: apiServerFields.saveHistory.default(false),
});
export type ApiServerSettings = z.output<typeof apiServerSettingsSchema>;

/** A change to some of the server's settings; the rest stay. */
export const apiServerChangesSchema = z.object(apiServerFields).partial().strict();

const count = z.number().int().nonnegative();

export const apiServerStatusSchema = z.object({
  /** "failed": it should run but could not start (`error` says why, e.g. the port is taken). */
  state: z.enum(["off", "running", "failed"]),
  settings: apiServerSettingsSchema,
  /** The address to paste into other tools, e.g. http://127.0.0.1:24552/v1; null while it is not running. */
  baseUrl: z.string().nullable(),
  /** The same address through this computer's network addresses, when listening on the LAN. */
  lanUrls: z.array(z.string()),
  /** Every /v1 request must carry it as `Authorization: Bearer <key>`. */
  apiKey: z.string(),
  error: z.string().nullable(),
  requests: z.object({
    /** Being answered now. */
    active: count,
    /** Waiting for their turn. */
    queued: count,
    /** Answered since the server started. */
    served: count,
    /** Turned away because the queue was full (503). */
    refused: count,
  }),
});
export type ApiServerStatus = z.infer<typeof apiServerStatusSchema>;
