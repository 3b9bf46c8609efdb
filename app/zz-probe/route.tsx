import { renderToStaticMarkup } from "react-dom/server";
import { AxisLeft } from "@visx/axis";
import { scaleLinear } from "@visx/scale";

export const dynamic = "force-static";

export function GET() {
  const y = scaleLinear<number>({ domain: [0, 10], range: [100, 0] });
  const html = renderToStaticMarkup(<svg><AxisLeft scale={y} numTicks={3} /></svg>);
  return new Response(html, { headers: { "content-type": "text/html" } });
}
