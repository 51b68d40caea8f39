// Prepare: the agenda (templates, phases) and the pre-meeting questionnaire.
import { useEffect, useState } from 'preact/hooks'
import {
  addPhase,
  applySavedTemplate,
  applyTemplate,
  editPhase,
  patchReview,
  removePhase,
  savedTemplates,
  saveTemplate,
  type SavedTemplate,
} from '../app/commands'
import { useReview } from '../app/context'
import { useFormState } from './form-state'
import { useY } from '../app/hooks'
import { readAgenda, readReview, type Phase } from '../app/model'
import { ActionButton, ErrorText, Section, useCommand } from '../app/ui'

const TEMPLATES: [string, string][] = [
  ['incident', 'Incident review'],
  ['project-phase', 'Project phase review'],
  ['launch', 'Launch review'],
]

function PhaseRow({ phase, index, count, readOnly }: { phase: Phase; index: number; count: number; readOnly: boolean }) {
  const { id } = useReview()
  const form = useFormState({ title: phase.title, minutes: String(phase.minutes) })
  const cmd = useCommand()
  const save = () => {
    if (!form.dirty) return
    void cmd.run(async () => {
      await editPhase(id, phase.id, { title: form.value.title.trim(), minutes: Number(form.value.minutes) })
      form.reset()
    })
  }
  return (
    <li class="phase-row">
      <span class="phase-num">{index + 1}</span>
      <input
        aria-label={`Phase ${index + 1} title`}
        value={form.value.title}
        disabled={readOnly}
        onInput={(e) => form.set({ ...form.value, title: e.currentTarget.value })}
        onBlur={save}
        onKeyDown={(e) => e.key === 'Enter' && save()}
      />
      <input
        aria-label={`Phase ${index + 1} minutes`}
        type="number"
        min="1"
        max="240"
        class="minutes"
        value={form.value.minutes}
        disabled={readOnly}
        onInput={(e) => form.set({ ...form.value, minutes: e.currentTarget.value })}
        onBlur={save}
        onKeyDown={(e) => e.key === 'Enter' && save()}
      />
      <span class="muted small">min</span>
      {!readOnly && (
        <span class="row tight">
          <ActionButton kind="quiet" disabled={index === 0} onClick={() => editPhase(id, phase.id, { index: index - 1 })} aria-label={`Move phase ${index + 1} up`}>
            ↑
          </ActionButton>
          <ActionButton kind="quiet" disabled={index === count - 1} onClick={() => editPhase(id, phase.id, { index: index + 1 })} aria-label={`Move phase ${index + 1} down`}>
            ↓
          </ActionButton>
          <ActionButton kind="quiet" disabled={count === 1} onClick={() => removePhase(id, phase.id)} aria-label={`Remove phase ${index + 1}`}>
            Remove
          </ActionButton>
        </span>
      )}
      <ErrorText message={cmd.error} />
    </li>
  )
}

/** Agendas saved from earlier reviews: start from one, or save this one for next time. */
function SavedTemplates() {
  const { id } = useReview()
  const [saved, setSaved] = useState<SavedTemplate[]>([])
  const [chosen, setChosen] = useState('')
  const [name, setName] = useState('')
  const save = useCommand()
  const load = () => savedTemplates(id).then((t) => setSaved(t.templates), () => undefined)
  useEffect(() => {
    void load()
  }, [id])
  return (
    <div class="saved-templates">
      {saved.length > 0 && (
        <div class="row">
          <label for="saved-template">Saved template</label>
          <select id="saved-template" value={chosen} onChange={(e) => setChosen(e.currentTarget.value)}>
            <option value="">Choose one…</option>
            {saved.map((t) => (
              <option key={t.id} value={t.id}>
                {t.name} ({t.phases} phases, {t.minutes} min)
              </option>
            ))}
          </select>
          <ActionButton disabled={!chosen} onClick={() => applySavedTemplate(id, chosen)}>
            Use the saved template
          </ActionButton>
        </div>
      )}
      <form
        class="row"
        onSubmit={(e) => {
          e.preventDefault()
          void save.run(async () => {
            await saveTemplate(id, name.trim())
            setName('')
            await load()
          })
        }}
      >
        <label for="template-name">Save this agenda and questionnaire as</label>
        <input id="template-name" value={name} maxLength={80} placeholder="e.g. Payments incident review" onInput={(e) => setName(e.currentTarget.value)} />
        <button type="submit" class="btn btn-secondary btn-small" disabled={save.busy || !name.trim()}>
          Save as template
        </button>
      </form>
      <ErrorText message={save.error} />
    </div>
  )
}

export function AgendaEditor({ readOnly }: { readOnly: boolean }) {
  const { id, sync } = useReview()
  const meeting = sync.docs.room.getMap('meeting')
  useY(meeting)
  const agenda = readAgenda(sync.docs.room)
  const current = typeof meeting.get('template') === 'string' ? (meeting.get('template') as string) : 'incident'
  const [template, setTemplate] = useState(current)
  const [title, setTitle] = useState('')
  const [minutes, setMinutes] = useState('10')
  const add = useCommand()
  const total = agenda.reduce((sum, p) => sum + p.minutes, 0)
  return (
    <Section title={`Agenda · ${total} minutes`} id="agenda">
      {!readOnly && (
        <div class="row">
          <label for="template">Template</label>
          <select id="template" value={template} onChange={(e) => setTemplate(e.currentTarget.value)}>
            {TEMPLATES.map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </select>
          <ActionButton onClick={() => applyTemplate(id, template)}>Use this template</ActionButton>
        </div>
      )}
      {!readOnly && <SavedTemplates />}
      <ol class="phase-rows">
        {agenda.map((p, i) => (
          <PhaseRow key={`${p.id}:${p.title}:${p.minutes}`} phase={p} index={i} count={agenda.length} readOnly={readOnly} />
        ))}
      </ol>
      {!readOnly && (
        <form
          class="row"
          onSubmit={(e) => {
            e.preventDefault()
            void add.run(async () => {
              await addPhase(id, title.trim(), Number(minutes))
              setTitle('')
            })
          }}
        >
          <label for="new-phase-title">New phase</label>
          <input id="new-phase-title" value={title} onInput={(e) => setTitle(e.currentTarget.value)} />
          <label for="new-phase-minutes" class="offscreen">
            Minutes
          </label>
          <input id="new-phase-minutes" class="minutes" type="number" min="1" max="240" value={minutes} onInput={(e) => setMinutes(e.currentTarget.value)} />
          <button type="submit" class="btn btn-secondary" disabled={add.busy || !title.trim()}>
            Add phase
          </button>
          <ErrorText message={add.error} />
        </form>
      )}
    </Section>
  )
}

export function QuestionnaireEditor({ readOnly }: { readOnly: boolean }) {
  const { id, sync } = useReview()
  useY(sync.docs.room.getMap('review'))
  const form = useFormState(readReview(sync.docs.room).questionnaire)
  const cmd = useCommand()
  const prompts = form.value
  return (
    <Section title="Pre-meeting questionnaire" id="questionnaire-editor">
      <p class="muted small">Attendees answer privately before the meeting; answers are revealed later without names.</p>
      <form
        onSubmit={(e) => {
          e.preventDefault()
          void cmd.run(async () => {
            await patchReview(id, { questionnaire: prompts.map((p) => p.trim()).filter(Boolean) })
            form.reset()
          })
        }}
      >
        <fieldset disabled={readOnly}>
          <ol class="prompt-rows">
            {prompts.map((p, i) => (
              <li key={i} class="row">
                <input aria-label={`Question ${i + 1}`} value={p} onInput={(e) => form.set(prompts.map((q, j) => (j === i ? e.currentTarget.value : q)))} />
                <button type="button" class="btn btn-quiet btn-small" aria-label={`Remove question ${i + 1}`} onClick={() => form.set(prompts.filter((_, j) => j !== i))}>
                  Remove
                </button>
              </li>
            ))}
          </ol>
          <div class="row">
            <button type="button" class="btn btn-secondary" onClick={() => form.set([...prompts, ''])}>
              Add a question
            </button>
            <button type="submit" class="btn btn-primary" disabled={cmd.busy || !form.dirty}>
              Save questions
            </button>
          </div>
          <ErrorText message={cmd.error} />
        </fieldset>
      </form>
    </Section>
  )
}
