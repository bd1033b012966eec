// Reading a conversation's tree, as the services and the UI both do.
import { describe, expect, it } from "vitest";
import { Alternatives, branchOf, latestLeaf } from "../../src-main/contract/conversation-tree.js";

type Node = { id: string; parentId: string | null; role: "user" | "assistant"; createdAt: string };
const at = (second: number) => new Date(Date.UTC(2025, 0, 1, 0, 0, second)).toISOString();

// q1 ─ a1 ─ q2 ─ a2
//    ├ a1b (regenerated)      q1b (edited) ─ a3
const tree: Node[] = [
  { id: "q1", parentId: null, role: "user", createdAt: at(1) },
  { id: "a1", parentId: "q1", role: "assistant", createdAt: at(2) },
  { id: "q2", parentId: "a1", role: "user", createdAt: at(3) },
  { id: "a2", parentId: "q2", role: "assistant", createdAt: at(4) },
  { id: "a1b", parentId: "q1", role: "assistant", createdAt: at(5) },
  { id: "q1b", parentId: null, role: "user", createdAt: at(6) },
  { id: "a3", parentId: "q1b", role: "assistant", createdAt: at(7) },
];

describe("a conversation's tree", () => {
  it("reads the branch from the first question down to a leaf", () => {
    expect(branchOf(tree, "a2").map((node) => node.id)).toEqual(["q1", "a1", "q2", "a2"]);
    expect(branchOf(tree, "a3").map((node) => node.id)).toEqual(["q1b", "a3"]);
    expect(branchOf(tree, null)).toEqual([]);
    expect(branchOf(tree, "nope")).toEqual([]);
  });

  it("lists a message's alternatives, oldest first", () => {
    const alternatives = new Alternatives(tree);
    expect(alternatives.of(tree[1]!).map((node) => node.id)).toEqual(["a1", "a1b"]);
    expect(alternatives.of(tree[0]!).map((node) => node.id)).toEqual(["q1", "q1b"]);
    expect(alternatives.of(tree[3]!).map((node) => node.id)).toEqual(["a2"]);
  });

  it("follows the newest child down to a leaf", () => {
    expect(latestLeaf(tree, "q1")).toBe("a1b");
    expect(latestLeaf(tree, "a1")).toBe("a2");
    expect(latestLeaf(tree, "a3")).toBe("a3");
  });

  it("reads a 5,000-message conversation in linear time: each message a few times, not once per step", () => {
    const long: Node[] = Array.from({ length: 5000 }, (_, i) => ({ id: `m${i}`, parentId: i === 0 ? null : `m${i - 1}`, role: i % 2 ? "assistant" : "user", createdAt: at(i) }));
    let reads = 0;
    const counted = new Proxy(long, {
      get(target, key, receiver) {
        if (typeof key === "string" && /^\d+$/.test(key)) reads++;
        return Reflect.get(target, key, receiver);
      },
    });
    expect(latestLeaf(counted, "m0")).toBe("m4999");
    expect(branchOf(counted, "m4999")).toHaveLength(5000);
    const alternatives = new Alternatives(counted);
    expect(long.every((message) => alternatives.of(message).length === 1)).toBe(true);
    // One read per message per function; the old latestLeaf scanned every message at each of its 5,000 steps.
    expect(reads).toBeLessThanOrEqual(3 * long.length);
  });

  it("refuses a damaged tree that loops instead of hanging", () => {
    const loop: Node[] = [
      { id: "x", parentId: "y", role: "user", createdAt: at(1) },
      { id: "y", parentId: "x", role: "assistant", createdAt: at(2) },
    ];
    expect(() => branchOf(loop, "x")).toThrow(/cycle/);
    expect(() => latestLeaf(loop, "x")).toThrow(/cycle/);
  });
});
