// The insights answer (learning/insights.py `compute`) turned into the figures the page
// draws. Each figure keeps the API's name, so its CSV/JSON download is the same numbers.
import type { Figure } from './chart'

interface FollowRow {
  created: number
  open: number
  in_progress: number
  done: number
  verified: number
  wont_do: number
  overdue: number
  median_days_to_done: number | null
  verification_rate: number | null
}

export interface Insights {
  period: { since: string; until: string }
  reviews: number
  categories: { category: string; label: string; themes: number; reviews: number; votes: number }[]
  category_trend: { months: string[]; series: { category: string; label: string; themes: number[]; votes: number[] }[] }
  follow_through: {
    totals: FollowRow
    by_kind: (FollowRow & { kind: string; label: string })[]
    by_owner: (FollowRow & { owner_id: string; owner: string })[]
  }
  timeline: {
    reviews: { review_id: string; title: string; signal_to_response_min: number | null; signal_to_escalation_min: number | null }[]
    /** Reviews with a timeline figure in the period; `reviews` holds the latest of them. */
    reviews_total: number
    distribution: { bucket: string; response: number; escalation: number }[]
    response: { count: number; median_min: number | null }
    escalation: { count: number; median_min: number | null }
  }
}

const FOLLOW_SERIES: [keyof FollowRow, string][] = [
  ['created', 'Created'],
  ['done', 'Done'],
  ['verified', 'Verified'],
  ['wont_do', 'Won’t do'],
  ['overdue', 'Overdue'],
]

/** A figure with nothing but zeros says nothing: it shows as empty. */
const orEmpty = (f: Figure): Figure => (f.series.some((s) => s.values.some((v) => v)) ? f : { ...f, labels: [] })

function categories(d: Insights): Figure {
  return orEmpty({
    name: 'categories',
    title: 'Contributing factors by category',
    kind: 'bar',
    labels: d.categories.map((c) => c.label),
    series: [
      { label: 'Themes', values: d.categories.map((c) => c.themes) },
      { label: 'Reviews', values: d.categories.map((c) => c.reviews) },
      { label: 'Votes', values: d.categories.map((c) => c.votes) },
    ],
    xTitle: 'Category',
    yTitle: 'Count',
  })
}

function trend(d: Insights): Figure {
  const t = d.category_trend
  const used = t.series.filter((s) => s.themes.some((n) => n > 0))
  return orEmpty({
    name: 'category-trend',
    title: 'Contributing factors per month',
    kind: 'line',
    labels: t.months,
    series: used.map((s) => ({ label: s.label, values: s.themes })),
    xTitle: 'Month (closed)',
    yTitle: 'Themes',
  })
}

function followBy(d: Insights, by: 'kind' | 'owner'): Figure {
  const rows: (FollowRow & { label?: string; owner?: string })[] = by === 'kind' ? d.follow_through.by_kind : d.follow_through.by_owner
  return orEmpty({
    name: `follow-through-by-${by}`,
    title: by === 'kind' ? 'Actions by kind' : 'Actions by owner',
    kind: 'bar',
    labels: rows.map((r) => (by === 'kind' ? (r.label ?? '') : (r.owner ?? ''))),
    series: FOLLOW_SERIES.map(([key, label]) => ({ label, values: rows.map((r) => r[key]) })),
    xTitle: by === 'kind' ? 'Kind' : 'Owner',
    yTitle: 'Actions',
  })
}

function timelinePerReview(d: Insights): Figure {
  const rows = d.timeline.reviews
  return {
    name: 'timeline',
    title: 'Minutes from first signal, per review',
    kind: 'bar',
    labels: rows.map((r) => r.title),
    series: [
      { label: 'To first response', values: rows.map((r) => r.signal_to_response_min) },
      { label: 'To escalation', values: rows.map((r) => r.signal_to_escalation_min) },
    ],
    xTitle: 'Review',
    yTitle: 'Minutes',
    note:
      rows.length < d.timeline.reviews_total
        ? `The latest ${rows.length} of the ${d.timeline.reviews_total} reviews whose timeline marks the first signal and the first response or the escalation (the download has them all).`
        : 'Reviews whose timeline marks the first signal and the first response or the escalation.',
  }
}

function timelineDistribution(d: Insights): Figure {
  const t = d.timeline
  const median = (m: number | null) => (m === null ? '–' : `${m} min`)
  return orEmpty({
    name: 'timeline-distribution',
    title: 'From first signal to response and escalation',
    kind: 'histogram',
    labels: t.distribution.map((b) => b.bucket),
    series: [
      { label: 'To first response', values: t.distribution.map((b) => b.response) },
      { label: 'To escalation', values: t.distribution.map((b) => b.escalation) },
    ],
    xTitle: 'Time from the first signal',
    yTitle: 'Reviews',
    note: `Median to first response ${median(t.response.median_min)} (${t.response.count} reviews); to escalation ${median(t.escalation.median_min)} (${t.escalation.count}).`,
  })
}

export const figuresOf = (d: Insights) => ({
  categories: categories(d),
  trend: trend(d),
  byKind: followBy(d, 'kind'),
  byOwner: followBy(d, 'owner'),
  perReview: timelinePerReview(d),
  distribution: timelineDistribution(d),
})

export interface Headline {
  key: string
  label: string
  value: string
}

export function followThroughHeadline(d: Insights): Headline[] {
  const t = d.follow_through.totals
  const n = (v: number) => String(v)
  return [
    { key: 'created', label: 'Actions created', value: n(t.created) },
    { key: 'done', label: 'Done', value: n(t.done) },
    { key: 'verified', label: 'Verified', value: n(t.verified) },
    { key: 'wont_do', label: 'Won’t do', value: n(t.wont_do) },
    { key: 'overdue', label: 'Overdue', value: n(t.overdue) },
    { key: 'median_days_to_done', label: 'Median days to done', value: t.median_days_to_done === null ? '–' : String(t.median_days_to_done) },
    { key: 'verification_rate', label: 'Verified of done', value: t.verification_rate === null ? '–' : `${Math.round(t.verification_rate * 100)} %` },
  ]
}
