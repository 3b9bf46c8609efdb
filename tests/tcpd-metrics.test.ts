import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { leaveOneOut } from "../bench/tcpd/leave-one-out";
import {
  loadTcpd,
  md5,
  meanScores,
  PROTOCOL_EXCLUDED,
  publishedMeans,
  publishedScores,
  QUALITY_CONTROL_SERIES,
  TCPD_DIR,
  tcpdAnnotations,
  tcpdSeriesInfo,
} from "../bench/tcpd/dataset";
import { evaluateOnTcpd, zNormalise } from "../bench/tcpd/evaluate";
import { coverScore, coverSingle, covering, f1Score, fMeasure, partitionFromCps, pythonSetOrder, truePositives, type Segment } from "../bench/tcpd/metrics";

/**
 * bench/tcpd is TCPDBench's scoring ported from bench/data/tcpd/tcpdbench/analysis/scripts/metrics.py: the
 * doctests of metrics.py, then the published per-series scores of two methods recomputed from their predictions —
 * `zero` (no change point) and `binseg` (locations from TCPDBench's own result files) — bit for bit on every
 * series, then the published means, the and the paper's. No database involved.
 */

const info = tcpdSeriesInfo();
const annotations = tcpdAnnotations();
const checksums = JSON.parse(readFileSync(path.join(TCPD_DIR, "checksums.json"), "utf8")).checksums as Record<string, string | string[]>;

/**
 * The 36 series of the comparison: univariate, not left out by TCPDBench (uk_coal_employ), checksum verified —
 * ratner_stock's only available build differs from TCPD's checksum. Scoring needs annotations and lengths only, so
 * these tests cover all 36 even where a series' data file is not in the repository.
 */
const COMPARABLE = Object.keys(info)
  .filter((name) => info[name].dims === 1 && !PROTOCOL_EXCLUDED[name] && name !== "ratner_stock")
  .sort();

describe("the port of metrics.py", () => {
  it("walks sets in CPython's order, not sorted", () => {
    expect(pythonSetOrder([0, 6, 10])).toEqual([0, 10, 6]);
    expect(pythonSetOrder([315, 19, 368, 0])).toEqual([19, 0, 315, 368]);
    expect(pythonSetOrder([0, 0, 5, 5])).toEqual([0, 5]);
    // 16 elements: the table grows from 8 to 32 slots on the 5th.
    const steps = Array.from({ length: 16 }, (_, i) => i * 13);
    expect(pythonSetOrder(steps)).toEqual([0, 65, 130, 195, 39, 104, 169, 13, 78, 143, 52, 117, 182, 26, 91, 156]);
  });

  it("true_positives (metrics.py doctests)", () => {
    const tp = (truth: number[], predictions: number[]) => truePositives(pythonSetOrder(truth), predictions).sort((a, b) => a - b);
    expect(tp([1, 10, 20, 23], [3, 8, 20])).toEqual([1, 10, 20]);
    expect(tp([1, 10, 20, 23], [1, 3, 8, 20])).toEqual([1, 10, 20]);
    expect(tp([1, 10, 20, 23], [1, 3, 5, 8, 20])).toEqual([1, 10, 20]);
    expect(tp([], [1, 2, 3])).toEqual([]);
    expect(tp([1, 2, 3], [])).toEqual([]);
  });

  it("f_measure (metrics.py doctests), and the set order deciding a shared prediction", () => {
    expect(fMeasure({ 1: [10, 20], 2: [11, 20], 3: [10], 4: [0, 5] }, [10, 20]).f).toBe(1.0);
    expect(fMeasure({ 1: [], 2: [10], 3: [50] }, [10]).f).toBe(0.9090909090909091);
    expect(fMeasure({ 1: [], 2: [10], 3: [50] }, []).f).toBe(0.8);
    // {0, 6, 10} is walked 0, 10, 6: 10 takes the prediction at 8 first, and 6 has none left within 5
    // (Python: f_measure({'1': [6, 10]}, [8, 13]) == 2/3; a sorted walk would give 1).
    expect(fMeasure({ 1: [6, 10] }, [8, 13])).toEqual({ f: 0.6666666666666666, precision: 0.6666666666666666, recall: 0.6666666666666666 });
  });

  it("partition_from_cps and cover_single (metrics.py doctests)", () => {
    expect(partitionFromCps([], 5)).toEqual([[0, 5]]);
    expect(partitionFromCps([3, 5], 8)).toEqual([
      [0, 3],
      [3, 5],
      [5, 8],
    ]);
    expect(partitionFromCps([1, 2, 7], 8)).toEqual([
      [0, 1],
      [1, 2],
      [2, 7],
      [7, 8],
    ]);
    expect(partitionFromCps([0, 4], 6)).toEqual([
      [0, 4],
      [4, 6],
    ]);
    // The doctests' sets {1, 2, 3} … are the segments [1, 4) …
    const seg = (...bounds: number[]): Segment[] => bounds.slice(0, -1).map((b, i) => [b, bounds[i + 1]] as const);
    expect(coverSingle(seg(1, 4, 7), seg(1, 4, 6, 7))).toBe(0.8333333333333334);
    expect(coverSingle(seg(1, 7), seg(1, 5, 7))).toBe(0.6666666666666666);
    expect(coverSingle(seg(1, 4, 7), seg(1, 3, 5, 7))).toBe(0.6666666666666666);
    expect(coverSingle(seg(1, 2, 3, 4, 7), seg(1, 7))).toBe(0.3333333333333333);
  });

  it("covering (metrics.py doctests)", () => {
    expect(covering({ 1: [10, 20], 2: [10], 3: [0, 5] }, [10, 20], 45)).toBe(0.7962962962962963);
    expect(covering({ 1: [], 2: [10], 3: [40] }, [10], 45)).toBe(0.7954144620811286);
    expect(covering({ 1: [], 2: [10], 3: [40] }, [], 45)).toBe(0.8189300411522634);
  });

  it("drops predictions at 0, at n − 1 and outside the series before scoring, as TCPDBench's summaries do", () => {
    const a = { 1: [10], 2: [12] };
    expect(f1Score(a, [0, 10, 10, 49, 50, -3], 50)).toBe(fMeasure(a, [10]).f);
    expect(coverScore(a, [0, 10, 49], 50)).toBe(covering(a, [10], 50));
    expect(() => f1Score(a, [10.5], 50)).toThrow(RangeError);
  });
});

describe("the published per-series scores (default experiment)", () => {
  const published = publishedScores("default");

  it("covers the 36 comparable series", () => {
    expect(COMPARABLE).toHaveLength(36);
    for (const name of COMPARABLE) expect(published.zero[name], name).toBeDefined();
  });

  it("zero (no change point): every one of the 36 series, bit for bit", () => {
    for (const name of COMPARABLE) {
      const { nObs } = info[name];
      expect(f1Score(annotations[name], [], nObs), `${name} F1`).toBe(published.zero[name].f1);
      expect(coverScore(annotations[name], [], nObs), `${name} cover`).toBe(published.zero[name].cover);
    }
  });

  it("binseg, from the locations in TCPDBench's result files: every one of the 36 series, bit for bit", () => {
    const results = JSON.parse(readFileSync(path.join(TCPD_DIR, "tcpdbench/default_binseg_cplocations.json"), "utf8")) as Record<
      string,
      { dataset_md5: string; cplocations: number[] }
    >;
    expect(Object.keys(results).sort()).toEqual(COMPARABLE);
    for (const name of COMPARABLE) {
      const { dataset_md5, cplocations } = results[name];
      // Run on the very file TCPD's checksums.json names.
      expect([checksums[`${name}.json`]].flat(), name).toContain(dataset_md5);
      const { nObs } = info[name];
      expect(f1Score(annotations[name], cplocations, nObs), `${name} F1`).toBe(published.binseg[name].f1);
      expect(coverScore(annotations[name], cplocations, nObs), `${name} cover`).toBe(published.binseg[name].cover);
    }
  });
});

describe("the published means", () => {
  it("default experiment, the 36 series, failures scoring 0: the figures of the README and issue", () => {
    const means = publishedMeans("default", COMPARABLE);
    const expected: Record<string, [f1: string, cover: string]> = {
      binseg: ["0.733", "0.695"],
      pelt: ["0.712", "0.678"],
      amoc: ["0.693", "0.694"],
      bocpd: ["0.691", "0.626"],
      segneigh: ["0.673", "0.669"],
      zero: ["0.665", "0.582"],
      ecp: ["0.603", "0.518"],
    };
    for (const [method, [f1, cover]] of Object.entries(expected)) {
      expect([means[method].f1.toFixed(3), means[method].cover.toFixed(3)], method).toEqual([f1, cover]);
      expect(means[method].series).toBe(36);
    }
    const bestF1 = Object.entries(means).sort((a, b) => b[1].f1 - a[1].f1)[0][0];
    expect(bestF1).toBe("binseg");
  });

  it("oracle experiment, the 36 series: bocpd has the best F1, 0.895 / 0.798 (rfpop's cover, 0.799, is higher)", () => {
    const means = publishedMeans("oracle", COMPARABLE);
    expect([means.bocpd.f1.toFixed(3), means.bocpd.cover.toFixed(3)]).toEqual(["0.895", "0.798"]);
    expect(Object.entries(means).sort((a, b) => b[1].f1 - a[1].f1)[0][0]).toBe("bocpd");
    expect(means.rfpop.cover.toFixed(3)).toBe("0.799");
  });

  it("a method without a score on a series scores 0 there", () => {
    expect(meanScores({ a: { f1: 1, cover: 0.5 }, b: { f1: null, cover: null } }, ["a", "b", "c"])).toEqual({
      f1: 1 / 3,
      cover: 0.5 / 3,
      failures: 2,
      series: 3,
    });
  });

  it("the paper's aggregate table (aggregate_scores_wide.tex): quality-control series and uk_coal_employ left out, failures 0", () => {
    const tex = readFileSync(path.join(TCPD_DIR, "tcpdbench/analysis/output/tables/aggregate_scores_wide.tex"), "utf8");
    const univariate = Object.keys(info).filter(
      (name) => info[name].dims === 1 && name !== "uk_coal_employ" && !(QUALITY_CONTROL_SERIES as readonly string[]).includes(name),
    );
    const multivariate = Object.keys(info).filter((name) => info[name].dims > 1);
    expect(univariate).toHaveLength(32);
    const sets = { default: publishedScores("default"), oracle: publishedScores("oracle") };
    let cells = 0;
    for (const line of tex.split("\n")) {
      const row = /^\\textsc\{(\w+)\}\s*&(.*)\\\\$/.exec(line.trim());
      if (!row) continue;
      const method = row[1];
      // Default: uni cover, uni F1, —, multi cover, multi F1, —, then the same for oracle.
      const cols = row[2].split("&").map((c) => c.replace(/\\textbf\{([^}]*)\}/, "$1").trim());
      const layout: [experiment: "default" | "oracle", series: string[], col: number][] = [
        ["default", univariate, 0],
        ["default", multivariate, 3],
        ["oracle", univariate, 6],
        ["oracle", multivariate, 9],
      ];
      for (const [experiment, series, col] of layout) {
        if (cols[col] === "") continue;
        const mean = meanScores(sets[experiment][method], series);
        expect([mean.cover.toFixed(3), mean.f1.toFixed(3)], `${experiment} ${method} ${series === univariate ? "uni" : "multi"}`).toEqual([
          cols[col],
          cols[col + 1],
        ]);
        cells += 2;
      }
    }
    expect(cells).toBe(14 * 2 * 2 + 6 * 2 * 2);
  });
});

describe("loadTcpd", () => {
  const data = loadTcpd();

  it("gives every series in the repository that can be compared, and says why each other TCPD series is left out", () => {
    const loaded = data.series.map((s) => s.name);
    const inRepository = COMPARABLE.filter((name) => info[name].vendored);
    expect(inRepository).toHaveLength(30);
    for (const name of inRepository) expect(loaded).toContain(name);
    for (const name of loaded) expect(COMPARABLE).toContain(name);
    expect([...loaded, ...data.excluded.map((e) => e.name)].sort()).toEqual(Object.keys(info).sort());
    const reason = (name: string) => data.excluded.find((e) => e.name === name)?.reason;
    expect(reason("uk_coal_employ")).toMatch(/missing values/);
    expect(reason("apple")).toMatch(/multivariate/);
    // ratner_stock: either not here (not redistributed) or here and failing its checksum.
    expect(reason("ratner_stock")).toMatch(/not in the repository|checksum mismatch/);
    for (const s of data.series) {
      expect(s.values, s.name).toHaveLength(s.nObs);
      expect(s.values.every(Number.isFinite), s.name).toBe(true);
      expect(s.annotations).toEqual(annotations[s.name]);
    }
  });

  it("verifies each file against checksums.json (MD5 of the bytes) and leaves out one that differs", () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "tcpd-"));
    try {
      mkdirSync(path.join(dir, "datasets"));
      for (const file of ["checksums.json", "annotations.json"]) copyFileSync(path.join(TCPD_DIR, file), path.join(dir, file));
      writeFileSync(path.join(dir, "series.json"), JSON.stringify({ nile: info.nile }));
      const nile = readFileSync(path.join(TCPD_DIR, "datasets/nile.json"));
      expect(md5(nile)).toBe(checksums["nile.json"]);
      writeFileSync(path.join(dir, "datasets/nile.json"), nile.toString("utf8").replace("1120", "1121"));
      const tampered = loadTcpd({ dir });
      expect(tampered.series).toEqual([]);
      expect(tampered.excluded).toEqual([{ name: "nile", reason: expect.stringMatching(/^checksum mismatch/) }]);
      copyFileSync(path.join(TCPD_DIR, "datasets/nile.json"), path.join(dir, "datasets/nile.json"));
      expect(loadTcpd({ dir }).series.map((s) => s.name)).toEqual(["nile"]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("evaluateOnTcpd", () => {
  it("scores a detector as TCPDBench does: no change at all reproduces zero's published scores and mean", () => {
    const published = publishedScores("default").zero;
    const result = evaluateOnTcpd(() => []);
    expect(result.series.length).toBeGreaterThanOrEqual(30);
    for (const s of result.series) {
      expect([s.f1, s.cover, s.predicted], s.name).toEqual([published[s.name].f1, published[s.name].cover, 0]);
    }
    const mean = meanScores(
      published,
      result.series.map((s) => s.name),
    );
    expect(result.mean.f1).toBeCloseTo(mean.f1, 12);
    expect(result.mean.cover).toBeCloseTo(mean.cover, 12);
    expect(result.failures).toBe(0);
  });

  it("hands the detector z-scored values, and scores a detector that throws 0 on that series", () => {
    let seen: number[] = [];
    const data = loadTcpd();
    const one = { series: data.series.filter((s) => s.name === "nile"), excluded: [] };
    evaluateOnTcpd(
      (values) => {
        seen = values;
        return [];
      },
      { data: one },
    );
    const mean = seen.reduce((a, b) => a + b, 0) / seen.length;
    const sd = Math.sqrt(seen.reduce((a, b) => a + (b - mean) ** 2, 0) / (seen.length - 1));
    expect(mean).toBeCloseTo(0, 12);
    expect(sd).toBeCloseTo(1, 12);
    expect(zNormalise([5, 5, 5])).toEqual([0, 0, 0]);
    const failed = evaluateOnTcpd(
      () => {
        throw new Error("boom");
      },
      { data: one },
    );
    expect(failed.series[0]).toMatchObject({ name: "nile", f1: 0, cover: 0, error: "boom" });
    expect(failed.failures).toBe(1);
  });
});

describe("leaveOneOut", () => {
  it("scores each series with the setting that is best on the others: below the in-sample best when a setting overfits one series", () => {
    const overfit = { setting: "A", series: [1, 1, 0].map((v) => ({ f1: v, cover: v })) };
    const steady = { setting: "B", series: [0.9, 0.9, 0.9].map((v) => ({ f1: v, cover: v })) };
    // Held out 0 or 1, B is better on the rest (1.8 + 1.8 against 2 + 0); held out 2, A is (4 against 3.6) and scores 0 there.
    const loo = leaveOneOut([overfit, steady]);
    expect(loo.chosen).toEqual(["B", "B", "A"]);
    expect(loo.mean.f1).toBeCloseTo(0.6, 12);
    expect(loo.mean.cover).toBeCloseTo(0.6, 12);
    // One setting: leave-one-out is that setting's own mean.
    expect(leaveOneOut([steady]).mean.f1).toBeCloseTo(0.9, 12);
    expect(() => leaveOneOut([overfit, { setting: "C", series: [{ f1: 1, cover: 1 }] }])).toThrow(RangeError);
    expect(() => leaveOneOut([])).toThrow(RangeError);
  });
});
