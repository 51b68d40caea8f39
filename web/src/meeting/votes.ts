// Your own votes, fetched from the server (nobody else ever learns them).
import { useEffect, useState } from 'preact/hooks'
import { myVotes, type MyVotes } from '../app/commands'
import { useReview } from '../app/context'
import { useOwnChanges } from '../app/own-changes'

export function useMyVotes(refreshKey: string): [MyVotes['sections'], () => Promise<void>] {
  const { id, you } = useReview()
  const [mine, setMine] = useState<MyVotes['sections']>({})
  const elsewhere = useOwnChanges(id, 'votes') // cast or taken back in another tab
  const load = async () => {
    if (you.role === 'observer') return
    try {
      setMine((await myVotes(id)).sections)
    } catch {
      // keep the last known answer
    }
  }
  useEffect(() => {
    void load()
  }, [id, refreshKey, elsewhere])
  return [mine, load]
}
