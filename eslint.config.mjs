import nextCoreWebVitals from "eslint-config-next/core-web-vitals";
import nextTypescript from "eslint-config-next/typescript";

const config = [
  ...nextCoreWebVitals,
  ...nextTypescript,
  { ignores: [".next/**", "node_modules/**", ".muse/**", "next-env.d.ts", "bench/out/**", "test-results/**", ".vercel/**"] },
];

export default config;
