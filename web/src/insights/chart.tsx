// One figure of the insights: a Chart.js chart (canvas, so nothing inline for the CSP to
// refuse: Chart.js 4 sizes the canvas through the CSSOM, never a style attribute), the
// same numbers as a table, and the figure as CSV or JSON from the API.
import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
  type ChartConfiguration,
} from 'chart.js'
import { useEffect, useRef, useState } from 'preact/hooks'
import { CHART_AS_TABLE, CHART_AS_CHART } from '../app/texts'

Chart.register(BarController, BarElement, CategoryScale, LinearScale, LineController, LineElement, PointElement, Legend, Tooltip)

export interface Series {
  label: string
  values: (number | null)[]
}

export interface Figure {
  /** The API's figure name, for `figure=<name>&format=csv|json`. */
  name: string
  title: string
  kind: 'bar' | 'line' | 'histogram'
  labels: string[]
  series: Series[]
  xTitle: string
  yTitle: string
  /** Says what a value means when the axis alone does not (e.g. "hours"). */
  note?: string
}

// Distinguishable on white and for the common colour-vision differences.
const PALETTE = ['#1f4e79', '#c75c00', '#1d6b3a', '#7a3e9d', '#a32020', '#4f5b67', '#0f7c8c', '#8a6d00']

function config(figure: Figure): ChartConfiguration {
  const histogram = figure.kind === 'histogram'
  return {
    type: figure.kind === 'line' ? 'line' : 'bar',
    data: {
      labels: figure.labels,
      datasets: figure.series.map((s, i) => ({
        label: s.label,
        data: s.values,
        backgroundColor: PALETTE[i % PALETTE.length],
        borderColor: PALETTE[i % PALETTE.length],
        borderWidth: figure.kind === 'line' ? 2 : 0,
        tension: 0, // straight segments: a curve would suggest values between months
        ...(histogram ? { barPercentage: 1, categoryPercentage: 0.98 } : {}),
      })),
    },
    options: {
      responsive: true,
      maintainAspectRatio: false,
      animation: false, // numbers, not motion; and the same picture every time
      plugins: {
        legend: { display: figure.series.length > 1, position: 'bottom' },
        tooltip: { enabled: true },
      },
      scales: {
        x: { title: { display: !!figure.xTitle, text: figure.xTitle } },
        y: { beginAtZero: true, title: { display: !!figure.yTitle, text: figure.yTitle }, ticks: { precision: 0 } },
      },
    },
  }
}

function FigureChart({ figure }: { figure: Figure }) {
  const canvas = useRef<HTMLCanvasElement>(null)
  const chart = useRef<Chart | null>(null)
  useEffect(() => {
    if (!canvas.current) return undefined
    chart.current = new Chart(canvas.current, config(figure))
    return () => {
      chart.current?.destroy()
      chart.current = null
    }
  }, [figure])
  const summary = `${figure.title}: ${figure.labels.length} ${figure.labels.length === 1 ? 'value' : 'values'}; switch to the table to read them.`
  return (
    <div class="chart-box">
      <canvas ref={canvas} role="img" aria-label={summary} />
    </div>
  )
}

const cell = (v: number | null) => (v === null || v === undefined ? '–' : Number.isInteger(v) ? String(v) : v.toFixed(1))

export function FigureTable({ figure }: { figure: Figure }) {
  return (
    <div class="table-wrap">
      <table class="figure-table">
        <caption class="offscreen">{figure.title}</caption>
        <thead>
          <tr>
            <th scope="col">{figure.xTitle}</th>
            {figure.series.map((s) => (
              <th key={s.label} scope="col">
                {s.label}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {figure.labels.map((label, row) => (
            <tr key={label} data-row={label}>
              <th scope="row">{label}</th>
              {figure.series.map((s) => (
                <td key={s.label} data-series={s.label}>
                  {cell(s.values[row] ?? null)}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  )
}

export function FigurePanel({ figure, download }: { figure: Figure; download: (format: 'csv' | 'json') => string }) {
  const [asTable, setAsTable] = useState(false)
  const empty = figure.labels.length === 0
  const headingId = `figure-${figure.name}`
  return (
    <section class="panel figure" data-figure={figure.name} data-points={figure.labels.length} aria-labelledby={headingId}>
      <div class="panel-head">
        <h3 id={headingId}>{figure.title}</h3>
        <div class="row tight">
          <button type="button" class="btn btn-quiet btn-small" aria-pressed={asTable} disabled={empty} onClick={() => setAsTable(!asTable)}>
            {asTable ? CHART_AS_CHART : CHART_AS_TABLE}
          </button>
          <a class="btn btn-quiet btn-small" href={download('csv')} download>
            CSV
          </a>
          <a class="btn btn-quiet btn-small" href={download('json')} download>
            JSON
          </a>
        </div>
      </div>
      {figure.note && <p class="muted small">{figure.note}</p>}
      {empty ? <p class="muted">Nothing to show for this period.</p> : asTable ? <FigureTable figure={figure} /> : <FigureChart figure={figure} />}
    </section>
  )
}
