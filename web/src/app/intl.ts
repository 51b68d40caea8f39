// Locale-aware formatting and sorting, each set up once. Setting up ICU (a collator, a
// date format) costs tens of milliseconds on a slow phone; String.localeCompare and
// Date.toLocaleString pay part of it again on every call.

let collator: Intl.Collator | null = null
let localTime: Intl.DateTimeFormat | null = null

/** a.localeCompare(b), with one collator for every call. */
export const compareText = (a: string, b: string): number => (collator ??= new Intl.Collator()).compare(a, b)

/** The date and time of `d` as the reader's locale writes it ("Nov 24, 2026, 2:05 PM"). */
export const formatDateTime = (d: Date): string =>
  (localTime ??= new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' })).format(d)

/** Set both up now: called while the page waits for the network, so the first render of
 *  a meeting (sorted themes, timeline times) does not pay for it. */
export function prepareIntl(): void {
  compareText('a', 'b')
  formatDateTime(new Date(0))
}
