import type { ReactNode } from "react";
import { messageOf } from "../error-message";

/**
 * React elements → static HTML, for pages served as documents without any
 * framework JavaScript (the episode page's route handler).
 *
 * Why not `react-dom/server`: Next.js bundles route handlers for the React
 * Server Components environment (the `react-server` condition), where
 * importing `react-dom/server` is a build error ("You're importing a
 * component that imports react-dom/server") and resolves to a module that
 * throws. This renderer covers what server-only, synchronous components
 * produce — host elements, text, fragments, function components, memo and
 * forwardRef — with React DOM's own output rules for that subset (attribute
 * aliases, boolean attributes, style objects, escaping, blocked `javascript:`
 * URLs), so `renderToStaticMarkup` from react-dom/server gives the same string
 * (tests/episode-page.test.ts compares the two on whole episode pages).
 *
 * Deliberately unsupported, with an error naming the component: hooks (no
 * dispatcher: a component calling one throws), context, class components,
 * async components, client components ("use client" references) and event
 * handler props — none can work in a page that ships no JavaScript.
 *
 * Kept rather than replaced by `hast` + `hast-util-to-html` (issue 16,
 * decided): the episode page is made of the same JSX components the
 * React-rendered pages use (components/EpisodeArticle, Evidence, the charts).
 * hast would replace only the last step, serialisation; the part that knows
 * React's element symbols — walking elements, calling function components,
 * unwrapping memo/forwardRef — would still be needed to turn JSX into hast,
 * plus a props → hast properties mapping as long as this file's attribute
 * rules. The alternative that avoids React entirely, writing the page as hast
 * builders, means a second, untyped copy of every component. And
 * hast-util-to-html is only a transitive dependency (of rehype-stringify).
 * The risk of relying on React's symbols — an upgrade renaming them — is
 * caught by tests/episode-page.test.ts, which compares this renderer with
 * react-dom/server's renderToStaticMarkup on whole pages. `escapeHtml` is
 * browser-safe (this module imports only React's types).
 */

const ELEMENT = Symbol.for("react.transitional.element");
const LEGACY_ELEMENT = Symbol.for("react.element");
const FRAGMENT = Symbol.for("react.fragment");
const STRICT_MODE = Symbol.for("react.strict_mode");
const SUSPENSE = Symbol.for("react.suspense");
const MEMO = Symbol.for("react.memo");
const FORWARD_REF = Symbol.for("react.forward_ref");
const CLIENT_REFERENCE = Symbol.for("react.client.reference");

interface ElementLike {
  $$typeof: symbol;
  type: unknown;
  props: Record<string, unknown>;
}

const VOID_ELEMENTS = new Set(["area", "base", "br", "col", "embed", "hr", "img", "input", "keygen", "link", "meta", "param", "source", "track", "wbr"]);

/** React DOM's boolean attributes: present (`name=""`) when truthy, absent otherwise. */
const BOOLEAN_ATTRIBUTES = new Set([
  "allowFullScreen",
  "async",
  "autoPlay",
  "controls",
  "credentialless",
  "default",
  "defer",
  "disabled",
  "disablePictureInPicture",
  "disableRemotePlayback",
  "formNoValidate",
  "hidden",
  "inert",
  "loop",
  "noModule",
  "noValidate",
  "open",
  "playsInline",
  "readOnly",
  "required",
  "reversed",
  "scoped",
  "seamless",
  "itemScope",
]);

/** Attributes React DOM writes under another name (HTML aliases and SVG presentation attributes). */
const ALIASES = new Map<string, string>([
  ["className", "class"],
  ["tabIndex", "tabindex"],
  ["htmlFor", "for"],
  ["acceptCharset", "accept-charset"],
  ["httpEquiv", "http-equiv"],
  ["crossOrigin", "crossorigin"],
  ["xlinkHref", "xlink:href"],
  ["xmlLang", "xml:lang"],
  ["xmlSpace", "xml:space"],
  ["xmlBase", "xml:base"],
  ["xlinkActuate", "xlink:actuate"],
  ["xlinkArcrole", "xlink:arcrole"],
  ["xlinkRole", "xlink:role"],
  ["xlinkShow", "xlink:show"],
  ["xlinkTitle", "xlink:title"],
  ["xlinkType", "xlink:type"],
  ["xmlnsXlink", "xmlns:xlink"],
  ...[
    "accentHeight",
    "alignmentBaseline",
    "arabicForm",
    "baselineShift",
    "capHeight",
    "clipPath",
    "clipRule",
    "colorInterpolation",
    "colorInterpolationFilters",
    "colorProfile",
    "colorRendering",
    "dominantBaseline",
    "enableBackground",
    "fillOpacity",
    "fillRule",
    "floodColor",
    "floodOpacity",
    "fontFamily",
    "fontSize",
    "fontSizeAdjust",
    "fontStretch",
    "fontStyle",
    "fontVariant",
    "fontWeight",
    "glyphName",
    "glyphOrientationHorizontal",
    "glyphOrientationVertical",
    "horizAdvX",
    "horizOriginX",
    "imageRendering",
    "letterSpacing",
    "lightingColor",
    "markerEnd",
    "markerMid",
    "markerStart",
    "maskType",
    "overlinePosition",
    "overlineThickness",
    "paintOrder",
    "pointerEvents",
    "renderingIntent",
    "shapeRendering",
    "stopColor",
    "stopOpacity",
    "strikethroughPosition",
    "strikethroughThickness",
    "strokeDasharray",
    "strokeDashoffset",
    "strokeLinecap",
    "strokeLinejoin",
    "strokeMiterlimit",
    "strokeOpacity",
    "strokeWidth",
    "textAnchor",
    "textDecoration",
    "textRendering",
    "transformOrigin",
    "underlinePosition",
    "underlineThickness",
    "unicodeBidi",
    "unicodeRange",
    "unitsPerEm",
    "vAlphabetic",
    "vHanging",
    "vIdeographic",
    "vMathematical",
    "vectorEffect",
    "vertAdvY",
    "vertOriginX",
    "vertOriginY",
    "wordSpacing",
    "writingMode",
    "xHeight",
  ].map((name): [string, string] => [name, name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)]),
]);

/** Props that are never attributes. */
const SKIPPED = new Set([
  "children",
  "dangerouslySetInnerHTML",
  "ref",
  "key",
  "suppressHydrationWarning",
  "suppressContentEditableWarning",
  "defaultValue",
  "defaultChecked",
  "innerHTML",
]);

/** CSS properties whose numbers take no `px` (the ones these pages can use; React's full list is longer). */
const UNITLESS_STYLES = new Set([
  "flex",
  "flexGrow",
  "flexShrink",
  "fontWeight",
  "lineHeight",
  "opacity",
  "order",
  "zIndex",
  "zoom",
  "fillOpacity",
  "floodOpacity",
  "stopOpacity",
  "strokeDasharray",
  "strokeDashoffset",
  "strokeMiterlimit",
  "strokeOpacity",
  "strokeWidth",
  "tabSize",
  "scale",
]);

const VALID_ATTRIBUTE_NAME =
  /^[:A-Z_a-z\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u02FF\u0370-\u037D\u037F-\u1FFF\u200C-\u200D\u2070-\u218F\u2C00-\u2FEF\u3001-\uD7FF\uF900-\uFDCF\uFDF0-\uFFFD][:A-Z_a-z\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u02FF\u0370-\u037D\u037F-\u1FFF\u200C-\u200D\u2070-\u218F\u2C00-\u2FEF\u3001-\uD7FF\uF900-\uFDCF\uFDF0-\uFFFD\-.0-9\u00B7\u0300-\u036F\u203F-\u2040]*$/;
const VALID_TAG_NAME = /^[a-zA-Z][a-zA-Z:_.\-\d]*$/;
const JAVASCRIPT_URL = /^[\u0000-\u001F ]*j[\r\n\t]*a[\r\n\t]*v[\r\n\t]*a[\r\n\t]*s[\r\n\t]*c[\r\n\t]*r[\r\n\t]*i[\r\n\t]*p[\r\n\t]*t[\r\n\t]*:/i;
const BLOCKED_URL = "javascript:throw new Error('React has blocked a javascript: URL as a security precaution.')";

/** HTML-escapes text and attribute values exactly as React DOM does. */
export function escapeHtml(value: unknown): string {
  return String(value).replace(/["&'<>]/g, (c) => (c === '"' ? "&quot;" : c === "&" ? "&amp;" : c === "'" ? "&#x27;" : c === "<" ? "&lt;" : "&gt;"));
}

function isElement(node: unknown): node is ElementLike {
  return typeof node === "object" && node !== null && ((node as ElementLike).$$typeof === ELEMENT || (node as ElementLike).$$typeof === LEGACY_ELEMENT);
}

function nameOf(type: unknown): string {
  if (typeof type === "function") return (type as { displayName?: string }).displayName ?? type.name ?? "anonymous";
  if (typeof type === "string") return type;
  return String((type as { displayName?: string } | null)?.displayName ?? "component");
}

function styleText(style: unknown): string {
  if (typeof style !== "object" || style === null) throw new Error("The `style` prop expects an object");
  const parts: string[] = [];
  for (const [name, value] of Object.entries(style as Record<string, unknown>)) {
    if (value === null || value === undefined || typeof value === "boolean" || value === "") continue;
    if (name.startsWith("--")) {
      parts.push(`${escapeHtml(name)}:${escapeHtml(String(value).trim())}`);
      continue;
    }
    const css = escapeHtml(
      name
        .replace(/([A-Z])/g, "-$1")
        .toLowerCase()
        .replace(/^ms-/, "-ms-"),
    );
    const text = typeof value === "number" ? (value === 0 || UNITLESS_STYLES.has(name) ? String(value) : `${value}px`) : escapeHtml(String(value).trim());
    parts.push(`${css}:${text}`);
  }
  return parts.length ? ` style="${parts.join(";")}"` : "";
}

function attribute(name: string, value: unknown, element: string): string {
  if (SKIPPED.has(name) || value === null || value === undefined) return "";
  if (name.length > 2 && /^on/i.test(name)) {
    // React DOM never writes on* attributes; a handler here is a component meant for the browser.
    if (typeof value === "function") throw new Error(`<${element} ${name}>: event handlers cannot work in a static page (no JavaScript is shipped)`);
    return "";
  }
  if (typeof value === "function" || typeof value === "symbol") return "";
  if (name === "style") return styleText(value);
  if (BOOLEAN_ATTRIBUTES.has(name)) return value ? ` ${name}=""` : "";
  if (name === "autoFocus" || name === "multiple" || name === "muted") return value ? ` ${name.toLowerCase()}=""` : "";
  if (name === "src" || name === "href" || name === "action" || name === "formAction" || name === "xlinkHref") {
    if (typeof value === "boolean" || value === "") return "";
    const url = String(value);
    return ` ${ALIASES.get(name) ?? name}="${escapeHtml(JAVASCRIPT_URL.test(url) ? BLOCKED_URL : url)}"`;
  }
  if (
    name === "contentEditable" ||
    name === "spellCheck" ||
    name === "draggable" ||
    name === "value" ||
    name === "autoReverse" ||
    name === "externalResourcesRequired" ||
    name === "focusable" ||
    name === "preserveAlpha"
  ) {
    return ` ${name}="${escapeHtml(value)}"`;
  }
  const attr = ALIASES.get(name) ?? name;
  if (!VALID_ATTRIBUTE_NAME.test(attr)) throw new Error(`<${element}>: invalid attribute name ${JSON.stringify(name)}`);
  if (typeof value === "boolean") {
    const prefix = attr.toLowerCase().slice(0, 5);
    if (prefix !== "data-" && prefix !== "aria-") return "";
  }
  return ` ${attr}="${escapeHtml(value)}"`;
}

function renderHost(tag: string, props: Record<string, unknown>, out: string[]): void {
  if (!VALID_TAG_NAME.test(tag)) throw new Error(`invalid tag name ${JSON.stringify(tag)}`);
  let open = `<${tag}`;
  for (const [name, value] of Object.entries(props)) open += attribute(name, value, tag);
  const inner = props.dangerouslySetInnerHTML as { __html?: unknown } | undefined | null;
  if (VOID_ELEMENTS.has(tag)) {
    if (props.children !== undefined && props.children !== null) throw new Error(`<${tag}> is a void element and cannot have children`);
    if (inner) throw new Error(`<${tag}> is a void element and cannot have dangerouslySetInnerHTML`);
    out.push(`${open}/>`);
    return;
  }
  out.push(`${open}>`);
  if (inner !== undefined && inner !== null) {
    if (props.children !== undefined && props.children !== null) throw new Error("Can only set one of `children` or `props.dangerouslySetInnerHTML`.");
    if (typeof inner !== "object" || !("__html" in inner)) throw new Error("`props.dangerouslySetInnerHTML` must be in the form `{__html: ...}`");
    if (inner.__html !== null && inner.__html !== undefined) out.push(String(inner.__html));
  } else {
    if ((tag === "script" || tag === "style") && props.children !== undefined && props.children !== null) {
      throw new Error(`<${tag}>: pass its content through dangerouslySetInnerHTML`);
    }
    renderNode(props.children, out);
  }
  out.push(`</${tag}>`);
}

function renderNode(node: unknown, out: string[]): void {
  if (node === null || node === undefined || typeof node === "boolean") return;
  if (typeof node === "string") {
    out.push(escapeHtml(node));
    return;
  }
  if (typeof node === "number" || typeof node === "bigint") {
    out.push(String(node));
    return;
  }
  if (Array.isArray(node)) {
    for (const child of node) renderNode(child, out);
    return;
  }
  if (isElement(node)) {
    renderElement(node, out);
    return;
  }
  if (typeof node === "object" && typeof (node as { then?: unknown }).then === "function")
    throw new Error("async content (a promise) cannot be rendered statically");
  if (typeof node === "object" && Symbol.iterator in node) {
    for (const child of node as Iterable<unknown>) renderNode(child, out);
    return;
  }
  throw new Error(`cannot render ${typeof node === "object" ? "an object" : typeof node} as a React child`);
}

function renderElement(element: ElementLike, out: string[]): void {
  const { type, props } = element;
  if (typeof type === "string") {
    renderHost(type, props, out);
    return;
  }
  if (type === FRAGMENT || type === STRICT_MODE || type === SUSPENSE) {
    renderNode(props.children, out);
    return;
  }
  const kind = (type as { $$typeof?: symbol } | null)?.$$typeof;
  if (kind === CLIENT_REFERENCE) throw new Error(`client component ${nameOf(type)} cannot be rendered in a static page`);
  if (kind === MEMO) {
    renderElement({ ...element, type: (type as { type: unknown }).type }, out);
    return;
  }
  if (kind === FORWARD_REF) {
    renderNode((type as { render: (props: unknown, ref: unknown) => unknown }).render(props, null), out);
    return;
  }
  if (typeof type === "function") {
    if ((type as { prototype?: { isReactComponent?: unknown } }).prototype?.isReactComponent)
      throw new Error(`class component ${nameOf(type)} is not supported`);
    let result: unknown;
    try {
      result = (type as (props: unknown) => unknown)(props);
    } catch (error) {
      const message = messageOf(error);
      throw new Error(`rendering <${nameOf(type)}> failed (static markup supports no hooks or context): ${message}`, { cause: error });
    }
    if (typeof result === "object" && result !== null && typeof (result as { then?: unknown }).then === "function") {
      throw new Error(`<${nameOf(type)}> is async: static markup renders synchronous components only`);
    }
    renderNode(result, out);
    return;
  }
  throw new Error(`unsupported element type ${nameOf(type)}${kind ? ` (${String(kind)})` : ""}`);
}

/** The HTML of a tree of synchronous server components (no doctype). */
export function renderStaticMarkup(node: ReactNode): string {
  const out: string[] = [];
  renderNode(node, out);
  return out.join("");
}
