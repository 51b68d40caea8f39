// Client-side routes: /, /j/<code>, /r/<review>[/<view>], /t/<team>[/<view>], /tj/<code>
// (join a team), /p/<code> (a person's own actions), /u/<token> (stop messages). The server sends index.html for all.
import { useEffect, useState } from 'preact/hooks'

export type Route =
  | { page: 'start' }
  | { page: 'join'; code: string }
  | { page: 'review'; reviewId: string; view: string }
  | { page: 'team'; teamId: string; view: string }
  | { page: 'team-join'; code: string }
  | { page: 'person'; code: string }
  | { page: 'unsubscribe'; token: string }
  | { page: 'missing' }

export function parseRoute(path: string): Route {
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent)
  if (parts.length === 0) return { page: 'start' }
  if (parts[0] === 'j' && parts[1]) return { page: 'join', code: parts[1] }
  if (parts[0] === 'r' && parts[1]) return { page: 'review', reviewId: parts[1], view: parts[2] ?? '' }
  if (parts[0] === 't' && parts[1]) return { page: 'team', teamId: parts[1], view: parts[2] ?? '' }
  if (parts[0] === 'tj' && parts[1]) return { page: 'team-join', code: parts[1] }
  if (parts[0] === 'p' && parts[1]) return { page: 'person', code: parts[1] }
  if (parts[0] === 'u' && parts[1]) return { page: 'unsubscribe', token: parts[1] }
  return { page: 'missing' }
}

const CHANGE = 'debrief:navigate'

export function navigate(path: string, replace = false): void {
  if (replace) history.replaceState(null, '', path)
  else history.pushState(null, '', path)
  window.dispatchEvent(new Event(CHANGE))
  window.scrollTo(0, 0)
}

export function reviewPath(reviewId: string, view = ''): string {
  return `/r/${encodeURIComponent(reviewId)}${view ? `/${view}` : ''}`
}

export function teamPath(teamId: string, view = ''): string {
  return `/t/${encodeURIComponent(teamId)}${view ? `/${view}` : ''}`
}

/** The code at the end of a link (`https://host/tj/<code>` or the bare code). */
export function codeOf(link: string): string {
  const parts = link.split(/[?#]/)[0]?.split('/').filter(Boolean) ?? []
  return parts[parts.length - 1] ?? link
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.pathname))
  useEffect(() => {
    const update = () => setRoute(parseRoute(location.pathname))
    window.addEventListener('popstate', update)
    window.addEventListener(CHANGE, update)
    return () => {
      window.removeEventListener('popstate', update)
      window.removeEventListener(CHANGE, update)
    }
  }, [])
  return route
}
