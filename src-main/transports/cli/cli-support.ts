// What every `billa` command shares: services built for one command, requests that fail as one line.
import type { Command } from "commander";
import type { ModelEntry, RawApi, RequestInput, RequestName, RequestOutput, ResolvedPromptFormat } from "../../contract/api.js";
import { createServices, type ServiceOptions, type Services } from "../../services/create-services.js";
import { resolveDataDir } from "../../services/data-dir.js";

/** A failure to report in one line, with a non-zero exit code. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

/** Builds the services for one command (on another database when given), runs it, and always disposes them. */
export async function withApi<T>(
  program: Command,
  run: (api: RawApi, services: Services) => Promise<T>,
  options: Pick<ServiceOptions, "database" | "listenApi"> = {},
): Promise<T> {
  const { dataDir } = program.opts<{ dataDir?: string }>();
  const services = createServices({ dataDir: resolveDataDir(dataDir === undefined ? [] : ["--data-dir", dataDir]), transport: "cli", ...options });
  try {
    return await run(services.api, services);
  } finally {
    await services.dispose();
  }
}

export async function request<N extends RequestName>(api: RawApi, name: N, input: RequestInput<N>): Promise<RequestOutput<N>> {
  const envelope = await api.invoke(name, input);
  if (!envelope.ok) {
    const issues = (envelope.error.issues ?? []).map((issue) => `${issue.path.join(".") || "input"}: ${issue.message}`);
    throw new CliError(issues.length ? `${envelope.error.message} ${issues.join("; ")}` : envelope.error.message);
  }
  return envelope.value as RequestOutput<N>;
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Commander's parser for numeric flags, with a message that names the flag. */
export function numberFlag(flag: string, { integer = false, min = -Infinity, max = Infinity } = {}): (value: string) => number {
  return (value) => {
    const number = Number(value);
    if (!Number.isFinite(number) || (integer && !Number.isInteger(number)) || number < min || number > max) {
      const range = min > -Infinity && max < Infinity ? ` from ${min} to ${max}` : min > -Infinity ? ` of at least ${min}` : max < Infinity ? ` of at most ${max}` : "";
      throw new CliError(`${flag} needs ${integer ? "a whole number" : "a number"}${range}, not ${JSON.stringify(value)}.`);
    }
    return number;
  };
}

const PROMPT_FORMAT_REASONS: Record<ResolvedPromptFormat["reason"], string> = {
  chosen: "chosen",
  "billa-metadata": "converted by BiLLa Desktop",
  "billa-template": "the file's chat template is BiLLa's",
  "no-template": "no chat template in the file",
  "own-template": "the file's own chat template",
};

/** "billa (no chat template in the file)" */
export function describePromptFormat(resolved: ResolvedPromptFormat): string {
  return `${resolved.format} (${PROMPT_FORMAT_REASONS[resolved.reason]})`;
}

/** The library entry `wanted` names: its id, else its name. */
export async function libraryModel(api: RawApi, wanted: string): Promise<ModelEntry> {
  const { models } = await request(api, "models.list", {});
  const entry = models.find((candidate) => candidate.id === wanted) ?? models.find((candidate) => candidate.name === wanted);
  if (!entry) throw new CliError(`The library has no model "${wanted}". \`billa remote list\` lists the remote ones; --model-path FILE.gguf uses a file instead.`);
  return entry;
}

/** Said wherever a remote model is plain http to another computer (`billa remote add`, `list`, `chat`, `answer`). */
export function unencryptedWarning(baseUrl: string): string {
  return `Warning: ${baseUrl} is plain http to another computer: questions, answers and the API key cross the network unencrypted. Use https:// if the server offers it.`;
}
