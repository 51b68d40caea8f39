// The owner of an action is a person of the team's directory: typed, then picked from the
// people whose name matches, or added on the spot. Picking sends `owner_id`; the server
// writes the person's name into the action, so the same person owns one list everywhere.
import type * as Y from 'yjs'
import { useState } from 'preact/hooks'
import { errorText } from '../app/api'
import { useReview } from '../app/context'
import { addReviewPerson, setActionOwner, type Person } from '../team/api'

/** Names compare like the server's fold: case and runs of spaces do not count. */
export const fold = (name: string) => name.trim().replace(/\s+/g, ' ').toLocaleLowerCase()

interface Props {
  actionId: string
  owner: string
  map: Y.Map<unknown>
  editable: boolean
  people: Person[] | null
  onPeopleChanged: () => void
  inputId: string
  label: string
  invalid: boolean
  describedBy: string | undefined
  onType: (value: string) => void
}

type Option = { kind: 'person'; person: Person } | { kind: 'add'; name: string }

export function OwnerPicker(p: Props) {
  const { id } = useReview()
  const [open, setOpen] = useState(false)
  const [active, setActive] = useState(0)
  const [error, setError] = useState('')
  const [busy, setBusy] = useState(false)
  const ownerId = typeof p.map.get('owner_id') === 'string' ? (p.map.get('owner_id') as string) : ''
  const linked = ownerId ? p.people?.find((x) => x.id === ownerId) : undefined
  const typed = fold(p.owner)
  const options: Option[] = []
  if (p.people) {
    const matches = p.people.filter((x) => !typed || fold(x.name).includes(typed)).slice(0, 6)
    for (const person of matches) if (person.id !== ownerId) options.push({ kind: 'person', person })
    if (typed && !p.people.some((x) => fold(x.name) === typed)) options.push({ kind: 'add', name: p.owner.trim() })
  }
  const listId = `${p.inputId}-people`
  const showList = p.editable && open && options.length > 0
  const pick = async (option: Option) => {
    setBusy(true)
    setError('')
    try {
      const person = option.kind === 'person' ? option.person : await addReviewPerson(id, option.name)
      if (option.kind === 'add') p.onPeopleChanged()
      await setActionOwner(id, p.actionId, person.id)
      setOpen(false)
    } catch (e) {
      setError(errorText(e))
    } finally {
      setBusy(false)
    }
  }
  const optionId = (i: number) => `${listId}-${i}`
  return (
    <div
      class="field owner-picker"
      onFocusOut={(e) => {
        const next = e.relatedTarget as Node | null
        if (!next || !e.currentTarget.contains(next)) setOpen(false)
      }}
    >
      <label for={p.inputId}>{p.label}</label>
      <input
        id={p.inputId}
        type="text"
        role="combobox"
        aria-autocomplete="list"
        aria-expanded={showList}
        aria-controls={listId}
        aria-activedescendant={showList ? optionId(Math.min(active, options.length - 1)) : undefined}
        autoComplete="off"
        value={p.owner}
        maxLength={200}
        readOnly={!p.editable}
        aria-invalid={p.invalid}
        aria-describedby={p.describedBy}
        onFocus={() => setOpen(true)}
        onInput={(e) => {
          // A changed name is no longer the linked person.
          if (ownerId) p.map.set('owner_id', '')
          p.onType(e.currentTarget.value)
          setOpen(true)
          setActive(0)
        }}
        onKeyDown={(e) => {
          if (!showList) return
          if (e.key === 'ArrowDown') setActive((active + 1) % options.length)
          else if (e.key === 'ArrowUp') setActive((active - 1 + options.length) % options.length)
          else if (e.key === 'Escape') setOpen(false)
          else if (e.key === 'Enter') {
            const chosen = options[Math.min(active, options.length - 1)]
            if (chosen) void pick(chosen)
          } else return
          e.preventDefault()
        }}
      />
      {linked && fold(linked.name) === typed && (
        <p class="small owner-linked" data-person-id={linked.id}>
          <span class="chip chip-person">In the team’s people</span>
        </p>
      )}
      {showList && (
        <ul class="owner-options" id={listId} role="listbox" aria-label="People of the team" aria-busy={busy}>
          {options.map((o, i) => (
            <li
              key={o.kind === 'person' ? o.person.id : 'add'}
              id={optionId(i)}
              role="option"
              tabIndex={-1}
              aria-selected={i === active}
              class={`owner-option ${i === active ? 'active' : ''}`}
              data-kind={o.kind}
              onMouseDown={(e) => e.preventDefault()}
              onClick={() => void pick(o)}
            >
              {o.kind === 'person' ? (
                <>
                  {o.person.name}
                  {o.person.handle && <span class="muted small"> {o.person.handle}</span>}
                </>
              ) : (
                <>Add “{o.name}” to the team’s people</>
              )}
            </li>
          ))}
        </ul>
      )}
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
    </div>
  )
}
