"""Which participant may write under which Yjs client id, per doc.

Yjs names every struct by (client id, clock), and a client id is visible to everyone
who syncs the doc. Without a binding, a participant could write structs under a
victim's id; the victim's own in-flight edit then collides with them and is dropped
for everyone but the victim. So a client id belongs to the participant whose
connection first created structs under it ("bind on first use"), for the doc's
lifetime and across processes: the binding is a storage record, taken under the
storage lock (distributed on Redis), and cached here.

An id that already has structs in the doc but no binding was used before bindings
existed (or by the server, whose edits are never bound): nobody may take it over.
"""

from __future__ import annotations

from collections import Counter

from debrief.storage.base import Storage

CLIENT_ID = "client-id"  # record kind: (doc key, client id) -> {"participant": id}
SERVER = "server"
# A tab that reloads gets a fresh id per doc; a doc that has seen this many has seen
# far more than any meeting needs, and a flood of fresh ids is refused past it.
MAX_CLIENT_IDS_PER_DOC = 20_000
# A browser tab writes under one id per doc; a write naming more new ids than a few is
# made up, and so is a participant with more than a meeting's worth of page loads. Without
# these, one participant could use up the doc's ids (and write a record per id) at once.
MAX_NEW_IDS_PER_WRITE = 4
MAX_CLIENT_IDS_PER_PARTICIPANT = 200


class ClientIds:
    """The bindings of one doc (one room)."""

    def __init__(self, storage: Storage, doc_key: str, server_client_id: int) -> None:
        self.storage = storage
        self.doc_key = doc_key
        self.review_id = doc_key.split("/", 1)[0]
        self._owners: dict[int, str] = {server_client_id: SERVER}
        self._per_participant: Counter[str] = Counter()

    async def load(self) -> None:
        """Read every binding of this doc once (the room is loading): with a storage no
        other process writes, nothing needs reading again when an id is first used."""
        prefix = f"{self.doc_key}#"
        for record in await self.storage.list_records(CLIENT_ID, self.review_id):
            key = str(record.get("key", ""))
            if key.startswith(prefix) and key[len(prefix) :].isdigit():
                self._remember(int(key[len(prefix) :]), str(record.get("participant")))

    def _remember(self, client_id: int, participant: str) -> None:
        if client_id not in self._owners:
            self._owners[client_id] = participant
            self._per_participant[participant] += 1

    def known_owner(self, client_id: int) -> str | None:
        return self._owners.get(client_id)

    async def claim(self, client_ids: list[int], participant: str, state: dict[int, int]) -> bool:
        """Bind the unbound ids among ``client_ids`` to ``participant``; False when any is
        someone else's (then nothing new is bound), or already in use without a binding.

        ``state`` is the doc's state vector: which ids already have structs.
        """
        missing = [c for c in client_ids if self._owners.get(c) != participant]
        if not missing:
            return True
        if any(c in self._owners for c in missing):
            return False  # cached as someone else's
        if len(missing) > MAX_NEW_IDS_PER_WRITE:
            return False
        async with self.storage.lock(f"client-ids:{self.doc_key}"):
            if self.storage.shared:  # another process may have bound them meanwhile
                for client_id in missing:
                    record = await self.storage.get_record(CLIENT_ID, self._record_id(client_id))
                    if record is not None:
                        self._remember(client_id, str(record.get("participant")))
            if any(self._owners.get(c) not in (None, participant) for c in missing):
                return False
            fresh = [c for c in missing if c not in self._owners]
            if any(state.get(c, 0) > 0 for c in fresh):
                return False  # structs exist under it, written before bindings existed
            if len(self._owners) + len(fresh) > MAX_CLIENT_IDS_PER_DOC:
                return False
            if self._per_participant[participant] + len(fresh) > MAX_CLIENT_IDS_PER_PARTICIPANT:
                return False
            for client_id in fresh:
                record_id = self._record_id(client_id)
                await self.storage.put_record(
                    CLIENT_ID,
                    record_id,
                    {"key": record_id, "participant": participant},
                    self.review_id,
                )
                self._remember(client_id, participant)
        return True

    def _record_id(self, client_id: int) -> str:
        return f"{self.doc_key}#{client_id}"
