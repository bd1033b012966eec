// Running the `billa` command as a user does: `node scripts/billa.js …`.
import { spawn } from "node:child_process";
import { join } from "node:path";
import { APP_ROOT } from "../../src-main/services/app-root.js";

export const BILLA = join(APP_ROOT, "scripts", "billa.js");

/** `billa chat` at temperature 0 on one thread with `input` piped in; resolves with its stdout. */
export function pipeIntoBillaChat(dataDir: string, modelPath: string, input: string, ...flags: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BILLA, "--data-dir", dataDir, "chat", "--model-path", modelPath, "--temperature", "0", "--threads", "1", ...flags]);
    let stdout = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.on("error", reject);
    child.on("exit", (code) => (code === 0 ? resolve(stdout) : reject(new Error(`billa chat exited with ${code}`))));
    child.stdin.end(input);
  });
}
