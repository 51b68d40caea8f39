// The team's directory: everyone who can own an action. Members add people; an admin
// edits them and hands out each person's own link.
import { useEffect, useState } from 'preact/hooks'
import { CopyButton, ErrorText, Section, useCommand } from '../app/ui'
import { addPerson, editPerson, listPeople, newPersonLink, type Person } from './api'
import { isAdmin, type TeamCtx } from './team-context'

function PersonFields({ prefix, person, onChange }: { prefix: string; person: Person; onChange: (p: Person) => void }) {
  return (
    <div class="grid-3">
      <div>
        <label for={`${prefix}-name`}>Name</label>
        <input id={`${prefix}-name`} required maxLength={120} value={person.name} onInput={(e) => onChange({ ...person, name: e.currentTarget.value })} />
      </div>
      <div>
        <label for={`${prefix}-email`}>Email (optional)</label>
        <input id={`${prefix}-email`} type="email" maxLength={254} value={person.email ?? ''} onInput={(e) => onChange({ ...person, email: e.currentTarget.value })} />
      </div>
      <div>
        <label for={`${prefix}-handle`}>Handle (optional)</label>
        <input id={`${prefix}-handle`} maxLength={80} placeholder="@chat-name" value={person.handle ?? ''} onInput={(e) => onChange({ ...person, handle: e.currentTarget.value })} />
      </div>
    </div>
  )
}

const fieldsOf = (p: Person) => ({ name: p.name.trim(), email: (p.email ?? '').trim(), handle: (p.handle ?? '').trim() })

function PersonRow({ ctx, person }: { ctx: TeamCtx; person: Person }) {
  const [editing, setEditing] = useState<Person | null>(null)
  const [link, setLink] = useState(person.link ?? '')
  const cmd = useCommand()
  useEffect(() => setLink(person.link ?? ''), [person.link])
  const admin = isAdmin(ctx)
  if (editing)
    return (
      <li class="person-row" data-person-id={person.id}>
        <form
          aria-label={`Edit ${person.name}`}
          onSubmit={(e) => {
            e.preventDefault()
            void cmd.run(async () => {
              await editPerson(ctx.team.id, person.id, fieldsOf(editing))
              setEditing(null)
              ctx.changed()
            })
          }}
        >
          <PersonFields prefix={`edit-${person.id}`} person={editing} onChange={setEditing} />
          <div class="row">
            <button type="submit" class="btn btn-primary btn-small" disabled={cmd.busy || !editing.name.trim()}>
              Save
            </button>
            <button type="button" class="btn btn-quiet btn-small" onClick={() => setEditing(null)}>
              Cancel
            </button>
          </div>
          <ErrorText message={cmd.error} />
        </form>
      </li>
    )
  return (
    <li class="person-row" data-person-id={person.id}>
      <div class="person-head">
        <strong class="person-name">{person.name}</strong>
        <span class="muted small">{[person.email, person.handle].filter(Boolean).join(' · ')}</span>
      </div>
      {admin && (
        <div class="row tight">
          <button type="button" class="btn btn-quiet btn-small" onClick={() => setEditing({ ...person })}>
            Edit {person.name}
          </button>
          {link && (
            <>
              <input readOnly class="mono person-link" aria-label={`Personal link of ${person.name}`} value={link} onFocus={(e) => e.currentTarget.select()} />
              <CopyButton text={link} label={`Copy the personal link of ${person.name}`} />
            </>
          )}
          <button
            type="button"
            class="btn btn-quiet btn-small"
            disabled={cmd.busy}
            onClick={() => void cmd.run(async () => setLink((await newPersonLink(ctx.team.id, person.id)).url))}
          >
            New personal link
          </button>
        </div>
      )}
      <ErrorText message={cmd.error} />
    </li>
  )
}

export function PeopleView({ ctx }: { ctx: TeamCtx }) {
  const [people, setPeople] = useState<Person[] | null>(null)
  const [draft, setDraft] = useState<Person>({ id: '', name: '' })
  const [found, setFound] = useState('')
  const load = useCommand()
  const add = useCommand()
  useEffect(() => {
    void load.run(async () => setPeople((await listPeople(ctx.team.id)).people))
  }, [ctx.team.id, ctx.version])
  return (
    <div class="team-grid">
      <Section title="People" id="team-people">
        <p class="muted small">
          Everyone who can own an action. The same person across reviews keeps one list of actions.
          {isAdmin(ctx) ? ' Send each person their own link: it shows their actions and lets them post progress, no account needed.' : ''}
        </p>
        <ErrorText message={load.error} />
        {people && people.length === 0 && <p class="muted">Nobody yet.</p>}
        <ul class="people">
          {people?.map((p) => <PersonRow key={p.id} ctx={ctx} person={p} />)}
        </ul>
      </Section>
      <form
        class="panel"
        aria-labelledby="add-person-title"
        onSubmit={(e) => {
          e.preventDefault()
          void add.run(async () => {
            const { name, email, handle } = fieldsOf(draft)
            const person = await addPerson(ctx.team.id, { name, ...(email ? { email } : {}), ...(handle ? { handle } : {}) })
            setFound(person.found ? `${person.name} was already in the directory.` : '')
            setDraft({ id: '', name: '' })
            ctx.changed()
          })
        }}
      >
        <h2 id="add-person-title">Add a person</h2>
        <PersonFields prefix="new-person" person={draft} onChange={setDraft} />
        <div class="row">
          <button type="submit" class="btn btn-primary" disabled={add.busy || !draft.name.trim()}>
            Add to the team
          </button>
        </div>
        {found && <p class="notice notice-info">{found}</p>}
        <ErrorText message={add.error} />
      </form>
    </div>
  )
}
