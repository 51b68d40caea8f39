// The fan-out floor: the least a Yjs websocket server can do, to measure the harness by.
//
// Each update a client sends is relayed as it came to the doc's other clients, and kept so
// a joiner's sync step 1 can be answered with all of them (merged once per change). There
// is no doc, no storage, no checks and no auth. It runs on the same websocket library and
// Node as the y-websocket server, so what y-websocket spends beyond it is its own work, and
// what this one takes is the kernel's and the clients' share, which no server can save.
// The command path has its floor too (loadgen/floor_app.py).
//
// Usage: HOST=127.0.0.1 PORT=1234 node relay-floor.js
"use strict";

const WebSocket = require("ws");
const Y = require("yjs");
const encoding = require("lib0/dist/encoding.cjs");
const decoding = require("lib0/dist/decoding.cjs");

const SYNC = 0;
const AWARENESS = 1;
const STEP1 = 0;
const STEP2 = 1;
const EMPTY_UPDATE = Uint8Array.of(0, 0);

const docs = new Map(); // name -> { conns: Set<WebSocket>, updates: Uint8Array[], merged }

function docFor(name) {
  let doc = docs.get(name);
  if (doc === undefined) {
    doc = { conns: new Set(), updates: [], merged: null };
    docs.set(name, doc);
  }
  return doc;
}

function step2(doc) {
  if (doc.merged === null) {
    doc.merged = doc.updates.length ? Y.mergeUpdates(doc.updates) : EMPTY_UPDATE;
    doc.updates = doc.merged === EMPTY_UPDATE ? [] : [doc.merged];
  }
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, SYNC);
  encoding.writeVarUint(encoder, STEP2);
  encoding.writeVarUint8Array(encoder, doc.merged);
  return encoding.toUint8Array(encoder);
}

function relay(doc, from, data) {
  for (const conn of doc.conns) {
    if (conn !== from && conn.readyState === WebSocket.OPEN) conn.send(data);
  }
}

const server = new WebSocket.Server({
  host: process.env.HOST || "127.0.0.1",
  port: Number(process.env.PORT || 1234),
  perMessageDeflate: false,
});

server.on("connection", (conn, request) => {
  const doc = docFor(request.url.slice(1).split("?")[0]);
  doc.conns.add(conn);
  conn.binaryType = "nodebuffer";
  conn.on("message", (data) => {
    const message = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    const decoder = decoding.createDecoder(message);
    const type = decoding.readVarUint(decoder);
    if (type === AWARENESS) {
      relay(doc, conn, data);
    } else if (type === SYNC) {
      const kind = decoding.readVarUint(decoder);
      if (kind === STEP1) {
        conn.send(step2(doc));
      } else {
        doc.updates.push(decoding.readVarUint8Array(decoder));
        doc.merged = null;
        relay(doc, conn, data);
      }
    }
  });
  conn.on("close", () => {
    doc.conns.delete(conn);
  });
});

server.on("listening", () => {
  const { address, port } = server.address();
  console.log(`relay floor listening on ${address}:${port}`);
});

const stop = () => server.close(() => process.exit(0));
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
