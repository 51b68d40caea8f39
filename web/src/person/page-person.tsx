// A person's own page /p/<code>: every action they own, across the team's reviews, with
// the buttons to post progress and evidence. The link itself is the key; no account.
import { useEffect, useState } from 'preact/hooks'
import { ApiError, errorText } from '../app/api'
import { ACTION_STATUS_LABELS, PERSON_LINK_DEAD } from '../app/texts'
import { ErrorText, formatLocalTime, useCommand } from '../app/ui'
import { ActionCard, StatusControls } from '../team/action-card'
import { PersonPrefs } from './person-prefs'
import { getMine, getMyAction, isOverdue, myActionStatus, type ActionItem, type HistoryEntry, type PersonPageData } from '../team/api'

function History({ code, gid, version }: { code: string; gid: string; version: number }) {
  const [entries, setEntries] = useState<HistoryEntry[] | null>(null)
  const cmd = useCommand()
  useEffect(() => {
    void cmd.run(async () => setEntries((await getMyAction(code, gid)).history ?? []))
  }, [code, gid, version])
  if (cmd.error) return <ErrorText message={cmd.error} />
  if (!entries) return <p class="muted small">Loading the history…</p>
  if (entries.length === 0) return <p class="muted small">No change yet since the review closed.</p>
  return (
    <ol class="history">
      {[...entries].reverse().map((h, i) => (
        <li key={i}>
          <time dateTime={new Date(h.at_ms).toISOString()}>{formatLocalTime(new Date(h.at_ms).toISOString())}</time> ·{' '}
          <strong>{h.by || 'someone'}</strong>
          {h.role ? ` (${h.role})` : ''}: {ACTION_STATUS_LABELS[h.from] ?? h.from} → {ACTION_STATUS_LABELS[h.to] ?? h.to}
          {h.note && <span class="prewrap"> · “{h.note}”</span>}
          {h.reason && <span class="prewrap"> · reason: {h.reason}</span>}
          {h.evidence && (h.evidence.url || h.evidence.text) && (
            <span class="prewrap"> · evidence: {[h.evidence.url, h.evidence.text].filter(Boolean).join(' — ')}</span>
          )}
        </li>
      ))}
    </ol>
  )
}

function MyAction({ code, action, changed, version }: { code: string; action: ActionItem; changed: () => void; version: number }) {
  const [showHistory, setShowHistory] = useState(false)
  return (
    <ActionCard action={action} showOwner={false}>
      <StatusControls
        action={action}
        canVerify={false}
        change={async (c) => {
          await myActionStatus(code, action.gid, c)
          changed()
        }}
      />
      {action.status === 'done' && <p class="muted small">Someone else (the moderator, the scribe or a team admin) confirms the evidence.</p>}
      <button type="button" class="btn btn-quiet btn-small" aria-expanded={showHistory} onClick={() => setShowHistory(!showHistory)}>
        {showHistory ? 'Hide the history' : 'Show the history'}
      </button>
      {showHistory && <History code={code} gid={action.gid} version={version} />}
    </ActionCard>
  )
}

const byDue = (a: ActionItem, b: ActionItem) => (a.due || '9999') .localeCompare(b.due || '9999')

export function PersonPage({ code }: { code: string }) {
  const [data, setData] = useState<PersonPageData | null>(null)
  const [error, setError] = useState('')
  const [version, setVersion] = useState(0)
  const [older, setOlder] = useState<ActionItem[]>([])
  useEffect(() => {
    getMine(code)
      .then((d) => {
        setData(d)
        setOlder([])
        document.title = `${d.person.name} · actions · Debrief`
      })
      .catch((e: unknown) => {
        if (e instanceof ApiError && (e.status === 403 || e.status === 404)) setError(PERSON_LINK_DEAD)
        else setError(errorText(e))
      })
  }, [code, version])
  if (error)
    return (
      <main class="page narrow" id="main">
        <h1>Cannot open this page</h1>
        <p class="error" role="alert">
          {error}
        </p>
      </main>
    )
  if (!data) return <p class="boot">Opening your actions…</p>
  const changed = () => setVersion((n) => n + 1)
  const late = data.actions.filter(isOverdue).sort(byDue)
  const open = data.actions.filter((a) => (a.status === 'open' || a.status === 'in-progress') && !isOverdue(a)).sort(byDue)
  const waiting = data.actions.filter((a) => a.status === 'done').sort(byDue)
  const isSettled = (a: ActionItem) => a.status === 'verified' || a.status === 'wont-do'
  const settled = [...data.actions.filter(isSettled), ...older]
  const pendingCount = data.actions.length - data.actions.filter(isSettled).length
  const showOlder = () =>
    getMine(code, settled.length)
      .then((d) => setOlder((o) => [...o, ...d.actions.filter(isSettled)]))
      .catch((e: unknown) => setError(errorText(e)))
  const group = (title: string, items: ActionItem[], id: string, empty: string, count = items.length) => (
    <section class="panel" aria-labelledby={`${id}-title`} id={id} data-count={count}>
      <h2 id={`${id}-title`}>
        {title} ({count})
      </h2>
      {items.length === 0 ? (
        <p class="muted">{empty}</p>
      ) : (
        <ul class="followups">
          {items.map((a) => (
            <MyAction key={a.gid} code={code} action={a} changed={changed} version={version} />
          ))}
        </ul>
      )}
      {id === 'mine-settled' && items.length < count && (
        <button type="button" class="secondary" onClick={showOlder}>
          Show older settled actions
        </button>
      )}
    </section>
  )
  const total = pendingCount + data.settled_total
  return (
    <>
      <header class="top">
        <div class="top-row">
          <div class="brand">
            <span class="logo" aria-hidden="true">
              D
            </span>
            <div>
              <h1 class="review-title person-name">Actions of {data.person.name}</h1>
              <p class="muted small">
                {data.team.name} · {total} {total === 1 ? 'action' : 'actions'}
                {data.overdue > 0 && (
                  <>
                    {' '}
                    · <span class="badge badge-late" data-overdue={data.overdue}>{data.overdue} overdue</span>
                  </>
                )}
              </p>
            </div>
          </div>
        </div>
      </header>
      <main class="page narrow person-page" id="main">
        <p class="muted">
          This page is yours: anyone with its link can see it, so keep the link to yourself. Post progress as you go;
          “done” asks for evidence that matches how the review said it would be checked.
        </p>
        {late.length > 0 && group('Overdue', late, 'mine-overdue', '')}
        {group('Open', open, 'mine-open', late.length ? 'Nothing else is open.' : 'Nothing open. Well done.')}
        {group('Done, awaiting verification', waiting, 'mine-done', 'Nothing waits for a check.')}
        {group('Settled', settled, 'mine-settled', 'Nothing settled yet.', data.settled_total)}
        <PersonPrefs code={code} />
      </main>
    </>
  )
}
