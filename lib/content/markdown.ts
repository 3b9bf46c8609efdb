import rehypeAutolinkHeadings from "rehype-autolink-headings";
import rehypeHighlight from "rehype-highlight";
import rehypeSanitize, { defaultSchema, type Options as SanitizeSchema } from "rehype-sanitize";
import rehypeSlug from "rehype-slug";
import rehypeStringify from "rehype-stringify";
import remarkGfm from "remark-gfm";
import remarkParse from "remark-parse";
import remarkRehype from "remark-rehype";
import { unified } from "unified";

/**
 * Episode markdown → HTML: GFM, slugged headings with anchor links, code
 * highlighting, and a table of contents. The output is SANITISED last, so
 * nothing an episode's markdown contains (raw HTML, `javascript:` links, event
 * handler attributes) can reach the page: raw HTML is dropped by remark-rehype
 * (no allowDangerousHtml) and rehype-sanitize's GitHub-style schema, extended
 * only with what the trusted plugins add (highlight classes, heading ids and
 * their anchor links), removes anything else.
 */

export interface TocEntry {
  id: string;
  text: string;
  depth: 2 | 3;
}

export interface RenderedMarkdown {
  html: string;
  toc: TocEntry[];
}

// Minimal hast shapes (the `hast` types are a transitive dependency only).
interface HastNode {
  type: string;
  value?: string;
  tagName?: string;
  properties?: Record<string, unknown>;
  children?: HastNode[];
}

type AttributeList = NonNullable<NonNullable<SanitizeSchema["attributes"]>[string]>;
const listOf = (value: AttributeList | undefined): AttributeList => value ?? [];

/** GitHub's schema plus: highlight classes, heading ids (unprefixed: the TOC links to them), heading anchors. */
export const sanitizeSchema: SanitizeSchema = {
  ...defaultSchema,
  // Ids come only from rehype-slug (raw HTML never gets here), so they need no
  // `user-content-` prefix; remark-rehype already prefixes footnote ids itself.
  clobberPrefix: "",
  clobber: [],
  attributes: {
    ...defaultSchema.attributes,
    code: [["className", /^language-./, "hljs"]],
    span: [...listOf(defaultSchema.attributes?.span), ["className", /^hljs-./]],
    a: [
      ...listOf(defaultSchema.attributes?.a).filter((a) => !(Array.isArray(a) && a[0] === "className")),
      ["className", "data-footnote-backref", "heading-anchor"],
      "ariaHidden",
      "tabIndex",
      ["id", /^user-content-fnref-/],
    ],
    h2: [...listOf(defaultSchema.attributes?.h2), "id"],
    h3: ["id"],
    h4: ["id"],
    h5: ["id"],
    h6: ["id"],
    // Ids elsewhere only for GFM footnotes (remark-rehype's `user-content-` ids).
    "*": (defaultSchema.attributes?.["*"] ?? []).filter((a) => a !== "id" && a !== "name"),
    li: [...listOf(defaultSchema.attributes?.li), ["id", /^user-content-fn-/]],
  },
  protocols: { ...defaultSchema.protocols, href: ["http", "https", "mailto"] },
};

function textOf(node: HastNode): string {
  if (node.type === "text") return node.value ?? "";
  // The heading anchor ("#") is not part of the heading's text.
  if (node.type === "element" && node.tagName === "a" && hasClass(node, "heading-anchor")) return "";
  return (node.children ?? []).map(textOf).join("");
}

function hasClass(element: HastNode, name: string): boolean {
  const cls = element.properties?.className;
  return Array.isArray(cls) ? cls.includes(name) : cls === name;
}

/** Collects h2/h3 with their (final, sanitised) ids into `file.data.toc`. */
function collectToc() {
  return (tree: HastNode, file: { data: Record<string, unknown> }) => {
    const toc: TocEntry[] = [];
    const visit = (node: HastNode) => {
      if (node.type === "element") {
        const element = node;
        const heading = element.tagName === "h2" || element.tagName === "h3";
        // The footnotes' visually hidden label is no section of the episode.
        if (heading && typeof element.properties?.id === "string" && !hasClass(element, "sr-only")) {
          toc.push({ id: element.properties.id, text: textOf(element).trim(), depth: element.tagName === "h2" ? 2 : 3 });
        }
      }
      for (const child of node.children ?? []) visit(child);
    };
    visit(tree);
    file.data.toc = toc;
  };
}

const processor = unified()
  .use(remarkParse)
  .use(remarkGfm)
  .use(remarkRehype)
  .use(rehypeSlug)
  .use(rehypeAutolinkHeadings, {
    behavior: "append",
    properties: { className: ["heading-anchor"], ariaHidden: "true", tabIndex: -1 },
    content: { type: "text", value: "#" },
  })
  .use(rehypeHighlight, { detect: false })
  .use(rehypeSanitize, sanitizeSchema)
  .use(collectToc)
  .use(rehypeStringify)
  .freeze();

export async function renderMarkdown(markdown: string): Promise<RenderedMarkdown> {
  const file = await processor.process(markdown);
  return { html: String(file), toc: (file.data.toc as TocEntry[] | undefined) ?? [] };
}
