// A stock y-websocket provider in Node, driven by the Python tests over stdin/stdout.
// Usage: node sync_client.mjs <ws base url> <review id> <doc> <token>
// Prints one JSON line per event: {"event":"synced"}, {"event":"map","value":{...}},
// {"event":"status","status":"connected"}. Reads JSON commands from stdin:
// {"set":[key,value]} / {"delete":key} edit the shared map "m";
// {"aware":[field,value]} sets a local awareness field; {"quit":true} exits.
import * as Y from 'yjs'
import { WebsocketProvider } from 'y-websocket'
import WebSocket from 'ws'
import readline from 'node:readline'

const [base, reviewId, docName, token] = process.argv.slice(2)

// Browsers send the session cookie; a Node client sends the same token as a Bearer header.
class AuthWebSocket extends WebSocket {
  constructor (url, protocols) {
    super(url, protocols, { headers: { Authorization: `Bearer ${token}` } })
  }
}

const doc = new Y.Doc()
const map = doc.getMap('m')
const provider = new WebsocketProvider(`${base}/ws/${reviewId}`, docName, doc, {
  WebSocketPolyfill: AuthWebSocket,
  disableBc: true
})
const emit = (obj) => process.stdout.write(JSON.stringify(obj) + '\n')

provider.on('status', ({ status }) => emit({ event: 'status', status }))
provider.on('sync', (synced) => { if (synced) emit({ event: 'synced', value: map.toJSON() }) })
map.observe(() => emit({ event: 'map', value: map.toJSON() }))
provider.awareness.setLocalStateField('cursor', 1)
provider.awareness.on('change', () => {
  const states = {}
  provider.awareness.getStates().forEach((state, id) => { states[id] = state })
  emit({ event: 'awareness', value: states })
})

readline.createInterface({ input: process.stdin }).on('line', (line) => {
  const cmd = JSON.parse(line)
  if (cmd.set) map.set(cmd.set[0], cmd.set[1])
  if (cmd.delete) map.delete(cmd.delete)
  if (cmd.aware) provider.awareness.setLocalStateField(cmd.aware[0], cmd.aware[1])
  if (cmd.quit) { provider.destroy(); process.exit(0) }
})
