// The recap as one printable page: the frozen version once closed, else the live draft.
import { useEffect, useState } from 'preact/hooks'
import { getRecap } from '../app/commands'
import { ExportLinks } from './close-panel'
import { TrackerExports } from './tracker-exports'
import { StatusCell, matchStates, useFollowUp } from './follow-up'
import { WalkedActions } from '../meeting/open-actions'
import { useReview } from '../app/context'
import { useDocChanges, useY } from '../app/hooks'
import { MetricsTable } from '../shared/metrics-table'
import { readReview, safeUrl } from '../app/model'
import { ACTION_KINDS, MARKERS } from '../app/texts'
import { ErrorText, formatLocalTime, useCommand } from '../app/ui'

type Json = Record<string, unknown>
const s = (v: unknown) => (typeof v === 'string' ? v : v === null || v === undefined ? '' : String(v))
const list = (v: unknown): Json[] => (Array.isArray(v) ? (v.filter((x) => x && typeof x === 'object') as Json[]) : [])
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.map(s) : [])

function Votes({ v }: { v: unknown }) {
  return typeof v === 'number' ? <span class="muted"> · {v} {v === 1 ? 'vote' : 'votes'}</span> : null
}

function Items({ items }: { items: Json[] }) {
  return (
    <ul>
      {items.map((t, i) => (
        <li key={i}>
          {s(t.title)}
          <Votes v={t.votes} />
          {strings(t.notes).length > 0 && (
            <ul>
              {strings(t.notes).map((n, j) => (
                <li key={j}>{n}</li>
              ))}
            </ul>
          )}
        </li>
      ))}
    </ul>
  )
}

export function RecapPage() {
  const { id, sync } = useReview()
  useY(sync.docs.room.getMap('review'))
  const status = readReview(sync.docs.room).status
  const [recap, setRecap] = useState<Json | null>(null)
  const cmd = useCommand()
  const load = () => cmd.run(async () => setRecap(await getRecap(id)))
  useEffect(() => {
    void load()
  }, [id, status])
  // The draft follows the docs it is built from: fetched again a moment after a change.
  const changes = useDocChanges(status === 'closed' ? [] : [sync.docs.room, sync.docs.timeline, sync.docs.recap])
  useEffect(() => {
    if (!changes) return undefined
    const timer = setTimeout(() => void load(), 400)
    return () => clearTimeout(timer)
  }, [changes])
  const followUp = useFollowUp(status === 'closed')
  if (!recap) return <main class="page" id="main">{cmd.error ? <ErrorText message={cmd.error} /> : <p>Loading the recap…</p>}</main>
  const scope = (recap.scope ?? {}) as Json
  const version = recap.version as Json | null
  const factors = list(recap.contributing_factors)
  const rows = list(recap.actions)
  const states = version ? matchStates(rows, followUp.states) : []
  return (
    <main class="page recap-page" id="main">
      <article class="recap">
        <header>
          <h1>{s(recap.title)}</h1>
          <p class="muted">
            {version
              ? `Final recap, version ${s(version.number)}, closed ${formatLocalTime(s(version.finalized_at))}. Fingerprint ${s(version.hash).slice(0, 16)}…`
              : 'Draft recap: the meeting is not closed yet.'}{' '}
            · {s(recap.signoffs)} sign-offs
          </p>
          <div class="row no-print">
            <button type="button" class="btn btn-primary" onClick={() => window.print()}>
              Print
            </button>
            {!version && (
              <button type="button" class="btn btn-secondary" onClick={() => void load()}>
                Refresh
              </button>
            )}
          </div>
          <div class="no-print">
            <ExportLinks />
            {rows.length > 0 && <TrackerExports />}
          </div>
        </header>
        <section>
          <h2>Scope</h2>
          <dl class="facts">
            <dt>Event under review</dt>
            <dd>{s(scope.event) || '—'}</dd>
            <dt>Question</dt>
            <dd>{s(scope.question) || '—'}</dd>
            <dt>Time window</dt>
            <dd>{s(scope.window_start) ? `${formatLocalTime(s(scope.window_start))} – ${formatLocalTime(s(scope.window_end))}` : '—'}</dd>
            <dt>Expected output</dt>
            <dd>{s(scope.expected_output) || '—'}</dd>
            <dt>Evidence</dt>
            <dd>
              {list(recap.evidence_links).length === 0 ? '—' : (
                <ul class="evidence-links">
                  {list(recap.evidence_links).map((x, i) => {
                    const href = safeUrl(s(x.url))
                    const title = s(x.title) || s(x.url)
                    return <li key={i}>{href ? <a href={href} rel="noopener noreferrer nofollow">{title}</a> : title}</li>
                  })}
                </ul>
              )}
            </dd>
          </dl>
        </section>
        {list(recap.baseline_metrics).length > 0 && (
          <section>
            <h2>Baseline metrics</h2>
            <MetricsTable
              rows={list(recap.baseline_metrics).map((m) => ({
                name: s(m.name),
                planned: s(m.planned),
                actual: s(m.actual),
                unit: s(m.unit),
              }))}
            />
          </section>
        )}
        <section>
          <h2>Timeline</h2>
          {list(recap.timeline).length === 0 ? <p class="muted">No event was chosen for the recap.</p> : (
            <ol class="events">
              {list(recap.timeline).map((e, i) => {
                const href = safeUrl(s(e.link))
                return (
                  <li key={i} class="event">
                    <time dateTime={s(e.time)}>{formatLocalTime(s(e.time))}</time> {s(e.text)}{' '}
                    {strings(e.markers).length > 0 && (
                      <span class="muted">({strings(e.markers).map((m) => MARKERS[m] ?? m).join(', ')})</span>
                    )}
                    {href && (
                      <>
                        {' '}
                        <a href={href} rel="noopener noreferrer nofollow">evidence</a>
                      </>
                    )}
                  </li>
                )
              })}
            </ol>
          )}
        </section>
        <section>
          <h2>Contributing factors</h2>
          {factors.length === 0 && <p class="muted">None recorded.</p>}
          {factors.map((g, i) => (
            <div key={i}>
              <h3>{s(g.label)}</h3>
              <Items items={list(g.themes)} />
            </div>
          ))}
        </section>
        <section>
          <h2>What worked well</h2>
          {list(recap.worked_well).length ? <Items items={list(recap.worked_well)} /> : <p class="muted">None recorded.</p>}
        </section>
        <section>
          <h2>Questionnaire answers</h2>
          {list(recap.questionnaire).length ? (
            <ul class="questionnaire-answers">
              {list(recap.questionnaire).map((q, i) => (
                <li key={i}>
                  {s(q.question)}
                  <ul>
                    {strings(q.answers).map((a, j) => (
                      <li key={j}>{a}</li>
                    ))}
                  </ul>
                </li>
              ))}
            </ul>
          ) : (
            <p class="muted">None recorded.</p>
          )}
        </section>
        {strings(recap.parked_topics).length > 0 && (
          <section>
            <h2>Parked topics</h2>
            <ul class="parked">
              {strings(recap.parked_topics).map((p, i) => (
                <li key={i}>{p}</li>
              ))}
            </ul>
          </section>
        )}
        <WalkedActions rows={recap.carried_actions} />
        <section>
          <h2>Action items</h2>
          {version && (
            <p class="muted small">
              Wording as agreed at the close; status and evidence as of now.{' '}
              <button type="button" class="btn btn-quiet btn-small no-print" onClick={followUp.reload}>
                Check the status again
              </button>
            </p>
          )}
          <ErrorText message={followUp.error} />
          <table class="table actions-table">
            <thead>
              <tr>
                <th scope="col">What changes</th>
                <th scope="col">Owner</th>
                <th scope="col">Due</th>
                <th scope="col">How we check</th>
                <th scope="col">Kind</th>
                {version && <th scope="col">Status now</th>}
              </tr>
            </thead>
            <tbody>
              {rows.map((a, i) => (
                <tr key={i}>
                  <td>{s(a.what)}</td>
                  <td>{s(a.owner)}</td>
                  <td>{s(a.due)}</td>
                  <td>{s(a.verify)}</td>
                  <td>{ACTION_KINDS[s(a.kind)] ?? s(a.kind)}</td>
                  {version && (
                    <td>
                      <StatusCell state={states[i] ?? null} reload={followUp.reload} />
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
          {rows.length === 0 && <p class="muted">No action was agreed.</p>}
          {s(recap.close_reason) && (
            <p>
              <strong>{rows.length === 0 ? 'Closed without actions, because: ' : 'Closed with open points, because: '}</strong>
              {s(recap.close_reason)}
            </p>
          )}
        </section>
        {strings(recap.follow_ups).length > 0 && (
          <section>
            <h2>Follow-ups</h2>
            <ul>
              {strings(recap.follow_ups).map((f, i) => (
                <li key={i}>{f}</li>
              ))}
            </ul>
          </section>
        )}
        {s(recap.scribe_text) && (
          <section>
            <h2>Notes from the scribe</h2>
            <p class="prewrap">{s(recap.scribe_text)}</p>
          </section>
        )}
      </article>
    </main>
  )
}
