// Action items in the `recap` doc, each with the lint's hints shown as the scribe types.
import * as Y from 'yjs'
import { useEffect, useState } from 'preact/hooks'
import { useReview } from '../app/context'
import { useY } from '../app/hooks'
import { lintAction, type LintProblem } from './lint'
import { newId, readActions, type Action } from '../app/model'
import { ACTION_KINDS } from '../app/texts'
import { clip } from './ytext'
import { OwnerPicker } from './owner-picker'
import { reviewPeople, type Person } from '../team/api'

type Field = 'what' | 'owner' | 'due' | 'verify' | 'kind'

// The longest value the server takes for each text field (docs/shared-docs.md).
const MAX: Record<'what' | 'owner' | 'verify', number> = { what: 500, owner: 200, verify: 500 }
const DUE = /^\d{4}-\d{2}-\d{2}$/

const LABELS: Record<Field, string> = {
  what: 'What changes',
  owner: 'Owner (one person)',
  due: 'Due date',
  verify: 'How we will check it is done',
  kind: 'Kind',
}

function Hints({ problems, id }: { problems: LintProblem[]; id: string }) {
  if (!problems.length) return null
  return (
    <ul class="lint" id={id} aria-live="polite">
      {problems.map((p) => (
        <li key={p.code} class="lint-hint" data-code={p.code}>
          <span class="lint-msg">{p.message}</span> <span class="lint-tip">{p.hint}</span>
        </li>
      ))}
    </ul>
  )
}

interface Directory {
  people: Person[] | null
  reload: () => void
}

function ActionCard({ action, index, map, editable, directory }: { action: Action; index: number; map: Y.Map<unknown>; editable: boolean; directory: Directory }) {
  const problems = lintAction(action)
  const of = (f: Field) => problems.filter((p) => p.field === f)
  const set = (f: Field, value: string) => {
    // The server refuses a due date that is not `YYYY-MM-DD` (a typed six-digit year, say):
    // keep the last good one rather than send it.
    if (f === 'due' && value && !DUE.test(value)) return
    map.set(f, f === 'what' || f === 'owner' || f === 'verify' ? clip(value, MAX[f]) : value)
  }
  const fieldId = (f: Field) => `action-${action.id}-${f}`
  const described = (f: Field) => (of(f).length ? `${fieldId(f)}-lint` : undefined)
  const input = (f: Exclude<Field, 'kind' | 'what' | 'owner'>, type: 'text' | 'date' = 'text') => (
    <div class="field">
      <label for={fieldId(f)}>{LABELS[f]}</label>
      <input
        id={fieldId(f)}
        type={type as 'text'}
        value={action[f]}
        maxLength={f === 'due' ? undefined : MAX[f]}
        max={f === 'due' ? '9999-12-31' : undefined}
        readOnly={!editable}
        aria-invalid={of(f).length > 0}
        aria-describedby={described(f)}
        onInput={(e) => set(f, e.currentTarget.value)}
      />
      <Hints problems={of(f)} id={`${fieldId(f)}-lint`} />
    </div>
  )
  return (
    <li class={`action ${problems.length ? 'action-needs-work' : 'action-clean'}`} data-action-id={action.id}>
      <div class="panel-head">
        <h3>Action {index + 1}</h3>
        <span class={`badge ${problems.length ? 'badge-warn' : 'badge-ok'}`}>
          {problems.length ? `${problems.length} to fix` : 'Ready'}
        </span>
      </div>
      <div class="field">
        <label for={fieldId('what')}>{LABELS.what}</label>
        <textarea
          id={fieldId('what')}
          rows={2}
          maxLength={MAX.what}
          value={action.what}
          readOnly={!editable}
          aria-invalid={of('what').length > 0}
          aria-describedby={described('what')}
          onInput={(e) => set('what', e.currentTarget.value)}
        />
        <Hints problems={of('what')} id={`${fieldId('what')}-lint`} />
      </div>
      <div class="grid-2">
        <div>
          <OwnerPicker
            actionId={action.id}
            owner={action.owner}
            map={map}
            editable={editable}
            people={directory.people}
            onPeopleChanged={directory.reload}
            inputId={fieldId('owner')}
            label={LABELS.owner}
            invalid={of('owner').length > 0}
            describedBy={described('owner')}
            onType={(value) => set('owner', value)}
          />
          <Hints problems={of('owner')} id={`${fieldId('owner')}-lint`} />
        </div>
        {input('due', 'date')}
      </div>
      {input('verify')}
      <div class="field">
        <label for={fieldId('kind')}>{LABELS.kind}</label>
        <select
          id={fieldId('kind')}
          value={action.kind}
          disabled={!editable}
          aria-describedby={described('kind')}
          onChange={(e) => set('kind', e.currentTarget.value)}
        >
          <option value="">Choose…</option>
          {Object.entries(ACTION_KINDS).map(([value, label]) => (
            <option key={value} value={value}>
              {label}
            </option>
          ))}
        </select>
        <Hints problems={of('kind')} id={`${fieldId('kind')}-lint`} />
      </div>
      {editable && (
        <button type="button" class="btn btn-quiet btn-small" onClick={() => map.parent instanceof Y.Map && map.parent.delete(action.id)}>
          Remove action {index + 1}
        </button>
      )}
    </li>
  )
}

/** The review's team directory, for the owner picker (only those who edit need it). */
function useDirectory(reviewId: string, editable: boolean): Directory {
  const [people, setPeople] = useState<Person[] | null>(null)
  const [version, setVersion] = useState(0)
  useEffect(() => {
    if (!editable) return
    reviewPeople(reviewId).then(
      (d) => setPeople(d.people),
      () => setPeople(null), // no directory: the owner stays free text, checked at the close
    )
  }, [reviewId, editable, version])
  return { people, reload: () => setVersion((n) => n + 1) }
}

export function ActionItems({ editable }: { editable: boolean }) {
  const { id: reviewId, sync } = useReview()
  const directory = useDirectory(reviewId, editable)
  const doc = sync.docs.recap
  const actions = doc.getMap<Y.Map<unknown>>('actions')
  useY(actions)
  const list = readActions(doc)
  const add = () => {
    const id = newId('act_')
    doc.transact(() => {
      const m = new Y.Map<unknown>()
      for (const [k, v] of Object.entries({ id, what: '', owner: '', due: '', verify: '', kind: '', created_ms: Date.now() })) m.set(k, v)
      actions.set(id, m)
    })
    requestAnimationFrame(() => document.getElementById(`action-${id}-what`)?.focus())
  }
  const open = list.filter((a) => lintAction(a).length).length
  return (
    <section class="panel" aria-labelledby="actions-title">
      <div class="panel-head">
        <h2 id="actions-title">Action items</h2>
        <span class="muted small" data-open={open}>
          {list.length} in total · {open} still need work
        </span>
      </div>
      <p class="muted small">Each action says what changes, names exactly one owner, has a due date and a way to check it was done.</p>
      <ol class="actions">
        {list.map((a, i) => {
          const map = actions.get(a.id)
          return map ? <ActionCard key={a.id} action={a} index={i} map={map} editable={editable} directory={directory} /> : null
        })}
      </ol>
      {editable && (
        <button type="button" class="btn btn-primary" onClick={add}>
          Add an action
        </button>
      )}
    </section>
  )
}
