import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as episodeRoute from "../app/[lang]/episodes/[series]/[episode]/route";
import * as ogRoute from "../app/og/[lang]/[series]/[episode]/route";
import { setEnv, saveEnv } from "./helpers/env";

/**
 * Site-side findings of a review of the running system (see docs/security.md),
 * each failing on the code before its fix.
 */

const FIXTURES = path.join(import.meta.dirname, "fixtures", "content");
const SITE = "https://muse.test";
const VARS = ["MUSE_CONTENT_DIR", "MUSE_SITE_URL", "MUSE_LOG_LEVEL"] as const;
const saved = saveEnv(VARS);

beforeAll(() => setEnv({ MUSE_CONTENT_DIR: FIXTURES, MUSE_SITE_URL: SITE, MUSE_LOG_LEVEL: "error" }));
afterAll(() => setEnv(saved));

describe("per-episode routes: made-up paths are 404s, never rendered or cached", () => {
  it("the episode page and its Open Graph image exist only for generateStaticParams' episodes", async () => {
    for (const mod of [episodeRoute, ogRoute]) {
      expect(mod.dynamic).toBe("force-static");
      // With dynamicParams = true every made-up path is rendered once and cached (a disk fill).
      expect(mod.dynamicParams).toBe(false);
      const params = await mod.generateStaticParams();
      expect(params.length).toBeGreaterThan(0);
      expect(params).toContainEqual({ lang: "de", series: "chimera", episode: "ep-001" });
    }
  });

  it("an unknown episode's Open Graph image is a 404, not an image", async () => {
    for (const params of [
      { lang: "en", series: "chimera", episode: "ep-999" },
      { lang: "en", series: "no-such-series", episode: "ep-001" },
      { lang: "xx", series: "chimera", episode: "ep-001" },
      { lang: "en", series: "chimera", episode: "not-an-episode" },
    ]) {
      const response = await ogRoute.GET(new Request(`${SITE}/og/${params.lang}/${params.series}/${params.episode}`), { params: Promise.resolve(params) });
      expect({ params, status: response.status }).toEqual({ params, status: 404 });
      expect(response.headers.get("content-type")).not.toBe("image/png");
    }
  });
});
