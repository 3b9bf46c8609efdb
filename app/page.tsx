export default function HomePage() {
  return (
    <main>
      <h1>Banterblogs</h1>
      <p className="muted">
        Muse turns Banterhearts benchmarks and Banterpacks telemetry into engineering stories. Every number in an
        episode is computed from ClickHouse rows and can be traced back to them.
      </p>
      <section className="card" aria-labelledby="pipeline">
        <h2 id="pipeline">The pipeline</h2>
        <ol>
          <li>
            <strong>ingest</strong> benchmark reports into <code>bench_runs</code> and <code>llm_events</code>
          </li>
          <li>
            <strong>collect</strong> UI events and upstream commits into <code>ui_events</code> and <code>session_stats</code>
          </li>
          <li>
            <strong>watch</strong> data freshness against the latest upstream commits
          </li>
          <li>
            <strong>council</strong>: correlate performance with user experience and write an episode
          </li>
          <li>
            <strong>publish</strong> and <strong>translate</strong> the episode
          </li>
        </ol>
        <p className="muted">No episodes have been published yet.</p>
      </section>
    </main>
  );
}
