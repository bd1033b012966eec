// Frames of web mode's WebSocket. The server validates every frame it receives with these schemas.
import { z } from "zod";
import type { EventMessage } from "./api.js";
import type { Envelope } from "./errors.js";

export const WEB_SOCKET_PATH = "/api";
/** The URL fragment key that carries web mode's token from the printed URL to the page. */
export const WEB_TOKEN_PARAM = "token";

export const clientFrameSchema = z.object({
  type: z.literal("invoke"),
  id: z.number().int().nonnegative(),
  name: z.string().max(100),
  input: z.unknown(),
});
export type ClientFrame = z.infer<typeof clientFrameSchema>;

export type ServerFrame =
  | { type: "result"; id: number; envelope: Envelope<unknown> }
  | { type: "event"; event: EventMessage };
