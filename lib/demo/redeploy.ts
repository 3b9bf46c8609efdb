import type { FileEntry } from "../content/episodes";
import type { Clock } from "../server-context";
import { isLang } from "../site/i18n";
import { absoluteUrl, episodeSlug, paths } from "../site/paths";
import { messageOf } from "../error-message";

/**
 * How `npm run demo` serves an episode its cron publishes after the site was
 * built: it builds the site again and swaps the new build in, as Vercel
 * redeploys on every publish commit.
 *
 * Why a rebuild and not episode pages rendered on demand: the episode page and
 * its share card are generated for the episodes of their build only
 * (`dynamicParams = false`), so a made-up path is a 404 that is neither
 * rendered nor cached (docs/security.md) and the page stays a static document
 * with no framework JavaScript. A force-static route with `dynamicParams =
 * true` renders and caches whatever path it is asked for, 404s included: the
 * cache grows with made-up URLs, and a slug asked for before its episode was
 * published keeps its cached 404. Rebuilding keeps the site exactly as it is
 * deployed; only the demo's machinery changes.
 *
 * The swap, as a deployment is promoted: the demo's address is an alias
 * (lib/demo/site.ts) in front of a `next start` of one build directory. When
 * the episode files change (a publish, a merged review, an edit), the site is
 * built into the other directory of `DIST_DIRS` while the current build keeps
 * serving; once the new server answers, the alias points at it and the old one
 * stops after its requests in flight are answered. One rebuild at a time: a
 * publish that lands during a build is seen by the next check and built
 * after. A failed build or start leaves the current build serving and is not
 * retried until the files change again (a broken build would otherwise start
 * over every few seconds).
 *
 * Plain logic with injected processes and clock (tests/demo-redeploy.test.ts).
 */

/** The two build directories the demo alternates between (`MUSE_NEXT_DIST_DIR`; tsconfig.json lists the types of both). */
export const DIST_DIRS = [".next", ".muse/next-b"] as const;

export type ContentFile = Pick<FileEntry, "rel" | "series" | "episode" | "lang" | "signature">;

/** A build being served: `next start` of one build directory on a port of its own, behind the alias. */
export interface Deployment {
  distDir: string;
  /** Where this server listens (the alias forwards there). */
  url: string;
  /** Stops it once the requests it is answering are done. */
  stop(): Promise<void>;
}

export interface RedeployDeps {
  /** The episode files, as the site lists them (lib/content/episodes.ts). */
  listContent(): Promise<ContentFile[]>;
  /** `next build` into `distDir`; rejects when the build fails. */
  build(distDir: string): Promise<void>;
  /** `next start` of `distDir`; resolves once it answers, rejects when it does not come up. */
  start(distDir: string): Promise<Deployment>;
  /** Points the site's address at the deployment. */
  route(deployment: Deployment): void;
  clock: Clock;
  say(line: string): void;
  /** The site's address, for the URLs said. */
  siteUrl: string;
}

/** What changed in the episode files since the build being served. */
export interface ContentChange {
  /** `published`: the original is new; `updated`: files of an episode that was there changed or were added; `removed`: all of its files are gone. */
  kind: "published" | "updated" | "removed";
  series: string;
  episode: number;
  /** The languages whose files are new, changed or gone. */
  langs: string[];
}

export type CheckResult =
  | { status: "unchanged" }
  /** A check was still running (a rebuild takes minutes). */
  | { status: "busy" }
  /** The build or its server failed: the previous build keeps serving. */
  | { status: "failed"; changes: ContentChange[]; error: string }
  | { status: "swapped"; changes: ContentChange[]; deployment: Deployment; urls: string[] };

export interface Redeployer {
  /** Compares the episode files with the served build's; on a change, rebuilds and swaps. */
  check(): Promise<CheckResult>;
  current(): Deployment;
}

const signatureOf = (files: readonly ContentFile[]) =>
  files
    .map((f) => f.signature)
    .sort()
    .join("\n");

export function contentChanges(before: readonly ContentFile[], after: readonly ContentFile[]): ContentChange[] {
  const old = new Map(before.map((f) => [f.rel, f]));
  const now = new Map(after.map((f) => [f.rel, f]));
  const episodes = new Map<string, { series: string; episode: number; added: string[]; changed: string[]; removed: string[]; remaining: number }>();
  const entry = (f: ContentFile) => {
    const key = `${f.series}/${episodeSlug(f.episode)}`;
    let e = episodes.get(key);
    if (!e) episodes.set(key, (e = { series: f.series, episode: f.episode, added: [], changed: [], removed: [], remaining: 0 }));
    return e;
  };
  for (const f of after) {
    const e = entry(f);
    e.remaining++;
    const was = old.get(f.rel);
    if (!was) e.added.push(f.lang);
    else if (was.signature !== f.signature) e.changed.push(f.lang);
  }
  for (const f of before) if (!now.has(f.rel)) entry(f).removed.push(f.lang);
  const changes: ContentChange[] = [];
  for (const e of episodes.values()) {
    const langs = [...e.added, ...e.changed, ...e.removed];
    if (langs.length === 0) continue;
    const kind = e.remaining === 0 ? "removed" : e.added.includes("en") ? "published" : "updated";
    changes.push({ kind, series: e.series, episode: e.episode, langs });
  }
  return changes.sort((a, b) => a.series.localeCompare(b.series) || a.episode - b.episode);
}

export function describeChanges(changes: readonly ContentChange[]): string {
  if (changes.length === 0) return "episode files changed";
  return changes.map((c) => `${c.kind} ${c.series}/${episodeSlug(c.episode)} (${c.langs.join(", ")})`).join("; ");
}

/** The pages to look at once the new build serves: each published or updated episode, in its first changed language. */
export function changedPageUrls(changes: readonly ContentChange[], siteUrl: string): string[] {
  return changes
    .filter((c) => c.kind !== "removed")
    .map((c) => {
      const lang = c.langs.find(isLang) ?? "en";
      return absoluteUrl(siteUrl, paths.episode(lang, c.series, c.episode));
    });
}

function errorText(error: unknown): string {
  return messageOf(error).split("\n")[0];
}

export function createRedeployer(deps: RedeployDeps, first: { deployment: Deployment; content: readonly ContentFile[] }): Redeployer {
  let current = first.deployment;
  let served = [...first.content];
  let failedSignature: string | undefined;
  let busy = false;
  const seconds = (since: Date) => Math.round((deps.clock.now().getTime() - since.getTime()) / 1000);

  async function check(): Promise<CheckResult> {
    if (busy) return { status: "busy" };
    busy = true;
    try {
      const files = await deps.listContent();
      const signature = signatureOf(files);
      if (signature === signatureOf(served) || signature === failedSignature) return { status: "unchanged" };
      const changes = contentChanges(served, files);
      const distDir = DIST_DIRS.find((d) => d !== current.distDir) ?? DIST_DIRS[0];
      const started = deps.clock.now();
      deps.say(`${describeChanges(changes)}; rebuilding the site (next build into ${distDir}) while the current build keeps serving ${deps.siteUrl} ...`);
      let next: Deployment;
      try {
        await deps.build(distDir);
        next = await deps.start(distDir);
      } catch (error) {
        failedSignature = signature;
        const text = errorText(error);
        deps.say(`rebuild failed after ${seconds(started)} s (${text}); still serving the previous build (the next change of the episode files tries again)`);
        return { status: "failed", changes, error: text };
      }
      deps.route(next);
      const previous = current;
      current = next;
      served = files;
      failedSignature = undefined;
      const urls = changedPageUrls(changes, deps.siteUrl);
      deps.say(`rebuilt in ${seconds(started)} s; now serving the new build (${distDir}) on ${deps.siteUrl}${urls.length > 0 ? `: ${urls.join(" ")}` : ""}`);
      await previous.stop();
      return { status: "swapped", changes, deployment: next, urls };
    } finally {
      busy = false;
    }
  }

  return { check, current: () => current };
}
