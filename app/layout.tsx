import type { Metadata } from "next";
import Link from "next/link";
import type { ReactNode } from "react";
import "./globals.css";

export const metadata: Metadata = {
  title: { default: "Banterblogs", template: "%s · Banterblogs" },
  description: "Engineering stories written from Banterhearts benchmarks and Banterpacks telemetry, every number traceable to its data.",
};

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body>
        <header className="site">
          <nav aria-label="Main">
            <Link className="brand" href="/">
              Banterblogs
            </Link>
            <a href="/api/health">Health</a>
          </nav>
        </header>
        {children}
      </body>
    </html>
  );
}
