// npm run bench:api — tokens/s through the OpenAI-compatible API (the official client in another process, streaming
// over loopback HTTP) next to the app's chat path (chat.generate, as the chat window asks), on the same synthetic
// 134M-parameter Q4_K_M model served by the same services, runs interleaved so that the machine's load hits both alike.
// Two speeds for each: as the runtime measures generation (the same stat on both paths; on the API's path it
// includes the server's per-token work, the JSON and the socket writes), and as the reader receives the text (the
// chat path's text events; the client's SSE chunks, the other process's parsing competing for the CPU). Speed counts
// the tokens after the first piece of text, whose time belongs to the prompt. (The random-weights model writes some
// tokens that print as nothing; neither path shows them, so the reader's timing starts at the first visible text.)
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fork } from "node:child_process";
import { once } from "node:events";
import type { GenerationStats, Turn } from "../src-main/contract/api.js";
import { createServices } from "../src-main/services/create-services.js";
import { startOpenAiServer } from "../src-main/transports/openai-api/openai-server.js";
import type { ClientRun, StreamRequest } from "./support/openai-stream-client.js";
import { SYNTHETIC_134M, writeSyntheticLlamaGguf } from "./support/synthetic-gguf.js";
import { TextClock, type TimedRun } from "./support/text-clock.js";
import { median } from "./support/median.js";

const TOKENS = 128;
/** Interleaved pairs of runs; medians, since other work on the machine slows single runs down. */
const REPEATS = 8;
const log = (line: string) => process.stderr.write(`${line}\n`);

/** A few turns of ordinary length, so that each answer starts from a real prompt. */
const HISTORY: Turn[] = Array.from({ length: 3 }, (_, i) => ({
  question: `Question ${i + 1}: how does a bilingual model share one vocabulary between Chinese and English?`,
  answer: `Answer ${i + 1}: its SentencePiece vocabulary is extended with Chinese pieces, and one embedding table serves both.`,
}));
const QUESTION = "And what about numbers?";

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "billa-bench-api-"));
  const services = createServices({ dataDir: dir, transport: "cli", gpu: "cpu", listenApi: startOpenAiServer });
  try {
    const modelPath = join(dir, "synthetic-134m-q4_k_m.gguf");
    const written = await writeSyntheticLlamaGguf(modelPath, { ...SYNTHETIC_134M, outType: "q4_k_m" });
    // No thread count given: the app's own default is what is measured, on both paths.
    const loaded = await services.api.invoke("runtime.load", { modelPath, contextSize: 2048 });
    if (!loaded.ok) throw new Error(loaded.error.message);
    const { threads, name } = loaded.value as { threads: number; name: string };
    const status = await services.apiServer.serve({ host: "127.0.0.1", port: 0, apiKey: null });
    const client = fork(new URL("./support/openai-stream-client.ts", import.meta.url), { execArgv: ["--import", "tsx"] });
    log(`synthetic model: ${(written.parameters / 1e6).toFixed(1)}M parameters, ${(written.bytes / 2 ** 20).toFixed(1)} MiB Q4_K_M; ${threads} threads (the app's default); ${TOKENS} tokens per answer, greedy`);

    /** One answer: speed as its reader received the text, speed as the runtime measured it, CPU time of this process. */
    type Measured = TimedRun & { serverTokensPerSecond: number; cpuMs: number };

    // The app's path: services → runtime → LlamaChat with the same wrapper, text streamed as events. One
    // conversation, like the API's one slot, so both reuse the evaluated prompt alike.
    async function chatPath(): Promise<TimedRun & { serverTokensPerSecond: number }> {
      const clock = new TextClock();
      const unsubscribe = services.api.subscribe((event) => {
        if (event.name === "generation.chunk" && event.payload.conversationId === "bench") clock.text(event.payload.text);
      });
      const envelope = await services.api.invoke("chat.generate", {
        conversationId: "bench",
        messageId: "m",
        history: HISTORY,
        question: QUESTION,
        sampling: { temperature: 0, maxTokens: TOKENS },
      });
      unsubscribe();
      if (!envelope.ok) throw new Error(envelope.error.message);
      const { stats } = envelope.value as { stats: GenerationStats };
      return { ...clock.run(stats.newTokens), serverTokensPerSecond: stats.tokensPerSecond };
    }

    // The API's path as another program sees it: HTTP, JSON, SSE chunks, the official client parsing them.
    async function apiPath(): Promise<ClientRun> {
      const messages = [...HISTORY.flatMap((turn) => [{ role: "user" as const, content: turn.question }, { role: "assistant" as const, content: turn.answer }]), { role: "user" as const, content: QUESTION }];
      const request: StreamRequest = { baseURL: status.baseUrl!, apiKey: status.apiKey, body: { model: name, messages, temperature: 0, max_tokens: TOKENS, stream: true } };
      client.send(request);
      const [reply] = (await once(client, "message")) as [ClientRun | { error: string }];
      if ("error" in reply) throw new Error(reply.error);
      return reply;
    }

    /** The run, and the CPU time this process (the services and the server, decoding included) spent on it. */
    async function withCpu(path: () => Promise<TimedRun & { serverTokensPerSecond: number }>): Promise<Measured> {
      const before = process.cpuUsage();
      const run = await path();
      const { user, system } = process.cpuUsage(before);
      return { ...run, cpuMs: (user + system) / 1000 };
    }

    await chatPath();
    await apiPath();
    const chat: Measured[] = [];
    const api: Measured[] = [];
    for (let run = 0; run < REPEATS; run++) {
      chat.push(await withCpu(chatPath));
      api.push(await withCpu(apiPath));
      const [c, a] = [chat.at(-1)!, api.at(-1)!];
      log(`run ${run + 1}: chat path ${c.serverTokensPerSecond.toFixed(1)} tok/s (received ${c.tokensPerSecond.toFixed(1)}, ${c.cpuMs.toFixed(0)} ms CPU), API ${a.serverTokensPerSecond.toFixed(1)} tok/s (received ${a.tokensPerSecond.toFixed(1)}, ${a.cpuMs.toFixed(0)} ms CPU)`);
    }

    // Each pair ran back to back, so a pair's ratio sees the same load on the machine.
    const pairRatio = (speed: (run: Measured) => number) => median(api.map((run, i) => speed(run) / speed(chat[i]!)));
    const speeds = (runs: Measured[], speed: (run: Measured) => number) => `${median(runs.map(speed)).toFixed(1)} (runs ${runs.map((run) => speed(run).toFixed(1)).join(", ")})`;
    const generated = (run: Measured) => run.serverTokensPerSecond;
    const received = (run: Measured) => run.tokensPerSecond;
    // CPU time hardly depends on what else the machine runs: the work the API adds, whatever the load.
    const chatCpu = median(chat.map((run) => run.cpuMs));
    const apiCpu = median(api.map((run) => run.cpuMs));
    const rows: [string, string][] = [
      ["threads; tokens per answer", `${threads}; ${chat.map((run) => run.tokens).join(", ")} (chat), ${api.map((run) => run.tokens).join(", ")} (API)`],
      ["generation speed, tokens/s as the runtime measures it, median: chat path", speeds(chat, generated)],
      ["  the same through the API (its per-token server work included)", speeds(api, generated)],
      ["  ratio API / chat path, median of the pairs (goal ≥ 0.95)", pairRatio(generated).toFixed(3)],
      ["speed as received, tokens/s, median: chat path's text events", speeds(chat, received)],
      ["  the official client in another process, over SSE", speeds(api, received)],
      ["  ratio API / chat path, median of the pairs", pairRatio(received).toFixed(3)],
      ["CPU time per answer in the serving process, median: chat path / API", `${chatCpu.toFixed(0)} ms / ${apiCpu.toFixed(0)} ms (${(((apiCpu - chatCpu) / TOKENS) * 1000).toFixed(0)} µs per token; ratio ${(chatCpu / apiCpu).toFixed(3)})`],
      ["time to first text, median: chat path / API", `${median(chat.map((run) => run.firstTextMs)).toFixed(0)} ms / ${median(api.map((run) => run.firstTextMs)).toFixed(0)} ms`],
    ];
    const width = Math.max(...rows.map(([label]) => label.length));
    console.log(`\n${rows.map(([label, value]) => `${label.padEnd(width)}  ${value}`).join("\n")}`);
    console.log(JSON.stringify({ bench: "api", threads, tokens: TOKENS, chat, api, generatedRatio: pairRatio(generated), receivedRatio: pairRatio(received), cpuRatio: chatCpu / apiCpu }));
    client.send("exit");
  } finally {
    await services.dispose();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
