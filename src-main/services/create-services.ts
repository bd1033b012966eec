// The one factory that builds the services. Electron, web mode, the CLI and the tests all call it
// with their own data directory, so they build exactly the same thing.
import { mkdirSync } from "node:fs";
import type { AppInfo, PromptFormat, RawApi } from "../contract/api.js";
import { BillaError } from "../contract/errors.js";
import { ApiAnswers } from "./api-server/api-answers.js";
import { ApiServerService, type ApiServerListen } from "./api-server/api-server-service.js";
import { RequestQueue } from "./api-server/request-queue.js";
import { APP_VERSION } from "./app-root.js";
import { ConversionService } from "./conversion/conversion-service.js";
import { dataPaths, type DataPaths } from "./data-dir.js";
import { createDispatcher } from "./dispatcher.js";
import { DEFAULT_TUNING, type DownloadTuning } from "./download/download-job.js";
import { DownloadService } from "./download/download-service.js";
import { EventBus } from "./event-bus.js";
import { createFileLogger, type Logger } from "./logger.js";
import { ModelLibrary } from "./models/model-library.js";
import { DEFAULT_REMOTE_TIMEOUTS, type RemoteTimeouts } from "./remote/remote-client.js";
import { RemoteService } from "./remote/remote-service.js";
import { LlamaRuntime, type GpuPreference } from "./runtime/llama-runtime.js";
import { openDatabase } from "./storage/database.js";
import { ChatService } from "./history/chat-service.js";
import { exportHistory } from "./history/history-export.js";
import { parseHistoryExport } from "./history/history-import.js";
import { HistoryStore } from "./history/history-store.js";
import { exportComparison } from "./quality/comparison-export.js";
import { QualityService } from "./quality/quality-service.js";
import { QualityStore } from "./quality/quality-store.js";
import { SettingsStore } from "./settings/settings-store.js";
import { NO_SHELL, type ShellActions } from "./shell/shell-actions.js";
import { backupDatabase, restoreDatabase } from "./storage/backup.js";
import { SystemService } from "./system/system-service.js";

/** Deleted conversations can be restored for this long, then they are removed for good. */
const TRASH_DAYS = 30;
/** API requests waiting behind the one being answered; more get 503 with Retry-After. */
const API_QUEUE_LENGTH = 16;

export interface ServiceOptions {
  dataDir: string;
  transport: AppInfo["transport"];
  gpu?: GpuPreference;
  /** Defaults to a log file inside the data directory. */
  logger?: Logger;
  /** Native dialogs and links; only the Electron transport has them. */
  shell?: ShellActions;
  /** Another history database than the data directory's (the CLI's `--db`). */
  database?: string;
  /** Where HF_ENDPOINT and HF_TOKEN are read; the process's environment by default. */
  env?: NodeJS.ProcessEnv;
  /** Timings and the free-space probe of downloads (tests shorten the waits and shrink the disk). */
  downloadTuning?: Partial<DownloadTuning>;
  /**
   * The OpenAI-compatible API's HTTP server (transports/openai-api), for the processes that can serve it:
   * desktop and web mode (`apiServer.startFromSettings()` at start-up) and `billa serve`.
   */
  listenApi?: ApiServerListen;
  /** API requests that may wait behind the one being answered before more are refused (503). */
  apiQueueLength?: number;
  /** How long remote models' servers may keep silent (tests shorten the waits). */
  remoteTimeouts?: Partial<RemoteTimeouts>;
}

export interface Services {
  api: RawApi;
  paths: DataPaths;
  logger: Logger;
  /** The local OpenAI-compatible API server (`billa serve` runs it with its own options). */
  apiServer: ApiServerService;
  /** The shell was asked to open a model file (second launch, file association). */
  openModelFile(path: string): void;
  dispose(): Promise<void>;
}

export function createServices(options: ServiceOptions): Services {
  const paths = dataPaths(options.dataDir);
  mkdirSync(paths.models, { recursive: true });
  const logger = options.logger ?? createFileLogger(paths.logFile);
  const events = new EventBus();
  const db = openDatabase(options.database ?? paths.database);
  const models = new ModelLibrary(db, paths.models);
  const settings = new SettingsStore(db);
  const history = new HistoryStore(db);
  history.recoverInterrupted();
  history.purgeDeleted(new Date(Date.now() - TRASH_DAYS * 86_400_000));
  const runtime = new LlamaRuntime(paths.sequenceStates, options.gpu ?? settings.get().gpu, (modelPath, progress) => events.emit("model.loadProgress", { modelPath, progress }), logger);
  const system = new SystemService(runtime, APP_VERSION);
  const conversions = new ConversionService(events, logger, async (path) => (await models.import(path, "register")).id);
  const remote = new RemoteService(models, { ...DEFAULT_REMOTE_TIMEOUTS, ...options.remoteTimeouts }, logger);
  const chat = new ChatService(history, runtime, remote, models, settings, events);
  const downloads = new DownloadService({
    events,
    logger,
    settings: () => settings.get(),
    registryDir: paths.downloads,
    modelsDir: paths.models,
    tuning: { ...DEFAULT_TUNING, ...options.downloadTuning },
    env: options.env ?? process.env,
  });
  const quality = new QualityService({ runtime, models, store: new QualityStore(db), events, logger, cacheDir: paths.baseLogits, appVersion: APP_VERSION });
  const shell = options.shell ?? NO_SHELL;
  const apiQueue = new RequestQueue(options.apiQueueLength ?? API_QUEUE_LENGTH, () => apiServer.countsChanged());
  const apiServer = new ApiServerService(settings, new ApiAnswers(runtime, models, settings, chat, apiQueue), apiQueue, events, logger, options.listenApi ?? null);

  /** The file behind a request's model: a library entry (with its prompt-format choice) or a path. */
  async function chosenModel(input: { modelId?: string | undefined; modelPath?: string | undefined; promptFormat?: PromptFormat | undefined }) {
    const entry = input.modelId === undefined ? null : await models.loadable(input.modelId);
    const modelPath = entry?.path ?? input.modelPath;
    if (modelPath === undefined) throw new BillaError("invalid_input", "Choose a model: a library entry or a GGUF file.");
    return { modelId: input.modelId ?? null, modelPath, promptFormat: input.promptFormat ?? entry?.promptFormat ?? "auto" };
  }

  const api = createDispatcher(
    {
      "app.info": async () => ({ version: APP_VERSION, dataDir: paths.root, transport: options.transport }),
      "system.info": () => system.info(),
      "conversion.start": async (input) => conversions.start(input),
      "conversion.restore": async (input) => conversions.restore(input),
      "conversion.cancel": async ({ jobId }) => conversions.cancel(jobId),
      "model.inspect": ({ path }) => conversions.inspect(path),
      "models.installDemo": async () => conversions.installDemo(paths.models),
      "models.list": async () => ({ models: await models.list() }),
      "models.import": ({ path, mode }) => models.import(path, mode),
      "models.rename": ({ id, name }) => models.rename(id, name),
      "models.delete": ({ id }) => models.delete(id),
      "models.setDefault": ({ id }) => models.setDefault(id),
      "models.setPromptFormat": ({ id, promptFormat }) => models.setPromptFormat(id, promptFormat),
      "runtime.estimate": async (input) => runtime.estimate({ ...input, ...(await chosenModel(input)) }),
      "runtime.load": async (input) => runtime.load({ ...input, ...(await chosenModel(input)) }),
      "runtime.unload": () => runtime.unload(),
      "runtime.state": async () => runtime.state(),
      "chat.generate": ({ conversationId, modelId, messageId, history, question, sampling }) =>
        chat.generateUnsaved(modelId, {
          conversationId,
          history,
          question,
          sampling,
          onText: (text) => events.emit("generation.chunk", { conversationId, messageId, text }),
          onTrimmed: (droppedTurns) => events.emit("generation.contextTrimmed", { conversationId, messageId, droppedTurns }),
        }),
      "chat.send": (input) => chat.send(input),
      "chat.regenerate": (input) => chat.regenerate(input),
      "chat.edit": (input) => chat.edit(input),
      "chat.stop": async ({ conversationId }) => chat.stop(conversationId),
      "history.list": async (input) => ({ conversations: history.list(input) }),
      "history.get": async ({ id }) => ({ conversation: history.conversation(id), messages: history.messages(id) }),
      "history.create": async ({ title, modelId, sampling }) => history.create({ title, modelId, sampling: sampling ?? settings.get().sampling }),
      "history.update": async ({ id, ...changes }) => history.update(id, changes),
      "history.selectBranch": async ({ conversationId, messageId }) => history.selectBranch(conversationId, messageId),
      "history.delete": async ({ id }) => history.delete(id),
      "history.restore": async ({ id }) => history.restore(id),
      "history.search": async ({ query, limit }) => ({ results: history.search(query, limit) }),
      "history.export": async ({ format, conversationIds }) => exportHistory(history.exportData(conversationIds), format),
      "history.import": async ({ content }) => {
        const counts = history.importData(parseHistoryExport(content));
        events.emit("history.changed", { conversationIds: [] });
        return counts;
      },
      "quality.measure": (input) => quality.measure(input),
      "quality.cancel": async ({ jobId }) => quality.cancel(jobId),
      "quality.results": async ({ modelIds }) => ({ results: quality.results(modelIds) }),
      "quality.compare": (input) => quality.compare(input),
      "quality.exportComparison": async ({ comparison, format }) => exportComparison(comparison, format),
      "history.backup": ({ outPath }) => backupDatabase(db, outPath),
      "history.restoreBackup": async ({ path }) => {
        if (chat.answering) throw new BillaError("busy", "An answer is being written; stop it before restoring a backup.");
        const { previousSavedTo } = await restoreDatabase(db, path, paths.backups);
        history.recoverInterrupted();
        events.emit("history.changed", { conversationIds: [] });
        return { conversations: history.list({ archived: false, deleted: false }).length, previousSavedTo };
      },
      "settings.get": async () => settings.get(),
      "settings.update": async (changes) => settings.update(changes),
      "apiServer.status": async () => apiServer.status(),
      "apiServer.configure": (changes) => apiServer.configure(changes),
      "apiServer.renewKey": async () => apiServer.renewKey(),
      "shell.pickFile": (input) => shell.pickFile(input),
      "shell.pickFolder": (input) => shell.pickFolder(input),
      "shell.pickSaveFile": (input) => shell.pickSaveFile(input),
      "shell.openDataFolder": () => shell.openPath(paths.root),
      "shell.showLogs": () => shell.openPath(paths.logFile),
      "shell.openExternal": ({ url }) => shell.openExternal(url),
      "download.plan": (input) => downloads.plan(input),
      "download.start": (input) => downloads.start(input),
      "download.pause": ({ downloadId }) => downloads.pause(downloadId),
      "download.resume": ({ downloadId }) => downloads.resume(downloadId),
      "download.cancel": ({ downloadId, discard }) => downloads.cancel(downloadId, discard),
      "download.list": () => downloads.list(),
      "models.addRemote": (input) => remote.add(input),
      "models.listRemoteModels": (input) => remote.listModels(input),
      "models.checkRemote": ({ id }) => remote.check(id),
    },
    events,
    logger,
  );

  async function dispose(): Promise<void> {
    await chat.dispose();
    await downloads.dispose();
    await apiServer.dispose();
    await conversions.dispose();
    await quality.dispose();
    await runtime.dispose();
    db.close();
  }

  return { api, paths, logger, apiServer, openModelFile: (path) => events.emit("shell.openModelFile", { path }), dispose };
}
