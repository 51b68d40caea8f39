// Pages and views that are not on the meeting's path load as their own chunks, on first
// use: opening a meeting link then parses and runs only the code the meeting needs.
import type { ComponentType, FunctionComponent } from 'preact'
import { useEffect, useState } from 'preact/hooks'

/** A component whose code is fetched the first time it renders (a loading line meanwhile). */
export function lazyView<P extends object>(load: () => Promise<ComponentType<P>>, loading = 'Loading…'): FunctionComponent<P> {
  let loaded: ComponentType<P> | null = null
  let pending: Promise<ComponentType<P>> | null = null
  const fetchOnce = () => {
    if (!pending) {
      pending = load().then((c) => (loaded = c))
      // A failed fetch (offline) is tried again on the next mount, not remembered.
      pending.catch(() => (pending = null))
    }
    return pending
  }
  return function Lazy(props: P) {
    const [, setReady] = useState(0)
    const [failed, setFailed] = useState(false)
    useEffect(() => {
      if (loaded) return undefined
      let live = true
      fetchOnce().then(
        () => live && setReady((n) => n + 1),
        () => live && setFailed(true),
      )
      return () => {
        live = false
      }
    }, [])
    if (loaded) {
      const View = loaded
      return <View {...props} />
    }
    if (failed) {
      return (
        <p class="boot error" role="alert">
          This part of Debrief could not be loaded. Check your connection and reload the page.
        </p>
      )
    }
    return <p class="boot">{loading}</p>
  }
}
