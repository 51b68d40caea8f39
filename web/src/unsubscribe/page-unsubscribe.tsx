// /u/<token>: the link at the bottom of every message. It works without an account or a
// session: the signed token says who and what. Opening it changes nothing (mail scanners
// open links too); the button does.
import { useEffect, useState } from 'preact/hooks'
import { ApiError, errorText } from '../app/api'
import { EVENT_LABELS, UNSUBSCRIBE_DEAD } from '../app/texts'
import { ErrorText, useCommand } from '../app/ui'
import { applyUnsubscribe, describeUnsubscribe, type Unsubscribe } from '../team/delivery-api'

const what = (u: Unsubscribe) =>
  u.event === 'all' ? 'every message from Debrief' : `messages of this kind: “${u.what || EVENT_LABELS[u.event] || u.event}”`

export function UnsubscribePage({ token }: { token: string }) {
  const [info, setInfo] = useState<Unsubscribe | null>(null)
  const [done, setDone] = useState(false)
  const [error, setError] = useState('')
  const cmd = useCommand()
  useEffect(() => {
    document.title = 'Stop messages · Debrief'
    describeUnsubscribe(token)
      .then(setInfo)
      .catch((e: unknown) => setError(e instanceof ApiError && (e.status === 400 || e.status === 403 || e.status === 404) ? UNSUBSCRIBE_DEAD : errorText(e)))
  }, [token])
  const stopped = info !== null && (done || !info.subscribed)
  return (
    <main class="page narrow unsubscribe-page" id="main">
      <h1>Stop messages</h1>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {!error && !info && <p class="muted">Reading the link…</p>}
      {info && !stopped && (
        <>
          <p>
            {info.who ? `${info.who}: this` : 'This'} stops {what(info)}.
          </p>
          <div class="row">
            <button
              type="button"
              class="btn btn-primary"
              disabled={cmd.busy}
              onClick={() =>
                void cmd.run(async () => {
                  setInfo(await applyUnsubscribe(token))
                  setDone(true)
                })
              }
            >
              Stop these messages
            </button>
          </div>
          <ErrorText message={cmd.error} />
        </>
      )}
      {info && stopped && (
        <p class="notice notice-info" role="status" data-unsubscribed={info.event}>
          {done ? 'Done: Debrief' : 'Already stopped: Debrief'} no longer sends you {what(info)}.
          {' '}If you have a personal page in Debrief, you can turn them back on there.
        </p>
      )}
    </main>
  )
}
