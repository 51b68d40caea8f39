// Entry point: pick the page for the current address.
import { render } from 'preact'
import { unlockAudioOnGesture } from './beep'
import { keepClockSynced } from './clock'
import { JoinPage } from '../join/page-join'
import { ReviewPage } from '../review/page-review'
import { lazyView } from './lazy'
import { useRoute } from './router'

// The review (and the invite that leads to it) is in this bundle: a meeting link opens
// without a second round of fetches. Every other page is a chunk of its own.
const StartPage = lazyView(() => import('./other-pages').then((m) => m.StartPage))
const TeamJoinPage = lazyView(() => import('./other-pages').then((m) => m.TeamJoinPage))
const TeamPage = lazyView(() => import('./other-pages').then((m) => m.TeamPage), 'Opening the team…')
const PersonPage = lazyView(() => import('./other-pages').then((m) => m.PersonPage), 'Opening your actions…')
const UnsubscribePage = lazyView(() => import('./other-pages').then((m) => m.UnsubscribePage))

function App() {
  const route = useRoute()
  switch (route.page) {
    case 'start':
      return <StartPage />
    case 'join':
      return <JoinPage code={route.code} />
    case 'review':
      return <ReviewPage key={route.reviewId} reviewId={route.reviewId} view={route.view} />
    case 'team':
      return <TeamPage key={route.teamId} teamId={route.teamId} view={route.view} />
    case 'team-join':
      return <TeamJoinPage code={route.code} />
    case 'person':
      return <PersonPage key={route.code} code={route.code} />
    case 'unsubscribe':
      return <UnsubscribePage key={route.token} token={route.token} />
    default:
      return (
        <main class="page narrow" id="main">
          <h1>Nothing here</h1>
          <p>
            This address is not part of Debrief. <a href="/">Start a review</a> or open your invite link.
          </p>
        </main>
      )
  }
}

keepClockSynced()
unlockAudioOnGesture()
const root = document.getElementById('app')
if (root) {
  root.textContent = ''
  render(<App />, root)
}
