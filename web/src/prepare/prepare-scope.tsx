// Prepare: title, scope, baseline metrics, evidence links and settings.
import { patchReview } from '../app/commands'
import { useReview } from '../app/context'
import { isoToLocalInput, localInputToIso, useFormState } from './form-state'
import { useY } from '../app/hooks'
import { readReview, type Link, type Metric, type Settings } from '../app/model'
import { ErrorText, Section, useCommand } from '../app/ui'

function SaveRow({ dirty, busy, error, onReset }: { dirty: boolean; busy: boolean; error: string; onReset: () => void }) {
  return (
    <>
      <div class="row">
        <button type="submit" class="btn btn-primary" disabled={busy || !dirty}>
          Save
        </button>
        {dirty && (
          <button type="button" class="btn btn-quiet" onClick={onReset}>
            Undo changes
          </button>
        )}
        {!dirty && <span class="muted small">Saved</span>}
      </div>
      <ErrorText message={error} />
    </>
  )
}

export function ScopeForm({ readOnly }: { readOnly: boolean }) {
  const { id, sync } = useReview()
  useY(sync.docs.room.getMap('review'))
  const review = readReview(sync.docs.room)
  const form = useFormState({
    title: review.title,
    event: review.scope.event,
    question: review.scope.question,
    window_start: isoToLocalInput(review.scope.window_start),
    window_end: isoToLocalInput(review.scope.window_end),
    expected_output: review.scope.expected_output,
  })
  const cmd = useCommand()
  const v = form.value
  const set = (k: keyof typeof v) => (e: { currentTarget: { value: string } }) => form.set({ ...v, [k]: e.currentTarget.value })
  const save = (e: Event) => {
    e.preventDefault()
    void cmd.run(async () => {
      await patchReview(id, {
        title: v.title.trim(),
        scope: {
          event: v.event,
          question: v.question,
          window_start: localInputToIso(v.window_start),
          window_end: localInputToIso(v.window_end),
          expected_output: v.expected_output,
        },
      })
      form.reset()
    })
  }
  return (
    <Section title="Scope" id="scope">
      <form onSubmit={save}>
        <fieldset disabled={readOnly}>
          <label for="scope-title">Title</label>
          <input id="scope-title" value={v.title} maxLength={200} onInput={set('title')} />
          <label for="scope-event">Event under review</label>
          <textarea id="scope-event" rows={2} value={v.event} onInput={set('event')} placeholder="What happened, in one or two factual sentences" />
          <label for="scope-question">The question we want answered</label>
          <input id="scope-question" value={v.question} onInput={set('question')} placeholder="e.g. Why did the launch miss its readiness date?" />
          <div class="grid-2">
            <div>
              <label for="scope-start">Time window from</label>
              <input id="scope-start" type="datetime-local" value={v.window_start} onInput={set('window_start')} />
            </div>
            <div>
              <label for="scope-end">to</label>
              <input id="scope-end" type="datetime-local" value={v.window_end} onInput={set('window_end')} />
            </div>
          </div>
          <label for="scope-output">Expected output</label>
          <input id="scope-output" value={v.expected_output} onInput={set('expected_output')} placeholder="Findings, owned actions with due dates, follow-ups" />
          <SaveRow dirty={form.dirty} busy={cmd.busy} error={cmd.error} onReset={form.reset} />
        </fieldset>
      </form>
    </Section>
  )
}

const cell = (v: Metric['planned']) => (v === null ? '' : String(v))
const parseCell = (s: string): number | string | null => {
  const t = s.trim()
  if (!t) return null
  const n = Number(t)
  return Number.isFinite(n) ? n : t
}

export function MetricsForm({ readOnly }: { readOnly: boolean }) {
  const { id, sync } = useReview()
  useY(sync.docs.room.getMap('review'))
  const review = readReview(sync.docs.room)
  const form = useFormState(review.metrics.map((m) => ({ name: m.name, planned: cell(m.planned), actual: cell(m.actual), unit: m.unit })))
  const cmd = useCommand()
  const rows = form.value
  const update = (i: number, k: 'name' | 'planned' | 'actual' | 'unit', value: string) =>
    form.set(rows.map((r, j) => (j === i ? { ...r, [k]: value } : r)))
  const save = (e: Event) => {
    e.preventDefault()
    void cmd.run(async () => {
      await patchReview(id, {
        baseline_metrics: rows
          .filter((r) => r.name.trim())
          .map((r) => ({ name: r.name.trim(), planned: parseCell(r.planned), actual: parseCell(r.actual), unit: r.unit.trim() })),
      })
      form.reset()
    })
  }
  return (
    <Section title="Baseline metrics" id="metrics">
      <p class="muted small">Numbers before opinions: what was planned, and what happened.</p>
      <form onSubmit={save}>
        <fieldset disabled={readOnly}>
          <table class="table">
            <thead>
              <tr>
                <th scope="col">Metric</th>
                <th scope="col">Planned</th>
                <th scope="col">Actual</th>
                <th scope="col">Unit</th>
                <th scope="col"><span class="offscreen">Remove</span></th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r, i) => (
                <tr key={i}>
                  <td><input aria-label={`Metric ${i + 1} name`} value={r.name} onInput={(e) => update(i, 'name', e.currentTarget.value)} /></td>
                  <td><input aria-label={`Metric ${i + 1} planned`} value={r.planned} onInput={(e) => update(i, 'planned', e.currentTarget.value)} /></td>
                  <td><input aria-label={`Metric ${i + 1} actual`} value={r.actual} onInput={(e) => update(i, 'actual', e.currentTarget.value)} /></td>
                  <td><input aria-label={`Metric ${i + 1} unit`} value={r.unit} onInput={(e) => update(i, 'unit', e.currentTarget.value)} /></td>
                  <td>
                    <button type="button" class="btn btn-quiet btn-small" aria-label={`Remove metric ${i + 1}`} onClick={() => form.set(rows.filter((_, j) => j !== i))}>
                      Remove
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <button type="button" class="btn btn-secondary" onClick={() => form.set([...rows, { name: '', planned: '', actual: '', unit: '' }])}>
            Add a metric
          </button>
          <SaveRow dirty={form.dirty} busy={cmd.busy} error={cmd.error} onReset={form.reset} />
        </fieldset>
      </form>
    </Section>
  )
}

export function LinksForm({ readOnly }: { readOnly: boolean }) {
  const { id, sync } = useReview()
  useY(sync.docs.room.getMap('review'))
  const review = readReview(sync.docs.room)
  const form = useFormState<Link[]>(review.links)
  const cmd = useCommand()
  const rows = form.value
  const update = (i: number, k: keyof Link, value: string) => form.set(rows.map((r, j) => (j === i ? { ...r, [k]: value } : r)))
  const save = (e: Event) => {
    e.preventDefault()
    void cmd.run(async () => {
      await patchReview(id, { evidence_links: rows.filter((r) => r.url.trim()).map((r) => ({ url: r.url.trim(), title: r.title.trim() })) })
      form.reset()
    })
  }
  return (
    <Section title="Evidence links" id="links">
      <form onSubmit={save}>
        <fieldset disabled={readOnly}>
          <ul class="link-rows">
            {rows.map((r, i) => (
              <li key={i} class="row">
                <input aria-label={`Link ${i + 1} title`} placeholder="Title" value={r.title} onInput={(e) => update(i, 'title', e.currentTarget.value)} />
                <input aria-label={`Link ${i + 1} address`} type="url" placeholder="https://…" value={r.url} onInput={(e) => update(i, 'url', e.currentTarget.value)} />
                <button type="button" class="btn btn-quiet btn-small" aria-label={`Remove link ${i + 1}`} onClick={() => form.set(rows.filter((_, j) => j !== i))}>
                  Remove
                </button>
              </li>
            ))}
          </ul>
          <button type="button" class="btn btn-secondary" onClick={() => form.set([...rows, { url: '', title: '' }])}>
            Add a link
          </button>
          <SaveRow dirty={form.dirty} busy={cmd.busy} error={cmd.error} onReset={form.reset} />
        </fieldset>
      </form>
    </Section>
  )
}

export function SettingsForm({ readOnly }: { readOnly: boolean }) {
  const { id, sync } = useReview()
  useY(sync.docs.room.getMap('review'))
  const form = useFormState<Settings>(readReview(sync.docs.room).settings)
  const cmd = useCommand()
  const s = form.value
  const toggle = (k: keyof Omit<Settings, 'votes_per_person'>, label: string) => (
    <label class="check">
      <input type="checkbox" checked={s[k]} onChange={(e) => form.set({ ...s, [k]: e.currentTarget.checked })} />
      {label}
    </label>
  )
  return (
    <Section title="Settings" id="settings">
      <form
        onSubmit={(e) => {
          e.preventDefault()
          void cmd.run(async () => {
            await patchReview(id, { settings: s })
            form.reset()
          })
        }}
      >
        <fieldset disabled={readOnly}>
          <label for="votes-per-person">Votes per person</label>
          <input
            id="votes-per-person"
            type="number"
            min="1"
            max="20"
            value={s.votes_per_person}
            onInput={(e) => form.set({ ...s, votes_per_person: Number(e.currentTarget.value) || 1 })}
          />
          {toggle('hide_counts_until_closed', 'Hide vote counts until voting closes')}
          {toggle('anonymous', 'Anonymous notes and votes (shown to everyone)')}
          {toggle('leaders_last', 'Leaders speak last in round-robins')}
          {toggle('auto_start_timer', 'Start the timer when the phase changes')}
          <SaveRow dirty={form.dirty} busy={cmd.busy} error={cmd.error} onReset={form.reset} />
        </fieldset>
      </form>
    </Section>
  )
}
