// Downloads behind the API: plan, start, pause, resume, cancel, list. One download per destination folder (its id
// comes from the folder, so starting the same folder again finds the same download). The data folder remembers
// where unfinished downloads are (downloads/<id>.json), so that after a restart the app can offer to resume them;
// everything else about a download lives in its own folder.
import { createHash } from "node:crypto";
import { readdir, readFile, rm } from "node:fs/promises";
import { join, resolve } from "node:path";
import { z } from "zod";
import { OUTPUT_TYPE_NAMES, RECOMMENDED_TYPE, type DownloadPlan, type DownloadStatus, type RequestParams, type Settings } from "../../contract/api.js";
import { BillaError } from "../../contract/errors.js";
import type { EventBus } from "../event-bus.js";
import type { Logger } from "../logger.js";
import { DownloadFolder, writeFileAtomically } from "./download-folder.js";
import { DownloadJob, type DownloadTuning, type JobRequest } from "./download-job.js";
import { fetchManifest, planDownload } from "./download-plan.js";
import { chooseEndpoint, HubClient } from "./hub-client.js";

const rememberedSchema = z.object({
  repo: z.string(),
  revision: z.string(),
  destination: z.string(),
  endpoint: z.string().optional(),
  outType: z.enum(OUTPUT_TYPE_NAMES).catch(RECOMMENDED_TYPE),
});

export interface DownloadServiceOptions {
  events: EventBus;
  logger: Logger;
  settings: () => Settings;
  /** The data folder's list of unfinished downloads. */
  registryDir: string;
  /** Where conversions write by default: its disk needs room for the converted model too. */
  modelsDir: string;
  tuning: DownloadTuning;
  /** HF_ENDPOINT and HF_TOKEN come from here. */
  env: NodeJS.ProcessEnv;
}

export function downloadIdFor(destination: string): string {
  return createHash("sha256").update(resolve(destination)).digest("hex").slice(0, 16);
}

export class DownloadService {
  readonly #jobs = new Map<string, DownloadJob>();

  constructor(private readonly options: DownloadServiceOptions) {}

  async plan(input: RequestParams<"download.plan">): Promise<DownloadPlan> {
    const controller = new AbortController();
    const hub = this.#hub(input.endpoint, controller.signal);
    const folder = new DownloadFolder(input.destination);
    const manifest = await fetchManifest(hub, folder, input.repo, input.revision);
    return planDownload(manifest, { ...input, endpoint: hub.endpoint, folder, outputFolder: this.options.modelsDir, freeBytes: this.options.tuning.freeBytes });
  }

  async start(input: RequestParams<"download.start">): Promise<{ downloadId: string }> {
    const id = downloadIdFor(input.destination);
    const current = this.#jobs.get(id);
    if (current?.running) {
      if (current.request.repo !== input.repo || current.request.revision !== input.revision) {
        throw new BillaError("busy", `${current.folder.destination} is receiving ${current.request.repo} already. Wait for it, or choose another folder.`);
      }
      return { downloadId: id };
    }
    const job = new DownloadJob(id, { repo: input.repo, revision: input.revision, destination: input.destination, endpoint: input.endpoint, parallel: input.parallel, outType: input.outType });
    this.#jobs.set(id, job);
    await this.#run(job);
    return { downloadId: id };
  }

  async pause(id: string): Promise<{ paused: boolean }> {
    const job = this.#jobs.get(id);
    if (!job?.running) return { paused: false };
    await job.stop("pause");
    return { paused: true };
  }

  async resume(id: string): Promise<{ downloadId: string }> {
    const job = this.#jobs.get(id) ?? (await this.#remembered(id));
    if (!job) throw new BillaError("not_found", "There is no such download to resume. Start it again with the same folder: what arrived is kept.");
    this.#jobs.set(id, job);
    if (!job.running) await this.#run(job);
    return { downloadId: id };
  }

  async cancel(id: string, discard: boolean): Promise<{ cancelled: boolean }> {
    const job = this.#jobs.get(id) ?? (await this.#remembered(id));
    if (!job) return { cancelled: false };
    const wasRunning = job.running;
    await job.stop("cancel");
    if (discard) await job.folder.removeWork();
    await this.#forget(id);
    this.#jobs.delete(id);
    if (!wasRunning) {
      // A paused or interrupted download has no run to report its end: say it here.
      this.options.events.emit("download.finished", { downloadId: id, outcome: { ok: false, error: { code: "cancelled", message: "The download was cancelled." } } });
    }
    return { cancelled: true };
  }

  /** This session's downloads, then the unfinished ones earlier runs left. */
  async list(): Promise<{ downloads: DownloadStatus[] }> {
    const downloads = [...this.#jobs.values()].map((job) => job.status());
    for (const id of await this.#rememberedIds()) {
      if (this.#jobs.has(id)) continue;
      const job = await this.#remembered(id);
      if (job) downloads.push(job.status());
    }
    return { downloads };
  }

  /** Stops every transfer, keeping what arrived: the next start of the app offers to resume. */
  async dispose(): Promise<void> {
    await Promise.all([...this.#jobs.values()].map((job) => job.stop("dispose")));
  }

  async #run(job: DownloadJob): Promise<void> {
    const { request } = job;
    const settings = this.options.settings();
    await job.start({
      hub: (signal) => this.#hub(request.endpoint, signal),
      parallel: request.parallel ?? settings.parallelDownloads,
      outputFolder: this.options.modelsDir,
      tuning: this.options.tuning,
      emit: (status) => this.options.events.emit("download.progress", status),
      onEnd: (status) => void this.#ended(job, status),
      logError: (message, error) => this.options.logger.error(message, error),
    });
    await this.#remember(job.id, request);
    const status = job.status();
    this.options.logger.info(`download ${job.id}: ${request.repo} at ${status.commit} from ${status.endpoint} into ${status.destination}`);
  }

  async #ended(job: DownloadJob, status: DownloadStatus): Promise<void> {
    this.options.logger.info(`download ${job.id}: ${status.state}${status.error ? ` (${status.error.code}: ${status.error.message})` : ""}`);
    if (status.state === "done") await this.#forget(job.id);
    const outcome =
      status.state === "done"
        ? { ok: true as const, destination: status.destination, files: status.files.length, bytes: status.totalBytes }
        : status.state === "failed"
          ? { ok: false as const, error: status.error ?? { code: "internal", message: "The download failed." } }
          : status.state === "cancelled"
            ? { ok: false as const, error: { code: "cancelled", message: "The download was cancelled. What arrived is kept: starting it again into the same folder continues it." } }
            : null;
    if (outcome) this.options.events.emit("download.finished", { downloadId: job.id, outcome });
  }

  #hub(requested: string | undefined, signal: AbortSignal): HubClient {
    const settings = this.options.settings();
    const endpoint = chooseEndpoint({ requested, setting: settings.hubEndpoint, env: this.options.env });
    const token = settings.hubToken ?? (this.options.env["HF_TOKEN"]?.trim() || null);
    return new HubClient(endpoint, token, signal);
  }

  // ── The data folder's list of unfinished downloads ────────────────────────────────────────────────

  async #remember(id: string, request: JobRequest): Promise<void> {
    const entry = { repo: request.repo, revision: request.revision, destination: resolve(request.destination), endpoint: request.endpoint, outType: request.outType };
    await writeFileAtomically(join(this.options.registryDir, `${id}.json`), JSON.stringify(entry, null, 2));
  }

  async #forget(id: string): Promise<void> {
    await rm(join(this.options.registryDir, `${id}.json`), { force: true });
  }

  async #rememberedIds(): Promise<string[]> {
    const names = await readdir(this.options.registryDir).catch(() => [] as string[]);
    return names.filter((name) => /^[0-9a-f]{16}\.json$/.test(name)).map((name) => name.slice(0, -5));
  }

  /** A download an earlier run left unfinished, as its folder shows it; forgotten when the folder no longer has it. */
  async #remembered(id: string): Promise<DownloadJob | null> {
    if (!/^[0-9a-f]{16}$/.test(id)) return null;
    let entry: z.infer<typeof rememberedSchema>;
    try {
      entry = rememberedSchema.parse(JSON.parse(await readFile(join(this.options.registryDir, `${id}.json`), "utf8")));
    } catch {
      return null;
    }
    const job = new DownloadJob(id, { repo: entry.repo, revision: entry.revision, destination: entry.destination, endpoint: entry.endpoint, outType: entry.outType });
    if (await job.loadFromDisk()) return job;
    await this.#forget(id);
    return null;
  }
}
