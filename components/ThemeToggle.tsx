"use client";

import { useSyncExternalStore } from "react";

/**
 * The theme toggle: system → light → dark. The choice is stored in
 * localStorage ("muse-theme") and applied as `data-theme` on <html>; the
 * inline script in the root layout applies it before first paint.
 */

type Theme = "system" | "light" | "dark";
const KEY = "muse-theme";
const EVENT = "muse-theme-change";
const NEXT: Record<Theme, Theme> = { system: "light", light: "dark", dark: "system" };

function read(): Theme {
  try {
    const stored = window.localStorage.getItem(KEY);
    return stored === "light" || stored === "dark" ? stored : "system";
  } catch {
    return "system";
  }
}

function subscribe(onChange: () => void): () => void {
  window.addEventListener("storage", onChange);
  window.addEventListener(EVENT, onChange);
  return () => {
    window.removeEventListener("storage", onChange);
    window.removeEventListener(EVENT, onChange);
  };
}

export interface ThemeLabels {
  theme: string;
  system: string;
  light: string;
  dark: string;
}

export function ThemeToggle({ labels }: { labels: ThemeLabels }) {
  const theme = useSyncExternalStore(subscribe, read, () => "system" as Theme);
  const choose = () => {
    const next = NEXT[theme];
    try {
      if (next === "system") window.localStorage.removeItem(KEY);
      else window.localStorage.setItem(KEY, next);
    } catch {
      // storage unavailable: the choice lasts for this page only
    }
    if (next === "system") delete document.documentElement.dataset.theme;
    else document.documentElement.dataset.theme = next;
    window.dispatchEvent(new Event(EVENT));
  };
  return (
    <button type="button" className="theme-toggle" onClick={choose} aria-label={`${labels.theme}: ${labels[theme]}`}>
      <span aria-hidden="true">◐</span> {labels[theme]}
    </button>
  );
}
