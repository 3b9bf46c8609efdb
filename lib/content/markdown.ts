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

/** The prefix of every id episode markdown produces (headings, footnotes), as on GitHub. */
export const CONTENT_ID_PREFIX = "user-content-";

/**
 * GitHub's schema plus: highlight classes, heading ids and their anchors.
 * Every id (and name, aria-describedby/labelledby) from the markdown gets the
 * `user-content-` prefix, so no heading can take an id the page itself uses
 * (`main`, `toc-heading`, a global a script reads): DOM clobbering.
 * In-page links are prefixed to match (prefixFragmentLinks). Images only from
 * this site: a relative `src` (an LLM-written text cannot embed a tracking
 * pixel from another host; see docs/security.md).
 */
export const sanitizeSchema: SanitizeSchema = {
  ...defaultSchema,
  clobberPrefix: CONTENT_ID_PREFIX,
  clobber: ["ariaDescribedBy", "ariaLabelledBy", "id", "name"],
  attributes: {
    ...defaultSchema.attributes,
    code: [["className", /^language-./, "hljs"]],
    span: [...listOf(defaultSchema.attributes?.span), ["className", /^hljs-./]],
    a: [
      ...listOf(defaultSchema.attributes?.a).filter((a) => !(Array.isArray(a) && a[0] === "className")),
      ["className", "data-footnote-backref", "heading-anchor"],
      "ariaHidden",
      "tabIndex",
      ["id", /^fnref-/],
    ],
    h2: [...listOf(defaultSchema.attributes?.h2), "id"],
    h3: ["id"],
    h4: ["id"],
    h5: ["id"],
    h6: ["id"],
    // Ids elsewhere only for GFM footnotes (prefixed here, not by remark-rehype).
    "*": (defaultSchema.attributes?.["*"] ?? []).filter((a) => a !== "id" && a !== "name"),
    li: [...listOf(defaultSchema.attributes?.li), ["id", /^fn-/]],
  },
  // No protocol for src: only relative URLs (this site) survive.
  protocols: { ...defaultSchema.protocols, href: ["http", "https", "mailto"], src: [] },
};

/** `href="#x"` → `#user-content-x`, matching the prefixed ids (what GitHub does in the browser). */
function prefixFragmentLinks() {
  return (tree: HastNode) => {
    const visit = (node: HastNode) => {
      const href = node.type === "element" && node.tagName === "a" ? node.properties?.href : undefined;
      if (typeof href === "string" && href.length > 1 && href.startsWith("#") && !href.startsWith(`#${CONTENT_ID_PREFIX}`)) {
        node.properties!.href = `#${CONTENT_ID_PREFIX}${href.slice(1)}`;
      }
      for (const child of node.children ?? []) visit(child);
    };
    visit(tree);
  };
}

/** Drops images whose src is not on this site (protocol-relative `//host/x` included). */
function sameSiteImagesOnly() {
  return (tree: HastNode) => {
    const visit = (node: HastNode) => {
      if (node.children) {
        node.children = node.children.filter((child) => {
          if (child.type !== "element" || child.tagName !== "img") return true;
          const src = child.properties?.src;
          return typeof src === "string" && src.startsWith("/") && !src.startsWith("//") && !src.startsWith("/\\");
        });
        node.children.forEach(visit);
      }
    };
    visit(tree);
  };
}

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
  // Footnote ids unprefixed here: the sanitiser prefixes every id once.
  .use(remarkRehype, { clobberPrefix: "" })
  .use(rehypeSlug)
  .use(rehypeAutolinkHeadings, {
    behavior: "append",
    properties: { className: ["heading-anchor"], ariaHidden: "true", tabIndex: -1 },
    content: { type: "text", value: "#" },
  })
  .use(rehypeHighlight, { detect: false })
  .use(rehypeSanitize, sanitizeSchema)
  .use(prefixFragmentLinks)
  .use(sameSiteImagesOnly)
  .use(collectToc)
  .use(rehypeStringify)
  .freeze();

export async function renderMarkdown(markdown: string): Promise<RenderedMarkdown> {
  const file = await processor.process(markdown);
  return { html: String(file), toc: (file.data.toc as TocEntry[] | undefined) ?? [] };
}
