// The chat page's state: the conversation list, the conversation on screen (its whole message tree; the
// branch shown is derived), the answer streaming into it, and every action the page offers. Components only
// read this and call its methods; all traffic with the services goes through here.
import type {
  ApiClient,
  Conversation,
  ConversationSummary,
  EventMessage,
  ExportFormat,
  Message,
  ModelEntry,
  Sampling,
  SearchResult,
} from "../../../src-main/contract/api.js";
import { Alternatives, branchOf } from "../../../src-main/contract/conversation-tree.js";
import { DemoInstall } from "./demo-install.svelte.js";
import { downloadFile } from "./download.js";
import { SearchState } from "./search-state.svelte.js";
import { StreamingText } from "./streaming-text.svelte.js";

export type FocusTarget = "composer" | "search" | "settings";

export interface Toast {
  message: string;
  action?: { label: string; run: () => void | Promise<void> };
}

/** What the page's strings need to say; the state stays free of i18n. */
export interface ChatTexts {
  deleted: (title: string) => string;
  undo: string;
}

const TOAST_MS = 8000;

function upsert(messages: readonly Message[], ...changed: (Message | null)[]): Message[] {
  const result = [...messages];
  for (const message of changed) {
    if (!message) continue;
    const at = result.findIndex((candidate) => candidate.id === message.id);
    if (at === -1) result.push(message);
    else result[at] = message;
  }
  return result;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export class ChatState {
  conversations: ConversationSummary[] = $state.raw([]);
  listLoaded = $state(false);
  conversation: Conversation | null = $state.raw(null);
  /** Every message of the conversation on screen, all alternatives included. */
  messages: Message[] = $state.raw([]);
  models: ModelEntry[] | null = $state.raw(null);
  /** Conversations answering right now (this window's or another's), by id. */
  answering: Record<string, true> = $state({});
  /** Answers for which the context overflowed while this page watched (stats tell it afterwards too). */
  trimmed: Record<string, number> = $state({});
  /** A failure to tell the user, above the message box. */
  notice: string | null = $state(null);
  toast: Toast | null = $state.raw(null);
  /** A message to bring into view once it is on screen (a search result). */
  reveal: string | null = $state(null);
  /** Electron hands links to the system browser; web mode opens a tab. */
  transport: "electron" | "web" | "cli" | null = $state(null);

  readonly stream = new StreamingText();
  readonly search: SearchState;
  readonly demo: DemoInstall;

  readonly branch = $derived(branchOf(this.messages, this.conversation?.currentMessageId ?? null));
  readonly alternatives = $derived(new Alternatives(this.messages));
  readonly isAnswering = $derived(this.conversation !== null && this.answering[this.conversation.id] === true);
  readonly needsModel = $derived(this.models !== null && this.models.length === 0);

  // Bookkeeping, not state: nothing on screen reads these, so they are plain collections.
  // eslint-disable-next-line svelte/prefer-svelte-reactivity -- not shown; see above
  readonly #focusables = new Map<FocusTarget, HTMLElement>();
  /** Conversations with a chat request of this window in flight. */
  // eslint-disable-next-line svelte/prefer-svelte-reactivity -- not shown; see above
  readonly #ownRequests = new Set<string>();
  // eslint-disable-next-line svelte/prefer-svelte-reactivity -- not shown; see above
  readonly #startedDuringSend = new Set<string>();
  #toastTimer: ReturnType<typeof setTimeout> | undefined;
  #listRefresh: Promise<void> | null = null;
  #listAgain = false;
  #openSequence = 0;

  constructor(
    private readonly api: ApiClient,
    private readonly texts: ChatTexts,
  ) {
    this.search = new SearchState(api);
    this.demo = new DemoInstall(api);
  }

  /** Subscribes to the services' events and loads what the page shows first; returns the cleanup. */
  start(): () => void {
    const unsubscribe = this.api.subscribe((event) => this.#handle(event));
    void this.refreshList();
    void this.refreshModels();
    this.api.invoke("app.info", {}).then(
      (info) => (this.transport = info.transport),
      () => undefined,
    );
    this.api.invoke("runtime.state", {}).then(
      (state) => {
        if (state.generating !== null) this.answering[state.generating] = true;
      },
      () => undefined,
    );
    return () => {
      unsubscribe();
      this.search.dispose();
      clearTimeout(this.#toastTimer);
      this.stream.end();
    };
  }

  // Focus: components register their elements, shortcuts and flows move focus to them.
  registerFocus(target: FocusTarget, element: HTMLElement): () => void {
    this.#focusables.set(target, element);
    return () => {
      if (this.#focusables.get(target) === element) this.#focusables.delete(target);
    };
  }

  focus(target: FocusTarget): void {
    this.#focusables.get(target)?.focus();
  }

  async refreshList(): Promise<void> {
    // Events can ask for many refreshes in a row: one runs at a time, and one more after it if asked meanwhile.
    if (this.#listRefresh) {
      this.#listAgain = true;
      return this.#listRefresh;
    }
    this.#listRefresh = (async () => {
      try {
        do {
          this.#listAgain = false;
          const { conversations } = await this.api.invoke("history.list", {});
          this.conversations = conversations;
          this.listLoaded = true;
          // The services name a conversation after its first question: the header follows.
          const current = this.conversation && conversations.find((summary) => summary.id === this.conversation?.id);
          if (current && this.conversation && current.title !== this.conversation.title) this.conversation = { ...this.conversation, title: current.title };
        } while (this.#listAgain);
      } catch (error) {
        this.notice = messageOf(error);
      } finally {
        this.#listRefresh = null;
      }
    })();
    return this.#listRefresh;
  }

  async refreshModels(): Promise<void> {
    try {
      this.models = (await this.api.invoke("models.list", {})).models;
    } catch (error) {
      this.models ??= [];
      this.notice = messageOf(error);
    }
  }

  modelName(modelId: string | null): string | null {
    return modelId === null ? null : (this.models?.find((model) => model.id === modelId)?.name ?? null);
  }

  /** The library entry a conversation answers with: its own model, else the default one. */
  modelEntry(modelId: string | null): ModelEntry | null {
    return this.models?.find((model) => (modelId === null ? model.isDefault : model.id === modelId)) ?? null;
  }

  async open(id: string): Promise<void> {
    const sequence = ++this.#openSequence;
    try {
      const { conversation, messages } = await this.api.invoke("history.get", { id });
      if (sequence !== this.#openSequence) return;
      this.#show(conversation, messages);
    } catch (error) {
      this.notice = messageOf(error);
    }
  }

  #show(conversation: Conversation, messages: Message[]): void {
    if (this.stream.messageId !== null && !messages.some((message) => message.id === this.stream.messageId)) this.stream.end();
    this.conversation = conversation;
    this.messages = messages;
    this.notice = null;
    // Opened while an answer streams (another window asked, or we came back to it): continue from the saved text.
    const streaming = messages.find((message) => message.status === "streaming");
    if (streaming && this.answering[conversation.id] && this.stream.messageId !== streaming.id) this.stream.begin(streaming.id, streaming.text);
  }

  /** A new conversation, or the empty one already on screen; the message box gets the focus. */
  async newChat(): Promise<void> {
    if (this.conversation && this.messages.length === 0) {
      this.focus("composer");
      return;
    }
    try {
      const conversation = await this.api.invoke("history.create", {});
      ++this.#openSequence;
      this.#show(conversation, []);
      void this.refreshList();
      this.focus("composer");
    } catch (error) {
      this.notice = messageOf(error);
    }
  }

  async send(text: string): Promise<boolean> {
    const trimmed = text.trim();
    if (trimmed === "") return false;
    let conversation = this.conversation;
    if (!conversation) {
      try {
        conversation = await this.api.invoke("history.create", {});
        ++this.#openSequence;
        this.#show(conversation, []);
      } catch (error) {
        this.notice = messageOf(error);
        return false;
      }
    }
    if (this.answering[conversation.id]) return false;
    const conversationId = conversation.id;
    return this.#converse(conversationId, async () => {
      const { question, answer } = await this.api.invoke("chat.send", { conversationId, text: trimmed });
      this.#settled(conversationId, question, answer);
    });
  }

  async regenerate(answerId: string): Promise<void> {
    const conversationId = this.conversation?.id;
    if (!conversationId || this.answering[conversationId]) return;
    await this.#converse(conversationId, async () => {
      const { answer } = await this.api.invoke("chat.regenerate", { conversationId, messageId: answerId });
      this.#settled(conversationId, null, answer);
    });
  }

  async edit(questionId: string, text: string): Promise<boolean> {
    const conversationId = this.conversation?.id;
    if (!conversationId || this.answering[conversationId] || text.trim() === "") return false;
    return this.#converse(conversationId, async () => {
      const { question, answer } = await this.api.invoke("chat.edit", { conversationId, messageId: questionId, text: text.trim() });
      this.#settled(conversationId, question, answer);
    });
  }

  /**
   * Runs one question/answer request (it returns when the answer ends). True when the question was taken;
   * false when it failed before any answer began, which is told above the message box (an answer that began
   * and failed shows its error itself).
   */
  async #converse(conversationId: string, request: () => Promise<void>): Promise<boolean> {
    this.answering[conversationId] = true;
    this.notice = null;
    this.#ownRequests.add(conversationId);
    this.#startedDuringSend.delete(conversationId);
    try {
      await request();
      return true;
    } catch (error) {
      if (!this.#startedDuringSend.has(conversationId)) this.notice = messageOf(error);
      return this.#startedDuringSend.has(conversationId);
    } finally {
      delete this.answering[conversationId];
      this.#ownRequests.delete(conversationId);
      this.#startedDuringSend.delete(conversationId);
      void this.refreshList();
    }
  }

  /** The saved question and answer as the request returned them (the events may have said it already). */
  #settled(conversationId: string, question: Message | null, answer: Message): void {
    if (this.conversation?.id !== conversationId) return;
    this.stream.end(answer.id);
    this.messages = upsert(this.messages, question, answer);
    if (this.conversation.currentMessageId !== answer.id) this.conversation = { ...this.conversation, currentMessageId: answer.id };
  }

  async stop(): Promise<void> {
    const conversationId = this.conversation?.id;
    if (!conversationId || !this.answering[conversationId]) return;
    try {
      await this.api.invoke("chat.stop", { conversationId });
    } catch (error) {
      this.notice = messageOf(error);
    }
  }

  /** Shows another alternative of a message (and the latest branch below it). */
  async selectAlternative(messageId: string): Promise<void> {
    const conversationId = this.conversation?.id;
    if (!conversationId || this.answering[conversationId]) return;
    try {
      const conversation = await this.api.invoke("history.selectBranch", { conversationId, messageId });
      if (this.conversation?.id === conversationId) this.conversation = conversation;
    } catch (error) {
      this.notice = messageOf(error);
    }
  }

  async openSearchResult(result: SearchResult): Promise<void> {
    try {
      // Show the branch that holds the found message, which may not be the one last on screen.
      if (!this.answering[result.conversationId]) await this.api.invoke("history.selectBranch", { conversationId: result.conversationId, messageId: result.messageId });
      await this.open(result.conversationId);
      this.reveal = result.messageId;
    } catch (error) {
      this.notice = messageOf(error);
    }
  }

  async rename(id: string, title: string): Promise<void> {
    if (title.trim() === "") return;
    await this.#update(id, { title: title.trim() });
  }

  async setPinned(id: string, pinned: boolean): Promise<void> {
    await this.#update(id, { pinned });
  }

  async saveSettings(sampling: Sampling, modelId: string | null): Promise<boolean> {
    if (!this.conversation) return false;
    return this.#update(this.conversation.id, { sampling, modelId });
  }

  async #update(id: string, changes: { title?: string; pinned?: boolean; sampling?: Sampling; modelId?: string | null }): Promise<boolean> {
    try {
      const conversation = await this.api.invoke("history.update", { id, ...changes });
      if (this.conversation?.id === id) this.conversation = conversation;
      await this.refreshList();
      return true;
    } catch (error) {
      this.notice = messageOf(error);
      return false;
    }
  }

  /** Moves the conversation to the trash, with an Undo in a toast. */
  async remove(id: string): Promise<void> {
    const wasOpen = this.conversation?.id === id;
    try {
      const deleted = await this.api.invoke("history.delete", { id });
      if (wasOpen) {
        ++this.#openSequence;
        this.conversation = null;
        this.messages = [];
        this.stream.end();
      }
      await this.refreshList();
      this.showToast({
        message: this.texts.deleted(deleted.title),
        action: { label: this.texts.undo, run: () => this.#restore(id, wasOpen) },
      });
    } catch (error) {
      this.notice = messageOf(error);
    }
  }

  async #restore(id: string, reopen: boolean): Promise<void> {
    this.dismissToast();
    try {
      await this.api.invoke("history.restore", { id });
      await this.refreshList();
      if (reopen) await this.open(id);
    } catch (error) {
      this.notice = messageOf(error);
    }
  }

  showToast(toast: Toast): void {
    clearTimeout(this.#toastTimer);
    this.toast = toast;
    this.#toastTimer = setTimeout(() => (this.toast = null), TOAST_MS);
  }

  /** Keeps the toast while the pointer or the focus is on it; the time starts again when they leave. */
  holdToast(hold: boolean): void {
    clearTimeout(this.#toastTimer);
    if (!hold && this.toast) this.#toastTimer = setTimeout(() => (this.toast = null), TOAST_MS);
  }

  dismissToast(): void {
    clearTimeout(this.#toastTimer);
    this.toast = null;
  }

  /** Downloads this conversation (`scope: "current"`) or all of them, as a file. */
  async export(format: ExportFormat, scope: "current" | "all"): Promise<void> {
    try {
      const conversationIds = scope === "current" && this.conversation ? [this.conversation.id] : undefined;
      const file = await this.api.invoke("history.export", conversationIds ? { format, conversationIds } : { format });
      downloadFile(file);
    } catch (error) {
      this.notice = messageOf(error);
    }
  }

  /** First run: converts the demo model, then opens a conversation with it and focuses the message box. */
  async installDemo(): Promise<void> {
    let modelId: string | null;
    try {
      modelId = await this.demo.run();
    } catch {
      return; // DemoInstall keeps the error for the first-run panel.
    }
    await this.refreshModels();
    try {
      const conversation = await this.api.invoke("history.create", { modelId });
      ++this.#openSequence;
      this.#show(conversation, []);
      await this.refreshList();
      // The message box appears with the models; wait for it to be on screen.
      queueMicrotask(() => this.focus("composer"));
    } catch (error) {
      this.notice = messageOf(error);
    }
  }

  /** Opens a link from an answer: the system browser under Electron, a new tab otherwise. */
  openLink(url: string): boolean {
    if (this.transport !== "electron") return false;
    this.api.invoke("shell.openExternal", { url }).catch((error: unknown) => (this.notice = messageOf(error)));
    return true;
  }

  #handle(event: EventMessage): void {
    switch (event.name) {
      case "generation.started": {
        const { conversationId, question, answer } = event.payload;
        this.answering[conversationId] = true;
        if (this.#ownRequests.has(conversationId)) this.#startedDuringSend.add(conversationId);
        if (this.conversation?.id === conversationId) {
          this.messages = upsert(this.messages, question, answer);
          this.conversation = { ...this.conversation, currentMessageId: answer.id };
          this.stream.begin(answer.id, answer.text);
        }
        void this.refreshList();
        break;
      }
      case "generation.chunk":
        this.stream.append(event.payload.messageId, event.payload.text);
        break;
      case "generation.finished": {
        const { conversationId, answer } = event.payload;
        if (this.conversation?.id === conversationId) {
          this.stream.end(answer.id);
          this.messages = upsert(this.messages, answer);
        }
        // A request of this window clears its flag when it returns; another window's answer ends here.
        if (!this.#ownRequests.has(conversationId)) delete this.answering[conversationId];
        void this.refreshList();
        break;
      }
      case "generation.contextTrimmed":
        this.trimmed[event.payload.messageId] = event.payload.droppedTurns;
        break;
      case "history.changed":
        void this.refreshList();
        if (this.conversation && event.payload.conversationIds.includes(this.conversation.id) && !this.isAnswering) void this.open(this.conversation.id);
        break;
      case "conversion.progress":
      case "conversion.finished":
        this.demo.handle(event);
        // Any conversion that adds to the library (the wizard's too) may end the first run.
        if (event.name === "conversion.finished" && event.payload.outcome.ok) void this.refreshModels();
        break;
      default:
        break;
    }
  }
}
