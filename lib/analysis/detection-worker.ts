/**
 * The detection worker (detection-workers.ts starts it): detectSeries on each series of a batch posted to it, the
 * detections posted back in the batch's order. Pure like the detector: nothing is kept between batches.
 */
import { parentPort } from "node:worker_threads";
import { detectSeries } from "./changepoints";
import type { DetectionBatch } from "./detection-workers";

parentPort?.on("message", (batch: DetectionBatch) => {
  const detections = batch.series.map((s) => detectSeries(s.values, s.options, s.groups ? { groups: s.groups } : {}));
  parentPort?.postMessage({ id: batch.id, detections });
});
