// Every sentence people read in the app, in one place. Plain words, no blame:
// we talk about how the work and its conditions shaped what happened.

export const APP_NAME = 'Debrief'

export const GROUND_RULES: readonly string[] = [
  'We are here to learn how the work unfolded, not to find someone to fault.',
  'Everyone acted on what they knew at that moment. We ask what made a choice look sensible then.',
  'Facts first: we agree on what happened, and when, before we talk about why.',
  'One voice at a time, so that quieter people get to finish their thought.',
  'The timer keeps us honest about time. The moderator may add minutes on purpose.',
  'Anyone may call ELMO (“enough, let’s move on”) when a topic goes in circles. No reason needed.',
  'Saying “I am not sure” is welcome: doubt is useful information.',
  'We leave with changes that each have one owner, a date and a way to check them.',
]

export const OPENING =
  'This review looks at the system around the event: tools, handoffs, timing and information. ' +
  'Nobody is on trial. We start from the record and make room for every voice.'

export const ROLE_LABELS: Record<string, string> = {
  moderator: 'Moderator',
  scribe: 'Scribe',
  participant: 'Participant',
  observer: 'Observer',
}

export const ROLE_HINTS: Record<string, string> = {
  moderator: 'Runs the agenda, the timer and the notes board.',
  scribe: 'Writes the recap and the action items while the meeting runs.',
  participant: 'Adds timeline events and notes, votes, raises a hand.',
  observer: 'Can watch and read everything, and changes nothing.',
}

export const STATUS_LABELS: Record<string, string> = {
  draft: 'Being prepared',
  scheduled: 'Scheduled',
  live: 'Meeting in progress',
  closed: 'Closed',
}

export const NOTE_SECTIONS: readonly { id: string; label: string; prompt: string }[] = [
  {
    id: 'contributing-factor',
    label: 'Contributing factors',
    prompt: 'A condition that made the outcome more likely: a gap, a delay, a missing signal…',
  },
  {
    id: 'worked-well',
    label: 'What worked well',
    prompt: 'Something that helped and is worth keeping on purpose.',
  },
  { id: 'questionnaire', label: 'Questionnaire answers', prompt: 'Answers given before the meeting.' },
  { id: 'other', label: 'Other', prompt: 'Anything else the group should see.' },
]

export const THEME_CATEGORIES: Record<string, string> = {
  'process-gap': 'Process gap',
  'role-ambiguity': 'Role ambiguity',
  'timing-pressure': 'Timing pressure',
  'information-gap': 'Information gap',
  tooling: 'Tooling',
  other: 'Other',
}

export const ACTION_KINDS: Record<string, string> = {
  'immediate-remediation': 'Immediate remediation',
  'preventive-control': 'Preventive control',
  monitoring: 'Monitoring',
  'documentation-ownership': 'Documentation ownership',
}

export const EVENT_SOURCES: Record<string, string> = {
  ticket: 'Ticket',
  log: 'Log',
  chat: 'Chat',
  deploy: 'Deploy',
  alert: 'Alert',
  decision: 'Decision',
  handoff: 'Handoff',
  other: 'Other',
}

export const MARKERS: Record<string, string> = {
  'first-signal': 'First signal',
  'first-response': 'First response',
  handoff: 'Handoff',
  'escalation-delay': 'Escalation delay',
  'decision-under-uncertainty': 'Decision under uncertainty',
  resolved: 'Resolved',
}

export const DEFAULT_QUESTIONS: readonly string[] = [
  'What went better than expected?',
  'Where did work slow down or become unclear?',
  'Which signals were available but not acted on?',
  'What should we keep, remove, or formalise next time?',
]

export const ELMO_BANNER = 'ELMO: enough, let’s move on.'
export const ELMO_DETAIL = 'Someone asked to move on. The moderator can park this topic and go to the next point.'
export const TIMER_DONE = 'Time is up for this phase. Move on, or add time on purpose.'
export const OFFLINE =
  'You are offline. Keep working: your changes stay on this device and are sent as soon as the connection is back.'
export const SESSION_ENDED = 'This link no longer gives access to the review. Ask the moderator for a fresh invite link.'
export const ANON_ON =
  'Notes and votes carry no names: nobody, the moderator included, sees who wrote or voted for what. ' +
  'Changes after a reveal (a new, edited or deleted note, a vote while counts show) appear together with others, ' +
  'or after a short random wait, so their timing does not point to you either.'
export const ANON_OFF = 'Anonymity is off for this review: the author’s name is shown on notes.'
export const NOTES_PRIVATE = 'Only you can see your notes until the moderator reveals this section. They are shown without your name.'

/** What a refused write did to this person's screen; `reason` is the server's own words. */
export function refusedChange(doc: string, reason: string): string {
  const what = doc === 'recap' ? 'the recap' : 'the timeline'
  return `Your last change to ${what} was not saved: ${reason}. This screen now shows ${what} as everyone sees it.`
}
/** A change the server could not store (its disk is full or stalled): kept here, sent later. */
export function unsavedChange(doc: string, reason: string): string {
  const what = doc === 'recap' ? 'the recap' : 'the timeline'
  return `Your last change to ${what} is not saved yet (${reason}). It stays on this screen and is sent by itself.`
}
export const PASTE_CUT = (max: number) =>
  `That paste was too long: only the first ${max.toLocaleString('en')} characters fit here, the rest was left out.`

// Follow-through: teams, people and the life of an action after the meeting.
export const ACTION_STATUS_LABELS: Record<string, string> = {
  open: 'Open',
  'in-progress': 'In progress',
  done: 'Done, awaiting verification',
  verified: 'Verified',
  'wont-do': 'Won’t do',
}
export const REVIEW_KINDS: Record<string, string> = {
  incident: 'Incident',
  'project-phase': 'Project phase',
  launch: 'Launch',
}
export const TEAM_ROLE_LABELS: Record<string, string> = { admin: 'Team admin', member: 'Team member' }
export const TEAM_NO_SESSION = 'This browser has not joined this team yet. Open your team link to join.'
export const PERSON_LINK_DEAD = 'This personal link no longer works. Ask a team admin for your new link.'
export const EVIDENCE_HELP = 'Show how it was checked: a link (a ticket, a merged change, a dashboard) or a few words.'
export const WONT_DO_HELP = 'Say why this will not be done, so the team can decide what to do instead.'
export const NO_ACTIONS_REASON_LABEL = 'This review has no actions. Why close it without any?'
export const NO_ACTIONS_REASON_HELP = 'A review without a change to follow up needs a written reason; it goes into the recap.'
export const CARRY_OVER_HINT = 'The meeting starts with a phase that walks the team’s open and overdue actions from earlier reviews.'

// Delivery: reminders, recaps and the team's own trackers (issue 13).
export const EVENT_LABELS: Record<string, string> = {
  'review-scheduled': 'A review is scheduled (with a calendar invite)',
  'review-starting': 'A review starts soon',
  'recap-published': 'The recap of a review is out',
  'action-assigned': 'An action is given to me',
  'action-due-soon': 'One of my actions is due in a few days',
  'action-overdue': 'One of my actions is overdue',
  'action-done': 'An action I check is marked done',
  'weekly-digest': 'A weekly summary of my open actions',
  'review-nudge': 'An incident has no review scheduled yet',
}
export const EVENT_SHORT: Record<string, string> = {
  'review-scheduled': 'Review scheduled',
  'review-starting': 'Review starting',
  'recap-published': 'Recap out',
  'action-assigned': 'Action assigned',
  'action-due-soon': 'Due soon',
  'action-overdue': 'Overdue',
  'action-done': 'Action done',
  'weekly-digest': 'Weekly summary',
  'review-nudge': 'Review not scheduled',
  test: 'Test message',
}
export const DELIVERY_STATE_LABELS: Record<string, string> = {
  queued: 'Waiting',
  sending: 'Sending',
  sent: 'Sent',
  failed: 'Failed, will retry',
  dead: 'Gave up',
}
export const WEBHOOK_KIND_LABELS: Record<string, string> = {
  slack: 'Slack incoming webhook',
  mattermost: 'Mattermost incoming webhook',
  json: 'JSON, signed (for your own service)',
}
export const SECRET_ONCE = 'Copy it now: Debrief keeps only a fingerprint of it and cannot show it again.'
export const WEBHOOK_SECRET_HELP =
  'Your receiver checks each request with this secret: the X-Debrief-Signature header holds a time and an HMAC-SHA256 of “time.body”. Refuse requests older than five minutes.'
export const TOKEN_HELP =
  'A token lets a script act for the team: “read” sees what members see; “write” may also create reviews and post action progress. No token can manage the team.'
export const FEED_HELP =
  'Subscribe to this address in your calendar app to see the team’s scheduled reviews and due dates. Anyone holding it can read them; make a new one if it leaked.'
export const TRACKER_HELP = 'Download the actions in a file your issue tracker imports: what, owner, due date, how to check it, kind and a link back.'
export const PREFS_HELP = 'Choose what Debrief sends you. Every message also carries a link to stop that kind of message.'
export const MY_CALENDAR_HELP = 'Your due dates and the reviews you are invited to, in your calendar app. Keep the address to yourself.'
export const RECAP_ONLY_HELP = 'People who do not attend but need the outcome: they get the recap when the review closes, and nothing else.'
export const ATTENDEES_HELP = 'They get a calendar invite when the review is scheduled and a reminder shortly before it starts.'
export const UNSUBSCRIBE_DEAD = 'This unsubscribe link is not valid. It may have been cut short: open it again from the message.'

// Learning across reviews: insights, recurring themes, learning briefs (issue 16).
export const CHART_AS_TABLE = 'Show as table'
export const CHART_AS_CHART = 'Show as chart'
export const QUARTERLY_HINT =
  'It links the closed reviews of this period. Its pre-read shows these figures, and its agenda walks the recurring themes to the one with the most friction.'
export const THEMES_HINT =
  'Themes from different reviews that say the same thing, suggested by their wording. Confirm a group when it is right; split out a theme that does not belong. The team keeps what you decide.'
export const FRICTION_HINT = 'Groups ranked by how often they came back, how many votes they drew, and how many of their actions are still open or unchecked.'
export const BRIEF_HINT =
  'A draft built from the group’s reviews. You edit the text as written; only your team sees it. Every download holds the preview, where names, emails and handles are replaced by roles: check each replacement, undo one that is harmless, add one that was missed.'
export const BRIEF_PUBLISHED = 'Published. The team can read it; the text no longer changes.'
/** Words offered in place of a name the brief's check missed; any other words will do. */
export const BRIEF_ROLES: readonly string[] = ['a colleague', 'the on-call engineer', 'the action owner', 'a participant', 'the moderator']
