// `billa serve`: the OpenAI-compatible API without a window, for scripts and servers without a display. It
// loads the model first, then listens, prints one line once it is ready, and exits cleanly on Ctrl+C or SIGTERM.
import type { Command } from "commander";
import type { RawApi } from "../../contract/api.js";
import { LOOPBACK_HOST } from "../../services/api-server/api-server-service.js";
import { startOpenAiServer } from "../openai-api/openai-server.js";
import { addModelFlags, loadModel, type ModelFlags } from "./chat-commands.js";
import { CliError, libraryModel, numberFlag, request, withApi } from "./cli-support.js";

interface ServeFlags extends ModelFlags {
  port?: number;
  host: string;
  apiKey?: string;
}

/** Resolves when the process is asked to stop. */
function untilStopped(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => resolve(signal));
  });
}

export function addServeCommand(program: Command): void {
  addModelFlags(
    program
      .command("serve")
      .description("serve the OpenAI-compatible API (/v1/chat/completions, /v1/completions, /v1/models) until Ctrl+C")
      .option("--model <id>", "a library model, by id or name (default: the library's default model)")
      .option("--model-path <file>", "a GGUF file to serve instead of a library model"),
  )
    .option("--port <port>", "0 picks a free port (default: the port in the app's settings, 24552 unless changed)", numberFlag("--port", { integer: true, min: 0 }))
    .option("--host <address>", "0.0.0.0 serves other computers on the network too (they still need the key)", LOOPBACK_HOST)
    .option("--api-key <key>", "the key clients must send (default: $BILLA_API_KEY, else a new random one)")
    .action((flags: ServeFlags) =>
      withApi(
        program,
        async (api, services) => {
          if (flags.model !== undefined && flags.modelPath !== undefined) throw new CliError("Give either --model or --model-path, not both.");
          if (flags.port !== undefined && flags.port > 65535) throw new CliError("--port must be a number from 0 to 65535 (0 picks a free one).");
          // An empty BILLA_API_KEY counts as unset.
          const apiKey = flags.apiKey ?? (process.env["BILLA_API_KEY"] || null);
          if (apiKey !== null && !/^\S+$/.test(apiKey)) throw new CliError("The API key cannot be empty or contain spaces.");
          const stopped = untilStopped();
          const modelId = flags.modelPath === undefined ? await servedModel(api, flags.model) : undefined;
          const model = await loadModel(api, { ...flags, ...(modelId === undefined ? {} : { model: modelId }) });
          const settings = await request(api, "settings.get", {});
          const status = await services.apiServer.serve({ host: flags.host, port: flags.port ?? settings.apiServer.port, apiKey }).catch((error: Error) => {
            throw new CliError(error.message);
          });
          if (status.lanUrls.length > 0) {
            process.stderr.write(`Listening beyond this computer: anyone on the network who has the key can use the model (${status.lanUrls.join(", ")}).\n`);
          }
          process.stdout.write(`Serving ${model.name} at ${status.baseUrl} (API key: ${status.apiKey})\n`);
          await stopped;
        },
        { listenApi: startOpenAiServer },
      ),
    );
}

/** The library entry named by `--model` (its id or name), or the library's default model; one on this computer. */
async function servedModel(api: RawApi, wanted: string | undefined): Promise<string> {
  if (wanted === undefined) {
    const { models } = await request(api, "models.list", {});
    const entry = models.find((candidate) => candidate.isDefault && candidate.kind === "local" && candidate.status === "ok");
    if (!entry) throw new CliError("There is no model on this computer to serve by default: give --model-path FILE.gguf, or --model with a library model's id or name.");
    return entry.id;
  }
  const entry = await libraryModel(api, wanted);
  if (entry.kind === "remote") throw new CliError(`"${entry.name}" is a remote model on ${entry.baseUrl}: billa serve serves models on this computer. Give another --model, or --model-path.`);
  return entry.id;
}
