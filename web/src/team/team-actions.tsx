// The team's actions across reviews: overdue, open, by status, and one person's.
import { useEffect, useState } from 'preact/hooks'
import { ACTION_STATUS_LABELS } from '../app/texts'
import { ErrorText, Section, useCommand } from '../app/ui'
import { ActionCard, StatusControls } from './action-card'
import { ACTION_STATUSES, listActions, listPeople, teamActionStatus, type ActionItem, type ActionView, type Person } from './api'
import { isAdmin, type TeamCtx } from './team-context'

const PAGE = 25

function ActionList({ ctx, view, person = '', empty, id }: { ctx: TeamCtx; view: ActionView; person?: string; empty: string; id: string }) {
  const [data, setData] = useState<{ actions: ActionItem[]; total: number } | null>(null)
  const [offset, setOffset] = useState(0)
  const cmd = useCommand()
  useEffect(() => setOffset(0), [view, person])
  useEffect(() => {
    void cmd.run(async () => setData(await listActions(ctx.team.id, view, person, offset, PAGE)))
  }, [ctx.team.id, ctx.version, view, person, offset])
  const admin = isAdmin(ctx)
  const total = data?.total ?? 0
  return (
    <div class="action-list" id={id} data-view={view} data-total={total}>
      <ErrorText message={cmd.error} />
      {data && data.actions.length === 0 && <p class="muted">{empty}</p>}
      <ul class="followups">
        {data?.actions.map((a) => (
          <ActionCard key={a.gid} action={a}>
            {admin && <StatusControls action={a} canVerify change={async (c) => {
              await teamActionStatus(ctx.team.id, a.gid, c)
              ctx.changed()
            }} />}
          </ActionCard>
        ))}
      </ul>
      {total > PAGE && (
        <div class="row pager">
          <button type="button" class="btn btn-secondary btn-small" disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - PAGE))}>
            Previous
          </button>
          <span class="muted small">
            {offset + 1}–{Math.min(offset + PAGE, total)} of {total}
          </span>
          <button type="button" class="btn btn-secondary btn-small" disabled={offset + PAGE >= total} onClick={() => setOffset(offset + PAGE)}>
            Next
          </button>
        </div>
      )}
    </div>
  )
}

/** The home page's side: what is late, then what is still open. */
export function FollowUpColumn({ ctx }: { ctx: TeamCtx }) {
  return (
    <div class="team-side">
      <Section title={`Overdue (${ctx.team.counts.overdue})`} id="team-overdue">
        <ActionList ctx={ctx} view="overdue" id="overdue-list" empty="Nothing is overdue." />
      </Section>
      <Section title="Open actions" id="team-open">
        <p class="muted small">Open, in progress, or done and waiting for someone to verify the evidence.</p>
        <ActionList ctx={ctx} view="pending" id="pending-list" empty="No open action: every agreed change is settled." />
      </Section>
    </div>
  )
}

const MY_KEY = (team: string) => `debrief.me.${team}`

/** "My actions": pick yourself in the directory once; the choice stays on this device. */
function MyActions({ ctx }: { ctx: TeamCtx }) {
  const [people, setPeople] = useState<Person[]>([])
  const [me, setMe] = useState(() => {
    try {
      return localStorage.getItem(MY_KEY(ctx.team.id)) ?? ''
    } catch {
      return ''
    }
  })
  const cmd = useCommand()
  useEffect(() => {
    void cmd.run(async () => setPeople((await listPeople(ctx.team.id)).people))
  }, [ctx.team.id, ctx.version])
  const choose = (id: string) => {
    setMe(id)
    try {
      localStorage.setItem(MY_KEY(ctx.team.id), id)
    } catch {
      // kept for this page only
    }
  }
  return (
    <Section title="My actions" id="my-actions">
      <label for="my-person">I am</label>
      <select id="my-person" value={me} onChange={(e) => choose(e.currentTarget.value)}>
        <option value="">Choose yourself in the team’s people…</option>
        {people.map((p) => (
          <option key={p.id} value={p.id}>
            {p.name}
          </option>
        ))}
      </select>
      <ErrorText message={cmd.error} />
      {me && <ActionList ctx={ctx} view="all" person={me} id="my-list" empty="You own no action yet." />}
    </Section>
  )
}

export function ActionsView({ ctx }: { ctx: TeamCtx }) {
  const [view, setView] = useState<ActionView>('pending')
  return (
    <div class="team-grid">
      <Section title="Actions across reviews" id="team-actions">
        <label for="action-view">Show</label>
        <select id="action-view" value={view} onChange={(e) => setView(e.currentTarget.value as ActionView)}>
          <option value="pending">Everything still open</option>
          <option value="overdue">Overdue</option>
          {ACTION_STATUSES.map((s) => (
            <option key={s} value={s}>
              {ACTION_STATUS_LABELS[s]}
            </option>
          ))}
          <option value="all">All actions</option>
        </select>
        <ActionList ctx={ctx} view={view} id="team-action-list" empty="No action in this list." />
      </Section>
      <MyActions ctx={ctx} />
    </div>
  )
}
