// Join /j/<code>: pick a display name or stay anonymous, then go straight in.
import { useState } from 'preact/hooks'
import { joinReview } from '../app/commands'
import { navigate, reviewPath } from '../app/router'
import { saveSession } from '../app/session'
import { ErrorText, useCommand } from '../app/ui'

export function JoinPage({ code }: { code: string }) {
  const [name, setName] = useState('')
  const { run, busy, error } = useCommand()

  const join = (withName: boolean) =>
    run(async () => {
      const joined = await joinReview(code, withName ? name.trim() : '')
      saveSession(joined)
      const view = joined.role === 'moderator' ? 'prepare' : ''
      navigate(reviewPath(joined.review_id, view), true)
    })

  return (
    <main class="page narrow" id="main">
      <h1>Join the review</h1>
      <p class="lead">
        This is a blameless review: we look at how the work and its conditions shaped what happened,
        not at who is to blame. You can give a name, or take part without one.
      </p>
      <form
        class="panel"
        onSubmit={(e) => {
          e.preventDefault()
          void join(true)
        }}
      >
        <label for="display-name">Display name (optional)</label>
        <input
          id="display-name"
          name="name"
          maxLength={80}
          autoComplete="nickname"
          placeholder="How others see you in the room"
          value={name}
          onInput={(e) => setName(e.currentTarget.value)}
        />
        <p class="muted small">Notes and votes never carry your name while the review is anonymous.</p>
        <div class="row">
          <button class="btn btn-primary" type="submit" disabled={busy || !name.trim()}>
            Join with this name
          </button>
          <button class="btn btn-secondary" type="button" disabled={busy} onClick={() => void join(false)}>
            Join without a name
          </button>
        </div>
        <ErrorText message={error} />
      </form>
    </main>
  )
}
