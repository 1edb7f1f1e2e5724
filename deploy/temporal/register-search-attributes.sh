#!/bin/sh
# One-shot job (temporalio/admin-tools) run once the server answers: creates the namespace
# if it is missing and registers the search attributes the order saga upserts
# (workflows/search-attributes.ts). A workflow that upserts an unregistered attribute fails
# its workflow task, so the worker and the API start only after this job succeeded.
# The CLI reads TEMPORAL_ADDRESS and TEMPORAL_NAMESPACE from the environment.
set -eu

NS="${TEMPORAL_NAMESPACE:-default}"

until temporal operator cluster health >/dev/null 2>&1; do
  echo 'waiting for the Temporal frontend'
  sleep 2
done

# Retention: histories of closed sagas are kept 3 days. Nothing depends on them: a payment
# for an order whose history is gone is settled from PostgreSQL (docs/architecture.md "The order saga").
temporal operator namespace describe --namespace "$NS" >/dev/null 2>&1 ||
  temporal operator namespace create --namespace "$NS" --retention 72h

# A namespace created a moment ago reaches the frontend's cache within seconds.
until temporal operator search-attribute list --namespace "$NS" >/dev/null 2>&1; do
  echo "waiting for namespace $NS"
  sleep 1
done

register() {
  name="$1"
  type="$2"
  if temporal operator search-attribute list --namespace "$NS" | grep -qw "$name"; then
    echo "search attribute $name: already registered"
    return
  fi
  temporal operator search-attribute create --namespace "$NS" --name "$name" --type "$type"
}

register OrderId Keyword
register OrderSkus KeywordList
register ReservationStatus Keyword
register ReservationExpiresAt Datetime

temporal operator search-attribute list --namespace "$NS"
