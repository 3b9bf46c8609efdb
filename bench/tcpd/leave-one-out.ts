/**
 * Leave-one-out over settings looked at on TCPD. The benchmark's protocol is one setting for every series, chosen
 * elsewhere; where a constant was seen to move TCPD's score, the honest figure beside the default's is this one: for
 * each series in turn, the setting with the best mean F1 + cover on the other series, scored on that series alone —
 * what the method would score had the setting been tuned on TCPD itself.
 */

export interface SettingScores {
  /** A name for the setting, e.g. "seasonMinAcf 0.3, pinned within 12". */
  setting: string;
  /** Per series, in the same order for every setting. */
  series: readonly { f1: number; cover: number }[];
}

export interface LeaveOneOut {
  mean: { f1: number; cover: number };
  /** The setting chosen for each held-out series, in series order. */
  chosen: string[];
}

/** Ties go to the earlier setting in `grid`. Throws when the settings disagree on how many series there are. */
export function leaveOneOut(grid: readonly SettingScores[]): LeaveOneOut {
  if (grid.length === 0) throw new RangeError("leaveOneOut needs at least one setting");
  const n = grid[0].series.length;
  if (grid.some((g) => g.series.length !== n)) throw new RangeError("every setting must score the same series");
  const totals = grid.map((g) => g.series.reduce((sum, s) => sum + s.f1 + s.cover, 0));
  let [f1, cover] = [0, 0];
  const chosen: string[] = [];
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let k = 1; k < grid.length; k++) {
      const without = (j: number) => totals[j] - grid[j].series[i].f1 - grid[j].series[i].cover;
      if (without(k) > without(best)) best = k;
    }
    f1 += grid[best].series[i].f1;
    cover += grid[best].series[i].cover;
    chosen.push(grid[best].setting);
  }
  return { mean: { f1: n ? f1 / n : Number.NaN, cover: n ? cover / n : Number.NaN }, chosen };
}
