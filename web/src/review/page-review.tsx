// An open review: find out who I am, connect the three docs, and show my views.
import { useEffect, useMemo, useState } from 'preact/hooks'
import { ApiError, errorText } from '../app/api'
import { getReview, type You } from '../app/commands'
import { Ctx, useReview } from '../app/context'
import { ElmoBanner } from '../shared/elmo'
import { useFirstSync, useY } from '../app/hooks'
import { LinkState } from './link-state'
import { readReview } from '../app/model'
import { lazyView } from '../app/lazy'
import { MeetingPage } from '../meeting/page-meeting'
import { RefusalNotices } from './refusal-notice'
import { navigate, reviewPath } from '../app/router'
import { loadSession, saveSession, type Role } from '../app/session'
import { openReview } from '../app/sync'
import { ROLE_LABELS, STATUS_LABELS } from '../app/texts'

// The meeting view is in the main bundle; the others load when first opened.
const PreparePage = lazyView(() => import('./other-views').then((m) => m.PreparePage))
const PreReadPage = lazyView(() => import('./other-views').then((m) => m.PreReadPage))
const ScribePage = lazyView(() => import('./other-views').then((m) => m.ScribePage))
const RecapPage = lazyView(() => import('./other-views').then((m) => m.RecapPage))

/** How long a review shows "Opening the review…" while its docs are still syncing. */
const SHOW_UNSYNCED_AFTER_MS = 3000

type View = 'prepare' | 'pre-read' | 'meeting' | 'scribe' | 'recap'

const VIEWS: Record<Role, [View, string][]> = {
  moderator: [['prepare', 'Prepare'], ['meeting', 'Meeting'], ['scribe', 'Recap and actions'], ['recap', 'Final recap']],
  scribe: [['pre-read', 'Pre-read'], ['meeting', 'Meeting'], ['scribe', 'Recap and actions'], ['recap', 'Final recap']],
  participant: [['pre-read', 'Before the meeting'], ['meeting', 'Meeting'], ['recap', 'Final recap']],
  observer: [['pre-read', 'Pre-read'], ['meeting', 'Meeting'], ['recap', 'Final recap']],
}

function defaultView(role: Role, status: string): View {
  if (status === 'closed') return 'recap'
  const early = status === 'draft' || status === 'scheduled'
  if (role === 'moderator') return early ? 'prepare' : 'meeting'
  if (role === 'scribe') return 'scribe'
  if (role === 'participant') return early ? 'pre-read' : 'meeting'
  return 'meeting'
}

function Header({ view }: { view: View }) {
  const { id, sync, you } = useReview()
  useY(sync.docs.room.getMap('review'))
  const review = readReview(sync.docs.room)
  useEffect(() => {
    document.title = review.title ? `${review.title} · Debrief` : 'Debrief'
  }, [review.title])
  return (
    <header class="top">
      <a href="#main" class="skip">
        Skip to content
      </a>
      <div class="top-row">
        <div class="brand">
          <span class="logo" aria-hidden="true">D</span>
          <div>
            <h1 class="review-title">{review.title || 'Review'}</h1>
            <p class="muted small">
              <span class={`badge status-${review.status}`} data-status={review.status}>
                {STATUS_LABELS[review.status]}
              </span>{' '}
              You are <strong data-role={you.role}>{ROLE_LABELS[you.role]}</strong>
              {you.name ? ` · ${you.name}` : ' · no name'}
            </p>
          </div>
        </div>
        <LinkState />
      </div>
      <nav class="views" aria-label="Views">
        {VIEWS[you.role].map(([v, label]) => (
          <a
            key={v}
            href={reviewPath(id, v)}
            class="view-link"
            aria-current={v === view ? 'page' : undefined}
            onClick={(e) => {
              e.preventDefault()
              navigate(reviewPath(id, v))
            }}
          >
            {label}
          </a>
        ))}
      </nav>
    </header>
  )
}

function Body({ view }: { view: View }) {
  switch (view) {
    case 'prepare':
      return <PreparePage />
    case 'pre-read':
      return <PreReadPage />
    case 'scribe':
      return <ScribePage />
    case 'recap':
      return <RecapPage />
    default:
      return <MeetingPage />
  }
}

export function ReviewPage({ reviewId, view }: { reviewId: string; view: string }) {
  const [you, setYou] = useState<You | null>(null)
  const [status, setStatus] = useState('draft')
  const [error, setError] = useState('')
  // The docs connect at once, while we ask who I am: the websockets carry the session
  // cookie themselves, so neither waits for the other (nor for the first paint).
  const { sync, who } = useMemo(() => {
    const asked = getReview(reviewId)
    asked.catch(() => {}) // handled in the effect below
    return { sync: openReview(reviewId), who: asked }
  }, [reviewId])
  useEffect(() => () => sync.close(), [sync])
  // The views appear once the docs are in (or cannot be soon), in one render.
  const docsIn = useFirstSync(sync, SHOW_UNSYNCED_AFTER_MS)
  useEffect(() => {
    who
      .then((r) => {
        setYou(r.you)
        setStatus(r.status)
        saveSession({ review_id: reviewId, ...r.you })
      })
      .catch((e: unknown) => {
        const stored = loadSession(reviewId)
        if (e instanceof ApiError && e.code === 'network' && stored) return setYou(stored)
        sync.close() // no session, no review: nothing to keep connected
        if (e instanceof ApiError && (e.status === 401 || e.status === 403))
          setError('This browser has no session for this review. Open your invite link to join.')
        else if (e instanceof ApiError && e.status === 404) setError('There is no review at this address.')
        else setError(errorText(e))
      })
  }, [reviewId, sync, who])
  // A doc replaced after a refused write: a new context value makes every view re-read it.
  const [generation, setGeneration] = useState(0)
  useEffect(() => sync.onState(() => setGeneration(sync.generation())), [sync])
  const ctx = useMemo(() => (you ? { id: reviewId, sync, you, generation } : null), [reviewId, sync, you, generation])

  if (error) {
    return (
      <main class="page narrow" id="main">
        <h1>Cannot open this review</h1>
        <p class="error" role="alert">
          {error}
        </p>
      </main>
    )
  }
  if (!you || !ctx || !docsIn) return <p class="boot">Opening the review…</p>
  const allowed = VIEWS[you.role].map(([v]) => v)
  const current: View = allowed.includes(view as View) ? (view as View) : defaultView(you.role, status)
  return (
    <Ctx.Provider value={ctx}>
      <Header view={current} />
      <RefusalNotices />
      <ElmoBanner />
      <Body view={current} />
    </Ctx.Provider>
  )
}
