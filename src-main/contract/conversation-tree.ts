// Reading a conversation's message tree: the branch on screen, a message's alternatives, and where a
// branch ends. Pure functions over the messages `history.get` returns, shared by the services and the UI.
import type { Message } from "./history.js";

type TreeMessage = Pick<Message, "id" | "parentId" | "role" | "createdAt">;

const byAge = (a: TreeMessage, b: TreeMessage) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : 0);

/** The messages from the first question down to `leafId`, in order (empty for a null or unknown leaf). */
export function branchOf<M extends TreeMessage>(messages: readonly M[], leafId: string | null): M[] {
  const byId = new Map(messages.map((message) => [message.id, message]));
  const branch: M[] = [];
  for (let message = leafId === null ? undefined : byId.get(leafId); message; message = message.parentId === null ? undefined : byId.get(message.parentId)) {
    branch.push(message);
    if (branch.length > messages.length) throw new Error("The conversation's messages form a cycle.");
  }
  return branch.reverse();
}

const alternativesKey = (message: TreeMessage) => `${message.role}:${message.parentId ?? ""}`;

/**
 * Every message's alternatives (same parent, same role), oldest first, found in one pass: a page showing a long
 * conversation asks for each of its messages, which one scan per message would make quadratic.
 */
export class Alternatives<M extends TreeMessage> {
  readonly #groups = new Map<string, M[]>();

  constructor(messages: readonly M[]) {
    for (const message of messages) {
      const group = this.#groups.get(alternativesKey(message));
      if (group) group.push(message);
      else this.#groups.set(alternativesKey(message), [message]);
    }
    for (const group of this.#groups.values()) group.sort(byAge);
  }

  of(message: TreeMessage): M[] {
    return this.#groups.get(alternativesKey(message)) ?? [];
  }
}

/** The leaf reached from `messageId` by following the newest child each time (the last of equally old ones). */
export function latestLeaf(messages: readonly TreeMessage[], messageId: string): string {
  const newestChild = new Map<string, TreeMessage>();
  for (const message of messages) {
    if (message.parentId === null) continue;
    const known = newestChild.get(message.parentId);
    if (!known || byAge(known, message) <= 0) newestChild.set(message.parentId, message);
  }
  let leaf = messageId;
  for (let steps = 0; steps <= messages.length; steps++) {
    const newest = newestChild.get(leaf);
    if (!newest) return leaf;
    leaf = newest.id;
  }
  throw new Error("The conversation's messages form a cycle.");
}
