import type { ThemeLabels } from "./ThemeToggle";

/**
 * The theme toggle of the static episode page: the same button and behaviour
 * as ThemeToggle (system → light → dark, stored in localStorage "muse-theme",
 * applied as `data-theme` on <html>, followed across tabs), driven by the
 * small inline THEME_SCRIPT instead of React. The button is `hidden` until the
 * script shows it: without JavaScript there is no dead control. No inline
 * event handler: the script attaches the listener.
 */

const ID = "theme-toggle";

export function StaticThemeToggle({ labels }: { labels: ThemeLabels }) {
  return (
    <button
      type="button"
      id={ID}
      className="theme-toggle"
      hidden
      aria-label={`${labels.theme}: ${labels.system}`}
      data-label={labels.theme}
      data-system={labels.system}
      data-light={labels.light}
      data-dark={labels.dark}
    >
      <span aria-hidden="true">◐</span>
      {` ${labels.system}`}
    </button>
  );
}

/**
 * Runs in <head>: applies the stored theme before first paint, then wires the
 * button once the document is parsed. Kept under 1 kB (tests check).
 */
export const THEME_SCRIPT = `(function(){var d=document,r=d.documentElement,K="muse-theme",N={system:"light",light:"dark",dark:"system"},c;function g(){try{var t=localStorage.getItem(K);return t==="light"||t==="dark"?t:"system"}catch(e){return"system"}}function a(t){c=t;if(t==="system")delete r.dataset.theme;else r.dataset.theme=t;var b=d.getElementById("${ID}");if(b){var l=b.dataset;b.lastChild.nodeValue=" "+l[t];b.setAttribute("aria-label",l.label+": "+l[t])}}a(g());addEventListener("storage",function(e){if(e.key===K||e.key===null)a(g())});d.addEventListener("DOMContentLoaded",function(){var b=d.getElementById("${ID}");if(!b)return;a(c);b.hidden=false;b.addEventListener("click",function(){var t=N[c];try{if(t==="system")localStorage.removeItem(K);else localStorage.setItem(K,t)}catch(e){}a(t)})})})()`;
