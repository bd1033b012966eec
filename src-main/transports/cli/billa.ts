// `billa`: the app's services from a terminal. Each command is a request of the same API the UI uses.
import { Command } from "commander";
import type { RequestInput, RequestName, RequestOutput } from "../../contract/api.js";
import { APP_VERSION } from "../../services/app-root.js";
import { createServices, type Services } from "../../services/create-services.js";
import { resolveDataDir } from "../../services/data-dir.js";

/** Runs one request against freshly built services and always disposes them. */
async function request<N extends RequestName>(program: Command, name: N, input: RequestInput<N>): Promise<RequestOutput<N>> {
  const { dataDir } = program.opts<{ dataDir?: string }>();
  const services: Services = createServices({
    dataDir: resolveDataDir(dataDir === undefined ? [] : ["--data-dir", dataDir]),
    transport: "cli",
  });
  try {
    const envelope = await services.api.invoke(name, input);
    if (!envelope.ok) {
      throw new CliError(envelope.error.message);
    }
    return envelope.value as RequestOutput<N>;
  } finally {
    await services.dispose();
  }
}

class CliError extends Error {}

function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

function createProgram(): Command {
  const program = new Command("billa")
    .description("BiLLa Desktop from the command line: run BiLLa, the bilingual Chinese/English LLaMA, on this computer.")
    .version(APP_VERSION)
    .option("--data-dir <dir>", "the folder for the database, models and logs (default: the app's data folder, or $BILLA_DATA_DIR)");

  program
    .command("info")
    .description("print this computer's OS, CPU, RAM and GPUs as llama.cpp sees them, as JSON")
    .action(async () => printJson(await request(program, "system.info", {})));

  return program;
}

try {
  await createProgram().parseAsync(process.argv);
} catch (error) {
  process.stderr.write(`billa: ${error instanceof CliError ? error.message : String(error)}\n`);
  process.exitCode = 1;
}
