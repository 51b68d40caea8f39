// Recurring themes (groups across reviews, confirmed or split by a person) and the
// friction ranking with the numbers that put each group where it is.
import { useState } from 'preact/hooks'
import { FRICTION_HINT, THEME_CATEGORIES, THEMES_HINT } from '../app/texts'
import { ActionButton, Section } from '../app/ui'
import type { TeamCtx } from '../team/team-context'
import type { Period } from './period'
import { confirmThemes, splitThemes, type FrictionEntry, type ThemeGroup, type ThemeRef } from './api'

function ThemeLine({ theme, picked, onPick }: { theme: ThemeRef; picked: boolean; onPick: (on: boolean) => void }) {
  return (
    <li data-theme-ref={theme.ref}>
      <label class="check">
        <input type="checkbox" checked={picked} onChange={(e) => onPick(e.currentTarget.checked)} />
        <span>
          {theme.title}
          <span class="muted small">
            {' '}
            · {theme.review_title || theme.review_id}
            {theme.category ? ` · ${THEME_CATEGORIES[theme.category] ?? theme.category}` : ''}
            {typeof theme.votes === 'number' ? ` · ${theme.votes} ${theme.votes === 1 ? 'vote' : 'votes'}` : ''}
          </span>
        </span>
      </label>
    </li>
  )
}

function Count({ name, label, value }: { name: string; label: string; value: number }) {
  return (
    <div data-count={name} data-value={value}>
      <dt>{label}</dt>
      <dd>{value}</dd>
    </div>
  )
}

function GroupCard({ ctx, group, period, onBrief }: { ctx: TeamCtx; group: ThemeGroup; period: Period; onBrief: (g: ThemeGroup) => void }) {
  const [picked, setPicked] = useState<string[]>([])
  const suggested = group.suggested ?? []
  const members = [...group.themes, ...suggested].map((t) => t.ref)
  const pick = (ref: string) => (on: boolean) => setPicked((p) => (on ? [...p, ref] : p.filter((r) => r !== ref)))
  const open = (group.actions?.open ?? 0) + (group.actions?.['in-progress'] ?? 0)
  return (
    <li class="theme-group" data-group-id={group.id} data-state={group.confirmed ? 'confirmed' : 'suggested'}>
      <div class="theme-group-head">
        <strong class="theme-group-title">{group.name}</strong>
        <span class={`badge ${group.confirmed ? 'badge-ok' : ''}`}>{group.confirmed ? 'Confirmed' : 'Suggested'}</span>
      </div>
      <dl class="group-counts">
        <Count name="reviews" label="Reviews" value={group.reviews} />
        <Count name="votes" label="Votes" value={group.votes} />
        <Count name="open-actions" label="Open actions" value={open} />
        <Count name="unchecked" label="Done, not verified" value={group.actions?.done ?? 0} />
      </dl>
      <ul class="group-themes">
        {group.themes.map((t) => (
          <ThemeLine key={t.ref} theme={t} picked={picked.includes(t.ref)} onPick={pick(t.ref)} />
        ))}
      </ul>
      {suggested.length > 0 && (
        <>
          <p class="small muted">Looks like it belongs here too:</p>
          <ul class="group-themes group-suggested">
            {suggested.map((t) => (
              <ThemeLine key={t.ref} theme={t} picked={picked.includes(t.ref)} onPick={pick(t.ref)} />
            ))}
          </ul>
        </>
      )}
      <div class="row">
        {!group.confirmed && (
          <ActionButton
            onClick={async () => {
              await confirmThemes(ctx.team.id, group.themes.map((t) => t.ref))
              ctx.changed()
            }}
          >
            Confirm this group
          </ActionButton>
        )}
        {suggested.length > 0 && (
          <ActionButton
            onClick={async () => {
              await confirmThemes(ctx.team.id, suggested.map((t) => t.ref), group.id)
              ctx.changed()
            }}
          >
            Add the suggested {suggested.length === 1 ? 'theme' : 'themes'}
          </ActionButton>
        )}
        <ActionButton
          kind="quiet"
          disabled={picked.length === 0 || picked.length === members.length}
          onClick={async () => {
            await splitThemes(ctx.team.id, group.id, picked, period.since, period.until)
            setPicked([])
            ctx.changed()
          }}
        >
          Split out the ticked {picked.length === 1 ? 'theme' : 'themes'}
        </ActionButton>
        <button type="button" class="btn btn-primary" onClick={() => onBrief(group)}>
          Write a learning brief
        </button>
      </div>
    </li>
  )
}

export function ThemeGroups({ ctx, groups, period, onBrief }: { ctx: TeamCtx; groups: ThemeGroup[]; period: Period; onBrief: (g: ThemeGroup) => void }) {
  return (
    <Section title="Recurring themes" id="recurring-themes">
      <p class="muted small">{THEMES_HINT}</p>
      {groups.length === 0 && <p class="muted">No theme has come back in more than one review in this period.</p>}
      <ul class="theme-groups">
        {groups.map((g) => (
          <GroupCard key={g.id} ctx={ctx} group={g} period={period} onBrief={onBrief} />
        ))}
      </ul>
    </Section>
  )
}

export function FrictionRanking({ ranking }: { ranking: FrictionEntry[] }) {
  return (
    <Section title="Highest friction" id="friction">
      <p class="muted small">{FRICTION_HINT}</p>
      {ranking.length === 0 && <p class="muted">Nothing to rank in this period.</p>}
      <ol class="friction">
        {ranking.map((f) => (
          <li key={f.id} data-group-id={f.id} data-rank={f.rank}>
            <strong>{f.name}</strong>
            <p class="small friction-reason">{f.reason}</p>
          </li>
        ))}
      </ol>
    </Section>
  )
}
