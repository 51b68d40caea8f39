// Before the meeting: the pre-read (scope, evidence, draft timeline, ground rules)
// and the private questionnaire.
import { useEffect, useState } from 'preact/hooks'
import { answerQuestionnaire, getQuestionnaire } from '../app/commands'
import { useReview } from '../app/context'
import { GroundRules } from '../shared/ground-rules'
import { useY } from '../app/hooks'
import { MetricsTable } from '../shared/metrics-table'
import { readReview } from '../app/model'
import { EvidenceLinks } from '../shared/evidence-links'
import { navigate, reviewPath } from '../app/router'
import { TimelineLane } from '../shared/timeline-lane'
import { ErrorText, formatLocalTime, Section, useCommand } from '../app/ui'
import { CoveredInsightsSection } from './covered-insights'

function Questionnaire({ readOnly }: { readOnly: boolean }) {
  const { id } = useReview()
  const [prompts, setPrompts] = useState<string[]>([])
  const [answers, setAnswers] = useState<Record<number, string>>({})
  const [saved, setSaved] = useState(false)
  const load = useCommand()
  const save = useCommand()
  useEffect(() => {
    void load.run(async () => {
      const q = await getQuestionnaire(id)
      setPrompts(q.prompts)
      const byPrompt: Record<number, string> = {}
      q.answers.forEach((a) => a.prompt !== null && (byPrompt[a.prompt] = a.text))
      setAnswers(byPrompt)
    })
  }, [id])
  return (
    <Section title="Your answers before the meeting" id="questionnaire">
      <p class="muted small">
        Private until the moderator reveals them, and then shown without your name. Writing first, alone, keeps the
        loudest voice from setting the tone.
      </p>
      <form
        onSubmit={(e) => {
          e.preventDefault()
          setSaved(false)
          void save.run(async () => {
            await answerQuestionnaire(id, prompts.map((_, i) => ({ prompt: i, text: (answers[i] ?? '').trim() })))
            setSaved(true)
          })
        }}
      >
        <fieldset disabled={readOnly}>
          {prompts.map((p, i) => (
            <div class="field" key={i}>
              <label for={`answer-${i}`}>{p}</label>
              <textarea id={`answer-${i}`} rows={3} value={answers[i] ?? ''} onInput={(e) => setAnswers({ ...answers, [i]: e.currentTarget.value })} />
            </div>
          ))}
          <div class="row">
            <button type="submit" class="btn btn-primary" disabled={save.busy || !prompts.length}>
              Save my answers
            </button>
            {saved && <span role="status">Saved. Only you can see them for now.</span>}
          </div>
        </fieldset>
        <ErrorText message={load.error || save.error} />
      </form>
    </Section>
  )
}

export function PreReadPage() {
  const { id, sync, you } = useReview()
  useY(sync.docs.room.getMap('review'))
  const review = readReview(sync.docs.room)
  const readOnly = review.status === 'closed' || you.role === 'observer'
  const s = review.scope
  return (
    <main class="page preread" id="main">
      {review.status === 'live' && (
        <p class="notice notice-info">
          The meeting has started.{' '}
          <button type="button" class="btn btn-primary" onClick={() => navigate(reviewPath(id, 'meeting'))}>
            Join the meeting
          </button>
        </p>
      )}
      <div class="prepare-grid">
        <div>
          <Section title="What we are reviewing" id="scope-read">
            <dl class="facts">
              <dt>Event</dt>
              <dd>{s.event || '—'}</dd>
              <dt>Question</dt>
              <dd>{s.question || '—'}</dd>
              <dt>Time window</dt>
              <dd>{s.window_start ? `${formatLocalTime(s.window_start)} – ${s.window_end ? formatLocalTime(s.window_end) : '…'}` : '—'}</dd>
              <dt>Expected output</dt>
              <dd>{s.expected_output || '—'}</dd>
            </dl>
            {review.metrics.length > 0 && (
              <MetricsTable
                caption="Baseline metrics"
                rows={review.metrics.map((m) => ({
                  name: m.name,
                  planned: String(m.planned ?? '—'),
                  actual: String(m.actual ?? '—'),
                  unit: m.unit,
                }))}
              />
            )}
            {review.links.length > 0 && <EvidenceLinks links={review.links} />}
          </Section>
          <CoveredInsightsSection reviewId={id} />
          {you.role !== 'observer' && <Questionnaire readOnly={readOnly} />}
        </div>
        <div>
          <GroundRules />
          <TimelineLane editable={!readOnly} />
        </div>
      </div>
    </main>
  )
}
