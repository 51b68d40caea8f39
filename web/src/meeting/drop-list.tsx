// A list on the notes board that notes (or themes) can be dragged out of and into, with
// SortableJS doing the pointer work. One Sortable per list element: created when the
// list mounts, destroyed when it unmounts; renders never touch it. SortableJS is loaded
// only when a list is movable (the moderator's board), so participants never fetch it.
//
// Sortable moves DOM nodes itself, but Preact owns them: each drop is put straight back
// and only reported. The command it leads to changes the shared room doc, and every
// screen (this one too) re-renders from that.
import type { ComponentChildren } from 'preact'
import { useEffect, useRef } from 'preact/hooks'
import type Sortable from 'sortablejs'

/** What was dragged. */
export interface Dragged {
  kind: 'note' | 'theme'
  id: string
}

/** A drop place: a theme's id, or null for the notes in no theme. */
export type Place = string | null

/** The `data-drop` value of a place (the list element carries it). */
export const placeKey = (place: Place): string => place ?? ''

/** Controls inside a card that keep their own click (never start a drag). */
export const INTERACTIVE = 'button, a, input, select, textarea, label'

let sortableModule: Promise<typeof Sortable> | null = null
const loadSortable = () =>
  (sortableModule ??= import('sortablejs').then(
    (m) => m.default,
    (e: unknown) => {
      sortableModule = null // offline: try again on the next mount
      throw e
    },
  ))

function draggedOf(item: HTMLElement): Dragged | null {
  const { noteId, themeId } = item.dataset
  if (noteId) return { kind: 'note', id: noteId }
  if (themeId) return { kind: 'theme', id: themeId }
  return null
}

function options(holds: 'notes' | 'themes', acceptsThemes: boolean, report: (d: Dragged, to: Place) => void): Sortable.Options {
  return {
    // Notes go from list to list; a theme goes into another theme's notes (a merge).
    // A dragged theme leaves a copy in its place: the themes below must not jump up
    // under the pointer while it hovers over one of them.
    group: holds === 'themes'
      ? { name: 'themes', pull: 'clone', put: false }
      : { name: 'notes', pull: true, put: acceptsThemes ? ['notes', 'themes'] : ['notes'] },
    sort: false, // the board has no order to keep
    draggable: holds === 'themes' ? '.theme' : '.note',
    ...(holds === 'themes' ? { handle: '.theme-head' } : {}),
    // Buttons inside a card (Vote, Remove theme) keep working as buttons.
    filter: INTERACTIVE,
    preventOnFilter: false,
    // Pointer events rather than the HTML5 drag API: the same on mouse, pen and touch.
    forceFallback: true,
    fallbackOnBody: true,
    fallbackTolerance: 4, // a click is not a drag
    delay: 150,
    delayOnTouchOnly: true, // on a phone a quick swipe still scrolls the board
    emptyInsertThreshold: 16,
    ghostClass: 'dnd-placeholder',
    chosenClass: 'dnd-chosen',
    fallbackClass: 'dnd-floating',
    onStart: (evt) => {
      evt.from.closest('.notes-board')?.setAttribute('data-dragging', holds === 'themes' ? 'theme' : 'note')
    },
    onClone: (evt) => evt.clone.classList.add('dnd-origin'),
    onEnd: (evt) => {
      const { from, to, item, clone, oldIndex } = evt
      from.closest('.notes-board')?.removeAttribute('data-dragging')
      if (to === from) return
      // Put the node back where Preact left it; the doc update moves it for real.
      if (evt.pullMode === 'clone' && clone.parentNode === from) from.replaceChild(item, clone)
      else from.insertBefore(item, from.children[oldIndex ?? from.children.length] ?? null)
      const dragged = draggedOf(item)
      if (dragged) report(dragged, to.dataset.drop || null)
    },
  }
}

export function DropList({ place, holds, acceptsThemes = false, enabled, onDrop, class: className, label, empty, children }: {
  place: Place
  holds: 'notes' | 'themes'
  acceptsThemes?: boolean
  /** Only the moderator groups; for everyone else the list is plain. */
  enabled: boolean
  onDrop: (dragged: Dragged, to: Place) => void
  class: string
  label?: string
  /** Shown (through CSS) while the list is empty. */
  empty?: string
  children: ComponentChildren
}) {
  const ref = useRef<HTMLUListElement>(null)
  const report = useRef(onDrop)
  report.current = onDrop
  useEffect(() => {
    const el = ref.current
    if (!el || !enabled) return
    let sortable: Sortable | null = null
    let gone = false
    loadSortable().then(
      (S) => {
        if (!gone) sortable = S.create(el, options(holds, acceptsThemes, (d, to) => report.current(d, to)))
      },
      () => {}, // not loaded: the keyboard moves (board-moves.tsx) still work
    )
    return () => {
      gone = true
      sortable?.destroy()
    }
  }, [enabled, holds, acceptsThemes])
  return (
    <ul ref={ref} class={enabled ? `${className} movable${holds === 'notes' ? ' drop-zone' : ''}` : className} data-drop={placeKey(place)} data-empty={enabled ? empty : undefined} aria-label={label}>
      {children}
    </ul>
  )
}
