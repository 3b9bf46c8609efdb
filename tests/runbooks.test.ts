import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

/** Every Datadog monitor, synthetic test and SLO links to a runbook section that exists (docs/runbooks.md, anchored by its muse-id). */

const root = path.resolve(import.meta.dirname, "..");
const runbooks = readFileSync(path.join(root, "docs/runbooks.md"), "utf8");
const anchors = new Set([...runbooks.matchAll(/<a id="([a-z0-9-]+)"><\/a>/g)].map((m) => m[1]));
const monitors = JSON.parse(readFileSync(path.join(root, "datadog/monitors.json"), "utf8")) as { name: string; message: string; tags: string[] }[];
const synthetics = JSON.parse(readFileSync(path.join(root, "datadog/synthetics.json"), "utf8")) as { name: string; message: string; tags: string[] }[];
const slos = JSON.parse(readFileSync(path.join(root, "datadog/slos.json"), "utf8")) as { name: string; description: string; tags: string[] }[];
const museId = (tags: string[]) => tags.find((t) => t.startsWith("muse-id:"))!.slice("muse-id:".length);
const links = (text: string) => [...text.matchAll(/docs\/runbooks\.md#([a-z0-9-]+)/g)].map((m) => m[1]);

describe("runbooks", () => {
  it("every monitor links to its own section, which exists", () => {
    for (const m of monitors) {
      expect(links(m.message), m.name).toEqual([museId(m.tags)]);
      expect(anchors.has(museId(m.tags)), `${m.name}: docs/runbooks.md#${museId(m.tags)}`).toBe(true);
    }
  });

  it("every synthetic test's message links to its own section, which exists", () => {
    expect(synthetics.length).toBeGreaterThan(0);
    for (const t of synthetics) {
      expect(links(t.message), t.name).toEqual([museId(t.tags)]);
      expect(anchors.has(museId(t.tags)), `${t.name}: docs/runbooks.md#${museId(t.tags)}`).toBe(true);
    }
  });

  it("every SLO links to its own section, which exists", () => {
    for (const s of slos) {
      expect(links(s.description), s.name).toEqual([museId(s.tags)]);
      expect(anchors.has(museId(s.tags)), s.name).toBe(true);
    }
  });

  it("links inside the runbooks lead to sections that exist, and operations.md links to the runbooks", () => {
    for (const [, anchor] of runbooks.matchAll(/\]\(#([a-z0-9-]+)\)/g)) expect(anchors.has(anchor), anchor).toBe(true);
    expect(readFileSync(path.join(root, "docs/operations.md"), "utf8")).toContain("runbooks.md");
    // No monitor still points at the README section that no longer exists.
    for (const m of monitors) expect(m.message).not.toContain("README.md, Observability");
  });
});
