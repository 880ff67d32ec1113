#!/usr/bin/env bash
# Push to Switchboard from any backend with curl, through the server HTTP API (docs/http-api.md).
# The seeds' FastAPI app exposed POST /tasks/{id}/broadcast-update and POST /users/{id}/send-notification;
# behind those routes, this is all a backend has to do.
#
#   SWITCHBOARD_URL      default http://localhost:8080
#   SWITCHBOARD_API_KEY  sent as `Authorization: Bearer ...` when set
#
# Usage: ./publish.sh [task-id] [user-id]     (defaults: 42 alice)
set -euo pipefail

url="${SWITCHBOARD_URL:-http://localhost:8080}"
task_id="${1:-42}"
user_id="${2:-alice}"

headers=(-H 'content-type: application/json')
if [ -n "${SWITCHBOARD_API_KEY:-}" ]; then
  headers+=(-H "Authorization: Bearer ${SWITCHBOARD_API_KEY}")
fi

# Like /tasks/{id}/broadcast-update: everyone in the room `task:<id>` gets the update, with the message
# id the server assigned (the response is {"id": n}). Channel names are restricted to ASCII letters,
# digits and _ - . : @ / = + , # $ ! ~, so the id needs no escaping here.
echo "publish to task:${task_id}:"
curl --fail-with-body -sS -X POST "${url}/api/publish" "${headers[@]}" \
  -d "{\"channel\":\"task:${task_id}\",\"data\":{\"type\":\"task-update\",\"taskId\":\"${task_id}\",\"status\":\"done\",\"by\":\"curl\"}}"
echo

# Like /users/{id}/send-notification: every connection authenticated as that user, on every node.
echo "send to user ${user_id}:"
curl --fail-with-body -sS -X POST "${url}/api/users/${user_id}/send" "${headers[@]}" \
  -d '{"data":{"type":"notification","title":"Task done","body":"Your export is ready."}}'
echo
