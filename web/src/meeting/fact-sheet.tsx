// The factual summary, on screen while the group agrees on what happened: the scope,
// the baseline numbers and the evidence, so a moderator sharing a screen shows facts.
import { useReview } from '../app/context'
import { useY } from '../app/hooks'
import { readReview } from '../app/model'
import { EvidenceLinks } from '../shared/evidence-links'
import { formatLocalTime } from '../app/ui'
import { MetricsTable } from '../shared/metrics-table'

const text = (v: number | string | null) => (v === null ? '' : String(v))

export function FactSheet() {
  const { sync } = useReview()
  const room = sync.docs.room
  useY(room.getMap('review'))
  const review = readReview(room)
  const { scope } = review
  return (
    <section class="panel fact-sheet" aria-labelledby="facts-title">
      <h2 id="facts-title">Factual summary</h2>
      <dl class="facts">
        <dt>Event under review</dt>
        <dd>{scope.event || '—'}</dd>
        <dt>The question we want answered</dt>
        <dd>{scope.question || '—'}</dd>
        <dt>Time window</dt>
        <dd>{scope.window_start ? `${formatLocalTime(scope.window_start)} – ${formatLocalTime(scope.window_end)}` : '—'}</dd>
        <dt>Expected output</dt>
        <dd>{scope.expected_output || '—'}</dd>
      </dl>
      {review.metrics.length > 0 && (
        <MetricsTable
          caption="Baseline metrics"
          rows={review.metrics.map((m) => ({ name: m.name, planned: text(m.planned), actual: text(m.actual), unit: m.unit }))}
        />
      )}
      {review.links.length > 0 && (
        <>
          <h3 class="small-heading">Evidence</h3>
          <EvidenceLinks links={review.links} />
        </>
      )}
    </section>
  )
}
