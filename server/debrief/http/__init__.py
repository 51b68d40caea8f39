"""HTTP adapters: the JSON API, the websocket endpoint and the static web app."""
