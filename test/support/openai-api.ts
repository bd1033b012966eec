// Helpers for the OpenAI-compatible API's tests: a running server on the demo model, the golden cases as chat
// messages, and raw HTTP for what the official client will not send (another Host, a bare body).
import { request } from "node:http";
import OpenAI from "openai";
import type { ApiServerStatus } from "../../src-main/contract/api.js";
import { createServices, type Services } from "../../src-main/services/create-services.js";
import { startOpenAiServer } from "../../src-main/transports/openai-api/openai-server.js";
import type { GoldenCase } from "./demo.js";

/** Services with the API server switched on (port 0) and the demo model loaded on one thread. */
export async function startApiOnDemo(dataDir: string, modelPath: string, options: { apiQueueLength?: number } = {}): Promise<{ services: Services; status: ApiServerStatus; client: OpenAI }> {
  const services = createServices({ dataDir, transport: "cli", gpu: "cpu", listenApi: startOpenAiServer, ...options });
  const loaded = await services.api.invoke("runtime.load", { modelPath, contextSize: 2048, threads: 1 });
  if (!loaded.ok) throw new Error(loaded.error.message);
  const configured = await services.api.invoke("apiServer.configure", { enabled: true, port: 0 });
  if (!configured.ok) throw new Error(configured.error.message);
  const status = configured.value as ApiServerStatus;
  if (status.baseUrl === null) throw new Error(`The API server did not start: ${status.error}`);
  return { services, status, client: new OpenAI({ baseURL: status.baseUrl, apiKey: status.apiKey, maxRetries: 0 }) };
}

export type ChatMessage = { role: "system" | "user" | "assistant"; content: string };

/** A golden prompt (`Human: …\nAssistant: …` turns) as the messages a client sends. */
export function messagesOf(golden: GoldenCase): ChatMessage[] {
  const turns = golden.prompt.slice("Human: ".length, -"\nAssistant: ".length).split("\nHuman: ");
  return turns.flatMap((turn, i): ChatMessage[] => {
    if (i === turns.length - 1) return [{ role: "user", content: turn }];
    const [question, answer] = turn.split("\nAssistant: ") as [string, string];
    return [
      { role: "user", content: question },
      { role: "assistant", content: answer },
    ];
  });
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One HTTP request with exactly these headers (fetch would not let a test set Host). */
export function rawRequest(baseUrl: string, path: string, { method = "GET", headers = {}, body }: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<RawResponse> {
  const url = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, path, method, headers }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (text += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.on("error", reject);
    req.end(body);
  });
}
