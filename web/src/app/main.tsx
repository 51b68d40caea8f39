// Entry point: pick the page for the current address.
import { render } from 'preact'
import { unlockAudioOnGesture } from './beep'
import { keepClockSynced } from './clock'
import { JoinPage } from '../join/page-join'
import { ReviewPage } from '../review/page-review'
import { StartPage } from '../start/page-start'
import { TeamJoinPage } from '../team/page-team-join'
import { TeamPage } from '../team/page-team'
import { PersonPage } from '../person/page-person'
import { UnsubscribePage } from '../unsubscribe/page-unsubscribe'
import { useRoute } from './router'

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
