// The model library and the runtime's state, kept for the app's life: a model dropped on the window or
// opened by the OS is imported while another page is showing, and a load in progress survives a page change.
// Remote models' servers are asked whether they answer each time the library is shown.
import type {
  ApiClient,
  EventMessage,
  LoadedModel,
  LocalModelEntry,
  MemoryEstimate,
  ModelEntry,
  PromptFormat,
  RemoteCheck,
  RemoteModelEntry,
  RequestInput,
  RequestOutput,
} from "../../../src-main/contract/api.js";
import type { MessageKey } from "../i18n/i18n.svelte.js";
import { errorCode, failureOf, type Failure } from "../shell/failure.js";

export type GpuLayers = "auto" | "max" | number;
export type ImportMode = "copy" | "register";
type RuntimeState = RequestOutput<"runtime.state">;

export type Estimate = { status: "pending" } | { status: "ok"; estimate: MemoryEstimate } | { status: "failed"; failure: Failure };
/** Whether a remote model's server answers: being asked, or its answer. */
export type Reachability = { status: "pending" } | { status: "done"; check: RemoteCheck } | { status: "failed"; failure: Failure };

export interface Notice {
  tone: "info" | "success" | "error";
  key: MessageKey;
  params?: Record<string, string | number>;
  detail?: string;
}

export class ModelLibraryState {
  models: ModelEntry[] = $state([]);
  /** false until the first list arrives: the page shows "reading" instead of "empty". */
  listed = $state(false);
  listFailure: Failure | null = $state(null);
  runtime: RuntimeState = $state({ loaded: null, generating: null, queued: 0 });
  estimates: Record<string, Estimate> = $state({});
  reachability: Record<string, Reachability> = $state({});
  /** The entry being loaded, and how far (0–1) from `model.loadProgress`. */
  loading: { id: string; path: string; progress: number } | null = $state(null);
  importing = $state(false);
  importMode: ImportMode = $state("copy");
  /** Entries with a request in flight (rename, delete, default, format): their buttons wait. */
  busy: Record<string, boolean> = $state({});
  notice: Notice | null = $state(null);
  /** Options for loading and for the memory-fit estimates; seeded from the settings' defaults. */
  gpuLayers: GpuLayers = $state("auto");
  contextSize = $state(2048);
  #estimateRound = 0;

  constructor(private readonly api: ApiClient) {}

  get loadedModel(): LoadedModel | null {
    return this.runtime.loaded;
  }

  isLoaded(entry: ModelEntry): boolean {
    const loaded = this.runtime.loaded;
    return entry.kind === "local" && loaded !== null && (loaded.modelId === entry.id || (loaded.modelId === null && loaded.modelPath === entry.path));
  }

  useDefaults(gpuLayers: GpuLayers, contextSize: number): void {
    this.gpuLayers = gpuLayers;
    this.contextSize = contextSize;
  }

  async refresh(): Promise<void> {
    try {
      const [{ models }, runtime] = await Promise.all([this.api.invoke("models.list", {}), this.api.invoke("runtime.state", {})]);
      this.models = models;
      this.runtime = runtime;
      this.listFailure = null;
    } catch (error) {
      this.listFailure = failureOf(error);
    }
    this.listed = true;
  }

  async refreshRuntime(): Promise<void> {
    this.runtime = await this.api.invoke("runtime.state", {}).catch(() => this.runtime);
  }

  /** Memory-fit estimates for every readable entry with the current options; older rounds are dropped. */
  async estimateAll(): Promise<void> {
    const round = ++this.#estimateRound;
    const { gpuLayers, contextSize } = this;
    const entries = this.models.filter((entry) => entry.kind === "local" && entry.status === "ok");
    // Only entries without a result show "estimating": a re-estimate keeps the old badge until the new one
    // arrives, so changing the context size does not make every badge flicker.
    for (const entry of entries) this.estimates[entry.id] ??= { status: "pending" };
    for (const entry of entries) {
      let result: Estimate;
      try {
        result = { status: "ok", estimate: await this.api.invoke("runtime.estimate", { modelId: entry.id, gpuLayers, contextSize }) };
      } catch (error) {
        result = { status: "failed", failure: failureOf(error) };
      }
      if (round !== this.#estimateRound) return;
      this.estimates[entry.id] = result;
    }
  }

  /**
   * Asks every remote model's server (or the one given) whether it answers now. Each badge changes when its answer
   * comes; a server asked again along with the others keeps its last answer on screen meanwhile.
   */
  async checkRemotes(only?: RemoteModelEntry): Promise<void> {
    const entries = only ? [only] : this.models.filter((entry): entry is RemoteModelEntry => entry.kind === "remote");
    await Promise.all(
      entries.map(async (entry) => {
        if (only) this.reachability[entry.id] = { status: "pending" };
        else this.reachability[entry.id] ??= { status: "pending" };
        try {
          this.reachability[entry.id] = { status: "done", check: await this.api.invoke("models.checkRemote", { id: entry.id }) };
        } catch (error) {
          this.reachability[entry.id] = { status: "failed", failure: failureOf(error) };
        }
      }),
    );
  }

  /** The models a server lists, for the add form; null (and a notice) when it cannot be asked. */
  async listRemoteModels(input: RequestInput<"models.listRemoteModels">): Promise<string[] | null> {
    this.notice = null;
    try {
      return (await this.api.invoke("models.listRemoteModels", input)).models;
    } catch (error) {
      this.notice = { tone: "error", ...failureOf(error, {}, {}), key: "models.remote.listFailed", params: { url: input.baseUrl } };
      return null;
    }
  }

  async addRemote(input: RequestInput<"models.addRemote">): Promise<RemoteModelEntry | null> {
    this.notice = null;
    try {
      const entry = await this.api.invoke("models.addRemote", input);
      this.notice = { tone: "success", key: "models.imported", params: { name: entry.name } };
      await this.refresh();
      void this.checkRemotes(entry);
      return entry;
    } catch (error) {
      this.notice = { tone: "error", ...failureOf(error, {}, {}), key: "models.remote.addFailed" };
      return null;
    }
  }

  async importPath(path: string): Promise<LocalModelEntry | null> {
    this.importing = true;
    this.notice = null;
    try {
      const entry = await this.api.invoke("models.import", { path, mode: this.importMode });
      this.notice = { tone: "success", key: "models.imported", params: { name: entry.name } };
      await this.refresh();
      void this.estimateAll();
      return entry;
    } catch (error) {
      // models.import answers bad_file for a path with nothing there too; a look at the path tells the two
      // apart, and "there is no file" is the more useful thing to say.
      const missing = errorCode(error) === "bad_file" && (await this.api.invoke("model.inspect", { path }).then(() => false, (inspectError: unknown) => errorCode(inspectError) === "not_found"));
      const failure = failureOf(error, { not_found: "models.importNotFound", bad_file: missing ? "models.importNotFound" : "models.importBadFile", invalid_input: "models.importInvalid" }, { path });
      this.notice = { tone: "error", ...failure };
      return null;
    } finally {
      this.importing = false;
    }
  }

  /** Runs one request for an entry, then lists again; a failure becomes the page's notice. */
  async #onEntry(entry: ModelEntry, work: () => Promise<unknown>, failed: MessageKey): Promise<boolean> {
    this.busy[entry.id] = true;
    try {
      await work();
      await this.refresh();
      return true;
    } catch (error) {
      this.notice = { tone: "error", ...failureOf(error, {}, {}), key: failed, params: { name: entry.name } };
      await this.refresh();
      return false;
    } finally {
      delete this.busy[entry.id];
    }
  }

  rename(entry: ModelEntry, name: string): Promise<boolean> {
    return this.#onEntry(entry, () => this.api.invoke("models.rename", { id: entry.id, name }), "models.renameFailed");
  }

  async remove(entry: ModelEntry): Promise<boolean> {
    const removed = await this.#onEntry(entry, () => this.api.invoke("models.delete", { id: entry.id }), "models.deleteFailed");
    if (removed) {
      delete this.estimates[entry.id];
      this.notice = { tone: "success", key: "models.deleted", params: { name: entry.name } };
    }
    return removed;
  }

  setDefault(entry: ModelEntry): Promise<boolean> {
    return this.#onEntry(entry, () => this.api.invoke("models.setDefault", { id: entry.id }), "models.defaultFailed");
  }

  setPromptFormat(entry: LocalModelEntry, promptFormat: PromptFormat): Promise<boolean> {
    return this.#onEntry(entry, () => this.api.invoke("models.setPromptFormat", { id: entry.id, promptFormat }), "models.formatFailed");
  }

  async load(entry: LocalModelEntry): Promise<LoadedModel | null> {
    this.loading = { id: entry.id, path: entry.path, progress: 0 };
    this.notice = null;
    try {
      const loaded = await this.api.invoke("runtime.load", { modelId: entry.id, gpuLayers: this.gpuLayers, contextSize: this.contextSize });
      const runtime = await this.api.invoke("runtime.state", {}).catch(() => null);
      // Loading ends and the loaded state shows in the same update: no frame where neither is on screen.
      this.loading = null;
      if (runtime) this.runtime = runtime;
      this.notice = { tone: "success", key: "models.loadedNotice", params: { name: loaded.name } };
      return loaded;
    } catch (error) {
      this.notice = { tone: "error", ...failureOf(error, {}, {}), key: "models.loadFailed", params: { name: entry.name } };
      await this.refreshRuntime();
      return null;
    } finally {
      this.loading = null;
    }
  }

  async unload(): Promise<void> {
    this.notice = null;
    try {
      await this.api.invoke("runtime.unload", {});
    } catch (error) {
      this.notice = { tone: "error", ...failureOf(error), key: "models.unloadFailed" };
    }
    await this.refreshRuntime();
  }

  onEvent(event: EventMessage): void {
    if (event.name === "model.loadProgress" && this.loading && event.payload.modelPath === this.loading.path) {
      this.loading.progress = event.payload.progress;
    }
  }
}
