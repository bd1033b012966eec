// npm run bench:generate — the app's chat path against node-llama-cpp's bare decoding loop on the same
// synthetic 134M-parameter Q4_K_M model, in one run; the time to first token of a follow-up turn (its
// prefix already evaluated) against a cold start, and against a conversation switched back to after others;
// then the CPU builds side by side at BiLLa-7B's width (cpu-builds.ts: llama-bench, the prebuilt binary, the
// threaded build, the app's chat path, at 1 and 2 threads).
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getLlama, LlamaLogLevel } from "node-llama-cpp";
import type { GenerationStats, RequestInput, Turn } from "../../src-main/contract/api.js";
import { createServices, type Services } from "../../src-main/services/create-services.js";
import { billaPromptText } from "../../src-main/services/runtime/billa-chat-wrapper.js";
import { threadedBuildLlamaOptions } from "../../src-main/services/runtime/threaded-build.js";
import { SYNTHETIC_134M, writeSyntheticLlamaGguf } from "../support/synthetic-gguf.js";
import { measureBareDecode } from "./bare-decode.js";
import { measureCpuBuilds } from "./cpu-builds.js";
import { measureStateSwitch } from "./state-switch.js";

const TOKENS = 128;
const REPEATS = 3;
const log = (line: string) => process.stderr.write(`${line}\n`);

/** A few turns of ordinary length, so that a cold start has a real prompt to evaluate. */
const HISTORY: Turn[] = Array.from({ length: 4 }, (_, i) => ({
  question: `Question ${i + 1}: please explain, in a few sentences, how a bilingual language model handles Chinese and English text together.`,
  answer: `Answer ${i + 1}: it shares one vocabulary extended with Chinese pieces, one embedding table and one transformer for both languages.`,
}));

async function generate(services: Services, input: Omit<RequestInput<"chat.generate">, "sampling" | "messageId">): Promise<GenerationStats> {
  const envelope = await services.api.invoke("chat.generate", { ...input, messageId: "bench", sampling: { temperature: 0, maxTokens: TOKENS } });
  if (!envelope.ok) throw new Error(envelope.error.message);
  return (envelope.value as { stats: GenerationStats }).stats;
}

const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "billa-bench-generate-"));
  try {
    const modelPath = join(dir, "synthetic-134m-q4_k_m.gguf");
    const written = await writeSyntheticLlamaGguf(modelPath, { ...SYNTHETIC_134M, outType: "q4_k_m" });

    // The app's path: services → runtime → LlamaChat with BiLLa's wrapper → streamed text events.
    const services = createServices({ dataDir: dir, transport: "cli", gpu: "cpu" });
    let threads = 0;
    let chat: { speeds: number[]; newTokens: number[]; cold: number[]; followUp: number[]; switchedBack: number[]; evicted: number[] };
    try {
      // No thread count given: the app's own default is what is measured.
      const loaded = await services.api.invoke("runtime.load", { modelPath, contextSize: 2048 });
      if (!loaded.ok) throw new Error(loaded.error.message);
      threads = (loaded.value as { threads: number }).threads;
      log(`synthetic model: ${(written.parameters / 1e6).toFixed(1)}M parameters, ${(written.bytes / 2 ** 20).toFixed(1)} MiB; ${threads} threads (the app's default); UV_THREADPOOL_SIZE=${process.env["UV_THREADPOOL_SIZE"] ?? "unset"}`);
      chat = { speeds: [], newTokens: [], cold: [], followUp: [], switchedBack: [], evicted: [] };
      for (let run = 0; run < REPEATS; run++) {
        const cold = await generate(services, { conversationId: `c${run}`, history: HISTORY, question: "And what about numbers?" });
        chat.cold.push(cold.timeToFirstTokenMs ?? NaN);
        chat.speeds.push(cold.tokensPerSecond);
        chat.newTokens.push(cold.newTokens);
        // The same conversation, one turn later: only the new turn is evaluated.
        const history = [...HISTORY, { question: "And what about numbers?", answer: "(the answer above)" }];
        chat.followUp.push((await generate(services, { conversationId: `c${run}`, history, question: "Thanks." })).timeToFirstTokenMs ?? NaN);
        // Another conversation in between, then back: it kept its own sequence (two slots).
        await generate(services, { conversationId: `other${run}`, history: [], question: "Hello." });
        chat.switchedBack.push((await generate(services, { conversationId: `c${run}`, history: [...history, { question: "Thanks.", answer: "(ok)" }], question: "Bye." })).timeToFirstTokenMs ?? NaN);
        // Two other conversations in between: it lost its sequence, its state was saved to a file and is loaded back.
        await generate(services, { conversationId: `x${run}`, history: [], question: "One." });
        await generate(services, { conversationId: `y${run}`, history: [], question: "Two." });
        chat.evicted.push((await generate(services, { conversationId: `c${run}`, history: [...history, { question: "Thanks.", answer: "(ok)" }, { question: "Bye.", answer: "(bye)" }], question: "Again?" })).timeToFirstTokenMs ?? NaN);
      }
    } finally {
      await services.dispose();
    }

    // The same model, prompt, thread count and llama.cpp binary (the threaded build when there is one, as the app
    // picks) through node-llama-cpp's bare loop.
    const llama = await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error, ...threadedBuildLlamaOptions(process.platform) });
    const model = await llama.loadModel({ modelPath });
    const prompt = [model.tokens.bos!, ...model.tokenize(billaPromptText(HISTORY, "And what about numbers?"))];
    const bare = await measureBareDecode(model, { threads, tokens: TOKENS, repeats: REPEATS, prompt, contextSize: 2048 });
    const state = await measureStateSwitch(model, { prompt, threads, contextSize: 2048 });
    await model.dispose();
    await llama.dispose();

    const chatSpeed = mean(chat.speeds);
    const rows: [string, string][] = [
      ["threads", String(threads)],
      ["chat path: tokens/s (after the first token)", `${chatSpeed.toFixed(1)} (runs ${chat.speeds.map((v) => v.toFixed(1)).join(", ")}; ${chat.newTokens.join(", ")} tokens)`],
      ["bare evaluate loop: tokens/s", `${bare.tokensPerSecond.toFixed(1)} (runs ${bare.runs.map((v) => v.toFixed(1)).join(", ")})`],
      ["ratio chat / bare (goal ≥ 0.97)", (chatSpeed / bare.tokensPerSecond).toFixed(3)],
      [`time to first token, cold start (${prompt.length}-token prompt)`, `${mean(chat.cold).toFixed(0)} ms`],
      ["time to first token, follow-up turn (prefix reused)", `${mean(chat.followUp).toFixed(0)} ms`],
      ["time to first token, back after 1 other conversation (kept)", `${mean(chat.switchedBack).toFixed(0)} ms`],
      ["time to first token, back after 2 others (state restored)", `${mean(chat.evicted).toFixed(0)} ms`],
      [`evicted conversation: evaluate its ${state.promptTokens} tokens again`, `${state.reevaluateMs.toFixed(0)} ms`],
      ["evicted conversation: save state to a file / load it back", `${state.saveMs.toFixed(0)} ms / ${state.loadMs.toFixed(0)} ms (${(state.stateFileBytes / 2 ** 20).toFixed(1)} MiB file)`],
      ["memory of one more resident sequence (2048 tokens, estimate)", `${(state.residentSequenceBytes / 2 ** 20).toFixed(1)} MiB`],
    ];
    const builds = await measureCpuBuilds(dir, log);
    const table = (lines: [string, string][]) => {
      const width = Math.max(...lines.map(([name]) => name.length));
      return lines.map(([name, value]) => `${name.padEnd(width)}  ${value}`).join("\n");
    };
    console.log(`\n${table(rows)}\n\nCPU builds at BiLLa-7B's width\n${table(builds.rows)}`);
    console.log(JSON.stringify({ bench: "generate", threads, tokens: TOKENS, chat, bare, state, ratio: chatSpeed / bare.tokensPerSecond, cpuBuilds: builds.json }));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
