// `billa`: the app's services from a terminal. Each command is a request of the same API the UI uses.
import { Command } from "commander";
import { APP_VERSION } from "../../services/app-root.js";
import { addChatCommands } from "./chat-commands.js";
import { CliError, printJson, request, withApi } from "./cli-support.js";
import { addConversionCommands } from "./conversion-commands.js";
import { addDownloadCommand } from "./download-commands.js";
import { addHistoryCommands } from "./history-commands.js";
import { addRemoteCommands } from "./remote-commands.js";
import { addServeCommand } from "./serve-command.js";
import { addQualityCommands } from "./quality-commands.js";

function createProgram(): Command {
  const program = new Command("billa")
    .description("BiLLa Desktop from the command line: run BiLLa, the bilingual Chinese/English LLaMA, on this computer.")
    .version(APP_VERSION)
    .option("--data-dir <dir>", "the folder for the database, models and logs (default: the app's data folder, or $BILLA_DATA_DIR)");

  program
    .command("info")
    .description("print this computer's OS, CPU, RAM and GPUs as llama.cpp sees them, as JSON")
    .action(() => withApi(program, async (api) => printJson(await request(api, "system.info", {}))));

  addDownloadCommand(program);
  addConversionCommands(program);
  addChatCommands(program);
  addHistoryCommands(program);
  addRemoteCommands(program);
  addServeCommand(program);
  addQualityCommands(program);
  return program;
}

try {
  await createProgram().parseAsync(process.argv);
} catch (error) {
  process.stderr.write(`billa: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = error instanceof CliError ? error.exitCode : 1;
}
