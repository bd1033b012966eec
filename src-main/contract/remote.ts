// Remote models: library entries that are OpenAI-compatible servers elsewhere (vLLM on a GPU server, llama.cpp's
// server, another BiLLa Desktop's `billa serve`), chatted with through the same conversations and history. The API
// key is given once and kept by the services: entries only say whether they have one.
import { z } from "zod";
import { ERROR_CODES } from "./errors.js";
import { parseRemoteBaseUrl } from "./remote-endpoint.js";

const id = z.string().min(1).max(200);

export const remoteModelEntrySchema = z.object({
  kind: z.literal("remote"),
  id: z.string(),
  name: z.string(),
  isDefault: z.boolean(),
  /** The server's OpenAI-compatible base URL, e.g. http://gpu-server:8000/v1. */
  baseUrl: z.string(),
  /** The model's name on that server, as its /v1/models lists it. */
  remoteModel: z.string(),
  /** Whether a key is stored (it is sent to this server only, and never shown again). */
  hasApiKey: z.boolean(),
  /** Plain http to another computer: conversations (and the key) cross the network unencrypted. */
  unencrypted: z.boolean(),
  addedAt: z.string(),
});
export type RemoteModelEntry = z.infer<typeof remoteModelEntrySchema>;

/** A typed server address, checked and normalised (http(s) only, no credentials, `/v1` added to a bare address). */
export const remoteBaseUrlSchema = z
  .string()
  .max(2048)
  .transform((text, context) => {
    const parsed = parseRemoteBaseUrl(text);
    if (parsed.ok) return parsed.baseUrl;
    context.addIssue({ code: "custom", message: parsed.problem });
    return z.NEVER;
  });

/** What the server's own API key looks like: one word of printable characters (vLLM's --api-key, llama-server's --api-key). */
export const remoteApiKeySchema = z
  .string()
  .trim()
  .min(1)
  .max(4096)
  .regex(/^[\x21-\x7e]+$/, "An API key is one word of printable characters, without spaces.");

const remoteModelName = z.string().trim().min(1).max(500);

/** How a remote model's server answers right now. */
export const remoteCheckSchema = z.object({
  /** It answered GET /v1/models. */
  reachable: z.boolean(),
  /** The models it lists (empty when it did not answer). */
  models: z.array(z.string()),
  /** The entry's model is among them. */
  hasModel: z.boolean(),
  /** Why it did not answer, or what it answered instead. */
  error: z.object({ code: z.enum(ERROR_CODES), message: z.string() }).nullable(),
  milliseconds: z.number().nonnegative(),
});
export type RemoteCheck = z.infer<typeof remoteCheckSchema>;

export const remoteRequests = {
  /**
   * Adds a remote model. Without `remoteModel` the server is asked (GET /v1/models) and its only model is taken;
   * without `name`, the entry is named after the remote model.
   */
  "models.addRemote": {
    input: z
      .object({
        name: z.string().trim().min(1).max(200).optional(),
        baseUrl: remoteBaseUrlSchema,
        apiKey: remoteApiKeySchema.optional(),
        remoteModel: remoteModelName.optional(),
      })
      .strict(),
    output: remoteModelEntrySchema,
  },
  /** The models a server lists, before adding one of them (the key is used for this request only). */
  "models.listRemoteModels": {
    input: z.object({ baseUrl: remoteBaseUrlSchema, apiKey: remoteApiKeySchema.optional() }).strict(),
    output: z.object({ baseUrl: z.string(), models: z.array(z.string()) }),
  },
  /** Whether a remote model's server answers now, and whether it still has the model. */
  "models.checkRemote": { input: z.object({ id }).strict(), output: remoteCheckSchema },
} as const satisfies Record<string, { input: z.ZodType; output: z.ZodType }>;
