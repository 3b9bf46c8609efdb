import { readdir, readFile } from "node:fs/promises";
import path from "node:path";

/**
 * @datadog/browser-rum's own browser bundle (and the chunks it loads on
 * demand), served same-origin for the static episode page's RUM loader
 * (components/StaticDocument.tsx): /rum/datadog-rum.js, /rum/chunks/….
 * Read from the installed package, so it always matches package.json.
 * Static; only the package's files are served.
 */

export const dynamic = "force-static";
export const dynamicParams = false;

const BUNDLE_DIR = path.join(process.cwd(), "node_modules", "@datadog", "browser-rum", "bundle");
const FILES = ["datadog-rum.js"];

async function files(): Promise<string[]> {
  const chunks = await readdir(path.join(BUNDLE_DIR, "chunks")).catch(() => [] as string[]);
  return [...FILES, ...chunks.filter((f) => /^[\w-]+-datadog-rum\.js$/.test(f)).map((f) => `chunks/${f}`)];
}

export async function generateStaticParams(): Promise<{ path: string[] }[]> {
  return (await files()).map((f) => ({ path: f.split("/") }));
}

export async function GET(_request: Request, { params }: { params: Promise<{ path: string[] }> }): Promise<Response> {
  const file = (await params).path.join("/");
  if (!(await files()).includes(file)) return new Response("not found", { status: 404 });
  // Read relative to the working directory (where `next build`/`start` run and where file tracing puts it);
  // a checkout without it (e.g. a copy of the app beside node_modules) answers 404 instead of failing the build.
  const body = await readFile(path.join(BUNDLE_DIR, file)).catch(() => undefined);
  if (!body) return new Response("@datadog/browser-rum is not installed next to the app", { status: 404 });
  return new Response(body, { headers: { "Content-Type": "text/javascript; charset=utf-8" } });
}
