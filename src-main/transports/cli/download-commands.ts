// `billa download`: a model's release from Hugging Face (or a mirror) into a folder, every file checked against the
// Hub's checksums. On a terminal a redrawn block shows the whole download and each file in transfer; in logs and
// pipes, plain lines. Ctrl+C pauses; running the same command again continues where it stopped.
import type { Command } from "commander";
import type { DownloadStatus, EventMessage, RawApi, RequestInput } from "../../contract/api.js";
import { CliError, numberFlag, request, withApi } from "./cli-support.js";
import { bar, duration, formatBytes } from "./job-progress.js";

type Outcome = Extract<EventMessage, { name: "download.finished" }>["payload"]["outcome"];
const PLAIN_INTERVAL_MS = 5000;

function speedAndEta(status: Pick<DownloadStatus, "bytesPerSecond" | "etaSeconds">): string {
  const speed = `${(status.bytesPerSecond / 1e6).toFixed(1)} MB/s`;
  return status.etaSeconds === null ? speed : `${speed}, ${duration(status.etaSeconds)} left`;
}

function overall(status: DownloadStatus): string {
  const percent = status.totalBytes ? Math.min(100, (100 * status.doneBytes) / status.totalBytes) : 0;
  const files = status.files.filter((file) => file.state === "verified" || file.state === "present").length;
  return `${percent.toFixed(0).padStart(3)}% ${formatBytes(status.doneBytes)} of ${formatBytes(status.totalBytes)}, ${files}/${status.files.length} files (${speedAndEta(status)})`;
}

const FILE_DONE: Partial<Record<DownloadStatus["files"][number]["state"], string>> = {
  verified: "downloaded and checked",
  present: "already there, checked",
  failed: "failed",
};

/** Prints a download's progress: redrawn on a terminal, plain lines otherwise. */
class DownloadPrinter {
  #drawnLines = 0;
  #lastPlain = 0;
  #fileStates = new Map<string, string>();
  #notices = 0;
  #headerShown = false;

  constructor(private readonly stream: NodeJS.WriteStream) {}

  show(status: DownloadStatus, force = false): void {
    if (!this.#headerShown && status.commit) {
      this.#headerShown = true;
      this.#line(`Downloading ${status.repo} (commit ${status.commit.slice(0, 7)}) from ${status.endpoint} into ${status.destination}: ${status.files.length} files, ${formatBytes(status.totalBytes)}.`);
    }
    for (const notice of status.notices.slice(this.#notices)) this.#line(`warning: ${notice}`);
    this.#notices = status.notices.length;
    if (this.stream.isTTY) {
      this.#redraw(status);
      return;
    }
    for (const file of status.files) {
      const done = FILE_DONE[file.state];
      if (done && this.#fileStates.get(file.path) !== file.state) this.stream.write(`${file.path}: ${done} (${formatBytes(file.size)})\n`);
      this.#fileStates.set(file.path, file.state);
    }
    const now = Date.now();
    if (force || now - this.#lastPlain > PLAIN_INTERVAL_MS) {
      this.#lastPlain = now;
      this.stream.write(`${overall(status)}\n`);
    }
  }

  /** A line above the redrawn block. */
  #line(text: string): void {
    this.#clear();
    this.stream.write(`${text}\n`);
  }

  #clear(): void {
    if (this.#drawnLines > 0) this.stream.write(`\x1b[${this.#drawnLines}F\x1b[J`);
    this.#drawnLines = 0;
  }

  #redraw(status: DownloadStatus): void {
    const width = this.stream.columns || 100;
    const nameWidth = Math.min(40, Math.max(...status.files.map((file) => file.path.length), 10));
    const lines = [`${bar(status.doneBytes, status.totalBytes, 24)} ${overall(status)}`];
    for (const file of status.files.filter((candidate) => candidate.state === "downloading" || candidate.state === "verifying")) {
      const what = file.state === "verifying" ? "checking" : `${formatBytes(file.doneBytes)} of ${formatBytes(file.size)} (${(file.bytesPerSecond / 1e6).toFixed(1)} MB/s)`;
      lines.push(`  ${file.path.padEnd(nameWidth)} ${bar(file.doneBytes, file.size, 12)} ${what}`);
    }
    this.#clear();
    this.stream.write(lines.map((line) => `${line.slice(0, width - 1)}\n`).join(""));
    this.#drawnLines = lines.length;
  }
}

/** Runs the download and follows it to its end; the first Ctrl+C pauses it. */
async function follow(api: RawApi, input: RequestInput<"download.start">): Promise<{ outcome: Outcome | null; status: DownloadStatus | null }> {
  const printer = new DownloadPrinter(process.stderr);
  let downloadId: string | null = null;
  let last: DownloadStatus | null = null;
  const early: EventMessage[] = [];
  let handle: ((event: EventMessage) => void) | null = null;
  const unsubscribe = api.subscribe((event) => (handle ? handle(event) : early.push(event)));
  const pause = () => void (downloadId && api.invoke("download.pause", { downloadId }));
  process.once("SIGINT", pause);
  try {
    downloadId = (await request(api, "download.start", input)).downloadId;
    return await new Promise((resolve) => {
      handle = (event) => {
        if (event.name === "download.progress" && event.payload.id === downloadId) {
          last = event.payload;
          const ended = event.payload.state === "paused" || event.payload.state === "interrupted";
          printer.show(event.payload, ended || event.payload.state === "done");
          if (ended) resolve({ outcome: null, status: last });
        }
        if (event.name === "download.finished" && event.payload.downloadId === downloadId) resolve({ outcome: event.payload.outcome, status: last });
      };
      for (const event of early.splice(0)) handle(event);
    });
  } finally {
    process.off("SIGINT", pause);
    unsubscribe();
  }
}

export function addDownloadCommand(program: Command): void {
  program
    .command("download")
    .description("download a release from Hugging Face into a folder, each file checked against the Hub's sha256; run it again to resume")
    .argument("<repo>", "the repository: Neutralzz/BiLLa-7B-SFT (the chat model) or Neutralzz/BiLLa-7B-LLM")
    .requiredOption("--out <dir>", "the folder to download into (created when missing)")
    .option("--revision <revision>", "a branch, tag or commit", "main")
    .option("--endpoint <url>", "the Hub or a mirror (default: the app's setting, else $HF_ENDPOINT, else https://huggingface.co)")
    .option("--parallel <n>", "files transferred at the same time, 2 to 4 (default: the app's setting, 3)", numberFlag("--parallel", { integer: true, min: 2, max: 4 }))
    .action((repo: string, options: { out: string; revision: string; endpoint?: string; parallel?: number }) =>
      withApi(program, async (api) => {
        const { outcome, status } = await follow(api, {
          repo,
          revision: options.revision,
          destination: options.out,
          ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
          ...(options.parallel === undefined ? {} : { parallel: options.parallel }),
        });
        if (outcome === null) throw new CliError(`Paused with ${formatBytes(status?.doneBytes ?? 0)} of ${formatBytes(status?.totalBytes ?? 0)} kept. Run the same command again to continue.`, 130);
        if (!outcome.ok) throw new CliError(outcome.error.message, outcome.error.code === "cancelled" ? 130 : 1);
        process.stdout.write(
          `Downloaded ${outcome.files} files (${formatBytes(outcome.bytes)}) into ${outcome.destination}, each checked against the Hub's checksums.\n` +
            `Meta's original LLaMA cannot be downloaded (its licence): convert with your own copy of consolidated.00.pth:\n` +
            `  billa convert --model_dir ${outcome.destination} --meta_llama_pth_file /path/to/consolidated.00.pth --outfile billa.gguf\n`,
        );
      }),
    );
}
