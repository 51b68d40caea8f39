// The notes board: counts while notes are private, then revealed notes grouped into
// themes, with voting. Nothing here shows who wrote or voted for what. The moderator
// groups by drag and drop (drop-list.tsx) or by keyboard (board-moves.tsx).
import { useState } from 'preact/hooks'
import {
  closeVoting,
  createTheme,
  deleteTheme,
  openVoting,
  reveal,
  unvote,
  vote,
} from '../app/commands'
import { useReview } from '../app/context'
import { useY } from '../app/hooks'
import { useServerCounts } from '../app/server-state'
import {
  readNoteCounts,
  readNotes,
  readPhaseId,
  readReview,
  readRevealed,
  readThemes,
  readVotes,
  readVoting,
  type Note,
  type Theme,
} from '../app/model'
import { MyNotes, useMyNotes } from './my-notes'
import { ANON_OFF, ANON_ON, NOTE_SECTIONS, THEME_CATEGORIES } from '../app/texts'
import { ActionButton, AfterFirstPaint, ErrorText, useCommand } from '../app/ui'
import { useMyVotes } from './votes'
import { noteMovable, themeMovable, UNGROUPED_LABEL, useBoardMoves } from './board-moves'
import { DropList } from './drop-list'

/** Whether the notes are the work of this phase (the board then comes first). */
export const isNotesPhase = (phaseId: string | null): boolean => !!phaseId && phaseId in PHASE_SECTION

/** The notes section a phase is about (the board opens on it). */
export const sectionOfPhase = (phaseId: string | null): string =>
  (phaseId && PHASE_SECTION[phaseId]) || 'contributing-factor'

const PHASE_SECTION: Record<string, string> = {
  factors: 'contributing-factor',
  slowdowns: 'contributing-factor',
  'worked-well': 'worked-well',
  standardise: 'worked-well',
}

interface VoteState {
  open: boolean
  counts: Map<string, number>
  mine: Record<string, number>
  left: number
  canVote: boolean
  cast: (target: string, up: boolean) => Promise<void>
}

function VoteControls({ target, label, v }: { target: string; label: string; v: VoteState }) {
  const count = v.counts.get(target)
  const own = v.mine[target] ?? 0
  return (
    <div class="vote" data-target={target}>
      <span class="vote-count" aria-label={count === undefined ? 'Vote count hidden' : `${count} votes`}>
        {count === undefined ? '–' : count}
      </span>
      {own > 0 && <span class="muted small">you: {own}</span>}
      {v.open && v.canVote && (
        <>
          <ActionButton kind="secondary" disabled={v.left <= 0} onClick={() => v.cast(target, true)} aria-label={`Vote for: ${label}`}>
            Vote
          </ActionButton>
          {own > 0 && (
            <ActionButton kind="quiet" onClick={() => v.cast(target, false)} aria-label={`Take back a vote from: ${label}`}>
              Take back
            </ActionButton>
          )}
        </>
      )}
    </div>
  )
}

type Moves = ReturnType<typeof useBoardMoves>

// Your own revealed notes are not marked on the board: a shared screen would show it.
// The moderator moves a note by dragging it or from the keyboard (board-moves.tsx).
function NoteCard({ note, themes, moves, v, votable }: {
  note: Note
  themes: Theme[]
  /** Set for the moderator: the note can be moved. */
  moves: Moves | null
  v: VoteState
  votable: boolean
}) {
  const movable = moves && noteMovable(note, themes)
  const carried = !!movable && moves.isCarried(movable)
  return (
    <li class={carried ? 'note dnd-carried' : 'note'} data-note-id={note.id} {...(movable ? moves.keys(movable) : {})}>
      {note.question && <p class="note-question muted small">{note.question}</p>}
      <p class="note-text">{note.text}</p>
      <div class="row small">
        {note.author && <span class="muted">by {note.author}</span>}
        {votable && <VoteControls target={note.id} label={note.text.slice(0, 60)} v={v} />}
      </div>
    </li>
  )
}

function ThemeCard({ theme, notes, themes, moves, v }: {
  theme: Theme
  notes: Note[]
  themes: Theme[]
  moves: Moves | null
  v: VoteState
}) {
  const { id } = useReview()
  const movable = moves && themeMovable(theme)
  const classes = ['theme']
  if (movable && moves.isCarried(movable)) classes.push('dnd-carried')
  if (moves && moves.target === theme.id) classes.push('dnd-target')
  return (
    <li class={classes.join(' ')} data-theme-id={theme.id} {...(movable ? moves.keys(movable) : {})}>
      <div class="theme-head">
        <h3>{theme.title}</h3>
        <span class="chip">{THEME_CATEGORIES[theme.category] ?? theme.category}</span>
        <VoteControls target={theme.id} label={theme.title} v={v} />
      </div>
      <DropList
        place={theme.id}
        holds="notes"
        acceptsThemes
        enabled={!!moves}
        onDrop={(d, to) => moves?.onDrop(d, to)}
        class="notes theme-notes"
        empty={themes.length > 1 ? 'Drop notes here, or another theme to merge it into this one' : 'Drop notes here'}
      >
        {notes.map((n) => (
          <NoteCard key={n.id} note={n} themes={themes} moves={moves} v={v} votable={false} />
        ))}
      </DropList>
      {moves && (
        <div class="row small">
          <ActionButton kind="quiet" onClick={() => deleteTheme(id, theme.id)} aria-label={`Remove the theme ${theme.title}`}>
            Remove theme
          </ActionButton>
        </div>
      )}
    </li>
  )
}

function NewTheme({ section }: { section: string }) {
  const { id } = useReview()
  const [title, setTitle] = useState('')
  const [category, setCategory] = useState('process-gap')
  const cmd = useCommand()
  return (
    <form
      class="new-theme row"
      onSubmit={(e) => {
        e.preventDefault()
        // Clear at once so the next title can be typed while this one is saved.
        const submitted = title.trim()
        setTitle('')
        void cmd.run(() => createTheme(id, submitted, category, section)).then((ok) => {
          if (!ok) setTitle(submitted)
        })
      }}
    >
      <label for={`theme-title-${section}`}>New theme</label>
      <input id={`theme-title-${section}`} value={title} maxLength={200} onInput={(e) => setTitle(e.currentTarget.value)} placeholder="e.g. Handoff without an owner" />
      <label for={`theme-cat-${section}`} class="offscreen">
        Category
      </label>
      <select id={`theme-cat-${section}`} value={category} onChange={(e) => setCategory(e.currentTarget.value)}>
        {Object.entries(THEME_CATEGORIES).map(([value, label]) => (
          <option key={value} value={value}>
            {label}
          </option>
        ))}
      </select>
      <button type="submit" class="btn btn-secondary" disabled={cmd.busy || !title.trim()}>
        Add theme
      </button>
      <ErrorText message={cmd.error} />
    </form>
  )
}

/** The section a tab key moves to from `current`, or null for any other key. */
function nextTab(current: string, key: string): string | null {
  const ids = NOTE_SECTIONS.map((s) => s.id)
  const at = Math.max(0, ids.indexOf(current))
  const to: Record<string, number> = {
    ArrowRight: (at + 1) % ids.length,
    ArrowLeft: (at - 1 + ids.length) % ids.length,
    Home: 0,
    End: ids.length - 1,
  }
  return key in to ? ids[to[key]!]! : null
}

export function NotesBoard({ readOnly }: { readOnly: boolean }) {
  const { id, sync, you } = useReview()
  const room = sync.docs.room
  const shownCounts = useServerCounts(sync.providers.room)
  useY(room.getMap('notes'), room.getMap('note_counts'), room.getMap('themes'), room.getMap('voting'), room.getMap('votes'), room.getMap('meeting'), room.getMap('review'))
  const phaseId = readPhaseId(room) ?? ''
  // A tab picked by hand holds only within the phase it was picked in: when the phase
  // moves on, the board follows it again (the moderator's tools act on what is shown).
  const [chosen, setChosen] = useState<{ phase: string; section: string } | null>(null)
  const phaseSection = sectionOfPhase(phaseId)
  const section = chosen && chosen.phase === phaseId ? chosen.section : phaseSection
  const pick = (next: string) => setChosen(next === phaseSection ? null : { phase: phaseId, section: next })
  const meta = NOTE_SECTIONS.find((s) => s.id === section) ?? NOTE_SECTIONS[0]!
  const settings = readReview(room).settings
  const revealed = readRevealed(room)
  const counts = readNoteCounts(room, shownCounts)
  const voting = readVoting(room)
  const allNotes = readNotes(room)
  const themes = readThemes(room).filter((t) => t.section === section)
  const notes = allNotes.filter((n) => n.kind === section)
  const isModerator = you.role === 'moderator' && !readOnly
  const attendee = you.role !== 'observer' && !readOnly
  const [mineNotes, reloadNotes] = useMyNotes(`${section}:${revealed[section] ? 1 : 0}:${allNotes.length}`)
  const votingState = voting[section]
  const [myVotes, reloadVotes] = useMyVotes(`${section}:${votingState?.status ?? 'none'}`)
  const ownSection = myVotes[section]
  const limit = ownSection?.limit ?? settings.votes_per_person
  const used = ownSection?.used ?? 0
  const v: VoteState = {
    open: votingState?.status === 'open',
    counts: readVotes(room),
    mine: ownSection?.votes ?? {},
    left: Math.max(0, limit - used),
    canVote: attendee,
    cast: async (target, up) => {
      try {
        await (up ? vote(id, target) : unvote(id, target))
      } finally {
        await reloadVotes()
      }
    },
  }
  const pending = counts[section] ?? 0
  const ungrouped = notes.filter((n) => !n.theme_id || !themes.some((t) => t.id === n.theme_id))
  const canCompose = section !== 'questionnaire'
  const allMoves = useBoardMoves(id, themes, notes)
  const moves = isModerator ? allMoves : null
  // The moderator always has somewhere to drop a note taken out of its theme.
  const showUngrouped = ungrouped.length > 0 || (!!moves && themes.length > 0)

  return (
    <section class="panel notes-board" aria-labelledby="notes-title">
      <div class="panel-head">
        <h2 id="notes-title">Notes</h2>
        <p class="muted small anon">{settings.anonymous ? ANON_ON : ANON_OFF}</p>
      </div>
      <div class="tabs" role="tablist" aria-label="Note sections" onKeyDown={(e) => {
        // Arrow keys, Home and End move along the tabs (the WAI-ARIA tabs pattern).
        const next = nextTab(section, e.key)
        if (next === null) return
        e.preventDefault()
        pick(next)
        document.getElementById(`tab-${next}`)?.focus()
      }}>
        {NOTE_SECTIONS.map((s) => (
          <button
            key={s.id}
            type="button"
            role="tab"
            id={`tab-${s.id}`}
            aria-selected={s.id === section}
            aria-controls="notes-panel"
            tabIndex={s.id === section ? 0 : -1}
            class="tab"
            onClick={() => pick(s.id)}
          >
            {s.label}
            {(counts[s.id] ?? 0) > 0 && <span class="tab-count"> · {counts[s.id]} waiting</span>}
          </button>
        ))}
      </div>
      <div id="notes-panel" role="tabpanel" aria-labelledby={`tab-${section}`}>
        {section !== phaseSection && PHASE_SECTION[phaseId] && (
          <p class="notice notice-info small off-phase">
            This phase is about “{NOTE_SECTIONS.find((s) => s.id === phaseSection)?.label}”; you are looking at
            another section.{' '}
            <button type="button" class="btn btn-quiet btn-small" onClick={() => setChosen(null)}>
              Back to this phase's section
            </button>
          </p>
        )}
        <p class="notes-status" aria-live="polite" data-pending={pending} data-revealed={notes.length}>
          <strong class="pending-count">{pending}</strong> {pending === 1 ? 'note' : 'notes'} in, not yet on the board
          {revealed[section] ? ` · ${notes.length} on the board` : ''}
        </p>
        {isModerator && (
          <div class="row moderator-tools" role="group" aria-label="Moderator tools for this section">
            <ActionButton kind="primary" onClick={() => reveal(id, section)} disabled={!!revealed[section] && pending === 0}>
              {revealed[section] ? 'Reveal new notes' : 'Reveal notes'}
            </ActionButton>
            {votingState?.status === 'open' ? (
              <ActionButton onClick={() => closeVoting(id, section)}>Close voting</ActionButton>
            ) : (
              <ActionButton onClick={() => openVoting(id, section)} disabled={!notes.length}>
                {votingState ? 'Reopen voting' : 'Open voting'}
              </ActionButton>
            )}
          </div>
        )}
        {votingState && (
          <p class="voting-status" data-voting={votingState.status}>
            Voting is <strong>{votingState.status}</strong>.
            {attendee && (
              <>
                {' '}
                <span class="votes-left" data-left={v.left}>
                  Votes left: <strong>{v.left}</strong> of {limit}.
                </span>
              </>
            )}
            {votingState.status === 'open' && settings.hide_counts_until_closed && (
              <span class="muted"> Counts stay hidden until voting closes.</span>
            )}
          </p>
        )}
        {attendee && canCompose && (
          <MyNotes section={section} prompt={meta.prompt} notes={mineNotes} reload={reloadNotes} readOnly={readOnly} />
        )}
        {isModerator && notes.length > 0 && <NewTheme section={section} />}
        {moves?.status}
        {moves?.confirmation}
        {/* The revealed notes, mostly below the fold: drawn a frame after the note box. */}
        <AfterFirstPaint>
          {themes.length > 0 && (
            <DropList place={null} holds="themes" enabled={!!moves} onDrop={(d, to) => moves?.onDrop(d, to)} class="themes" label="Themes">
              {themes.map((t) => (
                <ThemeCard key={t.id} theme={t} notes={notes.filter((n) => n.theme_id === t.id)} themes={themes} moves={moves} v={v} />
              ))}
            </DropList>
          )}
          {showUngrouped && (
            <>
              {themes.length > 0 && <h3 class="small-heading" id={`ungrouped-${section}`}>{UNGROUPED_LABEL}</h3>}
              <DropList
                place={null}
                holds="notes"
                enabled={!!moves}
                onDrop={(d, to) => moves?.onDrop(d, to)}
                class={moves?.target === null ? 'notes board-notes dnd-target' : 'notes board-notes'}
                label={themes.length > 0 ? UNGROUPED_LABEL : undefined}
                empty="Drop a note here to take it out of its theme"
              >
                {ungrouped.map((n) => (
                  <NoteCard key={n.id} note={n} themes={themes} moves={moves} v={v} votable />
                ))}
              </DropList>
            </>
          )}
        </AfterFirstPaint>
        {!notes.length && !revealed[section] && (
          <p class="muted">Notes stay private until the moderator reveals this section, then appear here in random order and without names.</p>
        )}
      </div>
    </section>
  )
}
