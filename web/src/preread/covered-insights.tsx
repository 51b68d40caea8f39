// A quarterly review's pre-read: the insights of the reviews it covers, as compact
// tables (the team page's Insights tab has the charts). Other reviews show nothing.
import { useEffect, useState } from 'preact/hooks'
import { ApiError, get } from '../app/api'
import { ErrorText, Section } from '../app/ui'

interface Ranked {
  rank: number
  id: string
  name: string
  reviews: number
  votes: number
  actions: { not_verified: number }
  reason: string
}

interface CategoryRow {
  category: string
  label: string
  themes: number
  reviews: number
  votes: number
}

interface FollowRow {
  created: number
  done: number
  verified: number
  wont_do: number
  overdue: number
}

interface CoveredInsights {
  reviews: { review_id: string; title: string; closed_ms: number }[]
  friction: Ranked[]
  figures: { categories: CategoryRow[]; follow_through: { totals: FollowRow } } | null
}

export function CoveredInsightsSection({ reviewId }: { reviewId: string }) {
  const [found, setFound] = useState<CoveredInsights | null>(null)
  const [error, setError] = useState('')
  useEffect(() => {
    let live = true
    get<CoveredInsights>(`/api/reviews/${encodeURIComponent(reviewId)}/insights`)
      .then((data) => live && setFound(data))
      .catch((e: unknown) => {
        // A review that covers no others simply has no such section.
        if (live && !(e instanceof ApiError && e.code === 'no-covers')) setError(String((e as Error).message || e))
      })
    return () => {
      live = false
    }
  }, [reviewId])
  if (error) return <ErrorText message={error} />
  if (!found) return null
  const totals = found.figures?.follow_through.totals
  return (
    <Section title="What the covered reviews show" id="covered-insights">
      <p class="muted small">
        {found.reviews.length} closed {found.reviews.length === 1 ? 'review' : 'reviews'}:{' '}
        {found.reviews.map((r) => r.title).join(', ')}
      </p>
      {found.friction.length > 0 ? (
        <table class="table covered-themes">
          <caption>Recurring themes, highest friction first</caption>
          <thead>
            <tr>
              <th scope="col">#</th>
              <th scope="col">Theme</th>
              <th scope="col">Reviews</th>
              <th scope="col">Votes</th>
              <th scope="col">Actions not verified</th>
              <th scope="col">Why here</th>
            </tr>
          </thead>
          <tbody>
            {found.friction.map((g) => (
              <tr key={g.id}>
                <td>{g.rank}</td>
                <td>{g.name}</td>
                <td>{g.reviews}</td>
                <td>{g.votes}</td>
                <td>{g.actions.not_verified}</td>
                <td class="small">{g.reason}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <p>No theme came back across these reviews.</p>
      )}
      {found.figures && found.figures.categories.length > 0 && (
        <table class="table covered-categories">
          <caption>Contributing factors by category</caption>
          <thead>
            <tr>
              <th scope="col">Category</th>
              <th scope="col">Themes</th>
              <th scope="col">Reviews</th>
              <th scope="col">Votes</th>
            </tr>
          </thead>
          <tbody>
            {found.figures.categories.map((c) => (
              <tr key={c.category}>
                <td>{c.label}</td>
                <td>{c.themes}</td>
                <td>{c.reviews}</td>
                <td>{c.votes}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {totals && (
        <p class="small covered-follow-through">
          Actions: {totals.created} agreed, {totals.done} done, {totals.verified} verified, {totals.wont_do} won't do,{' '}
          {totals.overdue} overdue.
        </p>
      )}
    </Section>
  )
}
