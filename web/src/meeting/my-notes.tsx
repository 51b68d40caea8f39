// Your own notes in one section: a private draft, then notes sent to the server that
// only you can see until the moderator reveals the section.
import { useEffect, useState } from 'preact/hooks'
import { deleteNote, editNote, myNotes, submitNote, type MyNote } from '../app/commands'
import { useReview } from '../app/context'
import { useStored } from '../app/hooks'
import { useOwnChanges } from '../app/own-changes'
import { NOTES_PRIVATE } from '../app/texts'
import { ActionButton, ErrorText, useCommand } from '../app/ui'

export function useMyNotes(refreshKey: string): [MyNote[], () => Promise<void>] {
  const { id, you } = useReview()
  const [notes, setNotes] = useState<MyNote[]>([])
  const elsewhere = useOwnChanges(id, 'notes') // added, edited or deleted in another tab
  const load = async () => {
    if (you.role === 'observer') return
    try {
      setNotes((await myNotes(id)).notes)
    } catch {
      // offline or closed: keep what we have
    }
  }
  useEffect(() => {
    void load()
  }, [id, refreshKey, elsewhere])
  return [notes, load]
}

function OwnNote({ note, reload, readOnly }: { note: MyNote; reload: () => Promise<void>; readOnly: boolean }) {
  const { id } = useReview()
  const [editing, setEditing] = useState(false)
  const [text, setText] = useState(note.text)
  const cmd = useCommand()
  if (editing) {
    return (
      <li class="note own">
        <label for={`edit-${note.id}`} class="offscreen">
          Edit your note
        </label>
        <textarea id={`edit-${note.id}`} rows={2} value={text} onInput={(e) => setText(e.currentTarget.value)} />
        <div class="row">
          <button
            type="button"
            class="btn btn-primary btn-small"
            disabled={cmd.busy || !text.trim()}
            onClick={() =>
              void cmd.run(async () => {
                await editNote(id, note.id, text.trim())
                setEditing(false)
                await reload()
              })
            }
          >
            Save
          </button>
          <button type="button" class="btn btn-quiet btn-small" onClick={() => setEditing(false)}>
            Cancel
          </button>
        </div>
        <ErrorText message={cmd.error} />
      </li>
    )
  }
  return (
    <li class="note own" data-revealed={note.revealed}>
      <p class="note-text">{note.text}</p>
      <div class="row small">
        <span class="muted">{note.revealed ? 'On the board' : 'Only you can see this'}</span>
        {!readOnly && (
          <>
            <button type="button" class="btn btn-quiet btn-small" onClick={() => { setText(note.text); setEditing(true) }}>
              Edit
            </button>
            <ActionButton kind="quiet" onClick={async () => { await deleteNote(id, note.id); await reload() }} aria-label="Delete this note">
              Delete
            </ActionButton>
          </>
        )}
      </div>
    </li>
  )
}

export function MyNotes({ section, prompt, notes, reload, readOnly }: {
  section: string
  prompt: string
  notes: MyNote[]
  reload: () => Promise<void>
  readOnly: boolean
}) {
  const { id } = useReview()
  const [draft, setDraft] = useStored(`debrief.draft.${id}.${section}`, '')
  const cmd = useCommand()
  const mine = notes.filter((n) => n.kind === section)
  const send = (e: Event) => {
    e.preventDefault()
    // Clear at once so the next note can be typed while this one is sent; a note the
    // server refused goes back into the draft.
    const text = draft.trim()
    setDraft('')
    void cmd.run(() => submitNote(id, section, text)).then(async (ok) => {
      if (ok) await reload()
      else setDraft(text)
    })
  }
  return (
    <div class="my-notes">
      {!readOnly && (
        <form onSubmit={send} class="compose">
          <label for={`draft-${section}`}>Your note</label>
          <p class="muted small" id={`draft-help-${section}`}>
            {prompt} {NOTES_PRIVATE} Ctrl+Enter sends.
          </p>
          <textarea
            id={`draft-${section}`}
            rows={3}
            maxLength={2000}
            aria-describedby={`draft-help-${section}`}
            value={draft}
            onInput={(e) => setDraft(e.currentTarget.value)}
            onKeyDown={(e) => {
              // Ctrl+Enter (Cmd+Enter on a Mac) sends, as in chat and issue trackers.
              if (e.key === 'Enter' && (e.ctrlKey || e.metaKey) && draft.trim() && !cmd.busy) send(e)
            }}
          />
          <div class="row">
            <button type="submit" class="btn btn-primary" disabled={cmd.busy || !draft.trim()}>
              Add my note
            </button>
          </div>
          <ErrorText message={cmd.error} />
        </form>
      )}
      {mine.length > 0 && (
        // Closed once everything is on the board, so a shared screen does not show authorship.
        <details class="own" open={mine.some((n) => !n.revealed)}>
          <summary class="small-heading">Your notes ({mine.length}) · only on your screen</summary>
          <ul class="notes own-notes">
            {mine.map((n) => (
              <OwnNote key={n.id} note={n} reload={reload} readOnly={readOnly} />
            ))}
          </ul>
        </details>
      )}
    </div>
  )
}
