import type { NextConfig } from "next";

const nextConfig: NextConfig = {
  // chDB (566 MB native library) lives only in the local ClickHouse process;
  // never let it be traced into a server bundle or a Vercel function.
  outputFileTracingExcludes: {
    "*": ["node_modules/chdb/**", "node_modules/@chdb/**", ".muse/**"],
  },
  serverExternalPackages: ["chdb"],
  poweredByHeader: false,
  reactStrictMode: true,
};

export default nextConfig;
