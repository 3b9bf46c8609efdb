/** The visible "Sample data" label of episodes written from seeded data. */
export function SampleBadge({ label }: { label: string }) {
  return <span className="badge badge-sample">{label}</span>;
}
