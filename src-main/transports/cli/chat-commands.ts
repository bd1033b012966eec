// `billa answer` (BiLLa's batch evaluation, as its get_model_answer.py) and `billa chat` (a conversation
// in the terminal, or one JSON line per answer when stdin is piped), with a GGUF file or a library model: one on
// this computer, or a remote one (`billa remote add`), whose server is asked for each answer.
import { randomInt } from "node:crypto";
import { appendFileSync, existsSync, readFileSync, truncateSync } from "node:fs";
import { createInterface } from "node:readline";
import { Option, type Command } from "commander";
import type { GenerationStats, LoadedModel, PromptFormat, RawApi, RemoteModelEntry, Sampling, Turn } from "../../contract/api.js";
import { PROMPT_FORMATS, samplingSchema } from "../../contract/api.js";
import { CliError, describePromptFormat, libraryModel, numberFlag, request, unencryptedWarning, withApi } from "./cli-support.js";

export interface ModelFlags {
  modelPath?: string;
  /** A library entry, by id or name. */
  model?: string;
  /** Unset: "auto" for a file, the entry's own choice for a library model. */
  promptFormat?: PromptFormat;
  gpuLayers: string;
  contextSize: number;
  threads?: number;
}

interface SamplingFlags {
  temperature: number;
  topK: number;
  topP: number;
  minP: number;
  repeatPenalty?: number;
  seed?: number;
  maxNewTokens: number;
}

const defaults = samplingSchema.parse({});

/** How a model on this computer is loaded (a remote model's server decides for itself). */
export function addModelFlags(command: Command): Command {
  return command
    .option("--gpu-layers <layers>", "layers on the GPU: auto, max or a number", "auto")
    .option("--context-size <tokens>", "the context size (BiLLa was trained on 2048)", numberFlag("--context-size", { integer: true, min: 256 }), 2048)
    .option("--threads <n>", "CPU threads (default: the cores this process may use)", numberFlag("--threads", { integer: true, min: 1 }))
    .addOption(
      new Option(
        "--prompt-format <format>",
        "auto (the default): BiLLa's unless the file has another model's chat template; billa: always BiLLa's; model: the file's own template",
      ).choices(PROMPT_FORMATS),
    );
}

function addSamplingFlags(command: Command): Command {
  return command
    .option("--temperature <t>", "0 is greedy", numberFlag("--temperature", { min: 0 }), defaults.temperature)
    .option("--top-k <k>", "0 turns top-k off", numberFlag("--top-k", { integer: true, min: 0 }), defaults.topK)
    .option("--top-p <p>", "nucleus sampling", numberFlag("--top-p", { min: 0 }), defaults.topP)
    .option("--min-p <p>", "min-p sampling", numberFlag("--min-p", { min: 0 }), defaults.minP)
    .option("--repeat-penalty <p>", "off unless given, as in BiLLa's reference generation", numberFlag("--repeat-penalty", { min: 1 }))
    .option("--seed <n>", "a fixed seed makes sampling repeatable", numberFlag("--seed", { integer: true, min: 0 }))
    .option("--max-new-tokens <n>", "the longest answer", numberFlag("--max-new-tokens", { integer: true, min: 1 }), defaults.maxTokens);
}

function samplingOf(flags: SamplingFlags): Sampling {
  return {
    temperature: flags.temperature,
    topK: flags.topK,
    topP: flags.topP,
    minP: flags.minP,
    repeatPenalty: flags.repeatPenalty ?? null,
    seed: flags.seed ?? null,
    maxTokens: flags.maxNewTokens,
  };
}

/** Loads the flags' model: a file (`--model-path`) or a library entry (`--model`). */
export async function loadModel(api: RawApi, flags: ModelFlags): Promise<LoadedModel> {
  const gpuLayers = flags.gpuLayers === "auto" || flags.gpuLayers === "max" ? flags.gpuLayers : numberFlag("--gpu-layers", { integer: true, min: 0 })(flags.gpuLayers);
  return request(api, "runtime.load", {
    ...(flags.model === undefined ? { modelPath: flags.modelPath! } : { modelId: flags.model }),
    ...(flags.promptFormat === undefined ? {} : { promptFormat: flags.promptFormat }),
    gpuLayers,
    contextSize: flags.contextSize,
    ...(flags.threads === undefined ? {} : { threads: flags.threads }),
  });
}

/** What was loaded, on stderr: where it runs, and the prompt format its answers use and why. */
function reportLoaded(loaded: LoadedModel): void {
  const where = loaded.gpu === null ? "CPU" : `${loaded.offloadedLayers}/${loaded.totalLayers} layers on ${loaded.gpu}`;
  process.stderr.write(`Loaded ${loaded.name} (${where}, threads: ${loaded.threads}); prompt format: ${describePromptFormat(loaded.resolvedPromptFormat)}\n`);
}

function reportRemote(entry: RemoteModelEntry): void {
  process.stderr.write(`Answering with ${entry.name}: the model ${entry.remoteModel} at ${entry.baseUrl} (its server applies its own chat template)\n`);
  if (entry.unencrypted) process.stderr.write(`${unencryptedWarning(entry.baseUrl)}\n`);
}

/** `--model` or `--model-path`, for the commands that answer. */
function addModelChoice(command: Command): Command {
  return addModelFlags(
    command
      .option("--model <name>", "a library model, by name or id: one on this computer, or a remote one (billa remote add)")
      .option("--model-path <file>", "a GGUF file to load"),
  );
}

/**
 * Makes the flags' model ready to answer: a GGUF file or a local library model is loaded, a remote one is only
 * announced (its server is asked for each answer). Resolves with the library entry's id, for the requests.
 */
async function useModel(api: RawApi, flags: ModelFlags): Promise<string | undefined> {
  if ((flags.model === undefined) === (flags.modelPath === undefined)) {
    throw new CliError("Give --model (a library model, on this computer or remote) or --model-path (a GGUF file): one of the two.");
  }
  if (flags.model === undefined) {
    reportLoaded(await loadModel(api, flags));
    return undefined;
  }
  const entry = await libraryModel(api, flags.model);
  if (entry.kind === "remote") reportRemote(entry);
  else reportLoaded(await loadModel(api, { ...flags, model: entry.id }));
  return entry.id;
}

/** shortuuid's alphabet and length, as the answer_id of FastChat-style answer files. */
function shortId(): string {
  const alphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
  return Array.from({ length: 22 }, () => alphabet[randomInt(alphabet.length)]).join("");
}

type QuestionId = string | number;

/**
 * Question ids already answered in an existing answer file, so an interrupted run resumes. A run killed mid-write
 * leaves a half line at the end: it is cut off (its question is answered again), so the next answer starts on a
 * line of its own instead of being glued onto it. A whole last line that only lacks its newline gets one.
 */
function resumeAnswerFile(answerFile: string): Set<string> {
  if (!existsSync(answerFile)) return new Set();
  const content = readFileSync(answerFile, "utf8");
  const lines = content.split("\n").map((text) => ({ text, answer: parseLine(text) }));
  const last = lines.at(-1)!;
  if (last.text !== "" && last.answer) appendFileSync(answerFile, "\n");
  if (last.text !== "" && !last.answer) {
    truncateSync(answerFile, Buffer.byteLength(content) - Buffer.byteLength(last.text));
    process.stderr.write(`${answerFile} ended in a half-written line from an interrupted run; it was removed and its question is answered again.\n`);
  }
  return new Set(lines.flatMap(({ answer }) => (answer?.question_id === undefined ? [] : [JSON.stringify(answer.question_id)])));
}

/** An answer line, or null for a blank or half-written one. */
function parseLine(line: string): { question_id?: QuestionId } | null {
  if (!line.trim()) return null;
  try {
    return JSON.parse(line) as { question_id?: QuestionId };
  } catch {
    return null;
  }
}

export function readQuestions(questionFile: string): { questions: { id: QuestionId; text: string }[]; problems: string[] } {
  if (!existsSync(questionFile)) throw new CliError(`${questionFile} does not exist.`);
  const questions: { id: QuestionId; text: string }[] = [];
  const problems: string[] = [];
  readFileSync(questionFile, "utf8")
    .split("\n")
    .forEach((line, index) => {
      if (!line.trim()) return;
      let parsed: unknown;
      try {
        parsed = JSON.parse(line);
      } catch {
        problems.push(`line ${index + 1}: not valid JSON, skipped`);
        return;
      }
      const { question_id: id, text } = (parsed ?? {}) as { question_id?: unknown; text?: unknown };
      if ((typeof id !== "string" && typeof id !== "number") || typeof text !== "string") {
        problems.push(`line ${index + 1}: needs "question_id" and "text", skipped`);
        return;
      }
      questions.push({ id, text });
    });
  return { questions, problems };
}

export function addChatCommands(program: Command): void {
  addSamplingFlags(
    addModelChoice(
      program
        .command("answer")
        .description("answer a question file (jsonl: question_id, text) into an answer file, as BiLLa's get_model_answer.py; resumes where it stopped"),
    ),
  )
    .requiredOption("--model-id <id>", "the model_id written with each answer")
    .requiredOption("--question-file <file>", "jsonl with question_id and text per line")
    .requiredOption("--answer-file <file>", "jsonl to append answers to")
    .action((flags: ModelFlags & SamplingFlags & { modelId: string; questionFile: string; answerFile: string }) =>
      withApi(program, async (api) => {
        const { questions, problems } = readQuestions(flags.questionFile);
        for (const problem of problems) process.stderr.write(`${flags.questionFile} ${problem}\n`);
        const done = resumeAnswerFile(flags.answerFile);
        const todo = questions.filter((question) => !done.has(JSON.stringify(question.id)));
        process.stderr.write(`${questions.length - todo.length} of ${questions.length} questions already answered; answering ${todo.length}.\n`);
        if (todo.length === 0) return;
        const modelId = await useModel(api, flags);
        const sampling = samplingOf(flags);
        for (const [index, question] of todo.entries()) {
          const { text } = await request(api, "chat.generate", { conversationId: `answer-${String(question.id)}`, modelId, messageId: shortId(), history: [], question: question.text, sampling });
          const answer = { question_id: question.id, text: text.trim(), answer_id: shortId(), model_id: flags.modelId, metadata: {} };
          appendFileSync(flags.answerFile, `${JSON.stringify(answer)}\n`);
          process.stderr.write(`[${index + 1}/${todo.length}] question ${String(question.id)} answered\n`);
        }
      }),
    );

  addSamplingFlags(addModelChoice(program.command("chat").description("chat with a model; with piped input, each line is a turn and each answer a JSON line")))
    .option("--no-save", "do not save the conversation in the history (by default it shows up in the app)")
    .action((flags: ModelFlags & SamplingFlags & { save: boolean }) =>
      withApi(program, async (api) => {
        const modelId = await useModel(api, flags);
        const conversation = await startConversation(api, modelId, samplingOf(flags), flags.save);
        if (process.stdin.isTTY) await interactiveChat(api, conversation);
        else await pipedChat(conversation);
      }),
    );
}

/** A terminal conversation: saved in the history database as the app saves its own, or kept in memory only. */
interface TerminalConversation {
  readonly id: string;
  ask(question: string): Promise<{ text: string; stats: GenerationStats }>;
  /** Starts over in a new conversation. */
  restart(): Promise<void>;
}

/** A conversation with the library model `modelId` (undefined: the loaded file). */
async function startConversation(api: RawApi, modelId: string | undefined, sampling: Sampling, save: boolean): Promise<TerminalConversation> {
  if (save) {
    const create = async () => (await request(api, "history.create", { sampling, ...(modelId === undefined ? {} : { modelId }) })).id;
    let id = await create();
    return {
      get id() {
        return id;
      },
      async ask(question) {
        const { answer } = await request(api, "chat.send", { conversationId: id, text: question });
        if (answer.stats === null) throw new CliError(answer.error ?? "The answer failed.");
        return { text: answer.text, stats: answer.stats };
      },
      restart: async () => void (id = await create()),
    };
  }
  const history: Turn[] = [];
  const id = "terminal";
  return {
    id,
    async ask(question) {
      const answer = await request(api, "chat.generate", { conversationId: id, modelId, messageId: shortId(), history, question, sampling });
      history.push({ question, answer: answer.text });
      return answer;
    },
    restart: async () => void (history.length = 0),
  };
}

/** Piped: every input line is the next user turn; every answer is one JSON line on stdout. */
async function pipedChat(conversation: TerminalConversation): Promise<void> {
  const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
  let turn = 0;
  for await (const line of lines) {
    if (!line.trim()) continue;
    const { text, stats } = await conversation.ask(line);
    process.stdout.write(`${JSON.stringify({ turn: ++turn, question: line, answer: text, stats })}\n`);
  }
}

/** On a terminal: answers stream as they come; Ctrl+C stops an answer, /new starts over, /exit leaves. */
async function interactiveChat(api: RawApi, conversation: TerminalConversation): Promise<void> {
  const lines = createInterface({ input: process.stdin, output: process.stdout, prompt: "\nYou: " });
  let answering = false;
  lines.on("SIGINT", () => {
    if (answering) void api.invoke("chat.stop", { conversationId: conversation.id });
    else lines.close();
  });
  const unsubscribe = api.subscribe((event) => {
    if (event.name === "generation.chunk" && event.payload.conversationId === conversation.id) process.stdout.write(event.payload.text);
    if (event.name === "generation.contextTrimmed" && event.payload.conversationId === conversation.id) {
      process.stdout.write(`\n[the oldest ${event.payload.droppedTurns} turn(s) no longer fit the context and were left out]\n`);
    }
  });
  process.stdout.write("BiLLa chat. Ctrl+C stops an answer; /new starts a new conversation; /exit leaves.\n");
  lines.prompt();
  try {
    for await (const line of lines) {
      const question = line.trim();
      if (question === "/exit") break;
      if (question === "/new") await conversation.restart();
      if (question && !question.startsWith("/")) {
        process.stdout.write("BiLLa: ");
        answering = true;
        const { stats } = await conversation.ask(question).finally(() => (answering = false));
        process.stdout.write(`\n(${stats.newTokens} tokens, ${stats.tokensPerSecond.toFixed(1)} tokens/s, ${stats.stopReason})\n`);
      }
      lines.prompt();
    }
  } finally {
    unsubscribe();
    lines.close();
  }
}
