import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { detectSeries, type DetectorOptions, type SeriesDetection } from "./changepoints";

/**
 * The first pass of a family's detection (every series on its own, detectEach's `alone`) spread over worker threads,
 * one per core: detectSeries is a pure function of its series, so the family's detections are the same whichever
 * thread computed each (a test holds that). A council run over 10,000 series × 1,000 runs spends most of its time here
 * (docs/change-points.md, "Speed"); on two cores it takes about half as long.
 *
 * Workers are started only where they pay for themselves (a family of at least MIN_POINTS_FOR_WORKERS runs and more
 * than one core) and only where they can start: the worker's module is TypeScript, loaded through tsx where the
 * process itself runs under tsx (the CLI, the demo, the bench, the tests). Where a worker cannot start or fails — a
 * bundled server without the module beside it — its batches run on the calling thread, so the result never depends
 * on where it runs, only the time does.
 */

export interface DetectionJob {
  values: ArrayLike<number>;
  groups?: ArrayLike<number>;
  options: DetectorOptions;
}

/** What a worker is posted: a batch of series (values copied into typed arrays and transferred, not cloned twice). */
export interface DetectionBatch {
  id: number;
  series: { values: Float64Array; groups?: Float64Array; options: DetectorOptions }[];
}

export interface DetectionPoolOptions {
  /** Worker threads; default one per core (availableParallelism). 1 or fewer runs everything on the calling thread. */
  workers?: number;
  /** Where the worker's module is; default detection-worker.ts beside this one (a test points it elsewhere). */
  workerModule?: URL;
  /** Below this many runs in all, the calling thread does it all; default MIN_POINTS_FOR_WORKERS. */
  minPoints?: number;
  /** Called after each batch with the series done so far (long work shows progress) and where the batch ran. */
  onProgress?: (done: number, total: number, ranOn: "worker" | "calling thread") => void;
}

/** Below this many runs in all a family is detected on the calling thread: starting workers costs more than it saves. */
export const MIN_POINTS_FOR_WORKERS = 400_000;
/** Series per batch: small enough to share the work evenly between workers, large enough that posting is cheap. */
const BATCH_SERIES = 100;

export async function detectSeriesInWorkers(jobs: readonly DetectionJob[], pool: DetectionPoolOptions = {}): Promise<SeriesDetection[]> {
  const workers = Math.min(pool.workers ?? availableParallelism(), Math.ceil(jobs.length / BATCH_SERIES));
  const points = jobs.reduce((sum, j) => sum + j.values.length, 0);
  const inline = (job: DetectionJob) => detectSeries(job.values, job.options, job.groups ? { groups: job.groups } : {});
  if (workers <= 1 || points < (pool.minPoints ?? MIN_POINTS_FOR_WORKERS)) {
    const out = jobs.map(inline);
    pool.onProgress?.(jobs.length, jobs.length, "calling thread");
    return out;
  }
  const results: SeriesDetection[] = new Array(jobs.length);
  const batches: number[][] = [];
  for (let from = 0; from < jobs.length; from += BATCH_SERIES)
    batches.push(Array.from({ length: Math.min(BATCH_SERIES, jobs.length - from) }, (_, k) => from + k));
  let next = 0;
  let done = 0;
  const finish = (batch: number[], ranOn: "worker" | "calling thread") => {
    done += batch.length;
    pool.onProgress?.(done, jobs.length, ranOn);
  };
  const runInline = (batch: number[]) => {
    for (const i of batch) results[i] = inline(jobs[i]);
    finish(batch, "calling thread");
  };
  const lane = async () => {
    let worker = startWorker(pool.workerModule ?? defaultWorkerModule());
    try {
      while (next < batches.length) {
        const id = next++;
        const batch = batches[id];
        const detections = worker ? await worker.run(toBatch(id, batch, jobs)).catch(() => undefined) : undefined;
        if (!detections) {
          // No worker, or it failed (could not load, or died): this lane carries on here, this batch included.
          await worker?.stop();
          worker = undefined;
          runInline(batch);
          continue;
        }
        batch.forEach((i, k) => (results[i] = detections[k]));
        finish(batch, "worker");
      }
    } finally {
      await worker?.stop();
    }
  };
  await Promise.all(Array.from({ length: workers }, lane));
  return results;
}

function toBatch(id: number, batch: number[], jobs: readonly DetectionJob[]): { message: DetectionBatch; transfer: ArrayBuffer[] } {
  const series = batch.map((i) => ({
    values: Float64Array.from(jobs[i].values),
    ...(jobs[i].groups ? { groups: Float64Array.from(jobs[i].groups as ArrayLike<number>) } : {}),
    options: { ...jobs[i].options },
  }));
  const transfer = series.flatMap((s) => (s.groups ? [s.values.buffer, s.groups.buffer] : [s.values.buffer]));
  return { message: { id, series }, transfer };
}

function defaultWorkerModule(): URL {
  return new URL("./detection-worker.ts", `file://${fileURLToPath(import.meta.url)}`);
}

interface DetectionWorker {
  run(batch: { message: DetectionBatch; transfer: ArrayBuffer[] }): Promise<SeriesDetection[]>;
  stop(): Promise<void>;
}

/** A worker on `module` (through tsx's loader when it is TypeScript), or undefined when one cannot be started here. */
function startWorker(module: URL): DetectionWorker | undefined {
  let worker: Worker;
  try {
    const source = module.pathname.endsWith(".ts")
      ? `import("tsx/esm/api").then((tsx) => { tsx.register(); return import(${JSON.stringify(module.href)}); })`
      : `import(${JSON.stringify(module.href)})`;
    worker = new Worker(source, { eval: true });
  } catch {
    return undefined;
  }
  let pending: { resolve: (d: SeriesDetection[]) => void; reject: (e: unknown) => void } | undefined;
  let failure: unknown;
  worker.on("message", (reply: { detections: SeriesDetection[] }) => {
    const p = pending;
    pending = undefined;
    p?.resolve(reply.detections);
  });
  const fail = (error: unknown) => {
    failure = error ?? new Error("detection worker stopped");
    const p = pending;
    pending = undefined;
    p?.reject(failure);
  };
  worker.on("error", fail);
  worker.on("exit", (code) => fail(new Error(`detection worker exited with ${code}`)));
  return {
    run: ({ message, transfer }) =>
      failure
        ? Promise.reject(failure)
        : new Promise((resolve, reject) => {
            pending = { resolve, reject };
            worker.postMessage(message, transfer);
          }),
    stop: async () => {
      worker.removeAllListeners("exit");
      await worker.terminate();
    },
  };
}
