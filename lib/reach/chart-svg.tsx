import { EventChart } from "@/components/charts/EventChart";
import type { EventChart as EventChartData } from "../site/event-chart";
import { uiStrings } from "../site/i18n";
import { renderStaticMarkup } from "../site/static-markup";

/**
 * An event's chart as a standalone SVG document: the site's own EventChart
 * component (rendered with lib/site/static-markup.ts, as the episode pages
 * are), cut out of its <figure>, with the namespace, a background and the
 * colours the site's stylesheet would give it inlined, so it reads the same as
 * an <img> in a GitHub issue or a Slack message, outside the site.
 */

/** The light theme's colours (app/globals.css). */
const STYLE = [
  "svg{color:#555c6a;font-family:ui-sans-serif,system-ui,-apple-system,'Segoe UI',Roboto,sans-serif}",
  ".series-1{color:#5433b8}",
  ".series-2{color:#0f7b6c}",
  ".series-3{color:#b4235b}",
  ".marker-regression{color:#b4235b}",
  ".marker-improvement{color:#0f7b6c}",
].join("");

export function eventChartSvg(chart: EventChartData, options: { kind?: "regression" | "improvement" } = {}): string {
  const s = uiStrings("en").changeEvents;
  const html = renderStaticMarkup(
    <EventChart
      id="event-chart"
      chart={chart}
      kind={options.kind ?? "regression"}
      t={s.chart}
      fixedBy={s.fixedBy}
      tableLabel="data"
      commitLabel={s.commit}
      kindLabel={s.kind}
    />,
  );
  const start = html.indexOf("<svg");
  const end = html.lastIndexOf("</svg>");
  if (start < 0 || end < start) throw new Error("the event chart rendered no <svg>");
  const svg = html.slice(start, end + "</svg>".length);
  const viewBox = /viewBox="0 0 (\d+(?:\.\d+)?) (\d+(?:\.\d+)?)"/.exec(svg);
  const [w, h] = viewBox ? [viewBox[1], viewBox[2]] : ["480", "300"];
  const opened = svg
    .replace(/^<svg/, `<svg xmlns="http://www.w3.org/2000/svg"`)
    .replace(/ width="100%"/, ` width="${Number(w) * 2}" height="${Number(h) * 2}"`)
    .replace(/ class="chart-svg"/, "");
  // The background and style go right after the opening tag's <title> and <desc>.
  const head = opened.indexOf(">") + 1;
  const extra = `<style>${STYLE}</style><rect width="100%" height="100%" fill="#ffffff"/>`;
  return `<?xml version="1.0" encoding="UTF-8"?>\n${opened.slice(0, head)}${extra}${opened.slice(head)}`;
}
