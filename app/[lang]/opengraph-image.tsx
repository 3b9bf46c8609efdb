import { isLang, uiStrings } from "@/lib/site/i18n";
import { isOgSafe, OG_SIZE, ogImage } from "@/lib/site/og";

export const alt = "Banterblogs";
export const size = OG_SIZE;
export const contentType = "image/png";

export default async function Image({ params }: { params: Promise<{ lang: string }> }) {
  const { lang } = await params;
  const tagline = isLang(lang) && isOgSafe(uiStrings(lang).tagline) ? uiStrings(lang).tagline : uiStrings("en").tagline;
  return ogImage({ eyebrow: "Banterblogs", title: "Engineering stories with traceable numbers", footer: tagline });
}
