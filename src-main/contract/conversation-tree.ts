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

/** A message and its alternatives (same parent, same role), oldest first. */
export function alternativesOf<M extends TreeMessage>(messages: readonly M[], message: TreeMessage): M[] {
  return messages.filter((candidate) => candidate.parentId === message.parentId && candidate.role === message.role).sort(byAge);
}

/** The leaf reached from `messageId` by following the newest child each time. */
export function latestLeaf(messages: readonly TreeMessage[], messageId: string): string {
  let leaf = messageId;
  for (let steps = 0; steps <= messages.length; steps++) {
    const children = messages.filter((candidate) => candidate.parentId === leaf).sort(byAge);
    const newest = children.at(-1);
    if (!newest) return leaf;
    leaf = newest.id;
  }
  throw new Error("The conversation's messages form a cycle.");
}
