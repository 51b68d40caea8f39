// The baseline metrics (planned vs actual), shown in the pre-read and the final recap.

export interface MetricRow {
  name: string
  planned: string
  actual: string
  unit: string
}

export function MetricsTable({ rows, caption }: { rows: MetricRow[]; caption?: string }) {
  return (
    <table class="table">
      {caption && <caption>{caption}</caption>}
      <thead>
        <tr>
          <th scope="col">Metric</th>
          <th scope="col">Planned</th>
          <th scope="col">Actual</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((m, i) => (
          <tr key={i}>
            <td>{m.name}</td>
            <td>{m.planned} {m.unit}</td>
            <td>{m.actual} {m.unit}</td>
          </tr>
        ))}
      </tbody>
    </table>
  )
}
