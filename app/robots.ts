import type { MetadataRoute } from "next";
import { absoluteUrl } from "@/lib/site/paths";
import { siteUrl } from "@/lib/site/view";

export default function robots(): MetadataRoute.Robots {
  const site = siteUrl();
  return {
    rules: [{ userAgent: "*", allow: "/", disallow: ["/api/", "/en/status", "/de/status", "/zh/status", "/hi/status"] }],
    sitemap: absoluteUrl(site, "/sitemap.xml"),
  };
}
