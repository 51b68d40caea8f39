// A team's home /t/<team>[/<view>]: its reviews, the actions they left, its people and,
// for an admin, its links. Every view reads the team's indexes through the API.
import { useEffect, useState } from 'preact/hooks'
import { ApiError, errorText } from '../app/api'
import { navigate, teamPath } from '../app/router'
import { ACTION_STATUS_LABELS, STATUS_LABELS, TEAM_NO_SESSION, TEAM_ROLE_LABELS } from '../app/texts'
import { InsightsView } from '../insights/page-insights'
import { ActionsView, FollowUpColumn } from './team-actions'
import { forgetTeam, getTeam, rememberTeam, type TeamInfo } from './api'
import { LinksView } from './team-links'
import { DeliveryView } from './team-delivery'
import { IntegrationsView } from './team-integrations'
import { PeopleView } from './team-people'
import { NewReview, ReviewsList } from './team-reviews'
import type { TeamCtx } from './team-context'

type View = 'reviews' | 'actions' | 'people' | 'insights' | 'links' | 'delivery' | 'integrations'
const VIEWS: [View, string][] = [
  ['reviews', 'Reviews'],
  ['actions', 'Actions'],
  ['people', 'People'],
  ['insights', 'Insights'],
  ['links', 'Team links'],
  ['delivery', 'Delivery'],
  ['integrations', 'Integrations'],
]
// Views only a team admin sees (the server refuses their calls to anyone else too).
const ADMIN_VIEWS: View[] = ['links', 'delivery', 'integrations']

function Counts({ team }: { team: TeamInfo }) {
  const r = team.counts.reviews
  const a = team.counts.actions
  const pending = (a.open ?? 0) + (a['in-progress'] ?? 0)
  return (
    <dl class="team-counts" aria-label="Team at a glance">
      {(['draft', 'scheduled', 'live', 'closed'] as const).map((s) => (
        <div key={s} class="count" data-count={`reviews-${s}`} data-value={r[s] ?? 0}>
          <dt>{STATUS_LABELS[s]}</dt>
          <dd>{r[s] ?? 0}</dd>
        </div>
      ))}
      <div class="count" data-count="actions-pending" data-value={pending}>
        <dt>Open actions</dt>
        <dd>{pending}</dd>
      </div>
      <div class="count" data-count="actions-done" data-value={a.done ?? 0}>
        <dt>{ACTION_STATUS_LABELS.done}</dt>
        <dd>{a.done ?? 0}</dd>
      </div>
      <div class="count" data-count="actions-verified" data-value={a.verified ?? 0}>
        <dt>Verified</dt>
        <dd>{a.verified ?? 0}</dd>
      </div>
      <div class={`count ${team.counts.overdue ? 'count-late' : ''}`} data-count="overdue" data-value={team.counts.overdue}>
        <dt>Overdue</dt>
        <dd>{team.counts.overdue}</dd>
      </div>
    </dl>
  )
}

function Header({ team, view }: { team: TeamInfo; view: View }) {
  const views = VIEWS.filter(([v]) => !ADMIN_VIEWS.includes(v) || team.you.role === 'admin')
  return (
    <header class="top">
      <a href="#main" class="skip">
        Skip to content
      </a>
      <div class="top-row">
        <div class="brand">
          <a class="logo" href="/" aria-label="Debrief start page">
            D
          </a>
          <div>
            <h1 class="review-title team-name">{team.name}</h1>
            <p class="muted small">
              You are <strong data-team-role={team.you.role}>{TEAM_ROLE_LABELS[team.you.role] ?? team.you.role}</strong>
              {team.you.name ? ` · ${team.you.name}` : ''}
            </p>
          </div>
        </div>
        <Counts team={team} />
      </div>
      <nav class="views" aria-label="Team views">
        {views.map(([v, label]) => {
          const href = teamPath(team.id, v === 'reviews' ? '' : v)
          return (
            <a
              key={v}
              href={href}
              class="view-link"
              aria-current={v === view ? 'page' : undefined}
              onClick={(e) => {
                e.preventDefault()
                navigate(href)
              }}
            >
              {label}
            </a>
          )
        })}
      </nav>
    </header>
  )
}

export function TeamPage({ teamId, view }: { teamId: string; view: string }) {
  const [team, setTeam] = useState<TeamInfo | null>(null)
  const [error, setError] = useState('')
  // Moves after every change made here, so lists and counts read again.
  const [version, setVersion] = useState(0)
  useEffect(() => {
    getTeam(teamId)
      .then((t) => {
        setTeam(t)
        rememberTeam({ id: t.id, name: t.name, role: t.you.role })
        document.title = `${t.name} · Debrief`
      })
      .catch((e: unknown) => {
        if (e instanceof ApiError && (e.status === 401 || e.status === 403)) {
          forgetTeam(teamId) // its link was revoked or the session ended: no longer "your team"
          setError(TEAM_NO_SESSION)
        }
        else if (e instanceof ApiError && e.status === 404) setError('There is no team at this address.')
        else setError(errorText(e))
      })
  }, [teamId, version])

  if (error) {
    return (
      <main class="page narrow" id="main">
        <h1>Cannot open this team</h1>
        <p class="error" role="alert">
          {error}
        </p>
      </main>
    )
  }
  if (!team) return <p class="boot">Opening the team…</p>
  const ctx: TeamCtx = { team, version, changed: () => setVersion((n) => n + 1) }
  const current: View = VIEWS.some(([v]) => v === view) && (!ADMIN_VIEWS.includes(view as View) || team.you.role === 'admin') ? (view as View) : 'reviews'
  return (
    <>
      <Header team={team} view={current} />
      <main class={`page team-page team-${current}`} id="main">
        {current === 'reviews' && (
          <div class="team-grid">
            <div>
              <NewReview ctx={ctx} />
              <ReviewsList ctx={ctx} />
            </div>
            <FollowUpColumn ctx={ctx} />
          </div>
        )}
        {current === 'actions' && <ActionsView ctx={ctx} />}
        {current === 'people' && <PeopleView ctx={ctx} />}
        {current === 'insights' && <InsightsView ctx={ctx} />}
        {current === 'links' && <LinksView ctx={ctx} />}
        {current === 'delivery' && <DeliveryView ctx={ctx} />}
        {current === 'integrations' && <IntegrationsView ctx={ctx} />}
      </main>
    </>
  )
}
