import type { NextConfig } from "next";
import { securityHeaders } from "./lib/http/security-headers";

const nextConfig: NextConfig = {
  // chDB (566 MB native library) lives only in the local ClickHouse process;
  // never let it be traced into a server bundle or a Vercel function.
  outputFileTracingExcludes: {
    "*": ["node_modules/chdb/**", "node_modules/@chdb/**", ".muse/**"],
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
