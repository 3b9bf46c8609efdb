import type { NextConfig } from "next";
import { securityHeaders } from "./lib/http/security-headers";

const OG_FONT_FILES = [
  "./node_modules/@fontsource/noto-sans-devanagari/*.css",
  "./node_modules/@fontsource/noto-sans-devanagari/files/*-latin*.woff",
  "./node_modules/@fontsource/noto-sans-sc/*.css",
  "./node_modules/@fontsource/noto-sans-sc/files/*-{400,700}-normal.woff",
];

const nextConfig: NextConfig = {
  // `npm run demo` builds the site again after a publish into a second directory while the first build serves, and
  // then swaps (lib/demo/site.ts): MUSE_NEXT_DIST_DIR names it, for that build and its `next start`. Unset: `.next`.
  distDir: process.env.MUSE_NEXT_DIST_DIR || ".next",
  // chDB (566 MB native library) lives only in the local ClickHouse process;
  // never let it be traced into a server bundle or a Vercel function.
  outputFileTracingExcludes: {
    "*": ["node_modules/chdb/**", "node_modules/@chdb/**", ".muse/**"],
  },
  // The share cards' fonts (lib/site/og-fonts.ts) are read from node_modules when a card is drawn, at build time and
  // when a publish revalidates it: their CSS and WOFF files (never the WOFF2 ones, which next/og cannot read), and
  // only those of the two cards' routes.
  outputFileTracingIncludes: {
    "/og/[lang]/[series]/[episode]": OG_FONT_FILES,
    "/[lang]/opengraph-image": OG_FONT_FILES,
  },
  serverExternalPackages: ["chdb"],
  poweredByHeader: false,
  // CSP, nosniff, no framing, … on every response (see lib/http/security-headers.ts, docs/security.md).
  async headers() {
    return [{ source: "/:path*", headers: securityHeaders() }];
  },
  reactStrictMode: true,
};

export default nextConfig;
