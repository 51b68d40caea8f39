// The team's integrations (admin): API tokens for scripts, the calendar feed, and the
// actions as files for Jira, GitHub issues and Linear.
import { useEffect, useState } from 'preact/hooks'
import { FEED_HELP, SECRET_ONCE, TOKEN_HELP, TRACKER_HELP } from '../app/texts'
import { CopyButton, ErrorText, Section, formatLocalTime, useCommand } from '../app/ui'
import {
  TRACKERS,
  createToken,
  getTeamFeed,
  listTokens,
  revokeToken,
  rotateTeamFeed,
  stopTeamFeed,
  teamExportUrl,
  type ApiToken,
} from './delivery-api'
import type { TeamCtx } from './team-context'

const when = (ms: number) => formatLocalTime(new Date(ms).toISOString())
const absolute = (url: string) => (url.startsWith('/') ? `${location.origin}${url}` : url)

function Tokens({ ctx }: { ctx: TeamCtx }) {
  const [tokens, setTokens] = useState<ApiToken[] | null>(null)
  const [name, setName] = useState('')
  const [scope, setScope] = useState<'read' | 'write'>('read')
  const [fresh, setFresh] = useState<{ name: string; token: string } | null>(null)
  const load = useCommand()
  const make = useCommand()
  const refresh = () => load.run(async () => setTokens((await listTokens(ctx.team.id)).tokens))
  useEffect(() => {
    void refresh()
  }, [ctx.team.id, ctx.version])
  const live = tokens?.filter((t) => !t.revoked) ?? []
  return (
    <Section title="API tokens" id="team-tokens">
      <p class="muted small">{TOKEN_HELP}</p>
      <ErrorText message={load.error} />
      {tokens && live.length === 0 && <p class="muted">No token yet.</p>}
      <ul class="tokens">
        {live.map((t) => (
          <li key={t.id} class="token-row" data-token-id={t.id} data-scope={t.scope}>
            <div class="row tight">
              <strong>{t.name}</strong>
              <span class={`badge ${t.scope === 'write' ? 'badge-warn' : ''}`}>{t.scope === 'write' ? 'Read and write' : 'Read only'}</span>
            </div>
            <p class="muted small">
              Made {when(t.created_ms)}
              {t.last_used_ms ? ` · last used ${when(t.last_used_ms)}` : ' · not used yet'}
            </p>
            <button
              type="button"
              class="btn btn-quiet btn-small"
              disabled={load.busy}
              aria-label={`Revoke the token ${t.name}`}
              onClick={() =>
                void load.run(async () => {
                  await revokeToken(ctx.team.id, t.id)
                  if (fresh?.name === t.name) setFresh(null)
                  await refresh()
                })
              }
            >
              Revoke
            </button>
          </li>
        ))}
      </ul>
      <form
        aria-labelledby="new-token-title"
        onSubmit={(e) => {
          e.preventDefault()
          void make.run(async () => {
            const made = await createToken(ctx.team.id, name.trim(), scope)
            setFresh({ name: made.name, token: made.token })
            setName('')
            await refresh()
          })
        }}
      >
        <h3 id="new-token-title">New token</h3>
        <label for="token-name">What it is for</label>
        <input id="token-name" required maxLength={80} placeholder="e.g. incident bot" value={name} onInput={(e) => setName(e.currentTarget.value)} />
        <fieldset>
          <legend>It may</legend>
          <label class="check">
            <input type="radio" name="token-scope" checked={scope === 'read'} onChange={() => setScope('read')} />
            Read reviews and actions
          </label>
          <label class="check">
            <input type="radio" name="token-scope" checked={scope === 'write'} onChange={() => setScope('write')} />
            Also create reviews and post action progress
          </label>
        </fieldset>
        <div class="row">
          <button type="submit" class="btn btn-primary" disabled={make.busy || !name.trim()}>
            Make the token
          </button>
        </div>
        <ErrorText message={make.error} />
      </form>
      {fresh && (
        <div class="notice notice-warn secret-once" role="status">
          <p>
            <strong>The token “{fresh.name}”.</strong> {SECRET_ONCE}
          </p>
          <div class="row">
            <input readOnly class="mono" aria-label="New API token" value={fresh.token} onFocus={(e) => e.currentTarget.select()} />
            <CopyButton text={fresh.token} label="Copy the token" />
          </div>
          <p class="muted small">
            Send it as <code>Authorization: Bearer …</code>. The calls are listed at <a href="/api/openapi.json">/api/openapi.json</a>.
          </p>
        </div>
      )}
    </Section>
  )
}

function CalendarFeed({ ctx }: { ctx: TeamCtx }) {
  const [state, setState] = useState<{ active: boolean; created_ms: number | null } | null>(null)
  const [url, setUrl] = useState('')
  const [said, setSaid] = useState('')
  const cmd = useCommand()
  useEffect(() => {
    void cmd.run(async () => setState(await getTeamFeed(ctx.team.id)))
  }, [ctx.team.id, ctx.version])
  const make = () =>
    cmd.run(async () => {
      const had = !!state?.active
      setUrl(absolute((await rotateTeamFeed(ctx.team.id)).url))
      setState(await getTeamFeed(ctx.team.id))
      setSaid(had ? 'A new address is ready; the old one stopped working.' : 'The calendar address is ready.')
    })
  const stop = () =>
    cmd.run(async () => {
      await stopTeamFeed(ctx.team.id)
      setUrl('')
      setState(await getTeamFeed(ctx.team.id))
      setSaid('The calendar address stopped working.')
    })
  return (
    <Section title="Calendar" id="team-calendar">
      <p class="muted small">{FEED_HELP}</p>
      {url && (
        <div class="notice notice-warn secret-once">
          <p>{SECRET_ONCE}</p>
          <div class="row">
            <input readOnly class="mono" aria-label="Team calendar address" value={url} onFocus={(e) => e.currentTarget.select()} />
            <CopyButton text={url} label="Copy the team calendar address" />
          </div>
        </div>
      )}
      {state && !url && (
        <p class="muted" data-feed={state.active ? 'on' : 'off'}>
          {state.active
            ? `A calendar address is in use since ${state.created_ms ? when(state.created_ms) : 'earlier'}. It was shown once, when it was made.`
            : 'No calendar address yet.'}
        </p>
      )}
      <div class="row">
        <button type="button" class="btn btn-secondary btn-small" disabled={cmd.busy} onClick={() => void make()}>
          {state?.active ? 'Make a new address' : 'Make a calendar address'}
        </button>
        {state?.active && (
          <button type="button" class="btn btn-quiet btn-small" disabled={cmd.busy} onClick={() => void stop()}>
            Turn the calendar off
          </button>
        )}
      </div>
      {said && <p class="muted small" role="status">{said}</p>}
      <ErrorText message={cmd.error} />
    </Section>
  )
}

function TrackerExports({ ctx }: { ctx: TeamCtx }) {
  const [view, setView] = useState('pending')
  return (
    <Section title="Issue trackers" id="team-trackers">
      <p class="muted small">{TRACKER_HELP}</p>
      <label for="tracker-view">Which actions</label>
      <select id="tracker-view" value={view} onChange={(e) => setView(e.currentTarget.value)}>
        <option value="pending">Not settled yet (open, in progress, done)</option>
        <option value="all">All, settled ones too</option>
      </select>
      <ul class="exports">
        {TRACKERS.map(([format, label]) => (
          <li key={format}>
            <a class="btn btn-secondary" href={teamExportUrl(ctx.team.id, format, view)} download data-tracker={format}>
              Download for {label}
            </a>
          </li>
        ))}
      </ul>
    </Section>
  )
}

export function IntegrationsView({ ctx }: { ctx: TeamCtx }) {
  return (
    <div class="team-grid">
      <Tokens ctx={ctx} />
      <div>
        <CalendarFeed ctx={ctx} />
        <TrackerExports ctx={ctx} />
      </div>
    </div>
  )
}
