// The views of a review other than the meeting, loaded together as one chunk on first use:
// one module for all four keeps the chunks few (every chunk is one more request).
export { PreparePage } from '../prepare/page-prepare'
export { PreReadPage } from '../preread/page-preread'
export { ScribePage } from '../recap/page-scribe'
export { RecapPage } from '../recap/page-recap'
