// Helpers for the OpenAI-compatible API's tests: a running server on the demo model, and the golden cases as
// chat messages.
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
