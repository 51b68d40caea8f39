// Client-side routes: /, /j/<code>, /r/<review>[/<view>]. The server sends index.html for all.
import { useEffect, useState } from 'preact/hooks'

export type Route =
  | { page: 'start' }
  | { page: 'join'; code: string }
  | { page: 'review'; reviewId: string; view: string }
  | { page: 'missing' }

export function parseRoute(path: string): Route {
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent)
  if (parts.length === 0) return { page: 'start' }
  if (parts[0] === 'j' && parts[1]) return { page: 'join', code: parts[1] }
  if (parts[0] === 'r' && parts[1]) return { page: 'review', reviewId: parts[1], view: parts[2] ?? '' }
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
