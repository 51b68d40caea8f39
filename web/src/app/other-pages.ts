// The pages that are not a review, loaded together as one chunk on first use (main.tsx):
// one module for all keeps the chunks few (every chunk is one more request).
export { StartPage } from '../start/page-start'
export { TeamJoinPage } from '../team/page-team-join'
export { TeamPage } from '../team/page-team'
export { PersonPage } from '../person/page-person'
export { UnsubscribePage } from '../unsubscribe/page-unsubscribe'
