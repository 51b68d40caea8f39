// The discuss step: the voted themes one after another, most votes first, each on its
// own time box; anyone may add a short comment on the theme at hand (shown without a
// name, together with others' changes: see SECURITY.md).
import { useState } from 'preact/hooks'
import { commentOnTheme, endDiscussion, nextTheme, startDiscussion } from '../app/commands'
import { useReview } from '../app/context'
import { useY } from '../app/hooks'
import { readComments, readDiscussion, readNotes, readThemes, readVotes } from '../app/model'
import { NOTE_SECTIONS } from '../app/texts'
import { ActionButton, ErrorText, useCommand } from '../app/ui'

function StartDiscussion({ section }: { section: string }) {
  const { id } = useReview()
  const [minutes, setMinutes] = useState(5)
  const cmd = useCommand()
  const label = NOTE_SECTIONS.find((s) => s.id === section)?.label ?? section
  return (
    <form
      class="row start-discussion"
      onSubmit={(e) => {
        e.preventDefault()
        void cmd.run(() => startDiscussion(id, section, minutes))
      }}
    >
      <label for="discuss-minutes">Discuss the voted themes of “{label}”, minutes each</label>
      <input id="discuss-minutes" type="number" min={1} max={60} value={minutes} onInput={(e) => setMinutes(Number(e.currentTarget.value) || 5)} />
      <button type="submit" class="btn btn-secondary btn-small" disabled={cmd.busy}>
        Start the discussion
      </button>
      <ErrorText message={cmd.error} />
    </form>
  )
}

export function DiscussionPanel({ readOnly, section }: { readOnly: boolean; section: string }) {
  const { id, sync, you } = useReview()
  const room = sync.docs.room
  useY(room.getMap('meeting'), room.getMap('themes'), room.getMap('comments'), room.getMap('votes'), room.getMap('notes'))
  const discussion = readDiscussion(room)
  const [text, setText] = useState('')
  const cmd = useCommand()
  const moderator = you.role === 'moderator' && !readOnly
  if (!discussion.active) return moderator ? <StartDiscussion section={section} /> : null
  const themeId = discussion.order[discussion.index]
  const theme = readThemes(room).find((t) => t.id === themeId)
  const votes = readVotes(room).get(themeId ?? '')
  const notes = readNotes(room).filter((n) => n.theme_id === themeId)
  const said = readComments(room).filter((c) => c.theme_id === themeId)
  const canComment = !readOnly && you.role !== 'observer'
  return (
    <section class="panel discussion" aria-labelledby="discussion-title" data-theme-id={themeId}>
      <h2 id="discussion-title">
        Discussing theme {discussion.index + 1} of {discussion.order.length}: {theme?.title ?? 'a theme since removed'}
      </h2>
      {votes !== undefined && <p class="muted small">{votes} {votes === 1 ? 'vote' : 'votes'} · {discussion.minutes} min on the timer</p>}
      {notes.length > 0 && (
        <ul class="notes discussion-notes">
          {notes.map((n) => (
            <li key={n.id} class="note">
              {n.text}
            </li>
          ))}
        </ul>
      )}
      <h3 class="small-heading">Comments</h3>
      {said.length === 0 ? <p class="muted small">None yet.</p> : (
        <ul class="comments">
          {said.map((c) => (
            <li key={c.id}>{c.text}</li>
          ))}
        </ul>
      )}
      {canComment && (
        <form
          class="row"
          onSubmit={(e) => {
            e.preventDefault()
            const comment = text.trim()
            void cmd.run(() => commentOnTheme(id, themeId ?? '', comment)).then((ok) => ok && setText(''))
          }}
        >
          <label for="theme-comment" class="offscreen">
            Your comment on this theme
          </label>
          <input id="theme-comment" value={text} maxLength={500} placeholder="A short comment, shown without your name" onInput={(e) => setText(e.currentTarget.value)} />
          <button type="submit" class="btn btn-secondary btn-small" disabled={cmd.busy || !text.trim()}>
            Comment
          </button>
        </form>
      )}
      <p class="muted small">Comments appear without names, together with others’ changes or after a short wait.</p>
      <ErrorText message={cmd.error} />
      {moderator && (
        <div class="row" role="group" aria-label="Discussion controls">
          <ActionButton kind="primary" onClick={() => nextTheme(id)}>
            {discussion.index + 1 < discussion.order.length ? 'Next theme' : 'Finish the discussion'}
          </ActionButton>
          <ActionButton kind="quiet" onClick={() => endDiscussion(id)}>
            End the discussion
          </ActionButton>
        </div>
      )}
    </section>
  )
}
