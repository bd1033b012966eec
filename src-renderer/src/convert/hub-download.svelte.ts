// BiLLa's release from Hugging Face, for step 1 of the wizard and the download indicator: which model and where,
// the plan (files, size, free space), and every download the services know, kept current by their events. It
// lives as long as the app, so a download survives leaving the page, and after a restart the unfinished one is
// offered again.
import type { ApiClient, DownloadPlan, DownloadStatus, EventMessage } from "../../../src-main/contract/api.js";
import { failureOf, type Failure } from "../shell/failure.js";
import { baseName, cleanTypedPath, joinPath } from "../shell/paths.js";
import type { Check } from "./convert-wizard.svelte.js";

/** BiLLa's two releases, the chat model first. Meta's original LLaMA is not among them: its licence forbids it. */
export const BILLA_RELEASES = [
  { repo: "Neutralzz/BiLLa-7B-SFT", hint: "convert.download.sftHint" },
  { repo: "Neutralzz/BiLLa-7B-LLM", hint: "convert.download.llmHint" },
] as const;

/** Downloads that still need the user: running, paused, stopped by a failure, or left unfinished by an earlier run. */
const UNFINISHED: ReadonlySet<DownloadStatus["state"]> = new Set(["running", "paused", "failed", "interrupted"]);

export interface HubDownloadHost {
  api: ApiClient;
  dataDir(): string | null;
  /** The wizard's download finished, checked: continue with that folder. */
  onDownloaded(destination: string): void;
}

export class HubDownload {
  repo: string = $state(BILLA_RELEASES[0].repo);
  destination = $state("");
  /** Once the user typed a folder, choosing another model no longer rewrites it. */
  destinationEdited = $state(false);
  plan: Check<DownloadPlan> = $state({ status: "idle" });
  /** Every download the services reported, newest state each. */
  downloads: DownloadStatus[] = $state([]);
  /** The download step 1 shows: the one started or resumed from here. */
  currentId: string | null = $state(null);
  busy = $state(false);
  /** A start, pause, resume or cancel that was refused. */
  failure: Failure | null = $state(null);

  constructor(private readonly host: HubDownloadHost) {}

  get current(): DownloadStatus | null {
    return this.downloads.find((download) => download.id === this.currentId) ?? null;
  }

  /** What the indicator shows: downloads not finished, running ones first. */
  get unfinished(): DownloadStatus[] {
    return this.downloads.filter((download) => UNFINISHED.has(download.state)).sort((a, b) => Number(b.state === "running") - Number(a.state === "running"));
  }

  /** A download an earlier run left unfinished, other than the one on screen: offered for resuming. */
  get leftOver(): DownloadStatus | null {
    return this.downloads.find((download) => download.id !== this.currentId && (download.state === "interrupted" || download.state === "paused")) ?? null;
  }

  suggestedDestination(): string {
    const dataDir = this.host.dataDir();
    return dataDir ? joinPath(joinPath(dataDir, "downloads"), baseName(this.repo)) : "";
  }

  /** Fills the suggested folder once the data folder is known, unless the user typed one. */
  prepare(): void {
    if (!this.destinationEdited && !this.destination) this.destination = this.suggestedDestination();
  }

  setRepo(repo: string): void {
    this.repo = repo;
    this.plan = { status: "idle" };
    if (!this.destinationEdited) this.destination = this.suggestedDestination();
  }

  setDestination(path: string): void {
    this.destination = path;
    this.destinationEdited = true;
    this.plan = { status: "idle" };
  }

  /** Shows this download in step 1 (the indicator's link). */
  show(id: string): void {
    const shown = this.downloads.find((download) => download.id === id);
    if (!shown) return;
    this.currentId = id;
    this.repo = shown.repo;
    this.destination = shown.destination;
    this.destinationEdited = true;
  }

  async checkPlan(): Promise<boolean> {
    const destination = cleanTypedPath(this.destination);
    if (!destination) {
      this.plan = { status: "failed", failure: { key: "convert.download.noDestination" } };
      return false;
    }
    this.plan = { status: "checking" };
    try {
      const plan = await this.host.api.invoke("download.plan", { repo: this.repo, destination });
      this.plan = { status: "ok", findings: plan };
      return plan.enoughSpace;
    } catch (error) {
      this.plan = { status: "failed", failure: failureOf(error, { not_found: "convert.download.notFound", access_denied: "convert.download.denied", network: "convert.download.offline" }) };
      return false;
    }
  }

  async start(): Promise<void> {
    await this.#act(async () => {
      // Planned again: the space may have changed since the last check.
      if (!(await this.checkPlan())) return;
      const { downloadId } = await this.host.api.invoke("download.start", { repo: this.repo, destination: cleanTypedPath(this.destination) });
      this.currentId = downloadId;
    });
  }

  pause(id: string): Promise<void> {
    return this.#act(async () => void (await this.host.api.invoke("download.pause", { downloadId: id })));
  }

  resume(id: string): Promise<void> {
    return this.#act(async () => {
      await this.host.api.invoke("download.resume", { downloadId: id });
      this.show(id);
    });
  }

  cancel(id: string, discard = false): Promise<void> {
    return this.#act(async () => void (await this.host.api.invoke("download.cancel", { downloadId: id, discard })));
  }

  /** What the services know now (at start: what earlier runs left unfinished). */
  async refresh(): Promise<void> {
    try {
      const { downloads } = await this.host.api.invoke("download.list", {});
      this.downloads = downloads;
    } catch {
      // Older services without downloads: nothing to show.
    }
  }

  onEvent(event: EventMessage): void {
    if (event.name === "download.progress") {
      const index = this.downloads.findIndex((download) => download.id === event.payload.id);
      if (index >= 0) this.downloads[index] = event.payload;
      else this.downloads.push(event.payload);
      return;
    }
    if (event.name === "download.finished") {
      const { downloadId, outcome } = event.payload;
      const download = this.downloads.find((candidate) => candidate.id === downloadId);
      if (download && !outcome.ok && outcome.error.code === "cancelled") download.state = "cancelled";
      if (outcome.ok && downloadId === this.currentId) this.host.onDownloaded(outcome.destination);
    }
  }

  async #act(action: () => Promise<void>): Promise<void> {
    this.busy = true;
    this.failure = null;
    try {
      await action();
    } catch (error) {
      this.failure = failureOf(error, { not_found: "convert.download.notFound", access_denied: "convert.download.denied", network: "convert.download.offline", busy: "convert.download.busy" });
    } finally {
      this.busy = false;
    }
  }
}
