// The action-item lint, ported from server/debrief/meeting/lint.py so that hints appear
// while the scribe types, even offline. The server's lint stays the judge at close.

export interface LintProblem {
  code: string
  field: 'what' | 'owner' | 'due' | 'verify' | 'kind'
  message: string
  hint: string
}

export interface ActionFields {
  what: string
  owner: string
  due: string
  verify: string
  kind: string
}

export const ACTION_KIND_IDS = ['immediate-remediation', 'preventive-control', 'monitoring', 'documentation-ownership']

const PLACEHOLDERS = new Set([
  '', '-', '--', '?', '??', 'tbd', 'tba', 'todo', 'to do', 'n/a', 'na', 'none',
  'unknown', 'unassigned', 'someone', 'somebody', 'later', 'x',
])

const GROUP_RE = /\b(team|teams|we|us|our|everyone|everybody|all|both|they|them|group|squad|crew|folks|people|staff|department|dept|committee|whoever|anyone|anybody|on[- ]call|rotation)\b/i
const JOIN_RE = /\b(and|or)\b|[&/,+;]/i
const BRACKETS_RE = /\([^)]*\)|\[[^\]]*\]/g
const EMAIL_RE = /[\w.+-]+@[\w-]+(\.[\w-]+)+/g
const ROLE_RE = /\bteam[- ](lead|leader|manager|captain)\b/gi

const OWNER_EXAMPLE = 'Priya (ops manager)'
const VERIFY_EXAMPLE =
  "'The release checklist in the wiki has the new approval step, and the next two releases show it ticked'"
const WHAT_EXAMPLE = "'Add a second-approver step to the deploy pipeline for database changes'"

const VAGUE: [RegExp, string, string][] = [
  [/\bimprov\w* (the |our )?(communication|collaboration|coordination|process(es)?|visibility|awareness|quality)\b/gi,
    'names a wish, not a change',
    "'Support lead posts a written status update in the launch channel every 30 minutes'"],
  [/\bbe (more )?(careful|vigilant|attentive|aware)\b/gi,
    'asks people to try harder instead of changing the work',
    "'Add a second-approver step to the deploy pipeline for database changes'"],
  [/\b(look(ing)? into|investigat\w*|explor\w*|dig into)\b/gi,
    'describes research with no agreed result',
    "'Write up why the disk alert did not page, with a proposed fix, in the review doc'"],
  [/\b(consider\w*|think about|revisit\w*)\b/gi, 'leaves the decision open',
    "'Decide whether to retire the legacy queue and record the decision in the review doc'"],
  [/\b(try|attempt) to\b/gi, 'promises an attempt, not an outcome', 'state the change as done'],
  [/\b(ensure|ensures|make sure)\b/gi, 'states a goal without the mechanism',
    "'CI blocks the merge when the migration check fails'"],
  [/\b(better|more (robust|reliable|resilient|stable|efficient)|robust)\b/gi, 'has no measure of done',
    "'Page the on-call engineer when checkout errors exceed 2% for 5 minutes'"],
  [/\b(as|when|where|if) (needed|necessary|appropriate|possible|required)\b/gi, 'does not say when it applies',
    "name the trigger, e.g. 'for every release that touches the payments service'"],
  [/\b(raise awareness|remind (everyone|people|the team)|going forward)\b/gi,
    'relies on memory rather than a change to the work',
    "'Add the step to the onboarding checklist for new on-call engineers'"],
  [/\b(asap|soon|eventually)\b/gi, 'puts timing in the text instead of a date', 'remove it and set the due date field'],
  [/\b(etc|and so on|somehow)\b\.?/gi, 'leaves part of the work to guesswork', 'list every item the action covers'],
]

const isPlaceholder = (text: string) => PLACEHOLDERS.has(text.toLowerCase().replace(/^[ .!]+|[ .!]+$/g, ''))

function lintWhat(what: string): LintProblem[] {
  if (isPlaceholder(what)) {
    return [{ code: 'missing-what', field: 'what', message: 'The action does not say what will change.',
      hint: `Describe the change itself, e.g. ${WHAT_EXAMPLE}.` }]
  }
  const problems: LintProblem[] = []
  const seen: [number, number][] = []
  for (const [pattern, why, better0] of VAGUE) {
    pattern.lastIndex = 0
    for (const match of what.matchAll(pattern)) {
      const start = match.index ?? 0
      const end = start + match[0].length
      if (seen.some(([s, e]) => start < e && s < end)) continue
      seen.push([start, end])
      const phrase = match[0].replace(/\.+$/, '')
      let better = better0
      if (better === 'state the change as done') {
        const rest = (what.slice(0, start) + what.slice(end)).split(/\s+/).filter(Boolean).join(' ')
        better = `'${rest ? rest[0]!.toUpperCase() + rest.slice(1) : WHAT_EXAMPLE.replace(/'/g, '')}'`
      }
      const hint = better.startsWith("'")
        ? `Say what will be different when it is done, e.g. ${better}.`
        : `${better[0]!.toUpperCase()}${better.slice(1)}.`
      problems.push({ code: 'vague-wording', field: 'what', message: `'${phrase}' ${why}.`, hint })
      break
    }
  }
  return problems
}

function lintOwner(owner: string): LintProblem[] {
  if (isPlaceholder(owner)) {
    return [{ code: 'missing-owner', field: 'owner', message: 'The action has no owner.',
      hint: `Name one person, e.g. '${OWNER_EXAMPLE}'.` }]
  }
  const emails = owner.match(EMAIL_RE) ?? []
  let core = owner
  emails.forEach((email, i) => (core = core.replace(email, `\u0000${i}\u0000`)))
  core = core.replace(BRACKETS_RE, ' ').replace(ROLE_RE, ' ')
  const group = GROUP_RE.exec(core)
  const joiner = JOIN_RE.exec(core)
  if (!group && !joiner) return []
  const message = group
    ? `'${group[0]}' names a group, and shared ownership tends to mean none.`
    : `'${owner}' looks like more than one person.`
  const unmask = (t: string) => emails.reduce((acc, e, i) => acc.replace(`\u0000${i}\u0000`, e), t)
  const names = core
    .split(/\b(?:and|or)\b|[&/,+;]/i)
    .map((p) => p.trim())
    .filter((p) => p && !GROUP_RE.test(p))
    .map(unmask)
  let hint: string
  if (joiner && joiner[0] === ',' && names.length === 2 && !names[1]!.includes('@')) {
    hint = `Name one person; if '${names[1]}' is a role, put it in brackets: '${names[0]} (${names[1]})'.`
  } else if (names.length) {
    hint = `Name one person, e.g. '${names[0]}', and mention the others in the action text if they help.`
  } else {
    hint = `Name one person who answers for it, e.g. '${OWNER_EXAMPLE}'; others can help.`
  }
  return [{ code: 'shared-owner', field: 'owner', message, hint }]
}

function isoDay(d: Date): string {
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`
}

function lintDue(due: string, today: Date): LintProblem[] {
  const inTwoWeeks = new Date(today)
  inTwoWeeks.setDate(today.getDate() + 14)
  const example = isoDay(inTwoWeeks)
  if (isPlaceholder(due)) {
    return [{ code: 'missing-due', field: 'due', message: 'The action has no due date.',
      hint: `Set a date like '${example}' (YYYY-MM-DD).` }]
  }
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(due.trim())
  const date = m ? new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3])) : null
  if (!m || !date || date.getMonth() !== Number(m[2]) - 1 || date.getDate() !== Number(m[3])) {
    return [{ code: 'bad-due', field: 'due', message: `'${due}' is not a date.`,
      hint: `Write the date as YYYY-MM-DD, e.g. '${example}'.` }]
  }
  if (due.trim() < isoDay(today)) {
    return [{ code: 'past-due', field: 'due', message: `The due date ${due.trim()} has passed.`,
      hint: `Pick a date from today on, e.g. '${example}'.` }]
  }
  return []
}

function lintVerify(verify: string): LintProblem[] {
  if (isPlaceholder(verify) || ['done', 'check', 'verify', 'yes'].includes(verify.toLowerCase())) {
    return [{ code: 'missing-verification', field: 'verify',
      message: 'The action does not say how completion will be checked.',
      hint: `Say what anyone can look at to confirm it, e.g. ${VERIFY_EXAMPLE}.` }]
  }
  return []
}

function lintKind(kind: string): LintProblem[] {
  const allowed = ACTION_KIND_IDS.join(', ')
  if (!kind) return [{ code: 'missing-kind', field: 'kind', message: 'The action has no kind.', hint: `Choose one of: ${allowed}.` }]
  if (ACTION_KIND_IDS.includes(kind)) return []
  return [{ code: 'bad-kind', field: 'kind', message: `'${kind}' is not a known action kind.`, hint: `Choose one of: ${allowed}.` }]
}

export function lintAction(item: ActionFields, today: Date = new Date()): LintProblem[] {
  return [
    ...lintWhat(item.what.trim()),
    ...lintOwner(item.owner.trim()),
    ...lintDue(item.due, today),
    ...lintVerify(item.verify.trim()),
    ...lintKind(item.kind.trim()),
  ]
}
