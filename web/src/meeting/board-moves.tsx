// Moving notes into themes and merging themes on the notes board, by pointer (drops
// reported by DropList) and by keyboard: focus a note or a theme, Space or Enter picks it
// up, arrow keys choose where it goes, Enter drops, Escape cancels. Both end in the same
// commands; a merge (one theme disappears for good) is confirmed first.
import type { TargetedKeyboardEvent, TargetedMouseEvent } from 'preact'
import { useEffect, useRef, useState } from 'preact/hooks'
import { assignNotes, mergeThemes } from '../app/commands'
import type { Note, Theme } from '../app/model'
import { ErrorText, useCommand } from '../app/ui'
import { INTERACTIVE, placeKey, type Dragged, type Place } from './drop-list'

export const UNGROUPED_LABEL = 'Not in a theme yet'

/** A note or theme the keyboard can pick up; `place` is where a note is now. */
export interface Movable {
  kind: 'note' | 'theme'
  id: string
  label: string
  place: Place
}

interface Merge {
  from: Theme
  into: Theme
}

const short = (text: string) => (text.length > 60 ? `${text.slice(0, 57)}…` : text)

export const noteMovable = (note: Note, themes: Theme[]): Movable => ({
  kind: 'note',
  id: note.id,
  label: short(note.text),
  place: note.theme_id && themes.some((t) => t.id === note.theme_id) ? note.theme_id : null,
})

export const themeMovable = (theme: Theme): Movable => ({ kind: 'theme', id: theme.id, label: theme.title, place: theme.id })

export function useBoardMoves(reviewId: string, themes: Theme[], notes: Note[]) {
  const cmd = useCommand()
  const [carried, setCarriedState] = useState<Movable | null>(null)
  // Mirrored in a ref: a blur fired by our own focus move must see the latest value.
  const carriedRef = useRef<Movable | null>(null)
  const setCarried = (m: Movable | null) => {
    carriedRef.current = m
    setCarriedState(m)
  }
  const [target, setTarget] = useState<Place>(null)
  const [merge, setMerge] = useState<Merge | null>(null)
  const [message, setMessage] = useState('')
  // A selector to focus once it matches: the moved card re-renders in its new list.
  const [refocus, setRefocus] = useState<string | null>(null)

  useEffect(() => {
    if (!refocus) return
    const el = document.querySelector<HTMLElement>(refocus)
    if (el) {
      el.focus()
      setRefocus(null)
    }
  })

  const titleOf = (id: string) => themes.find((t) => t.id === id)?.title ?? ''
  const placeName = (place: Place) => (place === null ? `“${UNGROUPED_LABEL}”` : `the theme “${titleOf(place)}”`)
  const targetsOf = (m: Movable): Place[] =>
    m.kind === 'note' ? [...themes.map((t) => t.id), null] : themes.filter((t) => t.id !== m.id).map((t) => t.id)
  const noteSelector = (id: string, place: Place) =>
    `.notes-board [data-drop="${CSS.escape(placeKey(place))}"] > [data-note-id="${CSS.escape(id)}"]`
  const themeSelector = (id: string) => `.notes-board .theme[data-theme-id="${CSS.escape(id)}"]`

  const moveNote = (noteId: string, to: Place, byKeyboard: boolean) => {
    const note = notes.find((n) => n.id === noteId)
    if (!note) return
    const from = noteMovable(note, themes)
    if (to === from.place || (to !== null && !themes.some((t) => t.id === to))) return
    const where = placeName(to)
    if (byKeyboard) setRefocus(noteSelector(noteId, to))
    void cmd.run(() => assignNotes(reviewId, to, [noteId])).then((ok) => {
      if (ok) setMessage(`Moved note “${from.label}” to ${where}.`)
      else if (byKeyboard) setRefocus(noteSelector(noteId, from.place))
    })
  }

  const askMerge = (fromId: string, intoId: Place) => {
    const from = themes.find((t) => t.id === fromId)
    const into = themes.find((t) => t.id === intoId)
    if (!from || !into || from === into) return
    setMerge({ from, into })
    setMessage(`Merge “${from.title}” into “${into.title}”? Confirm or keep both.`)
  }

  /** A pointer drop reported by a DropList. */
  const onDrop = (dragged: Dragged, to: Place) => {
    if (dragged.kind === 'note') moveNote(dragged.id, to, false)
    else askMerge(dragged.id, to)
  }

  const pickUp = (m: Movable) => {
    const targets = targetsOf(m)
    if (!targets.length || (m.kind === 'note' && targets.length < 2)) {
      setMessage(m.kind === 'note' ? 'There is no theme yet: add one first.' : 'There is no other theme to merge this one into.')
      return
    }
    setCarried(m)
    setTarget(m.kind === 'note' ? m.place : targets[0]!)
    setMessage(
      m.kind === 'note'
        ? `Picked up note “${m.label}”; use arrow keys to choose a theme, Enter to drop, Escape to cancel.`
        : `Picked up theme “${m.label}”; use arrow keys to choose the theme to merge it into, Enter to drop, Escape to cancel.`,
    )
  }

  const step = (m: Movable, by: 1 | -1) => {
    const targets = targetsOf(m)
    const at = targets.indexOf(target)
    const next = targets[at < 0 ? (by > 0 ? 0 : targets.length - 1) : (at + by + targets.length) % targets.length]!
    setTarget(next)
    setMessage(m.kind === 'note' ? `Over ${placeName(next)}.` : `Merge into “${titleOf(next ?? '')}”.`)
  }

  const drop = (m: Movable) => {
    setCarried(null)
    if (m.kind === 'theme') {
      askMerge(m.id, target)
    } else if (target === m.place) {
      setMessage(`Dropped; the note stays in ${placeName(m.place)}.`)
    } else {
      moveNote(m.id, target, true)
    }
  }

  const cancel = (m: Movable) => {
    setCarried(null)
    setMessage(`Cancelled; the ${m.kind} stays where it was.`)
  }

  const isCarried = (m: Movable) => carried?.kind === m.kind && carried.id === m.id

  /** Props that make a card focusable and movable by keyboard. */
  const keys = (m: Movable) => ({
    tabIndex: 0,
    'aria-describedby': m.kind === 'note' ? 'move-help-note' : 'move-help-theme',
    onKeyDown: (e: TargetedKeyboardEvent<HTMLElement>) => {
      if (e.target !== e.currentTarget) return // a key on a button inside the card
      const current = carriedRef.current
      const mine = current?.kind === m.kind && current.id === m.id
      const key = e.key
      if (!mine) {
        if (key === ' ' || key === 'Enter') {
          e.preventDefault()
          pickUp(m)
        }
        return
      }
      if (key === 'ArrowDown' || key === 'ArrowRight') step(current, 1)
      else if (key === 'ArrowUp' || key === 'ArrowLeft') step(current, -1)
      else if (key === 'Enter' || key === ' ') drop(current)
      else if (key === 'Escape') cancel(current)
      else return
      e.preventDefault()
    },
    // A press on the card starts a drag, not a focus: focusing would scroll a card that is
    // partly off screen into view under the pointer, mid-drag.
    onMouseDown: (e: TargetedMouseEvent<HTMLElement>) => {
      if (!(e.target as Element).closest(INTERACTIVE)) e.preventDefault()
    },
    onBlur: () => {
      const current = carriedRef.current
      if (current?.kind === m.kind && current.id === m.id) cancel(current)
    },
  })

  // A theme that went away meanwhile (someone else merged it) ends the question.
  const pending = merge && themes.some((t) => t.id === merge.from.id) && themes.some((t) => t.id === merge.into.id) ? merge : null

  const confirmMerge = () => {
    if (!pending) return
    const { from, into } = pending
    setMerge(null)
    setRefocus(themeSelector(into.id))
    void cmd.run(() => mergeThemes(reviewId, into.id, [from.id])).then((ok) => {
      setMessage(ok ? `Merged “${from.title}” into “${into.title}”.` : 'The merge failed; both themes stay.')
      if (!ok) setRefocus(themeSelector(from.id))
    })
  }

  const cancelMerge = () => {
    if (pending) setRefocus(themeSelector(pending.from.id))
    setMerge(null)
    setMessage('Merge cancelled; both themes stay.')
  }

  return {
    onDrop,
    keys,
    isCarried,
    /** The place the carried card would go to now (undefined when nothing is carried). */
    target: carried ? target : undefined,
    carriedKind: carried?.kind,
    confirmation: pending && <MergeConfirm merge={pending} busy={cmd.busy} onYes={confirmMerge} onNo={cancelMerge} />,
    status: (
      <>
        <p class="offscreen move-announcement" aria-live="assertive">
          {message}
        </p>
        <p id="move-help-note" hidden>
          Space or Enter picks this note up to move it into a theme.
        </p>
        <p id="move-help-theme" hidden>
          Space or Enter picks this theme up to merge it into another theme.
        </p>
        <ErrorText message={cmd.error} />
      </>
    ),
  }
}

function MergeConfirm({ merge, busy, onYes, onNo }: { merge: Merge; busy: boolean; onYes: () => void; onNo: () => void }) {
  const yes = useRef<HTMLButtonElement>(null)
  useEffect(() => yes.current?.focus(), [merge.from.id, merge.into.id])
  const { from, into } = merge
  return (
    <div
      class="notice notice-warn merge-confirm"
      role="group"
      aria-label="Confirm the merge"
      onKeyDown={(e) => {
        if (e.key === 'Escape') {
          e.preventDefault()
          onNo()
        }
      }}
    >
      <p>
        Merge “{from.title}” into “{into.title}”? “{from.title}” goes away for good; its notes and votes move to “{into.title}”.
      </p>
      <button type="button" ref={yes} class="btn btn-danger btn-small" aria-disabled={busy} onClick={() => !busy && onYes()}>
        Yes, merge them
      </button>{' '}
      <button type="button" class="btn btn-quiet btn-small" onClick={onNo}>
        Keep both
      </button>
    </div>
  )
}
