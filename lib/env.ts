import { z } from "zod";
import { TRANSLATION_LANGS } from "./episode/langs";

/**
 * Every environment variable Muse reads, declared once: its schema, its default
 * and what it is for. `loadEnv()` validates the whole set and fails naming each
 * bad variable; `envDocs()` feeds `npm run muse -- env` and the README table.
 */

const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === "" ? undefined : v));
const optionalUrl = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === "" ? undefined : v))
  .pipe(z.url().optional());
const boolFlag = (fallback: boolean) =>
  z
    .string()
    .optional()
    .transform((v) => (v === undefined || v === "" ? String(fallback) : v))
    .pipe(z.stringbool());
const int = (fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER) =>
  z
    .string()
    .optional()
    .transform((v) => (v === undefined || v === "" ? String(fallback) : v))
    .pipe(z.coerce.number<string>().int().min(min).max(max));
const num = (fallback: number, min: number, max: number) =>
  z
    .string()
    .optional()
    .transform((v) => (v === undefined || v === "" ? String(fallback) : v))
    .pipe(z.coerce.number<string>().min(min).max(max));
const withDefault = (fallback: string) =>
  z
    .string()
    .optional()
    .transform((v) => (v === undefined || v === "" ? fallback : v));
/** Datadog notification handles, space-separated: `@slack-muse @pagerduty-muse`. */
const notifyHandles = optionalString.pipe(
  z
    .string()
    .regex(/^\s*@[\w.+@-]+(\s+@[\w.+@-]+)*\s*$/, "expected space-separated @handles, e.g. @slack-muse-alerts @pagerduty-muse")
    .optional(),
);
/** `owner/name` with an optional `@branch`. */
const repoRef = optionalString.pipe(
  z
    .string()
    .regex(/^[\w.-]+\/[\w.-]+(@[\w./-]+)?$/, "expected owner/name[@branch]")
    .optional(),
);
const langList = withDefault("de,zh,hi").pipe(
  z
    .string()
    .transform((v) =>
      v
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.enum(TRANSLATION_LANGS)).min(0)),
);

/** Comma-separated globs (lib/attribution/code-commits.ts); unset or empty: `fallback`. */
const globList = (fallback: string) =>
  withDefault(fallback).pipe(
    z
      .string()
      .transform((v) =>
        v
          .split(",")
          .map((s) => s.trim())
          .filter(Boolean),
      )
      .pipe(z.array(z.string().regex(/^[^\s]+$/, "expected comma-separated globs without spaces")).min(1, "expected at least one glob")),
  );

/** Per-method accuracy gates, `int4=0.97,int8=0.99` (lib/analysis/changes.ts); unset or empty: none. */
const gateList = withDefault("").pipe(
  z
    .string()
    .transform((v) =>
      v
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean)
        .map((pair) => pair.split("=").map((x) => x.trim())),
    )
    .pipe(
      z.array(
        z.tuple([z.string().regex(/^[A-Za-z0-9_.-]+$/, "expected method=fraction, e.g. int4=0.97"), z.coerce.number<string>().min(0).max(1)], {
          error: "expected method=fraction, e.g. int4=0.97",
        }),
      ),
    )
    .transform((pairs) => Object.fromEntries(pairs) as Record<string, number>),
);

interface VarSpec<S extends z.ZodType = z.ZodType> {
  schema: S;
  /** Default as documented (what an unset variable means). */
  default: string;
  description: string;
  group: string;
  /** Secrets are never printed, logged or rendered. */
  secret?: boolean;
}

const spec = <S extends z.ZodType>(s: VarSpec<S>) => s;

export const ENV_SPEC = {
  // ClickHouse
  CLICKHOUSE_URL: spec({
    schema: optionalUrl,
    default: "(local: http://127.0.0.1:18123)",
    group: "ClickHouse",
    description: "ClickHouse HTTP(S) endpoint (ClickHouse Cloud or any server). Unset: the project's local ClickHouse over chDB.",
  }),
  CLICKHOUSE_USER: spec({ schema: withDefault("default"), default: "default", group: "ClickHouse", description: "ClickHouse user." }),
  CLICKHOUSE_PASSWORD: spec({ schema: withDefault(""), default: "(empty)", group: "ClickHouse", description: "ClickHouse password.", secret: true }),
  CLICKHOUSE_READER_USER: spec({
    schema: optionalString,
    default: "(unset: the pages read as CLICKHOUSE_USER)",
    group: "ClickHouse",
    description:
      "Read-only user (SELECT grants only, e.g. muse_reader from sql/users/) the site's pages and public read routes query with (status page, GET /api/changes, /api/events/{id}/chart.svg, /api/health, /api/runs); agents, ingest and migrations keep CLICKHOUSE_USER. Locally (CLICKHOUSE_URL unset) muse_reader's password is generated under .muse/.",
  }),
  CLICKHOUSE_READER_PASSWORD: spec({
    schema: withDefault(""),
    default: "(empty)",
    group: "ClickHouse",
    description: "Password of CLICKHOUSE_READER_USER (ignored for the local ClickHouse, whose generated password is used).",
    secret: true,
  }),
  CLICKHOUSE_DATABASE: spec({
    schema: withDefault("chimera_metrics").pipe(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "expected a plain identifier")),
    default: "chimera_metrics",
    group: "ClickHouse",
    description: "Database holding Muse's tables (created by `muse migrate`).",
  }),
  CLICKHOUSE_REQUEST_TIMEOUT_MS: spec({
    schema: int(30_000, 1_000, 600_000),
    default: "30000",
    group: "ClickHouse",
    description: "Per-request timeout of the ClickHouse client.",
  }),
  CLICKHOUSE_ASYNC_INSERT: spec({
    schema: boolFlag(false),
    default: "false",
    group: "ClickHouse",
    description: "Send event inserts with async_insert=1, wait_for_async_insert=1 (server-side batching for many small requests).",
  }),
  CLICKHOUSE_DEPLOYMENT: spec({
    schema: optionalString.pipe(z.enum(["auto", "single", "cloud", "cluster"]).optional()).transform((v) => v ?? "auto"),
    default: "auto",
    group: "ClickHouse",
    description:
      "single (one server), cloud (ClickHouse Cloud: SharedMergeTree, reads with select_sequential_consistency=1) or cluster (self-hosted replicas: ON CLUSTER migrations, Replicated engines, quorum inserts, sequentially consistent reads). auto: cluster when CLICKHOUSE_CLUSTER is set, cloud for *.clickhouse.cloud URLs, else single.",
  }),
  CLICKHOUSE_CLUSTER: spec({
    schema: optionalString.pipe(
      z
        .string()
        .regex(/^[A-Za-z_][A-Za-z0-9_-]*$/, "expected a cluster name")
        .optional(),
    ),
    default: "(unset)",
    group: "ClickHouse",
    description: "Cluster name for a self-hosted cluster (one shard, several replicas): migrations run ON CLUSTER with Replicated engines.",
  }),
  MUSE_LOCAL_CLICKHOUSE_HOST: spec({
    schema: withDefault("127.0.0.1"),
    default: "127.0.0.1",
    group: "Local ClickHouse",
    description: "Interface the local ClickHouse listens on (loopback unless you mean otherwise).",
  }),
  MUSE_LOCAL_CLICKHOUSE_PORT: spec({
    schema: int(18123, 1, 65535),
    default: "18123",
    group: "Local ClickHouse",
    description: "Port of the local ClickHouse HTTP interface.",
  }),
  MUSE_LOCAL_CLICKHOUSE_DATA: spec({
    schema: withDefault(".muse/clickhouse"),
    default: ".muse/clickhouse",
    group: "Local ClickHouse",
    description: "Data directory of the local ClickHouse (git-ignored).",
  }),
  MUSE_LOCAL_CLICKHOUSE_USER: spec({
    schema: optionalString,
    default: "default",
    group: "Local ClickHouse",
    description: "User the local ClickHouse requires (always with a password).",
  }),
  MUSE_LOCAL_CLICKHOUSE_PASSWORD: spec({
    schema: withDefault(""),
    default: "(generated: .muse/local-clickhouse.password)",
    group: "Local ClickHouse",
    description:
      "Password the local ClickHouse requires; unset, one is generated on first use and kept in .muse/local-clickhouse.password, which the server and the clients both read.",
    secret: true,
  }),

  // Tokens (see docs/security.md)
  CRON_SECRET: spec({
    schema: optionalString,
    default: "(unset: cron routes answer 503)",
    group: "Tokens",
    description: "Bearer token Vercel Cron sends to GET /api/cron/*.",
    secret: true,
  }),
  MUSE_ADMIN_TOKEN: spec({
    schema: optionalString,
    default: "(unset: admin routes answer 503)",
    group: "Tokens",
    description: "Bearer token for maintainers: POST /api/agents/*, /api/revalidate, GET /api/runs.",
    secret: true,
  }),
  MUSE_INGEST_TOKEN: spec({
    schema: optionalString,
    default: "(unset: ingest routes answer 503)",
    group: "Tokens",
    description: "Bearer token upstream systems send to POST /api/ingest/*.",
    secret: true,
  }),
  MUSE_INGEST_TOKEN_BANTERHEARTS: spec({
    schema: optionalString,
    default: "(unset: MUSE_INGEST_TOKEN alone)",
    group: "Tokens",
    description: "Banterhearts' own token for POST /api/ingest/bench (MUSE_INGEST_TOKEN is accepted too): rate-limited and revocable apart from Banterpacks'.",
    secret: true,
  }),
  MUSE_INGEST_TOKEN_BANTERPACKS: spec({
    schema: optionalString,
    default: "(unset: MUSE_INGEST_TOKEN alone)",
    group: "Tokens",
    description: "Banterpacks' own token for POST /api/ingest/events (MUSE_INGEST_TOKEN is accepted too).",
    secret: true,
  }),
  MUSE_RATE_LIMIT: spec({
    schema: withDefault("auto").pipe(z.enum(["auto", "firewall", "memory", "off"])),
    default: "auto",
    group: "Pipeline",
    description:
      "Rate limits of the ingest and API routes (lib/http/rate-limit.ts): firewall (Vercel Firewall rules through @vercel/firewall: one limit across every instance), memory (one process's own counters: a single server, the demo), off; auto is firewall on Vercel, memory elsewhere.",
  }),
  MUSE_RATE_LIMIT_INGEST_PER_MINUTE: spec({
    schema: int(600, 1),
    default: "600",
    group: "Pipeline",
    description:
      "memory: ingest requests a minute per token and per client address (on Vercel the firewall rules muse-ingest-token and muse-ingest-address hold the limit).",
  }),
  MUSE_RATE_LIMIT_API_PER_MINUTE: spec({
    schema: int(120, 1),
    default: "120",
    group: "Pipeline",
    description: "memory: API requests a minute per client address (on Vercel: the firewall rule muse-api-address).",
  }),
  MUSE_FIREWALL_HOST: spec({
    schema: optionalString,
    default: "(unset: the request's host)",
    group: "Pipeline",
    description: "firewall outside production: the deployment whose Vercel Firewall rules to check (@vercel/firewall's firewallHostForDevelopment).",
  }),
  MUSE_RUNNER_TOKEN: spec({
    schema: optionalString,
    default: "(unset: runner routes answer 503)",
    group: "Tokens",
    description: "Bearer token benchmark runners send to /api/bench/requests/* (pending bisection runs, claim, cannot-run); no other route accepts it.",
    secret: true,
  }),
  VERCEL_WEBHOOK_SECRET: spec({
    schema: optionalString,
    default: "(unset: webhook answers 503)",
    group: "Tokens",
    description: "Secret of the Vercel deployment webhook (x-vercel-signature, HMAC-SHA1).",
    secret: true,
  }),
  VERCEL_TOKEN: spec({
    schema: optionalString,
    default: "(unset: deployments with no news become unknown after MUSE_DEPLOY_SETTLE_MINUTES)",
    group: "Tokens",
    description:
      "Vercel access token (read access to the project's deployments): the publish agent asks Vercel's REST API for deployments whose webhook events never came (lib/deployments/settle.ts). With VERCEL_PROJECT_ID (and VERCEL_TEAM_ID for a team project).",
    secret: true,
  }),
  VERCEL_PROJECT_ID: spec({
    schema: optionalString,
    default: "(unset)",
    group: "Tokens",
    description: "The site's Vercel project id (prj_…), for VERCEL_TOKEN.",
  }),
  VERCEL_TEAM_ID: spec({
    schema: optionalString,
    default: "(unset: a personal project)",
    group: "Tokens",
    description: "The Vercel team id (team_…) the project belongs to.",
  }),
  VERCEL_API_URL: spec({
    schema: withDefault("https://api.vercel.com"),
    default: "https://api.vercel.com",
    group: "Tokens",
    description: "Vercel's REST API (tests point it at a local double).",
  }),
  MUSE_DEPLOY_SETTLE_MINUTES: spec({
    schema: int(60, 5),
    default: "60",
    group: "Pipeline",
    description:
      "A deployment still pending or building this long after it started, which neither a webhook event nor Vercel's API moved on, becomes unknown: counted apart from ready and error in the deployment KPI.",
  }),
  GITHUB_WEBHOOK_SECRET: spec({
    schema: optionalString,
    default: "(unset: webhook answers 503)",
    group: "Tokens",
    description:
      "Secret of the GitHub webhook POST /api/webhooks/github (X-Hub-Signature-256, HMAC-SHA256): `/muse …` triage commands in issue comments (docs/triage.md).",
    secret: true,
  }),

  // Upstream and content repositories
  GITHUB_TOKEN: spec({
    schema: optionalString,
    default: "(unset: local git checkouts)",
    group: "GitHub",
    description: "GitHub token; with it upstream and content repositories are read and written through Octokit.",
    secret: true,
  }),
  GITHUB_API_URL: spec({
    schema: withDefault("https://api.github.com").pipe(z.url()),
    default: "https://api.github.com",
    group: "GitHub",
    description: "GitHub REST API base URL (GitHub Enterprise, or a local test server).",
  }),
  BANTERHEARTS_REPO: spec({
    schema: repoRef,
    default: "(unset)",
    group: "GitHub",
    description: "Banterhearts repository, owner/name[@branch] (with GITHUB_TOKEN).",
  }),
  BANTERPACKS_REPO: spec({
    schema: repoRef,
    default: "(unset)",
    group: "GitHub",
    description: "Banterpacks repository, owner/name[@branch] (with GITHUB_TOKEN).",
  }),
  BANTERHEARTS_DIR: spec({
    schema: withDefault(".muse/upstream/banterhearts"),
    default: ".muse/upstream/banterhearts",
    group: "GitHub",
    description: "Local Banterhearts git checkout used without a token (the seed command creates it).",
  }),
  BANTERPACKS_DIR: spec({
    schema: withDefault(".muse/upstream/banterpacks"),
    default: ".muse/upstream/banterpacks",
    group: "GitHub",
    description: "Local Banterpacks git checkout used without a token (the seed command creates it).",
  }),
  MUSE_CONTENT_REPO: spec({
    schema: repoRef,
    default: "(unset: local git at MUSE_CONTENT_DIR)",
    group: "GitHub",
    description: "Repository episodes are committed to, owner/name[@branch] (with GITHUB_TOKEN).",
  }),
  MUSE_PUBLISH_MODE: spec({
    schema: withDefault("commit").pipe(z.enum(["commit", "pull-request"])),
    default: "commit",
    group: "GitHub",
    description:
      "commit: the publisher commits each episode to the content branch. pull-request: it commits to a branch `muse/episode/<series>/ep-NNN` and opens (or updates) one pull request per episode with its translations; merging publishes it, `/muse reject <why>` closes it and rejects the episode (docs/reach.md). Without GITHUB_TOKEN the branch is local and `muse review merge|reject` stand in for GitHub.",
  }),
  MUSE_BISECT_WORKFLOW: spec({
    schema: withDefault("muse-bisect.yml"),
    default: "muse-bisect.yml",
    group: "GitHub",
    description:
      "Workflow of BANTERHEARTS_REPO dispatched for each bisection request (workflow_dispatch; GITHUB_TOKEN needs actions: write there). Its inputs: commit, benchmark, repeats, request_id.",
  }),
  MUSE_BISECT_WORKFLOW_REF: spec({
    schema: withDefault("main"),
    default: "main",
    group: "GitHub",
    description: "Branch or tag whose copy of MUSE_BISECT_WORKFLOW runs (the commit to measure is an input, not this ref).",
  }),
  MUSE_GITHUB_ISSUES: spec({
    schema: boolFlag(true),
    default: "true",
    group: "GitHub",
    description:
      "With GITHUB_TOKEN and BANTERHEARTS_REPO: one issue per regression event on Banterhearts, edited, commented on and closed as the event changes (docs/reach.md; the token needs Issues: read and write there). false turns it off.",
  }),
  GITHUB_APP_ID: spec({
    schema: optionalString.pipe(
      z
        .string()
        .regex(/^[0-9]+$/, "expected the App's numeric id")
        .optional(),
    ),
    default: "(unset: pull-request checks as commit statuses with GITHUB_TOKEN)",
    group: "GitHub",
    description:
      "GitHub App id; with GITHUB_APP_PRIVATE_KEY, GITHUB_APP_INSTALLATION_ID and BANTERHEARTS_REPO, pull-request checks are check runs (only Apps may create them; the App needs Checks: write, Pull requests or Issues: write, Contents: read; docs/reach.md).",
  }),
  GITHUB_APP_PRIVATE_KEY: spec({
    schema: optionalString,
    default: "(unset)",
    group: "GitHub",
    description: "The GitHub App's private key (PEM; `\\n` sequences read as newlines): signs the App's JWT (RS256), exchanged for an installation token.",
    secret: true,
  }),
  GITHUB_APP_INSTALLATION_ID: spec({
    schema: optionalString.pipe(
      z
        .string()
        .regex(/^[0-9]+$/, "expected the installation's numeric id")
        .optional(),
    ),
    default: "(unset)",
    group: "GitHub",
    description: "The App's installation on BANTERHEARTS_REPO (POST /app/installations/{id}/access_tokens).",
  }),
  MUSE_CONTENT_DIR: spec({
    schema: withDefault("content"),
    default: "content",
    group: "GitHub",
    description: "Content directory the site reads and the local publisher commits to.",
  }),

  // LLM
  OPENAI_API_KEY: spec({
    schema: optionalString,
    default: "(unset: deterministic offline writer)",
    group: "LLM",
    description: "OpenAI (or compatible) API key.",
    secret: true,
  }),
  OPENAI_BASE_URL: spec({
    schema: optionalUrl,
    default: "(OpenAI)",
    group: "LLM",
    description: "Base URL of an OpenAI-compatible server (chat completions API).",
  }),
  MUSE_MODEL: spec({ schema: withDefault("gpt-4o-mini"), default: "gpt-4o-mini", group: "LLM", description: "Model the council and translator use." }),
  MUSE_LLM_TIMEOUT_MS: spec({
    schema: int(60_000, 1_000, 600_000),
    default: "60000",
    group: "LLM",
    description: "Timeout of each LLM call (the call is aborted and recorded as a timeout).",
  }),

  // Datadog
  DD_API_KEY: spec({
    schema: optionalString,
    default: "(unset: metrics go to the log)",
    group: "Datadog",
    description: "Datadog API key for the v2 series API.",
    secret: true,
  }),
  DD_APP_KEY: spec({
    schema: optionalString,
    default: "(unset)",
    group: "Datadog",
    description: "Datadog application key (only `muse datadog apply` needs it).",
    secret: true,
  }),
  DD_SITE: spec({ schema: withDefault("datadoghq.com"), default: "datadoghq.com", group: "Datadog", description: "Datadog site, e.g. datadoghq.eu." }),
  MUSE_DATADOG_EVENTS: spec({
    schema: boolFlag(true),
    default: "true",
    group: "Datadog",
    description:
      "With DD_API_KEY: a Datadog event (POST /api/v1/events) for every state change of a benchmark event, for the dashboard's event overlay (docs/reach.md). false turns it off.",
  }),
  MUSE_SLACK_WEBHOOK_URL: spec({
    schema: optionalUrl,
    default: "(unset: nothing is posted to Slack)",
    group: "Slack",
    description: "Slack incoming webhook: a Block Kit message for each new, narrowed (bisected) and fixed regression (docs/reach.md).",
    secret: true,
  }),
  DD_API_URL: spec({
    schema: optionalUrl,
    default: "(https://api.<DD_SITE>)",
    group: "Datadog",
    description: "Override of the Datadog API base URL (tests point it at a local server).",
  }),
  DD_SERVICE: spec({ schema: withDefault("muse"), default: "muse", group: "Datadog", description: "Service tag on every metric." }),
  DD_ENV: spec({ schema: withDefault("development"), default: "development", group: "Datadog", description: "env tag on every metric." }),
  NEXT_PUBLIC_DD_APPLICATION_ID: spec({
    schema: optionalString,
    default: "(unset: no RUM)",
    group: "Datadog",
    description: "Datadog RUM application id (browser).",
  }),
  NEXT_PUBLIC_DD_CLIENT_TOKEN: spec({
    schema: optionalString,
    default: "(unset: no RUM)",
    group: "Datadog",
    description: "Datadog RUM client token (browser; public by design).",
  }),
  NEXT_PUBLIC_DD_SITE: spec({ schema: withDefault("datadoghq.com"), default: "datadoghq.com", group: "Datadog", description: "Datadog site for RUM." }),
  MUSE_SCHEDULE_PROFILE: spec({
    schema: withDefault("frequent").pipe(z.enum(["frequent", "daily"])),
    default: "frequent",
    group: "Datadog",
    description:
      "The cron schedule the deployment runs: frequent (vercel.json, Pro) or daily (vercel.hobby.json, Hobby). `muse datadog apply` derives each monitor's window, no-data timeframe, failure counts and the freshness limit (MUSE_*_MAX_LAG_SECONDS) from it (docs/observability.md, Schedules).",
  }),
  MUSE_DD_NOTIFY_CRITICAL: spec({
    schema: notifyHandles,
    default: "(unset: critical monitors notify nobody)",
    group: "Datadog",
    description: "`muse datadog apply`: @handles critical (P1) monitors notify, space-separated, e.g. `@pagerduty-muse @slack-muse-alerts`.",
  }),
  MUSE_DD_NOTIFY_WARNING: spec({
    schema: notifyHandles,
    default: "(unset: warning monitors notify nobody)",
    group: "Datadog",
    description: "`muse datadog apply`: @handles warning (P3) monitors notify.",
  }),
  MUSE_DD_NOTIFY_INFO: spec({
    schema: notifyHandles,
    default: "(unset: info monitors notify nobody)",
    group: "Datadog",
    description: "`muse datadog apply`: @handles info (P5) monitors notify.",
  }),
  OTEL_EXPORTER_OTLP_ENDPOINT: spec({
    schema: optionalUrl,
    default: "(unset: no tracing)",
    group: "Datadog",
    description:
      "OTLP/HTTP collector base URL (e.g. a Datadog Agent's :4318): agent runs and LLM calls are traced to <url>/v1/traces. Unset: nothing is traced or sent.",
  }),
  OTEL_EXPORTER_OTLP_PROTOCOL: spec({
    schema: optionalString.pipe(z.enum(["http/protobuf", "http/json"]).optional()),
    default: "http/protobuf",
    group: "Datadog",
    description: "OTLP encoding of the traces: http/protobuf or http/json.",
  }),
  OTEL_EXPORTER_OTLP_HEADERS: spec({
    schema: optionalString,
    default: "(unset)",
    group: "Datadog",
    description: "Headers sent with the traces, `key=value,key2=value2` (e.g. a collector's API key).",
    secret: true,
  }),

  // Pipeline behaviour
  MUSE_SITE_URL: spec({
    schema: withDefault("http://127.0.0.1:3000").pipe(z.url()),
    default: "http://127.0.0.1:3000",
    group: "Pipeline",
    description:
      "Public URL of the site (links, feeds, revalidation in local mode). `muse datadog apply` points the synthetic tests of datadog/synthetics.json at it (it must be public there); `muse status` checks the site at it unless --site-url is given.",
  }),
  MUSE_SAMPLE_DATA: spec({
    schema: boolFlag(false),
    default: "false",
    group: "Pipeline",
    description: "Site: label every episode as sample data (the demo sets it when episodes are written from `muse seed` data).",
  }),
  MUSE_WINDOW_DAYS: spec({ schema: int(7, 1, 365), default: "7", group: "Pipeline", description: "Days of data an episode describes." }),
  MUSE_PUBLISH_THRESHOLD: spec({ schema: num(0.6, 0, 1), default: "0.6", group: "Pipeline", description: "Confidence a draft needs to be published." }),
  MUSE_HEARTS_MAX_LAG_SECONDS: spec({
    schema: int(14_400, 1),
    default: "14400",
    group: "Pipeline",
    description: "Watcher: Banterhearts freshness threshold (lag ≤ 4 h KPI).",
  }),
  MUSE_PACKS_MAX_LAG_SECONDS: spec({ schema: int(14_400, 1), default: "14400", group: "Pipeline", description: "Watcher: Banterpacks freshness threshold." }),
  MUSE_WATCHER_MAX_AGE_MINUTES: spec({
    schema: int(30, 1),
    default: "30",
    group: "Pipeline",
    description: "Council: how recent the latest watcher run must be.",
  }),
  MUSE_EPISODE_MIN_INTERVAL_HOURS: spec({
    schema: num(6, 0, 24 * 30),
    default: "6",
    group: "Pipeline",
    description: "Council: hours that must pass after an episode before the next one (runs in between are skipped); 0 allows one per run.",
  }),
  MUSE_COUNCIL_ALLOW_DEGRADED: spec({
    schema: boolFlag(false),
    default: "false",
    group: "Pipeline",
    description: "Council: also run when the latest watcher run is degraded.",
  }),
  MUSE_CHIMERA_MIN_CORRELATION: spec({
    schema: num(0.5, 0, 1),
    default: "0.5",
    group: "Pipeline",
    description:
      "Council: background only — the hearts↔packs correlation is called strong in an episode when the lower end of its Fisher-z interval reaches this.",
  }),
  MUSE_CORRELATION_MIN_DAYS: spec({
    schema: int(5, 3, 365),
    default: "5",
    group: "Pipeline",
    description: "Council: full UTC days with both sources needed before the hearts↔packs correlation is stated (with its Fisher-z interval).",
  }),
  MUSE_CHANGE_ALPHA: spec({
    schema: num(0.001, 0.000001, 0.2),
    default: "0.001",
    group: "Pipeline",
    description:
      "Change points: the chance that a series without a change reports one, and the false discovery rate across series (Benjamini–Hochberg q ≤ this; changes inside the selected series at this × selected / tested).",
  }),
  MUSE_CHANGE_MIN_RUNS: spec({
    schema: int(3, 2, 100),
    default: "3",
    group: "Pipeline",
    description: "Change points: runs required on each side of a change.",
  }),
  MUSE_CHANGE_MIN_PCT: spec({
    schema: num(2, 0, 100),
    default: "2",
    group: "Pipeline",
    description: "Change points: smallest relative change (percent of the mean before) reported.",
  }),
  MUSE_PR_BASELINE_RUNS: spec({
    schema: int(10, 2, 200),
    default: "10",
    group: "Pipeline",
    description: "Pull-request checks: main's runs per series at or before the merge base that a pull request's head is compared with (docs/reach.md).",
  }),
  MUSE_PR_ALPHA: spec({
    schema: num(0.01, 0.000001, 0.2),
    default: "0.01",
    group: "Pipeline",
    description: "Pull-request checks: a change is significant at Benjamini–Hochberg q ≤ this across the pull request's series (Welch's t-test per series).",
  }),
  MUSE_PR_FAIL_PCT: spec({
    schema: num(5, 0, 1000),
    default: "5",
    group: "Pipeline",
    description: "Pull-request checks: a significant change at least this many percent worse than main at the merge base fails the check.",
  }),
  MUSE_PR_MIN_RUNS: spec({
    schema: int(3, 2, 100),
    default: "3",
    group: "Pipeline",
    description: 'Pull-request checks: runs of a series the head needs; with fewer (and nothing failed) the check is neutral, "too few runs".',
  }),
  MUSE_CHANGE_LOOKBACK_DAYS: spec({
    schema: int(30, 1, 365),
    default: "30",
    group: "Pipeline",
    description: "Change points: days of series history the detector reads.",
  }),
  MUSE_ACCURACY_GATE: spec({
    schema: num(0.99, 0, 1),
    default: "0.99",
    group: "Pipeline",
    description:
      "Accuracy gate: the fraction of the same run's `baseline` accuracy each quantization method must keep, judged on segment means between change points; a commit that takes a method below it is a quality regression (docs/quality.md).",
  }),
  MUSE_ACCURACY_GATES: spec({
    schema: gateList,
    default: "(unset: every method at MUSE_ACCURACY_GATE)",
    group: "Pipeline",
    description:
      "Accuracy gates per quantization method, comma-separated `method=fraction` (e.g. `int4=0.97,int8=0.99`); methods not listed use MUSE_ACCURACY_GATE.",
  }),
  MUSE_BISECT_RUNS_PER_DAY: spec({
    schema: int(200, 0, 100_000),
    default: "200",
    group: "Pipeline",
    description:
      "Bisection: extra benchmark runs Muse may ask for per UTC day over all events (one run = one benchmark of one series at one commit); 0 turns bisection off. Requests beyond it wait for the next day.",
  }),
  MUSE_BISECT_Z: spec({
    schema: num(2.33, 1, 6),
    default: "2.33",
    group: "Pipeline",
    description:
      "Bisection: |z| at which a commit's runs are decided to be like the range's start or its end (2.33: about 1 % one-sided error per step); below it, more runs up to MUSE_BISECT_MAX_RUNS.",
  }),
  MUSE_BISECT_MAX_RUNS: spec({
    schema: int(4, 1, 50),
    default: "4",
    group: "Pipeline",
    description: "Bisection: most runs at one commit before its side is decided by the sign alone (the story says so).",
  }),
  MUSE_NON_CODE_GLOBS: spec({
    schema: globList("reports/**,docs/**,**/*.md"),
    // In backticks: the generated markdown table would read the `**` as bold.
    default: "`reports/**,docs/**,**/*.md`",
    group: "Pipeline",
    description:
      "Change attribution: comma-separated globs (picomatch) of paths whose changes cannot change performance, such as benchmark output and docs. A commit that touches only these (the bot committing reports) is not a code commit: not a cause of a benchmark change, and a run it records measured the newest code commit before it.",
  }),
  MUSE_IMPACT_HOURS: spec({
    schema: int(24, 1, 24 * 14),
    default: "24",
    group: "Pipeline",
    description: "User impact: hours of Banterpacks data compared before and after a change's commit.",
  }),
  MUSE_IMPACT_LAG_MINUTES: spec({
    schema: int(30, 0, 24 * 60),
    default: "30",
    group: "Pipeline",
    description: "User impact: minutes after the commit before the 'after' period starts (deploy lag).",
  }),
  MUSE_IMPACT_ALPHA: spec({
    schema: num(0.05, 0.000001, 0.5),
    default: "0.05",
    group: "Pipeline",
    description: "User impact: significance level of 'users felt it'.",
  }),
  MUSE_TRANSLATION_WAIT_MINUTES: spec({
    schema: int(120, 0, 7 * 24 * 60),
    default: "120",
    group: "Pipeline",
    description:
      "Publish: with an LLM configured, how long an original waits for its MUSE_TRANSLATE_LANGS translations so they land in one commit; after this it is published with what exists.",
  }),
  MUSE_TITLE_MAX_LENGTH: spec({
    schema: int(80, 20, 200),
    default: "80",
    group: "Pipeline",
    description: "Council: longest episode title accepted (characters).",
  }),
  MUSE_TRANSLATE_LANGS: spec({ schema: langList, default: "de,zh,hi", group: "Pipeline", description: "Languages the translator produces." }),
  MUSE_LOCK_TTL_SECONDS: spec({
    schema: int(900, 10),
    default: "900",
    group: "Pipeline",
    description: "Agent lock lifetime: a lock left by a crashed run expires after this.",
  }),
  MUSE_LOG_LEVEL: spec({
    schema: withDefault("info").pipe(z.enum(["debug", "info", "warn", "error"])),
    default: "info",
    group: "Pipeline",
    description: "Lowest log level written.",
  }),
  MUSE_DLQ_DIR: spec({
    schema: withDefault(".muse/dlq"),
    default: ".muse/dlq",
    group: "Pipeline",
    description:
      "Dead-letter store: writes not completed after retries (ClickHouse down during ingest, Datadog down during a metrics flush) wait here as JSON files for `muse dlq replay`. Must be durable and writable; where it is not, ingest answers 503 instead of queueing.",
  }),
  MUSE_DLQ_DURABLE: spec({
    schema: optionalString.pipe(z.enum(["auto", "true", "false"]).optional()).transform((v) => v ?? "auto"),
    default: "auto",
    group: "Pipeline",
    description:
      "Is MUSE_DLQ_DIR durable storage that outlives the instance? auto: yes, except on a serverless platform (VERCEL, AWS_LAMBDA_FUNCTION_NAME, NETLIFY, K_SERVICE set), where ingest answers 503 + Retry-After instead of queueing onto per-instance files.",
  }),
  MUSE_DLQ_MAX_ENTRIES: spec({
    schema: int(10_000, 1, 10_000_000),
    default: "10000",
    group: "Pipeline",
    description: "Cap on dead-letter entries; past it new writes are refused (ingest answers 503 saying the store is full).",
  }),
  MUSE_DLQ_MAX_BYTES: spec({
    schema: int(268_435_456, 1_024, 1_099_511_627_776),
    default: "268435456",
    group: "Pipeline",
    description: "Cap on the dead-letter store's bytes (default 256 MiB).",
  }),
} as const;

type Spec = typeof ENV_SPEC;
export type EnvName = keyof Spec;
export type Env = { [K in EnvName]: z.output<Spec[K]["schema"]> };

export const envSchema = z.object(
  Object.fromEntries(Object.entries(ENV_SPEC).map(([k, v]) => [k, v.schema])) as {
    [K in EnvName]: Spec[K]["schema"];
  },
);

export class EnvError extends Error {
  constructor(readonly problems: { variable: string; message: string }[]) {
    super(`Invalid environment: ${problems.map((p) => `${p.variable}: ${p.message}`).join("; ")}`);
    this.name = "EnvError";
  }
}

/** Validates the environment; throws an EnvError naming every bad variable. */
export function parseEnv(source: Record<string, string | undefined>): Env {
  const picked = Object.fromEntries(Object.keys(ENV_SPEC).map((k) => [k, source[k]]));
  const result = envSchema.safeParse(picked);
  if (!result.success) {
    throw new EnvError(result.error.issues.map((i) => ({ variable: String(i.path[0]), message: i.message })));
  }
  return result.data as Env;
}

let cached: Env | undefined;
/** The process environment, validated once. */
export function loadEnv(): Env {
  cached ??= parseEnv(process.env);
  return cached;
}

/** For tests and the CLI after it changes process.env (e.g. seed defaults). */
export function resetEnvCache(): void {
  cached = undefined;
}

export function envDocs() {
  return Object.entries(ENV_SPEC).map(([name, s]) => ({
    name,
    group: s.group,
    default: s.default,
    description: s.description,
    secret: "secret" in s ? Boolean(s.secret) : false,
  }));
}

export function secretNames(): EnvName[] {
  return envDocs()
    .filter((d) => d.secret)
    .map((d) => d.name as EnvName);
}
