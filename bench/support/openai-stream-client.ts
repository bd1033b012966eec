// Another program using the API, as bench:api runs it: its own process (so its parsing shares the CPU but not the
// server's event loop, as a real client's would), streaming each request it is sent and timing the text it receives.
import OpenAI from "openai";
import { TextClock, type TimedRun } from "./text-clock.js";

export interface StreamRequest {
  baseURL: string;
  apiKey: string;
  body: OpenAI.Chat.ChatCompletionCreateParamsStreaming;
}

process.on("message", (message: StreamRequest | "exit") => {
  if (message === "exit") process.exit(0);
  void stream(message).then(
    (run) => process.send!(run),
    (error: unknown) => process.send!({ error: String(error) }),
  );
});

/** The run as this client saw it, and the speed the server measured (llama.cpp-style `timings` on the finish chunk). */
export type ClientRun = TimedRun & { serverTokensPerSecond: number };

async function stream({ baseURL, apiKey, body }: StreamRequest): Promise<ClientRun> {
  const client = new OpenAI({ baseURL, apiKey, maxRetries: 0 });
  const clock = new TextClock();
  let tokens = 0;
  let serverTokensPerSecond = NaN;
  for await (const chunk of await client.chat.completions.create({ ...body, stream_options: { include_usage: true } })) {
    clock.text(chunk.choices[0]?.delta.content);
    if (chunk.usage) tokens = chunk.usage.completion_tokens;
    const { timings } = chunk as { timings?: { predicted_per_second: number } };
    if (timings) serverTokensPerSecond = timings.predicted_per_second;
  }
  return { ...clock.run(tokens), serverTokensPerSecond };
}
