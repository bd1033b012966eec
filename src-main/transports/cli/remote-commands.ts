// `billa remote`: models on remote OpenAI-compatible servers (vLLM, llama.cpp's server, another BiLLa Desktop's
// `billa serve`) in the library, to chat with through `billa chat --model NAME`, `billa answer` and the app.
import type { Command } from "commander";
import type { RawApi, RemoteCheck, RemoteModelEntry } from "../../contract/api.js";
import { CliError, libraryModel, printJson, request, unencryptedWarning, withApi } from "./cli-support.js";

/** `--api-key -` reads the key from the first line of stdin, so that it stays out of the shell's history. */
async function readKey(flag: string | undefined): Promise<string | undefined> {
  if (flag !== "-") return flag;
  let input = "";
  for await (const chunk of process.stdin) input += String(chunk);
  const key = input.split(/\r?\n/)[0]!.trim();
  if (key === "") throw new CliError("--api-key - reads the key from stdin, but stdin was empty.");
  return key;
}

/** How the server answers now, in a sentence. */
function describeCheck(entry: RemoteModelEntry, check: RemoteCheck): string {
  if (!check.reachable) return `Not answering now. ${check.error?.message ?? ""}`.trim();
  if (!check.hasModel) return `The server answers, but has no model "${entry.remoteModel}" (it serves: ${check.models.join(", ") || "none"}).`;
  return `Answers now (${Math.round(check.milliseconds)} ms).`;
}

async function remoteEntries(api: RawApi): Promise<RemoteModelEntry[]> {
  return (await request(api, "models.list", {})).models.filter((entry): entry is RemoteModelEntry => entry.kind === "remote");
}

export function addRemoteCommands(program: Command): void {
  const remote = program.command("remote").description("models on remote OpenAI-compatible servers (vLLM, llama.cpp's server, another billa serve)");

  remote
    .command("add")
    .description("add a remote model to the library; chat with it by its name (billa chat --model NAME, or in the app)")
    .argument("<name>", "the name to use for it here")
    .requiredOption("--base-url <url>", "the server's OpenAI-compatible address, e.g. http://gpu-server:8000/v1 (/v1 is added to a bare address)")
    .option("--api-key <key>", "the key the server was started with (- reads it from stdin); kept by the app, sent to this server only")
    .option("--model <remote-model>", "the model's name on the server (default: the one model its /v1/models lists)")
    .action((name: string, flags: { baseUrl: string; apiKey?: string; model?: string }) =>
      withApi(program, async (api) => {
        const apiKey = await readKey(flags.apiKey);
        const entry = await request(api, "models.addRemote", { name, baseUrl: flags.baseUrl, ...(apiKey === undefined ? {} : { apiKey }), ...(flags.model === undefined ? {} : { remoteModel: flags.model }) });
        process.stdout.write(`Added ${entry.name}: the model ${entry.remoteModel} at ${entry.baseUrl}${entry.hasApiKey ? " (API key stored)" : ""}\n`);
        if (entry.unencrypted) process.stderr.write(`${unencryptedWarning(entry.baseUrl)}\n`);
        const check = await request(api, "models.checkRemote", { id: entry.id });
        (check.reachable && check.hasModel ? process.stdout : process.stderr).write(`${describeCheck(entry, check)}\n`);
      }),
    );

  remote
    .command("list")
    .description("the remote models in the library, and whether each server answers now")
    .option("--json", "print JSON (the entries with their check)")
    .action((flags: { json?: boolean }) =>
      withApi(program, async (api) => {
        const entries = await remoteEntries(api);
        const checks = await Promise.all(entries.map((entry) => request(api, "models.checkRemote", { id: entry.id })));
        if (flags.json) return printJson(entries.map((entry, index) => ({ ...entry, check: checks[index] })));
        if (entries.length === 0) process.stdout.write("No remote models. Add one with: billa remote add NAME --base-url URL\n");
        entries.forEach((entry, index) => {
          const marks = [entry.isDefault ? "default" : "", entry.hasApiKey ? "key stored" : "no key", entry.unencrypted ? "UNENCRYPTED" : ""].filter(Boolean).join(", ");
          process.stdout.write(`${entry.name}  ${entry.remoteModel} at ${entry.baseUrl}  (${marks})\n    ${describeCheck(entry, checks[index]!)}\n`);
        });
      }),
    );

  remote
    .command("remove")
    .description("remove a remote model from the library (its key is forgotten; conversations with it stay)")
    .argument("<name>", "its name or id")
    .action((name: string) =>
      withApi(program, async (api) => {
        const entry = await libraryModel(api, name);
        if (entry.kind !== "remote") throw new CliError(`"${entry.name}" is a model on this computer, not a remote one; remove it on the Models page.`);
        await request(api, "models.delete", { id: entry.id });
        process.stdout.write(`Removed ${entry.name}.\n`);
      }),
    );
}
